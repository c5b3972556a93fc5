"""A realistic synthetic center: eight weeks of history made by the simulator.

Four queues on three channels (sales and support calls, chat, email), with
an intraday double peak, a weekly pattern (busy Monday, quiet weekend, sales
closed on Sunday), a slow upward trend, a bot in front of support, and US
Thanksgiving (Thursday 26 November 2026) at a quarter of a normal day.  The
agents of the history are staffed by Erlang A with day-to-day noise (some
intervals under, some over), so the history holds real abandonment.  The
simulated contact legs (the canonical record) are ingested into a warehouse
like any export.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow.parquet as pq

from contactops.queueing import Chat, ErlangA, ErlangC, required_agents
from contactops.simulate import AgentGroup, Bot, Center, LogNormal, Queue, simulate

if TYPE_CHECKING:
    from collections.abc import Callable

    from contactops.data import Warehouse

__all__ = ["DEMO_QUEUES", "DemoQueue", "build_demo_history"]

INTERVAL_S = 1800.0
PER_DAY = 48
HOLIDAY = np.datetime64("2026-11-26")
HOLIDAY_FACTOR = 0.25


@dataclass(frozen=True)
class DemoQueue:
    name: str
    channel: str
    peak: float  # contacts per 30 minutes at the Monday peak
    aht: float
    aht_cv: float
    patience: float | None
    open_hours: tuple[int, int]  # local hours, [open, close)
    closed_days: tuple[int, ...] = ()  # weekday numbers, Monday = 0
    bot_share: float = 0.0


DEMO_QUEUES = (
    DemoQueue("sales", "voice", 55.0, 270.0, 0.8, 150.0, (8, 20), closed_days=(6,)),
    DemoQueue("support", "voice", 110.0, 420.0, 0.9, 240.0, (7, 22), bot_share=0.3),
    DemoQueue("chat", "chat", 40.0, 540.0, 0.7, 420.0, (8, 22)),
    DemoQueue("email", "email", 18.0, 360.0, 0.6, None, (0, 24)),
)
_WEEKLY = np.array([1.15, 1.05, 1.0, 1.0, 0.95, 0.55, 0.35])


def _profile(q: DemoQueue) -> np.ndarray:
    """Share of the daily peak per half hour: a morning and a smaller afternoon hump."""
    t = (np.arange(PER_DAY) + 0.5) / 2.0  # hour of day at the interval middle
    shape = np.exp(-0.5 * ((t - 10.5) / 1.8) ** 2) + 0.8 * np.exp(-0.5 * ((t - 15.0) / 2.2) ** 2)
    if q.channel == "email":
        shape = 0.25 + shape  # mail arrives round the clock
    open_ = (t >= q.open_hours[0]) & (t < q.open_hours[1])
    return np.where(open_, shape / shape.max(), 0.0)


def demo_volumes(q: DemoQueue, first_day: np.datetime64, days: int) -> np.ndarray:
    """Expected contacts per interval over ``days`` days (days x 48)."""
    day = first_day + np.arange(days)
    wd = (day.astype(np.int64) + 3) % 7
    level = _WEEKLY[wd] * (1.0 + 0.005 * np.arange(days) / 7.0)
    level = np.where(np.isin(wd, q.closed_days), 0.0, level)
    level = np.where(day == HOLIDAY, level * HOLIDAY_FACTOR, level)
    return q.peak * level[:, None] * _profile(q)[None, :]


def _history_staffing(q: DemoQueue, volume: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    rate = volume.ravel() / INTERVAL_S
    model: Any
    if q.channel == "chat":
        model = Chat(rate, q.aht, max_concurrency=2, patience=q.patience)
    elif q.patience is not None:
        model = ErlangA(rate * (1 - 0.6 * q.bot_share), q.aht, q.patience)
    else:
        model = ErlangC(rate, q.aht)
    if q.channel == "email":  # a steady team working the backlog through the day
        agents = np.full(rate.size, np.ceil(volume.sum() / volume.shape[0] * q.aht / 86400 * 1.3))
        return agents.astype(int)
    need = np.nan_to_num(required_agents(model, service_level=0.8, threshold=20).agents)
    noise = rng.normal(1.0, 0.08, size=need.size)  # real rosters miss the requirement
    return np.where(rate > 0, np.maximum(np.round(need * noise), 1), 0).astype(int)


def build_demo_history(
    warehouse: Warehouse,
    *,
    plan_start: str = "2026-12-07",
    weeks: int = 8,
    seed: int = 1,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Simulate ``weeks`` weeks before ``plan_start`` and ingest them; returns legs loaded."""
    say = progress or (lambda _text: None)
    rng = np.random.default_rng(seed)
    days = 7 * weeks
    first = np.datetime64(plan_start, "D") - days
    queues, groups = [], []
    for q in DEMO_QUEUES:
        vol = demo_volumes(q, first, days)
        bot = Bot(share=q.bot_share, threshold=0.8) if q.bot_share else None
        queues.append(
            Queue(
                name=q.name,
                volume=vol.ravel(),
                channel=q.channel,
                handle_time=LogNormal(q.aht, q.aht_cv * q.aht),
                patience=q.patience,
                bot=bot,
                service_level_threshold=20.0 if q.channel != "email" else 86400.0,
            )
        )
        groups.append(
            AgentGroup(
                name=f"{q.name} team",
                skills=[q.name],
                staffing=_history_staffing(q, vol, rng),
                concurrency=2 if q.channel == "chat" else 1,
            )
        )
    center = Center(
        queues=queues, groups=groups, interval=INTERVAL_S, start=f"{first}T00:00:00+00:00"
    )
    say(f"simulating {weeks} weeks of history")
    result = simulate(center, days=days, seed=seed, replications=1, contacts=True)
    contacts = result.contacts
    say(f"ingesting {contacts.num_rows:,} contact legs")
    with tempfile.TemporaryDirectory(prefix="contactops-demo-") as tmp:
        path = Path(tmp) / "demo-history.parquet"
        pq.write_table(contacts, path)
        report = warehouse.ingest(path, format="parquet")
    return int(report.loaded)  # type: ignore[union-attr]
