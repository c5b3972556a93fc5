"""The requirement curves and shift templates of the scheduling benchmark.

A one-queue week of 672 15-minute intervals: calls follow a two-hump
intraday shape (10:30 and 15:00) over an overnight trickle, weekdays busier
than the weekend, with lognormal noise; agents are Erlang C staffing for 80%
answered in 20 s at 300 s handle time.  ``peak`` scales the load so that the
busiest interval needs about that many agents.
"""

from __future__ import annotations

import numpy as np

from contactops.queueing import ErlangC, required_agents
from contactops.schedule import Break, ShiftTemplate, start_times

DAYS = 7
INTERVAL = 900.0
PER_DAY = 96
AHT = 300.0
DAY_FACTOR = np.array([1.00, 0.97, 0.95, 0.96, 0.90, 0.55, 0.40])
H = 3600.0


def intraday_shape() -> np.ndarray:
    hour = (np.arange(PER_DAY) + 0.5) * INTERVAL / 3600.0
    morning = np.exp(-0.5 * ((hour - 10.5) / 2.0) ** 2)
    afternoon = 0.85 * np.exp(-0.5 * ((hour - 15.0) / 2.5) ** 2)
    shape = 0.02 + morning + afternoon
    return np.asarray(shape / shape.max())


def week(peak_agents: float, seed: int) -> tuple[np.ndarray, ErlangC]:
    """``(days, 96)`` required agents and the Erlang C model of every interval."""
    rng = np.random.default_rng(seed)
    noise = rng.lognormal(0.0, 0.05, (DAYS, PER_DAY))
    shape = DAY_FACTOR[:, None] * intraday_shape()[None, :] * noise
    shape /= shape.max()
    # load at the peak such that Erlang C needs about peak_agents there
    lo, hi = 0.1, float(peak_agents)
    for _ in range(60):
        mid = (lo + hi) / 2
        n = required_agents(ErlangC(mid / AHT, AHT), service_level=0.8, threshold=20).agents
        lo, hi = (mid, hi) if float(n) <= peak_agents else (lo, mid)
    load = lo * shape
    model = ErlangC(load.ravel() / AHT, AHT)
    agents = required_agents(model, service_level=0.8, threshold=20).agents
    return np.asarray(agents, dtype=float).reshape(DAYS, PER_DAY), model


def templates(kind: str, *, breaks: bool, in_day: bool = False) -> list[ShiftTemplate]:
    """8-hour shifts (``"8h"``) or a mix of 6, 8 and 10 hours (``"mix"``), starts every 15 min.

    ``in_day``: only starts whose shift ends by midnight (what pyworkforce can
    describe); otherwise every start of the day, night shifts crossing midnight.
    """
    b6 = (Break(900, 2 * H, 4 * H, name="break"),)
    b8 = (
        Break(900, 1.5 * H, 3 * H, name="break 1"),
        Break(1800, 3.5 * H, 5 * H, paid=False, name="lunch"),
        Break(900, 5.5 * H, 7 * H, name="break 2"),
    )
    b10 = (
        Break(900, 1.5 * H, 3 * H, name="break 1"),
        Break(1800, 4 * H, 6 * H, paid=False, name="lunch"),
        Break(900, 6.5 * H, 8.5 * H, name="break 2"),
    )
    lengths = {"6h": (6, b6), "8h": (8, b8), "10h": (10, b10)}
    names = ["8h"] if kind == "8h" else ["6h", "8h", "10h"]
    out = []
    for name in names:
        hours, brk = lengths[name]
        last = 24 * H - hours * H if in_day else 23.75 * H
        out.append(
            ShiftTemplate(
                name, hours * H, start_times(0.0, last, INTERVAL), breaks=brk if breaks else ()
            )
        )
    return out
