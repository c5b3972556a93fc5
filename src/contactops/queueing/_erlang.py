"""The Erlang family: B (loss), C (M/M/n), A (M/M/n+M) and X (lines, redials)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from contactops.errors import InvalidParameterError
from contactops.queueing import _kernels as k
from contactops.queueing._base import Params, QueueModel
from contactops.queueing._validation import FloatArray, as_array, broadcast

__all__ = ["ErlangA", "ErlangC", "ErlangX", "erlang_b", "erlang_b_servers"]

_RATE_FIX = "Give arrivals per second (contacts per interval / interval seconds)."
_AHT_FIX = "Give the average handle time in seconds, e.g. 180."
_PATIENCE_FIX = "Give the mean patience in seconds (time before a waiting caller hangs up)."


def erlang_b(load: Any, servers: Any) -> FloatArray:
    """Erlang B blocking probability of ``servers`` lines offered ``load`` Erlangs.

    Real-valued ``servers`` use the continuous extension
    ``B(x, a) = a^x e^-a / Gamma(x + 1) / Q(x + 1, a)``; it is computed in log
    space and is exact to double precision from 0 to beyond 20,000 servers.
    """
    a = as_array("load", load, fix="Give the offered load in Erlangs (arrival rate x AHT).")
    n = as_array("servers", servers, fix="Give the number of lines or servers, >= 0.")
    shape, flat = broadcast(load=a, servers=n)
    return np.asarray(k.erlang_b_ufunc(flat["load"], flat["servers"])).reshape(shape)


def erlang_b_servers(load: Any, max_blocking: Any, *, integer: bool = True) -> FloatArray:
    """Fewest servers (lines, trunks) keeping Erlang B blocking at or below ``max_blocking``."""
    a = as_array("load", load, fix="Give the offered load in Erlangs.")
    target = as_array(
        "max_blocking",
        max_blocking,
        low=0.0,
        high=1.0,
        low_inclusive=False,
        high_inclusive=False,
        fix="Give a share, e.g. 0.02 for 2%.",
    )
    shape, flat = broadcast(load=a, max_blocking=target)
    a, target = flat["load"], flat["max_blocking"]
    lo = np.full(a.shape, -1.0)  # known to fail (blocking at -1 servers is undefined: treat as 1)
    hi = np.ceil(a + 3.0 * np.sqrt(a) + 1.0)
    while True:
        bad = k.erlang_b_ufunc(a, hi) > target
        if not bad.any():
            break
        lo = np.where(bad, hi, lo)
        hi = np.where(bad, 2.0 * hi + 1.0, hi)
    while np.any(hi - lo > 1.0):
        mid = np.floor((lo + hi) / 2.0)
        ok = k.erlang_b_ufunc(a, np.maximum(mid, 0.0)) <= target
        ok &= mid >= 0
        hi = np.where(ok & (hi - lo > 1.0), mid, hi)
        lo = np.where(~ok & (hi - lo > 1.0), mid, lo)
    if not integer:
        lo = np.maximum(lo, 0.0)
        for _ in range(60):
            mid = (lo + hi) / 2.0
            ok = k.erlang_b_ufunc(a, mid) <= target
            hi = np.where(ok, mid, hi)
            lo = np.where(ok, lo, mid)
    out: FloatArray = hi.reshape(shape)
    return out


class ErlangC(QueueModel):
    """M/M/n: Poisson arrivals, exponential handle times, no abandonment, unlimited lines.

    Parameters
    ----------
    arrival_rate : array_like
        Contacts per second, per interval.
    aht : array_like
        Average handle time (talk + hold + after-contact work), seconds.

    Notes
    -----
    When the offered load is at or above the number of agents the queue is
    unstable: service level 0, ``prob_wait`` 1, infinite ASA and occupancy 1.
    That is the documented result, never a probability above 1 nor a crash.
    All five service-level definitions coincide for this model.
    """

    _param_names = ("arrival_rate", "aht")

    def __init__(self, arrival_rate: Any, aht: Any) -> None:
        self._arrival_rate = as_array("arrival_rate", arrival_rate, fix=_RATE_FIX)
        self._aht = as_array("aht", aht, low=0.0, low_inclusive=False, fix=_AHT_FIX)
        broadcast(**self._params())

    @property
    def arrival_rate(self) -> FloatArray:
        return self._arrival_rate

    @property
    def aht(self) -> FloatArray:
        return self._aht

    @property
    def load(self) -> FloatArray:
        """Offered load in Erlangs (arrival rate x AHT)."""
        return self._arrival_rate * self._aht

    def _raw(self, p: Params, agents: FloatArray, threshold: FloatArray) -> FloatArray:
        out: FloatArray = k.erlang_c_batch(p["arrival_rate"], p["aht"], agents, threshold)
        return out

    def _offered_load(self, p: Params) -> FloatArray:
        return p["arrival_rate"] * p["aht"]

    def _known_infeasible(self, p: Params) -> FloatArray:
        load = self._offered_load(p)
        return np.where(load > 0, np.floor(load), -1.0)

    def __repr__(self) -> str:
        return f"ErlangC(arrival_rate={self._arrival_rate!r}, aht={self._aht!r})"


class ErlangX(QueueModel):
    """Erlang X: M/M/n+M with a finite number of lines and redials (Koole).

    Parameters
    ----------
    arrival_rate : array_like
        Fresh contacts per second (first attempts).
    aht : array_like
        Average handle time, seconds.
    patience : array_like or None
        Mean patience in seconds (exponential); ``None`` or ``inf`` for none.
    lines : array_like or None
        Lines (trunks): most contacts in the system, waiting or in service.
        ``None`` or ``inf`` for unlimited.  A contact arriving when all lines
        are busy is blocked.
    redial_probability : array_like
        Probability that a blocked or abandoned contact tries again.  The
        total arrival rate ``L = arrival_rate + p L (abandon + blocking)(L)``
        is solved as a fixed point; every metric is per attempt (what an ACD
        counts), and ``total_arrival_rate`` reports ``L``.

    Notes
    -----
    With fractional agents and finite lines the metrics are interpolated
    linearly between the neighbouring whole numbers of agents; with unlimited
    lines the continuous extension of the Erlang-A formulas is exact.
    """

    _param_names = ("arrival_rate", "aht", "patience", "lines", "redial_probability")

    def __init__(
        self,
        arrival_rate: Any,
        aht: Any,
        patience: Any = None,
        lines: Any = None,
        redial_probability: Any = 0.0,
    ) -> None:
        self._arrival_rate = as_array("arrival_rate", arrival_rate, fix=_RATE_FIX)
        self._aht = as_array("aht", aht, low=0.0, low_inclusive=False, fix=_AHT_FIX)
        self._patience = as_array(
            "patience",
            math.inf if patience is None else patience,
            low=0.0,
            low_inclusive=False,
            allow_inf=True,
            fix=_PATIENCE_FIX,
        )
        self._lines = as_array(
            "lines",
            math.inf if lines is None else lines,
            low=1.0,
            allow_inf=True,
            fix="Give the number of lines (>= 1) or None.",
        )
        if np.any(np.isfinite(self._lines) & (self._lines != np.floor(self._lines))):
            bad = self._lines[
                np.isfinite(self._lines) & (self._lines != np.floor(self._lines))
            ].flat[0]
            raise InvalidParameterError(
                "lines", float(bad), "a whole number or None", "Round the number of lines."
            )
        self._redial_probability = as_array(
            "redial_probability",
            redial_probability,
            low=0.0,
            high=1.0,
            high_inclusive=False,
            fix="Give a share in [0, 1), e.g. 0.3.",
        )
        broadcast(**self._params())

    @property
    def arrival_rate(self) -> FloatArray:
        return self._arrival_rate

    @property
    def aht(self) -> FloatArray:
        return self._aht

    @property
    def patience(self) -> FloatArray:
        return self._patience

    @property
    def lines(self) -> FloatArray:
        return self._lines

    @property
    def redial_probability(self) -> FloatArray:
        return self._redial_probability

    @property
    def load(self) -> FloatArray:
        """Offered load of fresh contacts in Erlangs."""
        return self._arrival_rate * self._aht

    def _kernel(
        self, lam: FloatArray, p: Params, agents: FloatArray, threshold: FloatArray
    ) -> FloatArray:
        theta = np.where(np.isinf(p["patience"]), 0.0, 1.0 / p["patience"])
        out: FloatArray = k.erlang_batch(lam, 1.0 / p["aht"], theta, agents, p["lines"], threshold)
        return out

    def _total_rate(self, p: Params, agents: FloatArray) -> FloatArray:
        """Fixed point ``L = lam + r L (abandon + blocking)(L)`` by bisection."""
        lam0 = p["arrival_rate"]
        r = p["redial_probability"]
        total = lam0.copy()
        active = (r > 0) & (lam0 > 0)
        if not active.any():
            return total
        idx = np.flatnonzero(active)
        sub = {name: v[idx] for name, v in p.items()}
        n = agents[idx]
        zero_t = np.zeros(idx.size)
        lo = lam0[idx].copy()
        hi = lam0[idx] / (1.0 - r[idx])
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            raw = self._kernel(mid, sub, n, zero_t)
            lost = raw[:, k.OUT_P_ABANDON] + raw[:, k.OUT_P_BLOCK]
            g = lam0[idx] + r[idx] * mid * lost - mid
            lo = np.where(g > 0, mid, lo)
            hi = np.where(g > 0, hi, mid)
        total[idx] = 0.5 * (lo + hi)
        return total

    def _raw(self, p: Params, agents: FloatArray, threshold: FloatArray) -> FloatArray:
        return self._kernel(self._total_rate(p, agents), p, agents, threshold)

    def _metrics_flat(self, p: Params, definition: str) -> dict[str, FloatArray]:
        # occupancy and answered_rate refer to the total (attempt) rate
        total = self._total_rate(p, p["agents"])
        q = dict(p, arrival_rate=total, redial_probability=np.zeros_like(total))
        return super()._metrics_flat(q, definition)

    def total_arrival_rate(self, agents: Any) -> FloatArray:
        """Attempts per second, fresh contacts plus redials, at ``agents``."""
        shape, p = self._flat(agents)
        return self._total_rate(p, p["agents"]).reshape(shape)

    def _offered_load(self, p: Params) -> FloatArray:
        return p["arrival_rate"] * p["aht"] / (1.0 - p["redial_probability"])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(arrival_rate={self._arrival_rate!r}, aht={self._aht!r}, "
            f"patience={self._patience!r}, lines={self._lines!r}, "
            f"redial_probability={self._redial_probability!r})"
        )


class ErlangA(ErlangX):
    """Erlang A: M/M/n+M, exponential patience, unlimited lines, no redials.

    Palm's model, in the closed forms of Garnett, Mandelbaum and Reiman (2002)
    and Mandelbaum and Zeltyn; fine when overloaded (abandonment keeps the queue
    finite).  Real-valued agents use the continuous extension.

    Parameters
    ----------
    arrival_rate : array_like
        Contacts per second.
    aht : array_like
        Average handle time, seconds.
    patience : array_like
        Mean patience, seconds (``inf`` gives Erlang C).
    """

    def __init__(self, arrival_rate: Any, aht: Any, patience: Any) -> None:
        if patience is None:
            raise InvalidParameterError(
                "patience",
                None,
                "a positive number of seconds",
                _PATIENCE_FIX + " Without abandonment use ErlangC.",
            )
        super().__init__(arrival_rate, aht, patience=patience)

    def __repr__(self) -> str:
        return (
            f"ErlangA(arrival_rate={self._arrival_rate!r}, aht={self._aht!r}, "
            f"patience={self._patience!r})"
        )
