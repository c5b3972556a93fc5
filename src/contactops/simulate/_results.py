"""What a simulation returns: summaries with confidence intervals, and contacts.

Per replication the engine accumulates counts and sums per queue and
interval; the ratios (service level, ASA, abandonment, occupancy) are formed
per replication and their mean and 95% confidence interval (Student t across
replications) reported.  With one replication the intervals are empty (NaN):
ask for several, or use :func:`contactops.simulate.simulate_queue`, which
forms batch means inside one long run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from contactops.errors import InvalidParameterError
from contactops.queueing._definitions import (
    ANSWERED_WITHIN_T_OVER_ANSWERED,
    ANSWERED_WITHIN_T_OVER_OFFERED,
    DEFAULT_SL_DEFINITION,
    EXCL_ABANDON_BEFORE_T,
    VIRTUAL,
    WAIT_LE_T,
    check_definition,
)
from contactops.simulate import _engine as e

if TYPE_CHECKING:
    from contactops.simulate._compile import Compiled

__all__ = ["OUTCOMES", "SimulationResult", "mean_ci", "service_level_from_hist"]

OUTCOMES = ("answered", "abandoned", "deflected", "blocked")
SIM_DEFINITIONS = (
    ANSWERED_WITHIN_T_OVER_OFFERED,
    ANSWERED_WITHIN_T_OVER_ANSWERED,
    EXCL_ABANDON_BEFORE_T,
    WAIT_LE_T,
)
N_HIST = 7200  # wait histogram: whole seconds up to two hours
PROPORTIONS = ("service_level", "abandon_rate", "occupancy", "containment")


def mean_ci(x: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% Student-t interval along ``axis`` (NaN-safe; NaN with one value)."""
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(x)
    n = ok.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, x, 0.0).sum(axis=axis) / n
        dev = np.where(ok, x - np.expand_dims(mean, axis), 0.0)
        sd = np.sqrt((dev**2).sum(axis=axis) / (n - 1))
        half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    half = np.where(n > 1, half, np.nan)
    return mean, mean - half, mean + half


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def queue_metrics(s: np.ndarray) -> dict[str, np.ndarray]:
    """Ratios from summed queue statistics (last axis: the ``QS_*`` fields)."""
    off = s[..., e.QS_OFFERED]
    ans = s[..., e.QS_ANSWERED]
    within = s[..., e.QS_ANS_WITHIN]
    abn_within = s[..., e.QS_ABN_WITHIN]
    return {
        "arrived": s[..., e.QS_ARRIVED],
        "offered": off,
        "answered": ans,
        "abandoned": s[..., e.QS_ABANDONED],
        "short_abandoned": s[..., e.QS_SHORT_ABN],
        "deflected": s[..., e.QS_DEFLECTED],
        "blocked": s[..., e.QS_BLOCKED],
        "escalated": s[..., e.QS_ESCALATED],
        "transferred": s[..., e.QS_TRANSFERRED],
        "unserved": s[..., e.QS_UNSERVED],
        "service_level": _div(within, off),
        f"sl_{ANSWERED_WITHIN_T_OVER_ANSWERED}": _div(within, ans),
        f"sl_{EXCL_ABANDON_BEFORE_T}": _div(within, off - abn_within),
        f"sl_{WAIT_LE_T}": _div(within + abn_within, off),
        "asa": _div(s[..., e.QS_WAIT_ANS], ans),
        "aht": _div(s[..., e.QS_HANDLE], ans),
        "abandon_rate": _div(s[..., e.QS_ABANDONED], off),
        "containment": _div(s[..., e.QS_DEFLECTED], s[..., e.QS_BOT]),
    }


def service_level_from_hist(
    hist: np.ndarray, counts: np.ndarray, threshold: float, definition: str
) -> np.ndarray:
    """Service level at ``threshold`` from wait histograms.

    ``hist[..., 0, :]`` answered waits and ``hist[..., 1, :]`` abandoned waits
    (bin 0: zero wait; bin k: (k-1, k] seconds); ``counts[..., :]`` the queue
    statistics with the same leading axes.
    """
    check_definition(definition)
    if definition == VIRTUAL:
        raise InvalidParameterError(
            "definition",
            definition,
            "observable in a simulation",
            "The virtual wait of a contact that abandoned is never seen; use one of "
            + ", ".join(SIM_DEFINITIONS)
            + ".",
        )
    t = float(threshold)
    n_hist = hist.shape[-1] - 2
    if not (math.isfinite(t) and t >= 0 and t == round(t) and t <= n_hist):
        raise InvalidParameterError(
            "threshold",
            threshold,
            f"a whole number of seconds from 0 to {n_hist}",
            "Simulated waits are binned by the second; round the "
            "threshold, or give it to the queue as "
            "service_level_threshold for an exact count.",
        )
    k = int(t) + 1
    within = hist[..., 0, :k].sum(axis=-1)
    abn_within = hist[..., 1, :k].sum(axis=-1)
    off = counts[..., e.QS_OFFERED]
    if definition == ANSWERED_WITHIN_T_OVER_OFFERED:
        return _div(within, off)
    if definition == ANSWERED_WITHIN_T_OVER_ANSWERED:
        return _div(within, counts[..., e.QS_ANSWERED])
    if definition == EXCL_ABANDON_BEFORE_T:
        return _div(within, off - abn_within)
    return _div(within + abn_within, off)


