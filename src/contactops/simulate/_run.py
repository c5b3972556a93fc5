"""Run replications of the compiled engine, in parallel, from one seed."""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from contactops.errors import InvalidParameterError
from contactops.queueing._definitions import DEFAULT_SL_DEFINITION
from contactops.simulate import _engine as e
from contactops.simulate._compile import Compiled, compile_center
from contactops.simulate._distributions import Distribution, Exponential, LogNormal
from contactops.simulate._model import AgentGroup, Center, Queue
from contactops.simulate._results import (
    N_HIST,
    Replication,
    SimulationResult,
    mean_ci,
    queue_metrics,
    service_level_from_hist,
)

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["QueueSimulation", "simulate", "simulate_queue"]


def _check_seed(seed: Any) -> int:
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise InvalidParameterError(
            "seed",
            seed,
            "a whole number >= 0",
            "Give an explicit seed; the same seed gives the same run.",
        )
    return int(seed)


def _initial_capacities(compiled: Compiled, record: bool) -> dict[str, int]:
    """Room for contacts in the system, events, waiting lines and records.

    Generous for an ordinary center; a run that needs more is repeated with
    twice the room (same seed, same result), so these only affect speed.
    """
    a = compiled.arrays
    agents = int((a["g_pool"] * a["g_conc"]).sum())
    pool = 1 << max(12, int(2 * agents + 1024).bit_length())
    legs = 0
    if record:
        if a["max_arrivals"] >= 0:
            expected = a["max_arrivals"] * a["q_rate"].shape[0]
        else:
            expected = float(a["q_rate"].sum() * a["rate_len"]) + a["trace_times"].size
        legs = int(1.3 * expected) + 4096
    return {
        "pool": pool,
        "heap": 2 * pool + 4 * agents + 64,
        "ring": pool,
        "records": max(legs, 16),
    }


def _run(
    compiled: Compiled,
    *,
    seed: int,
    replications: int,
    record: bool,
    hist_per_interval: bool,
    workers: int | None,
    progress: Callable[[int], None] | None,
) -> list[Replication]:
    if not isinstance(replications, int) or isinstance(replications, bool) or replications < 1:
        raise InvalidParameterError(
            "replications", replications, "a whole number >= 1", "Run at least one replication."
        )
    seeds = np.random.SeedSequence(seed).spawn(replications)
    a = compiled.arrays
    caps = dict(_initial_capacities(compiled, record))

    def one(k: int) -> Replication:
        room = dict(caps)
        while True:
            rng = np.random.Generator(np.random.PCG64(seeds[k]))
            qs, gs, hist, rf, ri, n, n_ev, status = e.simulate_one(
                rng,
                a["t_start"],
                a["horizon"],
                a["max_arrivals"],
                a["stat_len"],
                a["n_stat"],
                hist_per_interval,
                N_HIST,
                record,
                a["q_rate"],
                a["rate_len"],
                a["trace_ptr"],
                a["trace_times"],
                a["q_int"],
                a["q_flt"],
                a["xfer_cum"],
                a["d_par"],
                a["emp_ptr"],
                a["emp_vals"],
                a["g_conc"],
                a["g_pool"],
                a["g_stretch"],
                a["qg_ptr"],
                a["qg_list"],
                a["qg_rank"],
                a["gq_ptr"],
                a["gq_list"],
                a["sc_time"],
                a["sc_staff"],
                a["sc_interval"],
                room["pool"],
                room["heap"],
                room["ring"],
                room["records"],
            )
            if status == 0:
                break
            # ran out of room: run again from the same seed with twice as much
            key = {
                e.OVERFLOW_HEAP: "heap",
                e.OVERFLOW_POOL: "pool",
                e.OVERFLOW_RING: "ring",
                e.OVERFLOW_RECORDS: "records",
            }[int(status)]
            room[key] *= 2
            if key == "pool":
                room["heap"] = max(room["heap"], 2 * room["pool"])
                room["ring"] = max(room["ring"], room["pool"])
        if progress is not None:
            progress(k)
        return Replication(qs, gs, hist, rf[:n].copy(), ri[:n].copy(), int(n_ev))

    n_workers = max(1, min(replications, workers or os.cpu_count() or 1))
    if n_workers == 1:
        return [one(k) for k in range(replications)]
    # the engine releases the GIL: threads run replications truly in parallel;
    # each has its own generator, so the result does not depend on the schedule
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        return list(pool.map(one, range(replications)))


