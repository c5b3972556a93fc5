"""Staffing: the fewest agents meeting every target, and the reverse solves."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from contactops.errors import InvalidParameterError
from contactops.queueing import _kernels as k
from contactops.queueing._base import Metrics, Params, QueueModel
from contactops.queueing._definitions import (
    DEFAULT_SL_DEFINITION,
    SL_DEFINITIONS,
    check_definition,
)
from contactops.queueing._erlang import ErlangA, ErlangC, ErlangX
from contactops.queueing._validation import FloatArray, as_array, broadcast, check_probability

__all__ = ["StaffingResult", "Targets", "achieved", "max_arrival_rate", "required_agents"]

_TOL = k.GOAL_TOL  # a target met to within rounding counts as met


@dataclass(frozen=True)
class Targets:
    """The service targets a staff level must meet (``None``: not a target)."""

    service_level: FloatArray | None = None
    threshold: FloatArray | None = None
    definition: str = DEFAULT_SL_DEFINITION
    asa: FloatArray | None = None
    max_abandon: FloatArray | None = None
    max_occupancy: FloatArray | None = None
    max_wait_probability: FloatArray | None = None
    max_blocking: FloatArray | None = None

    @classmethod
    def build(
        cls,
        *,
        service_level: Any = None,
        threshold: Any = None,
        definition: str = DEFAULT_SL_DEFINITION,
        asa: Any = None,
        max_abandon: Any = None,
        max_occupancy: Any = None,
        max_wait_probability: Any = None,
        max_blocking: Any = None,
    ) -> Targets:
        """Validate the targets; each must be given as its own keyword."""
        check_definition(definition)
        sl = (
            None
            if service_level is None
            else check_probability(
                "service_level",
                service_level,
                fix="Give the target share, e.g. 0.8 for 80% (strictly between 0 and 1).",
            )
        )
        if sl is not None and threshold is None:
            raise InvalidParameterError(
                "threshold",
                None,
                "given with service_level",
                "Give the threshold in seconds, e.g. threshold=20.",
            )
        thr = (
            None
            if threshold is None
            else as_array("threshold", threshold, fix="Give the threshold in seconds, e.g. 20.")
        )
        targets = cls(
            service_level=sl,
            threshold=thr,
            definition=definition,
            asa=None
            if asa is None
            else as_array(
                "asa",
                asa,
                low=0.0,
                low_inclusive=False,
                fix="Give the target average speed of answer in seconds.",
            ),
            max_abandon=None
            if max_abandon is None
            else check_probability(
                "max_abandon", max_abandon, fix="Give a share, e.g. 0.05 for 5%."
            ),
            max_occupancy=None
            if max_occupancy is None
            else as_array(
                "max_occupancy",
                max_occupancy,
                low=0.0,
                high=1.0,
                low_inclusive=False,
                fix="Give a share, e.g. 0.85; 1 means no cap.",
            ),
            max_wait_probability=None
            if max_wait_probability is None
            else check_probability(
                "max_wait_probability", max_wait_probability, fix="Give a share, e.g. 0.1."
            ),
            max_blocking=None
            if max_blocking is None
            else check_probability("max_blocking", max_blocking, fix="Give a share, e.g. 0.01."),
        )
        if not targets.arrays():
            raise InvalidParameterError(
                "targets",
                "none",
                "at least one of service_level (with threshold), asa, "
                "max_abandon, max_occupancy, max_wait_probability, max_blocking",
                "Say what the staff has to achieve, e.g. service_level=0.8, threshold=20.",
            )
        return targets

    def arrays(self) -> dict[str, FloatArray]:
        """The given targets (and threshold) as named arrays."""
        names = (
            "service_level",
            "threshold",
            "asa",
            "max_abandon",
            "max_occupancy",
            "max_wait_probability",
            "max_blocking",
        )
        return {n: v for n in names if (v := getattr(self, n)) is not None}

    def met(self, m: dict[str, FloatArray], g: dict[str, FloatArray]) -> np.ndarray:
        """Which points of flat metrics ``m`` meet the flat targets ``g`` (and are stable)."""
        ok = np.isfinite(m["mean_wait"])
        if "service_level" in g:
            ok &= m["service_level"] >= g["service_level"] - _TOL
        if "asa" in g:
            ok &= m["asa"] <= g["asa"] * (1 + _TOL)
        if "max_abandon" in g:
            ok &= m["abandon_rate"] <= g["max_abandon"] + _TOL
        if "max_occupancy" in g:
            ok &= m["occupancy"] <= g["max_occupancy"] + _TOL
        if "max_wait_probability" in g:
            ok &= m["prob_wait"] <= g["max_wait_probability"] + _TOL
        if "max_blocking" in g:
            ok &= m["blocking"] <= g["max_blocking"] + _TOL
        return np.asarray(ok)


@dataclass(frozen=True)
class StaffingResult:
    """Required agents per interval and the metrics they achieve.

    ``agents`` are agents handling contacts (whole numbers when ``integer``);
    ``scheduled`` adds shrinkage: ``agents / (1 - shrinkage)``, rounded up when
    ``integer``.  Where no staff up to ``max_agents`` meets the targets (for
    example blocking forced by too few lines) ``feasible`` is False and
    ``agents`` is NaN.
    """

    agents: FloatArray
    scheduled: FloatArray
    feasible: np.ndarray
    metrics: Metrics

    @property
    def service_level(self) -> FloatArray:
        return self.metrics.service_level

    @property
    def asa(self) -> FloatArray:
        return self.metrics.asa

    @property
    def abandon_rate(self) -> FloatArray:
        return self.metrics.abandon_rate

    @property
    def occupancy(self) -> FloatArray:
        return self.metrics.occupancy

    @property
    def prob_wait(self) -> FloatArray:
        return self.metrics.prob_wait

    @property
    def blocking(self) -> FloatArray:
        return self.metrics.blocking

    def as_dict(self) -> dict[str, FloatArray]:
        """Columns for a table: agents, scheduled, feasible and every metric."""
        out: dict[str, Any] = {
            "agents": self.agents,
            "scheduled": self.scheduled,
            "feasible": self.feasible,
        }
        out.update({k: v for k, v in self.metrics.as_dict().items() if k != "agents"})
        return out


def _flat_problem(
    model: QueueModel, targets: Targets, extra: dict[str, FloatArray]
) -> tuple[tuple[int, ...], Params, dict[str, FloatArray]]:
    t_arrays = targets.arrays()
    threshold = t_arrays.pop("threshold", np.zeros(()))
    shape, flat = broadcast(
        **model._params(),
        threshold=threshold,
        **extra,
        **{f"target_{n}": v for n, v in t_arrays.items()},
    )
    goals = {n[len("target_") :]: flat.pop(n) for n in list(flat) if n.startswith("target_")}
    return shape, flat, goals


def _evaluate(
    model: QueueModel,
    p: Params,
    idx: np.ndarray,
    agents: FloatArray,
    targets: Targets,
    goals: dict[str, FloatArray],
) -> np.ndarray:
    sub = {name: v[idx] for name, v in p.items()}
    sub["agents"] = agents
    m = model._metrics_flat(sub, targets.definition)
    return targets.met(m, {n: v[idx] for n, v in goals.items()})


_FAST_ERLANG_C_TARGETS = {"service_level", "asa", "max_occupancy", "max_wait_probability"}


def _goal_matrix(goals: dict[str, FloatArray], size: int) -> FloatArray:
    """The targets as the compiled searches take them: one row per point, NaN for none."""
    matrix = np.full((size, k.N_GOALS), math.nan)
    for column, name in enumerate(k.GOAL_NAMES):
        if name in goals:
            matrix[:, column] = goals[name]
    return matrix


def _erlang_c_fast(p: Params, goals: dict[str, FloatArray], max_agents: float) -> FloatArray:
    """Whole-agent Erlang C requirement by the compiled upward recursion (NaN: over the cap)."""
    agents: FloatArray = k.erlang_c_staff(
        p["arrival_rate"],
        p["aht"],
        p["threshold"],
        _goal_matrix(goals, p["arrival_rate"].size),
        float(max_agents),
    )
    return agents


def _plain_erlang_a(model: QueueModel, p: Params) -> bool:
    """Erlang A, or Erlang X without line limits and redials: a plain M/M/n+M."""
    return (
        type(model) in {ErlangA, ErlangX}
        and bool(np.all(np.isinf(p["lines"])))
        and not np.any(p["redial_probability"])
    )


def _erlang_a_fast(
    p: Params, targets: Targets, goals: dict[str, FloatArray], *, integer: bool, max_agents: float
) -> FloatArray:
    """M/M/n+M requirement by the compiled secant search (NaN: over the cap)."""
    # the very expressions of ErlangX._kernel, so every point evaluates bit for bit alike
    theta = np.where(np.isinf(p["patience"]), 0.0, 1.0 / p["patience"])
    agents: FloatArray = k.erlang_a_staff(
        p["arrival_rate"],
        1.0 / p["aht"],
        theta,
        p["threshold"],
        _goal_matrix(goals, p["arrival_rate"].size),
        SL_DEFINITIONS.index(targets.definition),
        float(max_agents),
        integer,
    )
    return agents


def _search_agents(
    model: QueueModel,
    p: Params,
    targets: Targets,
    goals: dict[str, FloatArray],
    *,
    integer: bool,
    max_agents: float,
    compiled: bool = True,
) -> tuple[FloatArray, np.ndarray]:
    """Smallest staff meeting the targets, per point; none above ``max_agents`` (infeasible).

    ``max_agents`` is the most whole agents when ``integer``.  The compiled
    searches (``compiled=True``) cover Erlang C with whole agents and
    service-level, ASA, occupancy and wait-probability targets, and plain
    M/M/n+M (Erlang A; Erlang X without lines and redials) with any targets;
    they give what the generic search gives, cap included.  Everything else,
    and ``compiled=False``, takes the generic search: galloping then
    bisection, vectorised over the points still unresolved.
    """
    if compiled:
        if type(model) is ErlangC and integer and set(goals) <= _FAST_ERLANG_C_TARGETS:
            agents = _erlang_c_fast(p, goals, max_agents)
            return agents, ~np.isnan(agents)
        if _plain_erlang_a(model, p):
            agents = _erlang_a_fast(p, targets, goals, integer=integer, max_agents=max_agents)
            return agents, ~np.isnan(agents)
    size = p["arrival_rate"].size
    load = model._offered_load(p)
    lo = model._known_infeasible(p)  # fails (or -1: nothing known)
    hi = np.minimum(np.ceil(np.maximum(load + 2.0 * np.sqrt(load) + 1.0, lo + 1.0)), max_agents)
    feasible = np.ones(size, dtype=bool)
    pending = np.arange(size)
    # gallop upwards until the targets are met
    while pending.size:
        ok = _evaluate(model, p, pending, hi[pending], targets, goals)
        bad = pending[~ok]
        at_cap = hi[bad] >= max_agents
        feasible[bad[at_cap]] = False
        bad = bad[~at_cap]
        lo[bad] = hi[bad]
        hi[bad] = np.minimum(2.0 * hi[bad] + 1.0, max_agents)
        pending = bad
    # integer bisection: lo fails (or is -1), hi meets
    active = np.flatnonzero(feasible & (hi - lo > 1.0))
    while active.size:
        # strictly inside (lo, hi) even when hi is a fractional max_agents
        mid = np.maximum(np.floor((lo[active] + hi[active]) / 2.0), lo[active] + 1.0)
        ok = _evaluate(model, p, active, mid, targets, goals)
        hi[active[ok]] = mid[ok]
        lo[active[~ok]] = mid[~ok]
        active = active[hi[active] - lo[active] > 1.0]
    if not integer:
        active = np.flatnonzero(feasible & (hi > 0))
        lo_r = np.maximum(lo, 0.0)
        for _ in range(64):
            if not active.size:
                break
            mid = 0.5 * (lo_r[active] + hi[active])
            ok = _evaluate(model, p, active, mid, targets, goals)
            hi[active[ok]] = mid[ok]
            lo_r[active[~ok]] = mid[~ok]
            active = active[hi[active] - lo_r[active] > 1e-9 * np.maximum(hi[active], 1.0)]
    agents = np.where(feasible, hi, math.nan)
    return agents, feasible


def required_agents(
    model: QueueModel,
    *,
    service_level: Any = None,
    threshold: Any = None,
    definition: str = DEFAULT_SL_DEFINITION,
    asa: Any = None,
    max_abandon: Any = None,
    max_occupancy: Any = None,
    max_wait_probability: Any = None,
    max_blocking: Any = None,
    shrinkage: Any = 0.0,
    integer: bool = True,
    max_agents: float = 1_000_000.0,
) -> StaffingResult:
    """The fewest agents meeting every target given, for every interval at once.

    Parameters
    ----------
    model : ErlangC, ErlangA, ErlangX or Chat
        Demand per interval (arrays broadcast together).
    service_level, threshold, definition
        Service-level target: at least ``service_level`` of contacts within
        ``threshold`` seconds under ``definition`` (see ``SL_DEFINITIONS``).
    asa : seconds, optional
        Most average speed of answer (mean wait of answered contacts).
    max_abandon, max_occupancy, max_wait_probability, max_blocking : optional
        Upper limits on the abandonment rate, occupancy, probability of
        waiting and blocking.
    shrinkage : share in [0, 1)
        Paid time away from contacts (breaks, training, absence); ``scheduled``
        is ``agents / (1 - shrinkage)``.
    integer : bool
        Whole agents (default) or the real-valued requirement from the
        continuous extension (smooth staffing curves).
    max_agents : float
        Give up above this staff (with ``integer``, above the whole number of
        agents at or below it); those intervals are marked infeasible.

    Returns
    -------
    StaffingResult
        ``agents``, ``scheduled``, ``feasible`` and the achieved ``metrics``.

    Notes
    -----
    An interval with no demand needs zero agents.  Every model's metrics are
    monotone in the number of agents, so the search is exact: galloping from
    a first guess near the offered load, then bisection; compiled searches
    give the same answers faster for Erlang C (whole agents) and for Erlang
    A and Erlang X without lines and redials.
    """
    targets = Targets.build(
        service_level=service_level,
        threshold=threshold,
        definition=definition,
        asa=asa,
        max_abandon=max_abandon,
        max_occupancy=max_occupancy,
        max_wait_probability=max_wait_probability,
        max_blocking=max_blocking,
    )
    shrink = as_array(
        "shrinkage",
        shrinkage,
        low=0.0,
        high=1.0,
        high_inclusive=False,
        fix="Give the share of paid time away from contacts, e.g. 0.3.",
    )
    cap = float(
        as_array(
            "max_agents",
            max_agents,
            allow_inf=True,
            fix="Give the most agents to consider, e.g. 1e6.",
        )
    )
    return _staff(model, targets, shrink, integer=integer, max_agents=cap)


def _staff(
    model: QueueModel,
    targets: Targets,
    shrinkage: FloatArray,
    *,
    integer: bool,
    max_agents: float,
    compiled: bool = True,
) -> StaffingResult:
    """``required_agents`` after validation; ``compiled=False`` forces the generic search."""
    if integer:
        max_agents = float(np.floor(max_agents))  # the most whole agents
    shape, p, goals = _flat_problem(model, targets, {"shrinkage": shrinkage})
    shrink_flat = p.pop("shrinkage")
    agents, feasible = _search_agents(
        model, p, targets, goals, integer=integer, max_agents=max_agents, compiled=compiled
    )
    scheduled = agents / (1.0 - shrink_flat)
    if integer:
        scheduled = np.ceil(scheduled - 1e-9) + 0.0  # + 0.0 turns -0.0 into 0.0
    final = dict(p, agents=np.where(feasible, agents, max_agents))
    m = model._metrics_flat(final, targets.definition)
    metrics = Metrics(**{n: v.reshape(shape) for n, v in m.items()})
    return StaffingResult(
        agents=agents.reshape(shape),
        scheduled=scheduled.reshape(shape),
        feasible=feasible.reshape(shape),
        metrics=metrics,
    )


def achieved(
    model: QueueModel, agents: Any, threshold: Any = 0.0, definition: str = DEFAULT_SL_DEFINITION
) -> Metrics:
    """The metrics a given staff achieves (same as ``model.metrics``)."""
    return model.metrics(agents, threshold, definition)


def max_arrival_rate(
    model: QueueModel,
    agents: Any,
    *,
    service_level: Any = None,
    threshold: Any = None,
    definition: str = DEFAULT_SL_DEFINITION,
    asa: Any = None,
    max_abandon: Any = None,
    max_occupancy: Any = None,
    max_wait_probability: Any = None,
    max_blocking: Any = None,
    rtol: float = 1e-9,
) -> FloatArray:
    """The most contacts per second that ``agents`` can take while meeting every target.

    The model's own arrival rate is ignored; its other parameters (handle
    time, patience, lines) are kept.  Multiply by the interval length in
    seconds for contacts per interval.
    """
    targets = Targets.build(
        service_level=service_level,
        threshold=threshold,
        definition=definition,
        asa=asa,
        max_abandon=max_abandon,
        max_occupancy=max_occupancy,
        max_wait_probability=max_wait_probability,
        max_blocking=max_blocking,
    )
    n = as_array("agents", agents, fix="Give the number of agents, >= 0.")
    shape, p, goals = _flat_problem(model, targets, {"agents": n})
    size = n.size if not shape else int(np.prod(shape))
    staff = p.pop("agents")
    # capacity per agent: one agent serves 1/aht per second (chat: m/aht_m)
    per_agent = model._offered_load(dict(p, arrival_rate=np.ones(size)))
    lo = np.zeros(size)
    hi = np.maximum(staff, 1.0) / per_agent
    everything = np.arange(size)
    base = dict(p)

    def ok(idx: np.ndarray, rate: FloatArray) -> np.ndarray:
        q = dict(base, arrival_rate=base["arrival_rate"].copy())
        q["arrival_rate"][idx] = rate
        q["agents"] = staff
        return _evaluate(model, q, idx, staff[idx], targets, goals)

    pending = everything[ok(everything, hi)]
    for _ in range(200):  # grow until the targets fail
        if not pending.size:
            break
        lo[pending] = hi[pending]
        hi[pending] *= 2.0
        pending = pending[ok(pending, hi[pending])]
    active = everything[staff > 0]
    for _ in range(200):
        if not active.size:
            break
        mid = 0.5 * (lo[active] + hi[active])
        good = ok(active, mid)
        lo[active[good]] = mid[good]
        hi[active[~good]] = mid[~good]
        active = active[hi[active] - lo[active] > rtol * np.maximum(hi[active], 1e-300)]
    out: FloatArray = lo.reshape(shape)
    return out