@dataclass
class Replication:
    """Raw output of one replication."""

    qstats: np.ndarray
    gstats: np.ndarray
    hist: np.ndarray
    rec_f: np.ndarray
    rec_i: np.ndarray
    n_events: int


@dataclass
class SimulationResult:
    """Summaries (with 95% confidence intervals across replications) and contacts."""

    compiled: Compiled = field(repr=False)
    replications: list[Replication] = field(repr=False)
    seed: int = 0
    wall_seconds: float = 0.0

    @property
    def n_replications(self) -> int:
        return len(self.replications)

    @property
    def n_events(self) -> int:
        return sum(r.n_events for r in self.replications)

    def _q(self) -> np.ndarray:
        return np.stack([r.qstats for r in self.replications])  # (R, Q, I, N)

    def _g(self) -> np.ndarray:
        return np.stack([r.gstats for r in self.replications])  # (R, G, I, N)

    def _serving(self) -> np.ndarray:
        """(Q, G) mask: the group serves the queue."""
        a = self.compiled.arrays
        mask = np.zeros((len(self.compiled.queue_names), len(self.compiled.group_names)), bool)
        for q in range(mask.shape[0]):
            mask[q, a["qg_list"][a["qg_ptr"][q] : a["qg_ptr"][q + 1]]] = True
        return mask

    def _table(self, cols: dict[str, Any], metrics: dict[str, np.ndarray]) -> pa.Table:
        for name, values in metrics.items():
            mean, lo, hi = mean_ci(values, axis=0)
            lo = np.maximum(lo, 0.0)  # every metric here is non-negative
            if name in PROPORTIONS or name.startswith("sl_"):
                hi = np.minimum(hi, 1.0)
            cols[name] = mean
            if name not in ("arrived",):
                cols[f"{name}_lo"] = lo
                cols[f"{name}_hi"] = hi
        return pa.table(
            {
                k: pa.array(np.asarray(v).ravel() if isinstance(v, np.ndarray) else v)
                for k, v in cols.items()
            }
        )

    def queue_summary(self) -> pa.Table:
        """One row per queue over the whole run: counts, service level under each
        definition at the queue's threshold, ASA, AHT, abandonment, containment,
        and occupancy of the groups that serve it; ``_lo``/``_hi`` columns give
        the 95% confidence interval across replications."""
        q = self._q().sum(axis=2)  # (R, Q, N)
        m = queue_metrics(q)
        g = self._g().sum(axis=2)  # (R, G, N)
        serve = self._serving().astype(float)
        busy = g[..., e.GS_BUSY] @ serve.T
        capacity = g[..., e.GS_CAPACITY] @ serve.T
        m["occupancy"] = _div(busy, capacity)
        c = self.compiled
        cols: dict[str, Any] = {
            "queue": c.queue_names,
            "channel": c.channels,
            "segment": c.segments,
            "priority": c.priorities,
            "threshold_s": c.thresholds,
        }
        return self._table(cols, m)

    def interval_summary(self) -> pa.Table:
        """One row per queue and interval (the interval of each leg's arrival)."""
        q = self._q()  # (R, Q, I, N)
        n_q, n_i = q.shape[1], q.shape[2]
        m = {k: v.reshape(v.shape[0], -1) for k, v in queue_metrics(q).items()}
        g = self._g()
        serve = self._serving().astype(float)
        busy = np.einsum("rgi,qg->rqi", g[..., e.GS_BUSY], serve)
        capacity = np.einsum("rgi,qg->rqi", g[..., e.GS_CAPACITY], serve)
        m["occupancy"] = _div(busy, capacity).reshape(q.shape[0], -1)
        c = self.compiled
        start = np.repeat(np.arange(n_i) * c.interval, 1)
        cols: dict[str, Any] = {
            "queue": np.repeat(np.asarray(c.queue_names, dtype=object), n_i),
            "interval": np.tile(np.arange(n_i), n_q),
            "interval_start": self._timestamps(np.tile(start, n_q)),
        }
        return self._table(cols, m)

    def group_summary(self) -> pa.Table:
        """One row per agent group: agent hours on shift, contacts handled, occupancy."""
        g = self._g().sum(axis=2)  # (R, G, N)
        m = {
            "agent_hours": g[..., e.GS_STAFFED] / 3600.0,
            "handled": g[..., e.GS_HANDLED],
            "occupancy": _div(g[..., e.GS_BUSY], g[..., e.GS_CAPACITY]),
        }
        c = self.compiled
        return self._table({"group": c.group_names, "concurrency": c.group_conc}, m)

    def service_level(
        self, queue: str, threshold: float, definition: str = DEFAULT_SL_DEFINITION
    ) -> tuple[float, float, float]:
        """Service level of ``queue`` at any whole-second threshold: (mean, lo, hi)."""
        c = self.compiled
        if queue not in c.queue_names:
            raise InvalidParameterError(
                "queue",
                queue,
                "the name of a simulated queue",
                "Known queues: " + ", ".join(c.queue_names) + ".",
            )
        i = c.queue_names.index(queue)
        hist = np.stack([r.hist[i].sum(axis=0) for r in self.replications])
        counts = np.stack([r.qstats[i].sum(axis=0) for r in self.replications])
        sl = service_level_from_hist(hist, counts, threshold, definition)
        mean, lo, hi = mean_ci(sl)
        return float(mean), float(lo), float(hi)

    def _timestamps(self, seconds: np.ndarray) -> pa.Array:
        base = datetime.fromisoformat(self.compiled.start)
        base_us = int(base.timestamp() * 1_000_000)
        arr = np.asarray(seconds, dtype=float)
        us = np.where(np.isfinite(arr), base_us + np.round(arr * 1e6), 0).astype(np.int64)
        return pa.array(us, type=pa.timestamp("us", tz="UTC"), mask=~np.isfinite(arr))

    @property
    def contacts(self) -> pa.Table:
        """Every simulated contact leg in the canonical interaction record.

        Empty unless the simulation ran with ``contacts=True``.  A leg still
        waiting when no agent could ever take it (no patience, nobody left on
        shift) is written as abandoned with no end time.
        """
        parts = [self._contacts_of(k, r) for k, r in enumerate(self.replications)]
        return pa.concat_tables(parts) if parts else pa.table({})

    def _contacts_of(self, rep: int, r: Replication) -> pa.Table:
        c = self.compiled
        f = r.rec_f
        i = r.rec_i
        n = f.shape[0]
        prefix = f"sim{self.seed}-r{rep}-"

        def ids(col: np.ndarray, pre: str, null: bool = False) -> pa.Array:
            text = pc.cast(pa.array(col), pa.string())
            out = pc.binary_join_element_wise(pre, text, "")
            if null:
                out = pc.if_else(pa.array(col < 0), pa.nulls(n, pa.string()), out)
            return out

        def named(idx: np.ndarray, names: list[Any]) -> pa.Array:
            dictionary = pa.array(names, type=pa.string())
            mask = idx < 0
            return pa.DictionaryArray.from_arrays(
                pa.array(np.where(mask, 0, idx).astype(np.int32), mask=mask), dictionary
            )

        queue = i[:, e.RI_QUEUE]
        # a leg nobody could take is written as abandoned with no end time
        outcome = np.where(i[:, e.RI_OUTCOME] == e.O_UNSERVED, e.O_ABANDONED, i[:, e.RI_OUTCOME])
        answered = outcome == e.O_ANSWERED
        agent = i[:, e.RI_AGENT]
        agent_group = np.searchsorted(
            np.cumsum([int(x) for x in c.arrays["g_pool"]]), agent, side="right"
        )
        talk = np.where(answered, f[:, e.RF_TALK], np.nan)
        zero = np.where(answered, 0.0, np.nan)
        channel = np.asarray([c.channels[q] for q in range(len(c.queue_names))])
        segments = np.asarray(c.segments, dtype=object)
        return pa.table(
            {
                "contact_id": ids(i[:, e.RI_LEG], prefix),
                "initial_contact_id": ids(i[:, e.RI_INITIAL], prefix),
                "previous_contact_id": ids(i[:, e.RI_PREV], prefix, null=True),
                "customer_id": ids(i[:, e.RI_CUSTOMER], f"sim{self.seed}-r{rep}-cust"),
                "channel": pa.array(channel[queue], type=pa.string()),
                "queue": named(queue, c.queue_names),
                "segment": pa.array(segments[queue], type=pa.string()),
                "priority": pa.array(np.asarray(c.priorities, dtype=np.int16)[queue]),
                "arrived_at": self._timestamps(f[:, e.RF_ARRIVED]),
                "queued_at": self._timestamps(f[:, e.RF_QUEUED]),
                "answered_at": self._timestamps(f[:, e.RF_ANSWERED]),
                "ended_at": self._timestamps(f[:, e.RF_ENDED]),
                "wait_s": pa.array(f[:, e.RF_WAIT], from_pandas=True),
                "talk_s": pa.array(talk, from_pandas=True),
                "hold_s": pa.array(zero, from_pandas=True),
                "acw_s": pa.array(zero, from_pandas=True),
                "outcome": named(outcome, list(OUTCOMES)),
                "agent_id": named(agent, c.agent_names),
                "team": named(np.where(agent < 0, -1, agent_group), c.group_names),
                "site": pa.nulls(n, pa.string()),
                "bot_confidence": pa.array(f[:, e.RF_CONF], from_pandas=True),
                "escalated_from_bot": pa.array(i[:, e.RI_ESCALATED] == 1),
                "transferred_to": named(i[:, e.RI_TRANSFER], c.queue_names),
                "source": pa.array(np.full(n, "contactops.simulate", dtype=object), pa.string()),
                "source_ref": pa.array(
                    np.full(n, f"seed={self.seed} replication={rep}", dtype=object), pa.string()
                ),
            }
        )