def simulate(
    center: Center,
    *,
    days: int | None = None,
    seed: int = 0,
    replications: int = 1,
    warmup: float = 0.0,
    contacts: bool = False,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Simulate ``center`` for ``days`` days, ``replications`` times.

    Parameters
    ----------
    center : Center
        Queues, agent groups, interval and optional scenario.
    days : int, optional
        Days to simulate; by default as many as the longest per-interval
        vector covers (at least one).
    seed : int
        Every random draw comes from it; the same seed gives the same result
        whatever the number of ``workers``.
    replications : int
        Independent runs; summaries carry 95% confidence intervals across them.
    warmup : float
        Seconds simulated before the first interval (with its arrival rates
        and staffing) and left out of every statistic; 0 starts empty, as a
        center opening in the morning does.
    contacts : bool
        Keep every contact leg (``result.contacts``); otherwise memory stays
        flat in the number of contacts.
    workers : int, optional
        Threads for replications (default: the cores available).
    progress : callable, optional
        Called with the replication index as each one finishes.
    """
    seed = _check_seed(seed)
    if not (isinstance(warmup, int | float) and math.isfinite(warmup) and warmup >= 0):
        raise InvalidParameterError("warmup", warmup, "seconds >= 0", "Give 0 to start empty.")
    compiled = compile_center(center, days=days, warmup=float(warmup))
    t0 = time.perf_counter()
    reps = _run(
        compiled,
        seed=seed,
        replications=replications,
        record=contacts,
        hist_per_interval=False,
        workers=workers,
        progress=progress,
    )
    return SimulationResult(compiled, reps, seed=seed, wall_seconds=time.perf_counter() - t0)


@dataclass
class QueueSimulation:
    """One simulated queue; estimates with batch-means confidence intervals.

    Each method returns the point estimate; ``ci=True`` returns
    ``(estimate, low, high)``, the 95% interval from ``batches`` consecutive
    batches of the run (and across replications when there are several).
    """

    result: SimulationResult
    batches: int

    def _per_batch(self) -> tuple[np.ndarray, np.ndarray]:
        q = np.concatenate([r.qstats[0] for r in self.result.replications])  # (R*B, N)
        h = np.concatenate([r.hist[0] for r in self.result.replications])  # (R*B, 2, H)
        return q, h

    def _estimate(
        self, per_batch: np.ndarray, total: float, ci: bool
    ) -> float | tuple[float, float, float]:
        if not ci:
            return total
        _mean, lo, hi = mean_ci(per_batch)
        half = (float(hi) - float(lo)) / 2.0
        return total, total - half, total + half

    def _metric(self, name: str, ci: bool) -> float | tuple[float, float, float]:
        q, _ = self._per_batch()
        per = queue_metrics(q)[name]
        total = float(queue_metrics(q.sum(axis=0))[name])
        return self._estimate(per, total, ci)

    def service_level(
        self, threshold: float, definition: str = DEFAULT_SL_DEFINITION, *, ci: bool = False
    ) -> float | tuple[float, float, float]:
        """Share of contacts served within ``threshold`` seconds (whole seconds)."""
        q, h = self._per_batch()
        per = service_level_from_hist(h, q, threshold, definition)
        total = float(service_level_from_hist(h.sum(axis=0), q.sum(axis=0), threshold, definition))
        return self._estimate(per, total, ci)

    def asa(self, *, ci: bool = False) -> float | tuple[float, float, float]:
        """Average speed of answer over answered contacts, seconds."""
        return self._metric("asa", ci)

    def aht(self, *, ci: bool = False) -> float | tuple[float, float, float]:
        """Average handle time of answered contacts, seconds."""
        return self._metric("aht", ci)

    def abandon_rate(self, *, ci: bool = False) -> float | tuple[float, float, float]:
        """Abandoned over offered."""
        return self._metric("abandon_rate", ci)

    def occupancy(self, *, ci: bool = False) -> float | tuple[float, float, float]:
        """Busy agent time over agent time on shift (chat: slots in use over slots)."""
        g = np.concatenate([r.gstats[0] for r in self.result.replications])  # (R*B, N)
        with np.errstate(invalid="ignore", divide="ignore"):
            per = g[:, e.GS_BUSY] / g[:, e.GS_CAPACITY]
        total = float(g[:, e.GS_BUSY].sum() / g[:, e.GS_CAPACITY].sum())
        return self._estimate(per, total, ci)

    @property
    def offered(self) -> int:
        q, _ = self._per_batch()
        return int(q[:, e.QS_OFFERED].sum())

    @property
    def contacts(self) -> Any:
        """The contact legs (canonical record), when run with ``contacts=True``."""
        return self.result.contacts


def _service_distribution(service: str | Distribution, aht: float) -> Distribution:
    if isinstance(service, Distribution):
        return service
    if service == "exponential":
        return Exponential(aht, name="aht")
    if service == "lognormal":
        return LogNormal(aht, aht, name="aht")  # cv 1, the common contact-center shape
    raise InvalidParameterError(
        "service",
        service,
        "'exponential', 'lognormal' or a Distribution",
        "e.g. service=LogNormal(300, 200).",
    )


def simulate_queue(
    arrival_rate: float,
    aht: float,
    agents: int,
    patience: float | Distribution | None = None,
    *,
    n_contacts: int = 100_000,
    seed: int = 0,
    service: str | Distribution = "exponential",
    concurrency: int = 1,
    stretch: list[float] | None = None,
    warmup: float | None = None,
    batches: int = 20,
    replications: int = 1,
    contacts: bool = False,
    workers: int | None = None,
) -> QueueSimulation:
    """Simulate one queue with ``agents`` identical agents (M/M/n, M/M/n+M, M/G/n...).

    Parameters
    ----------
    arrival_rate : float
        Contacts per second (Poisson).
    aht : float
        Mean handle time, seconds (at concurrency 1).
    agents : int
        Agents on shift, all the time.
    patience : float, Distribution or None
        Mean patience (exponential), a distribution, or ``None`` (nobody abandons).
    n_contacts : int
        Contacts measured (after the warm-up), per replication.
    seed : int
        Seed of every random draw.
    service : str or Distribution
        ``"exponential"`` (default), ``"lognormal"`` (coefficient of variation 1)
        or any :class:`Distribution` (its mean should be ``aht``).
    concurrency, stretch :
        Chat: contacts per agent and handle-time multipliers per level.
    warmup : float, optional
        Seconds simulated before measuring; default 20 mean handle times.
    batches : int
        Consecutive batches for the batch-means confidence intervals.
    """
    seed = _check_seed(seed)
    if not isinstance(n_contacts, int | np.integer) or n_contacts < 1:
        raise InvalidParameterError(
            "n_contacts", n_contacts, "a whole number >= 1", "Give how many contacts to simulate."
        )
    if not isinstance(batches, int) or batches < 2:
        raise InvalidParameterError(
            "batches",
            batches,
            "a whole number >= 2",
            "Batch means need at least two batches; 20 is usual.",
        )
    rate = float(arrival_rate)
    if not (math.isfinite(rate) and rate > 0):
        raise InvalidParameterError(
            "arrival_rate", arrival_rate, "a finite number > 0", "Give contacts per second."
        )
    handle = _service_distribution(service, aht)
    warm = 20.0 * handle.mean if warmup is None else float(warmup)
    center = Center(
        queues=[
            Queue(
                "queue",
                arrival_rate=rate,
                handle_time=handle,
                patience=patience,
                channel="chat" if concurrency > 1 else "voice",
            )
        ],
        groups=[
            AgentGroup(
                "agents",
                staffing=agents,
                skills=["queue"],
                concurrency=concurrency,
                stretch=stretch,
            )
        ],
        interval=86400.0,
    )
    batch_len = n_contacts / rate / batches
    compiled = compile_center(
        center,
        days=1,
        warmup=warm,
        max_arrivals=int(n_contacts),
        stat_len=batch_len,
        n_stat=batches,
    )
    t0 = time.perf_counter()
    reps = _run(
        compiled,
        seed=seed,
        replications=replications,
        record=contacts,
        hist_per_interval=True,
        workers=workers,
        progress=None,
    )
    result = SimulationResult(compiled, reps, seed=seed, wall_seconds=time.perf_counter() - t0)
    return QueueSimulation(result, batches)
