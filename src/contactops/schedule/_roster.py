"""``roster``: named agents on shifts, under each region's labor rules.

The shifts come from a :class:`Schedule` (or from scheduling the requirement
first): every (queue, template, start time) the schedule uses, on every day
its template allows, is a shift an agent may take.  One integer program then
chooses who works what:

* ``a[i, p]``: agent ``i`` works pool shift ``p`` (only if ``i`` has the
  queue's skill and ``p`` lies inside ``i``'s availability that day);
* ``x[p] = sum_i a[i, p]`` agents on ``p``; their breaks and the coverage,
  short and over are the schedule's program on the pool (same costs);
* per agent: one shift a day, contracted maximum hours (hard), contracted
  minimum (soft: each hour missing costs ``RosterWeights.contract_hour``),
  and the region's rules: most consecutive days, least rest between shifts,
  most hours in a week, two consecutive days off, start times within a band.
  A rule is hard unless the region lists it in ``LaborRules.soft``; a soft
  rule broken costs ``LaborRules.soft_weight`` paid hours each time;
* preferences: days off wanted, a preferred start time, preferred templates.

Nobody working satisfies every hard rule, so there is always a roster; when
the agents cannot cover the requirement the best one comes back with its
short intervals, and each soft rule broken is reported with its reason.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import scipy.sparse as sp

from contactops.errors import InvalidParameterError
from contactops.queueing import DEFAULT_SL_DEFINITION, QueueModel
from contactops.schedule._expand import clock, day_clock
from contactops.schedule._implicit import assign_breaks, envelope_round
from contactops.schedule._result import CoverageMixin, Schedule, local_day, timestamps
from contactops.schedule._rules import (
    DAY,
    WEEKDAYS,
    Agent,
    Costs,
    LaborRules,
    ScheduleWarning,
    ShiftRules,
    ShiftTemplate,
)
from contactops.schedule._shifts import ShiftProgram, schedule_shifts
from contactops.schedule._solve import IntegerProgram, Progress, relative_gap, solve_cpsat, solve_lp

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = ["Roster", "RosterWeights", "roster"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class RosterWeights:
    """Prices of preferences, in paid agent-hours.

    ``day_off``: each day worked that the agent wanted off.
    ``contract_hour``: each hour below the contracted minimum.
    ``start_hour``: each hour between a shift's start and the preferred start.
    ``template``: each shift of a template the agent did not prefer (when
    they listed some).  An agent's ``weight`` multiplies their preferences.
    """

    day_off: float = 4.0
    contract_hour: float = 2.0
    start_hour: float = 0.25
    template: float = 0.5


class _Rows:
    """Constraint rows as triplets over a growing set of columns."""

    def __init__(self, n_cols: int) -> None:
        self.base = n_cols
        self.n_cols = n_cols
        self.c: list[float] = []
        self.lb: list[float] = []
        self.ub: list[float] = []
        self.eq: tuple[list[int], list[int], list[float], list[float]] = ([], [], [], [])
        self.le: tuple[list[int], list[int], list[float], list[float]] = ([], [], [], [])

    def new(self, n: int, *, ub: float, cost: float = 0.0) -> IntArray:
        idx = np.arange(self.n_cols, self.n_cols + n, dtype=np.int64)
        self.n_cols += n
        self.c += [cost] * n
        self.lb += [0.0] * n
        self.ub += [ub] * n
        return idx

    def set_cost(self, col: int, cost: float) -> None:
        self.c[col - self.base] = cost

    def add(self, kind: str, cols: Sequence[int], vals: Sequence[float], rhs: float) -> None:
        r, cc, vv, b = self.eq if kind == "eq" else self.le
        row = len(b)
        r += [row] * len(cols)
        cc += list(cols)
        vv += list(vals)
        b.append(rhs)

    def matrix(self, kind: str) -> tuple[sp.csr_array, FloatArray]:
        r, cc, vv, b = self.eq if kind == "eq" else self.le
        return (
            sp.csr_array(
                (np.asarray(vv, float), (np.asarray(r, np.int64), np.asarray(cc, np.int64))),
                shape=(len(b), self.n_cols),
            ),
            np.asarray(b, float),
        )


@dataclass
class _Greedy:
    """An agent's week while the greedy first roster is built."""

    days: set[int] = field(default_factory=set)
    minutes: float = 0.0
    slots: list[int] = field(default_factory=list)
    shifts: list[int] = field(default_factory=list)


@dataclass
class _AgentVars:
    agent: Agent
    labor: LaborRules
    pool: IntArray  # pool shifts this agent may work
    cols: IntArray  # their a[i, p] columns
    day: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # w[i, d] columns


def _labor_for(agent: Agent, rules: LaborRules | Mapping[str, LaborRules] | None) -> LaborRules:
    if rules is None:
        return LaborRules()
    if isinstance(rules, LaborRules):
        return rules
    if agent.region in rules:
        return rules[agent.region]
    raise InvalidParameterError(
        f"agent {agent.name!r}.region",
        agent.region,
        "a region with labor rules (" + ", ".join(rules) + ")",
        "Add the region's rules or fix the agent's region.",
    )


def _fits(agent: Agent, weekday: int, start_s: float, end_s: float) -> bool:
    """The shift ``[start_s, end_s)`` (seconds from its day's midnight) is inside a window."""
    if agent.available is None:
        return True
    return any(
        a - 1e-6 <= start_s and end_s <= b + 1e-6 for a, b in agent.available.get(weekday, ())
    )


def _pool(schedule: Schedule) -> IntArray:
    """Every candidate with a (queue, template, start time) the schedule uses."""
    cand = schedule.program.cand
    key = (cand.queue * len(cand.templates) + cand.template) * schedule.req.per_day + cand.slot
    used = np.unique(key[schedule.x > 0])
    return np.flatnonzero(np.isin(key, used)).astype(np.int64)


def _warn_inputs(
    agents: Sequence[Agent],
    queues: Sequence[str],
    templates: Sequence[ShiftTemplate],
    need: FloatArray,
) -> None:
    names = [a.name for a in agents]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InvalidParameterError("agents", dup, "unique names", "Give every agent their own id.")
    qset = set(queues)
    for a in agents:
        if not set(a.skills) & qset:
            warnings.warn(
                f"agent {a.name!r}: none of their skills ({', '.join(a.skills) or '-'}) "
                f"is a required queue ({', '.join(queues)}); they get no shifts.",
                ScheduleWarning,
                stacklevel=3,
            )
    for q, name in enumerate(queues):
        if need[q].sum() > 0 and not any(name in a.skills for a in agents):
            warnings.warn(
                f"queue {name!r}: no agent has this skill; it will be short throughout.",
                ScheduleWarning,
                stacklevel=3,
            )
    paid = sorted({round(t.paid_length / 3600.0, 4) for t in templates})
    for a in agents:
        if a.min_hours <= 0:
            continue
        n_days = 7 if a.available is None else len(a.available)  # a whole week's worth
        sums = {0.0}
        for _ in range(n_days):
            sums |= {round(s + h, 4) for s in sums for h in paid}
        if not any(a.min_hours - 1e-6 <= s <= a.max_hours + 1e-6 for s in sums):
            warnings.warn(
                f"agent {a.name!r}: contracted hours {a.min_hours:g}-{a.max_hours:g} cannot be "
                f"made from the templates' paid hours ({', '.join(f'{h:g}' for h in paid)}) in at "
                f"most {n_days} day(s); the minimum will be reported as missed.",
                ScheduleWarning,
                stacklevel=3,
            )


def roster(
    source: Schedule | Any,
    agents: Sequence[Agent],
    rules: LaborRules | Mapping[str, LaborRules] | None = None,
    *,
    templates: Sequence[ShiftTemplate] | None = None,
    shift_rules: ShiftRules | None = None,
    costs: Costs | None = None,
    weights: RosterWeights | None = None,
    queue_model: QueueModel | Sequence[QueueModel | None] | Mapping[str, QueueModel] | None = None,
    threshold: float | Mapping[str, float] = 20.0,
    shrinkage: float = 0.0,
    definition: str = DEFAULT_SL_DEFINITION,
    interval: float | None = None,
    start: Any = None,
    timezone: str | None = None,
    time_limit: float = 30.0,
    workers: int = 2,
    seed: int = 0,
    progress: Callable[[Progress], None] | None = None,
) -> Roster:
    """Named agents on shifts covering the requirement, under labor rules.

    Parameters
    ----------
    source
        A :class:`Schedule`, or a requirement (then ``templates`` are needed:
        the requirement is scheduled first, with a third of the time limit).
    agents
        The :class:`Agent` s to roster.
    rules
        :class:`LaborRules` for everyone, or ``{region: LaborRules}``.
    weights
        :class:`RosterWeights`: prices of preferences and of contract hours
        missed.
    costs, queue_model, threshold, shrinkage, definition
        As for :func:`schedule_shifts` (taken from the schedule when given one).
    time_limit, workers, seed
        CP-SAT's budget, threads and seed; ``workers=1`` is reproducible.

    Returns
    -------
    Roster
        ``.assignments`` (who works which shift with which breaks), coverage
        per interval and queue, ``.rules`` (each agent's rules, satisfied or
        broken with the reason), ``.lower_bound`` (the highest of the roster's
        LP relaxation, the schedule's LP bound and CP-SAT's proven bound) and
        ``.gap``.
    """
    t0 = time.perf_counter()
    weights = RosterWeights() if weights is None else weights
    if not agents:
        raise InvalidParameterError("agents", [], "at least one agent", "List the agents.")
    if isinstance(source, Schedule):
        schedule = source
    else:
        if templates is None:
            raise InvalidParameterError(
                "templates",
                None,
                "given with a requirement",
                "Pass the shift templates, or a Schedule.",
            )
        schedule = schedule_shifts(
            source,
            templates,
            shift_rules,
            costs=costs,
            queue_model=queue_model,
            threshold=threshold,
            shrinkage=shrinkage,
            definition=definition,
            interval=interval,
            start=start,
            timezone=timezone,
            time_limit=time_limit / 3,
            workers=workers,
            seed=seed,
        )
    base = schedule.program
    req = base.req
    _warn_inputs(agents, req.queues, base.cand.templates, req.flat())
    pool_idx = _pool(schedule)
    program = ShiftProgram(req, base.cand.subset(pool_idx), base.seg, base.costs, base.rules)
    model = _RosterModel(program, agents, rules, weights)
    ip = model.ip
    bound, _v, lp_status = solve_lp(ip, time_limit=max(time_limit / 10, 1.0))
    # the schedule's LP bound holds too: the roster pays the same costs, over fewer shifts,
    # with more rules, plus preferences that cost nothing or more
    if math.isfinite(schedule.lower_bound):
        bound = max(bound, schedule.lower_bound)
    if progress is not None:
        progress(Progress("lp", time.perf_counter() - t0, math.nan, bound))
    first = _complete(
        ip, model.greedy_hint(schedule.x[pool_idx]), program.ip.n, workers=workers, seed=seed
    )
    if first is not None and progress is not None:
        progress(Progress("greedy", time.perf_counter() - t0, float(ip.c @ first), bound))
    remaining = max(time_limit - (time.perf_counter() - t0), 1.0)
    out = solve_cpsat(
        ip,
        hint=first,
        time_limit=remaining,
        workers=workers,
        seed=seed,
        bound=bound,
        report=progress,
        t0=time.perf_counter(),
    )
    values = out.x if out.status in ("optimal", "feasible") else np.zeros(ip.n)
    if first is not None and (
        out.status not in ("optimal", "feasible")
        or float(ip.c @ first) < float(ip.c @ values) - 1e-9
    ):
        values = first
    if math.isfinite(out.cp_bound):  # CP-SAT's proven bound, when better than the LP's
        bound = max(bound, out.cp_bound)
    result = Roster(
        model,
        values,
        status=out.status,
        lower_bound=bound,
        wall_time=time.perf_counter() - t0,
        stats={
            "lp_status": lp_status,
            "cp_status": out.status,
            "cp_bound": out.cp_bound,
            "variables": ip.n,
            "constraints": int(ip.b_eq.size + ip.b_ub.size),
            "pool_shifts": int(pool_idx.size),
            "schedule": schedule.summary(),
        },
    )
    if progress is not None:
        progress(Progress("done", result.wall_time, result.objective, bound, out.solutions))
    return result


def _complete(
    ip: IntegerProgram, partial: FloatArray, n_shift: int, *, workers: int, seed: int
) -> FloatArray | None:
    """A full solution with the agents' shifts of ``partial`` fixed, or None.

    The rest (breaks, coverage, days worked, slacks of soft rules, start bands)
    follows from the shifts; CP-SAT fills it in with the shifts pinned, starting
    from ``partial``'s values for the first ``n_shift`` columns (the shift
    program's).
    """
    fixed = np.isfinite(partial)
    fixed[:n_shift] = False
    lb, ub = ip.lb.copy(), ip.ub.copy()
    lb[fixed] = np.maximum(lb[fixed], partial[fixed])
    ub[fixed] = np.minimum(ub[fixed], partial[fixed])
    if np.any(lb > ub + 1e-9):
        return None
    pinned = IntegerProgram(ip.c, lb, ub, ip.a_eq, ip.b_eq, ip.a_ub, ip.b_ub)
    out = solve_cpsat(pinned, hint=partial, time_limit=5.0, workers=workers, seed=seed)
    return out.x if out.status in ("optimal", "feasible") else None


class _RosterModel:
    """The roster's integer program on top of the pool's shift program."""

    def __init__(
        self,
        program: ShiftProgram,
        agents: Sequence[Agent],
        rules: LaborRules | Mapping[str, LaborRules] | None,
        weights: RosterWeights,
    ) -> None:
        self.program = program
        self.agents = list(agents)
        self.weights = weights
        self.req = program.req
        cand = program.cand
        base = program.ip
        self.rows = rows = _Rows(base.n)
        iv = self.req.interval
        self.start_s = cand.slot * iv
        self.end_s = self.start_s + cand.length * iv
        self.minutes = np.round(cand.paid_hours * 60.0)
        self.vars: list[_AgentVars] = []
        self._conflicts: dict[int, list[int]] | None = None
        self._start_abs: FloatArray = np.zeros(0)
        self._end_abs: FloatArray = np.zeros(0)
        self._span = 0.0
        queue_names = self.req.queues
        weekday = np.array([self.req.weekday(int(d)) for d in cand.day], dtype=np.int64)
        link: list[list[int]] = [[] for _ in range(cand.n)]
        for agent in self.agents:
            labor = _labor_for(agent, rules)
            skills = {queue_names.index(q) for q in agent.skills if q in queue_names}
            ok = [
                p
                for p in range(cand.n)
                if int(cand.queue[p]) in skills
                and _fits(agent, int(weekday[p]), float(self.start_s[p]), float(self.end_s[p]))
                and self.minutes[p] <= agent.max_hours * 60 + 1e-6
            ]
            pool = np.asarray(ok, dtype=np.int64)
            cols = rows.new(pool.size, ub=1.0)
            av = _AgentVars(agent, labor, pool, cols)
            self.vars.append(av)
            for p, col in zip(pool.tolist(), cols.tolist(), strict=True):
                link[p].append(col)
            self._agent_rows(av)
        for p in range(cand.n):  # x[p] = sum of the agents on it
            rows.add("eq", [p, *link[p]], [1.0] + [-1.0] * len(link[p]), 0.0)
        self.ip = self._assemble(base)

    # -- per-agent rules ------------------------------------------------------------
    def _agent_rows(self, av: _AgentVars) -> None:
        rows, cand, req = self.rows, self.program.cand, self.req
        agent, labor, pool, cols = av.agent, av.labor, av.pool, av.cols
        w = self.weights
        days = req.days
        # preferences on the shifts themselves
        pref = np.zeros(pool.size)
        if agent.prefer_start is not None:
            diff = np.abs(self.start_s[pool] - agent.prefer_start) % DAY
            pref += np.minimum(diff, DAY - diff) / 3600.0 * w.start_hour
        if agent.prefer_templates:
            names = [cand.templates[int(t)].name for t in cand.template[pool]]
            pref += np.array([0.0 if n in agent.prefer_templates else w.template for n in names])
        for col, cost in zip(cols.tolist(), (pref * agent.weight).tolist(), strict=True):
            rows.set_cost(col, cost)
        # one shift a day: w[i, d] = sum of the day's shifts, in {0, 1}
        off_wanted = set(agent.days_off)
        av.day = np.array(
            [
                rows.new(
                    1,
                    ub=1.0,
                    cost=w.day_off * agent.weight if req.weekday(d) in off_wanted else 0.0,
                )[0]
                for d in range(days)
            ],
            dtype=np.int64,
        )
        pday = cand.day[pool]
        for d in range(days):
            here = cols[pday == d]
            rows.add("eq", [int(av.day[d]), *here.tolist()], [1.0] + [-1.0] * here.size, 0.0)
        # hours per calendar week of the horizon
        for w0 in range(0, days, 7):
            in_week = (pday >= w0) & (pday < w0 + 7)
            c_w, m_w = cols[in_week].tolist(), self.minutes[pool][in_week].tolist()
            span = min(7, days - w0)
            rows.add("le", c_w, m_w, math.floor(agent.max_hours * 60 + 1e-6))
            cap = labor.max_weekly_hours * 60
            if labor.is_soft("max_weekly_hours"):
                extra = rows.new(1, ub=math.inf, cost=labor.soft_weight / 60.0)[0]
                rows.add("le", [*c_w, int(extra)], [*m_w, -1.0], math.floor(cap + 1e-6))
            else:
                rows.add("le", c_w, m_w, math.floor(cap + 1e-6))
            target = agent.min_hours * 60 * span / 7.0
            if target > 0:
                miss = rows.new(1, ub=target, cost=w.contract_hour * agent.weight / 60.0)[0]
                rows.add("le", [*c_w, int(miss)], [-m for m in m_w] + [-1.0], -target)
        self._consecutive(av)
        self._rest(av)
        self._paired(av)
        self._stable(av)

    def _soft(self, labor: LaborRules, rule: str) -> list[int]:
        if labor.is_soft(rule):
            return [int(self.rows.new(1, ub=1.0, cost=labor.soft_weight)[0])]
        return []

    def _consecutive(self, av: _AgentVars) -> None:
        days, limit = self.req.days, av.labor.max_consecutive_days
        if days <= limit:
            return
        wrap = self.program.rules.wrap
        for d0 in range(days if wrap else days - limit):
            window = [int(av.day[(d0 + k) % days]) for k in range(limit + 1)]
            slack = self._soft(av.labor, "max_consecutive_days")
            self.rows.add(
                "le", window + slack, [1.0] * len(window) + [-1.0] * len(slack), float(limit)
            )

    def rest_conflicts(self) -> dict[int, list[int]]:
        """Pool shifts too close after each pool shift (on later days) for the least rest."""
        if self._conflicts is not None:
            return self._conflicts
        cand, req = self.program.cand, self.req
        iv = req.interval
        start = cand.start * iv
        end = start + cand.length * iv
        span = req.horizon * iv
        out: dict[int, list[int]] = {}
        rests = {av.labor.min_rest for av in self.vars}
        need = max(rests) if rests else 0.0
        for p in range(cand.n):
            later = start - end[p]
            if self.program.rules.wrap:
                later = np.where(cand.day < cand.day[p], start + span - end[p], later)
            else:
                later = np.where(cand.day <= cand.day[p], np.inf, later)
            later[cand.day == cand.day[p]] = np.inf
            out[p] = np.flatnonzero(later < need).tolist()
        self._conflicts = out
        self._start_abs = np.asarray(start, dtype=np.float64)
        self._end_abs = np.asarray(end, dtype=np.float64)
        self._span = float(span)
        return out

    def _rest(self, av: _AgentVars) -> None:
        conflicts = self.rest_conflicts()
        col_of = dict(zip(av.pool.tolist(), av.cols.tolist(), strict=True))
        cand = self.program.cand
        for p, col in col_of.items():
            near = [
                q
                for q in conflicts[p]
                if q in col_of and self._rest_between(p, q) < av.labor.min_rest - 1e-6
            ]
            by_day: dict[int, list[int]] = {}
            for q in near:
                by_day.setdefault(int(cand.day[q]), []).append(col_of[q])
            for qs in by_day.values():
                slack = self._soft(av.labor, "min_rest")
                self.rows.add(
                    "le", [col, *qs, *slack], [1.0] * (1 + len(qs)) + [-1.0] * len(slack), 1.0
                )

    def _rest_between(self, p: int, q: int) -> float:
        gap = float(self._start_abs[q] - self._end_abs[p])
        cand = self.program.cand
        if self.program.rules.wrap and cand.day[q] < cand.day[p]:
            gap += self._span
        return gap

    def _paired(self, av: _AgentVars) -> None:
        if not av.labor.paired_days_off:
            return
        days = self.req.days
        wrap = self.program.rules.wrap
        for w0 in range(0, days, 7):
            span = min(7, days - w0)
            if span < 2:
                continue
            pairs = [(w0 + k, w0 + k + 1) for k in range(span - 1)]
            if wrap and span == 7 and days == 7:
                pairs.append((w0 + 6, w0))
            both = self.rows.new(len(pairs), ub=1.0)
            for col, (d1, d2) in zip(both.tolist(), pairs, strict=True):
                self.rows.add("le", [col, int(av.day[d1])], [1.0, 1.0], 1.0)
                self.rows.add("le", [col, int(av.day[d2])], [1.0, 1.0], 1.0)
            slack = self._soft(av.labor, "paired_days_off")
            self.rows.add(
                "le", both.tolist() + slack, [-1.0] * len(pairs) + [-1.0] * len(slack), -1.0
            )

    def _stable(self, av: _AgentVars) -> None:
        band = av.labor.stable_start
        if band is None or av.pool.size == 0:
            return
        per_day = self.req.per_day
        slots = self.program.cand.slot[av.pool]
        lo, hi = self.rows.new(2, ub=float(per_day - 1)).tolist()
        big = float(per_day)
        for col, k in zip(av.cols.tolist(), slots.tolist(), strict=True):
            self.rows.add("le", [lo, col], [1.0, big], big + k)  # lo <= k when working
            self.rows.add("le", [hi, col], [-1.0, big], big - k)  # hi >= k when working
        width = math.floor(band / self.req.interval + 1e-9)
        slack = self._soft(av.labor, "stable_start")
        self.rows.add("le", [hi, lo, *slack], [1.0, -1.0] + [-big] * len(slack), float(width))

    # -- a first roster -------------------------------------------------------------
    def greedy_hint(self, counts: IntArray) -> FloatArray:
        """The schedule's shifts handed to agents one by one under every hard rule.

        A partial warm start for CP-SAT (the agents' shift and day columns,
        coverage, breaks; the rest is left to the solver).
        """
        cand, req = self.program.cand, self.req
        state = [_Greedy() for _ in self.vars]
        col_of = [dict(zip(av.pool.tolist(), av.cols.tolist(), strict=True)) for av in self.vars]
        self.rest_conflicts()
        order = sorted(range(cand.n), key=lambda p: (int(cand.start[p]), p))
        for p in order:
            for _ in range(int(counts[p])):
                best, key = -1, None
                for i, av in enumerate(self.vars):
                    if p not in col_of[i] or not self._may_take(av, state[i], p):
                        continue
                    st = state[i]
                    deficit = av.agent.min_hours * 60 - st.minutes
                    wants_off = req.weekday(int(cand.day[p])) in set(av.agent.days_off)
                    pref = (
                        0.0
                        if av.agent.prefer_start is None
                        else abs(float(self.start_s[p]) - av.agent.prefer_start)
                    )
                    k = (wants_off, -max(deficit, 0.0), pref, st.minutes, i)
                    if key is None or k < key:
                        best, key = i, k
                if best < 0:
                    continue
                st = state[best]
                st.days.add(int(cand.day[p]))
                st.minutes += float(self.minutes[p])
                st.slots.append(int(cand.slot[p]))
                st.shifts.append(p)
        hint = np.full(self.ip.n, np.nan)
        x = np.zeros(cand.n)
        for i, av in enumerate(self.vars):
            hint[av.cols] = 0.0
            hint[av.day] = 0.0
            for p in state[i].shifts:
                hint[col_of[i][p]] = 1.0
                hint[av.day[int(cand.day[p])]] = 1.0
                x[p] += 1
        prog = self.program
        y = assign_breaks(prog, prog.families, x, envelope_round(prog, prog.families, x, None))
        hint[: prog.ip.n] = prog.complete(x, y)
        return hint

    def _may_take(self, av: _AgentVars, st: _Greedy, p: int) -> bool:
        cand, req, labor = self.program.cand, self.req, av.labor
        day = int(cand.day[p])
        if day in st.days:
            return False
        minutes = st.minutes + float(self.minutes[p])
        if minutes > av.agent.max_hours * 60 + 1e-6:
            return False
        if not labor.is_soft("max_weekly_hours") and minutes > labor.max_weekly_hours * 60 + 1e-6:
            return False
        days = sorted(st.days | {day})
        wrap = self.program.rules.wrap
        if (
            not labor.is_soft("max_consecutive_days")
            and _longest_run(days, req.days, wrap=wrap) > labor.max_consecutive_days
        ):
            return False
        if not labor.is_soft("min_rest"):
            for q in st.shifts:
                first, second = (q, p) if cand.start[q] <= cand.start[p] else (p, q)
                if self._rest_between(first, second) < labor.min_rest - 1e-6 or (
                    wrap and self._rest_between(second, first) < labor.min_rest - 1e-6
                ):
                    return False
        if (
            labor.paired_days_off
            and not labor.is_soft("paired_days_off")
            and _paired_off(days, req.days, wrap=wrap) is None
            and req.days >= 2
        ):
            return False
        if labor.stable_start is not None and not labor.is_soft("stable_start") and st.slots:
            slots = [*st.slots, int(cand.slot[p])]
            if (max(slots) - min(slots)) * req.interval > labor.stable_start + 1e-6:
                return False
        return True

    # -- the program ----------------------------------------------------------------
    def _assemble(self, base: IntegerProgram) -> IntegerProgram:
        rows = self.rows
        n = rows.n_cols
        extra_eq, b_eq = rows.matrix("eq")
        extra_le, b_le = rows.matrix("le")

        def widen(a: sp.csr_array) -> sp.csr_array:
            coo = a.tocoo()
            return sp.csr_array((coo.data, (coo.row, coo.col)), shape=(a.shape[0], n))

        c = np.concatenate([base.c, np.asarray(rows.c)])
        lb = np.concatenate([base.lb, np.asarray(rows.lb)])
        ub = np.concatenate([base.ub, np.asarray(rows.ub)])
        return IntegerProgram(
            c,
            lb,
            ub,
            sp.vstack([widen(base.a_eq), extra_eq], format="csr"),
            np.concatenate([base.b_eq, b_eq]),
            sp.vstack([widen(base.a_ub), extra_le], format="csr"),
            np.concatenate([base.b_ub, b_le]),
        )


class Roster(CoverageMixin):
    """Named agents on shifts, from :func:`roster`.

    Attributes
    ----------
    assignments : pyarrow.Table
        One row per agent and shift: ``agent, queue, template, day, date,
        weekday, start, end`` (UTC), ``start_time, end_time`` (local),
        ``paid_hours, breaks`` (text).
    breaks : pyarrow.Table
        ``agent, day, break, start, end, start_time, paid``.
    rules : pyarrow.Table
        Per agent and rule: ``agent, rule, kind`` (hard, soft, contract,
        preference), ``satisfied``, ``detail`` and ``reason`` (for a broken
        soft rule or preference).
    coverage, short, over
        Per queue and interval, shaped like the requirement.
    lower_bound, objective, gap
        LP bound of the roster program, this roster's cost, relative gap.
    """

    def __init__(
        self,
        model: _RosterModel,
        values: FloatArray,
        *,
        status: str,
        lower_bound: float,
        wall_time: float,
        stats: dict[str, Any],
    ) -> None:
        self.model = model
        self.req = model.req
        program = model.program
        v = np.round(values)
        x, y = program.split(v)
        self.x, self.y = x.astype(np.int64), y.astype(np.int64)
        self.status = status
        self.lower_bound = lower_bound
        self.objective = (
            float(model.ip.c @ v)
            if status in ("optimal", "feasible")
            else program.objective(x, y)["objective"]
        )
        self.gap = (
            relative_gap(self.objective, lower_bound) if math.isfinite(lower_bound) else math.nan
        )
        if self.gap <= 1e-9:
            self.status = "optimal"  # it meets a proven bound
        self.wall_time = wall_time
        self.stats = stats
        self._coverage = program.coverage(x, y).reshape(len(self.req.queues), -1)
        self.work: dict[str, list[int]] = {}
        for av in model.vars:
            on = av.pool[v[av.cols] > 0.5]
            self.work[av.agent.name] = sorted(on.tolist(), key=lambda p: int(program.cand.start[p]))
        self._breaks = self._hand_out_breaks()

    def _hand_out_breaks(self) -> dict[tuple[str, int], list[int]]:
        """Each pool shift's break options, handed to its agents in name order."""
        cand = self.model.program.cand
        g_first = np.searchsorted(cand.g_shift, np.arange(cand.n + 1))
        who: dict[int, list[str]] = {}
        for name in sorted(self.work):
            for p in self.work[name]:
                who.setdefault(p, []).append(name)
        out: dict[tuple[str, int], list[int]] = {}
        for p, names in who.items():
            per_break = []
            for g in range(int(g_first[p]), int(g_first[p + 1])):
                lo, hi = int(cand.g_ptr[g]), int(cand.g_ptr[g + 1])
                per_break.append(np.repeat(np.arange(lo, hi), self.y[lo:hi]).tolist())
            for k, name in enumerate(names):
                out[(name, p)] = [opts[k] for opts in per_break]
        return out

    # -- tables ---------------------------------------------------------------------
    def _shift_row(self, name: str, p: int) -> dict[str, Any]:
        cand, req = self.model.program.cand, self.req
        iv = req.interval
        t = cand.templates[int(cand.template[p])]
        start = int(cand.start[p])
        day = int(cand.day[p])
        brks: list[dict[str, Any]] = []
        for o in self._breaks.get((name, p), []):
            g = int(cand.b_group[o])
            spec = cand.breaks[int(cand.template[p])][int(cand.g_break[g])]
            b0 = start + int(cand.b_offset[o])
            brks.append(
                {"break": spec.name, "start": b0, "end": b0 + spec.length, "paid": spec.paid}
            )
        return {
            "agent": name,
            "queue": req.queues[int(cand.queue[p])],
            "template": t.name,
            "day": day,
            "date": local_day(req, day),
            "weekday": WEEKDAYS[req.weekday(day)],
            "start": start,
            "end": start + int(cand.length[p]),
            "start_time": clock(int(cand.slot[p]) * iv),
            "end_time": clock((int(cand.slot[p]) + int(cand.length[p])) * iv),
            "paid_hours": float(cand.paid_hours[p]),
            "break_list": brks,
            "breaks": "; ".join(
                f"{b['break']} {clock((b['start'] % req.per_day) * iv)}-"
                f"{clock((b['end'] % req.per_day) * iv)}"
                for b in brks
            ),
        }

    def shift_rows(self) -> list[dict[str, Any]]:
        """Every agent's shifts as plain dicts (``start``/``end`` as interval indices)."""
        return [self._shift_row(name, p) for name in self.work for p in self.work[name]]

    @property
    def assignments(self) -> pa.Table:
        rows = self.shift_rows()

        def col(key: str, typ: pa.DataType) -> pa.Array:
            return pa.array([r[key] for r in rows], typ)

        return pa.table(
            {
                "agent": col("agent", pa.string()),
                "queue": col("queue", pa.string()),
                "template": col("template", pa.string()),
                "day": col("day", pa.int64()),
                "date": col("date", pa.string()),
                "weekday": col("weekday", pa.string()),
                "start": timestamps(self.req, [r["start"] for r in rows]),
                "end": timestamps(self.req, [r["end"] for r in rows]),
                "start_time": col("start_time", pa.string()),
                "end_time": col("end_time", pa.string()),
                "paid_hours": col("paid_hours", pa.float64()),
                "breaks": col("breaks", pa.string()),
            }
        )

    @property
    def breaks(self) -> pa.Table:
        rows = [(r, b) for r in self.shift_rows() for b in r["break_list"]]
        per_day = self.req.per_day
        iv = self.req.interval
        return pa.table(
            {
                "agent": pa.array([r["agent"] for r, _ in rows], pa.string()),
                "day": pa.array([r["day"] for r, _ in rows], pa.int64()),
                "break": pa.array([b["break"] for _, b in rows], pa.string()),
                "start": timestamps(self.req, [b["start"] for _, b in rows]),
                "end": timestamps(self.req, [b["end"] for _, b in rows]),
                "start_time": pa.array(
                    [clock((b["start"] % per_day) * iv) for _, b in rows], pa.string()
                ),
                "paid": pa.array([b["paid"] for _, b in rows], pa.bool_()),
            }
        )

    def agent_summary(self) -> pa.Table:
        """Per agent: days worked, paid hours, contract."""
        cand = self.model.program.cand
        agents = [av.agent for av in self.model.vars]
        return pa.table(
            {
                "agent": [a.name for a in agents],
                "days": [len(self.work[a.name]) for a in agents],
                "paid_hours": [
                    float(sum(cand.paid_hours[p] for p in self.work[a.name])) for a in agents
                ],
                "min_hours": [float(a.min_hours) for a in agents],
                "max_hours": [float(a.max_hours) for a in agents],
                "region": [a.region for a in agents],
            }
        )

    def agent_staffing(self) -> dict[str, IntArray]:
        """Per agent, 1 in every interval of the horizon they are on shift and not on break."""
        cand, req = self.model.program.cand, self.req
        horizon = req.horizon
        wrap = self.model.program.rules.wrap
        out: dict[str, IntArray] = {}

        def mark(arr: IntArray, start: int, length: int, value: int) -> None:
            at = np.arange(start, start + length)
            at = at % horizon if wrap else at[at < horizon]
            arr[at] = value

        for name, shifts in self.work.items():
            arr = np.zeros(horizon, np.int64)
            for p in shifts:
                mark(arr, int(cand.start[p]), int(cand.length[p]), 1)
                for o in self._breaks.get((name, p), []):
                    mark(arr, int(cand.start[p]) + int(cand.b_offset[o]), int(cand.b_length[o]), 0)
            out[name] = arr
        return out

    @property
    def paid_hours(self) -> float:
        cand = self.model.program.cand
        return float(sum(cand.paid_hours[p] for ps in self.work.values() for p in ps))

    def summary(self) -> dict[str, Any]:
        rules = self.rules.to_pylist()
        return {
            "agents": len(self.work),
            "working": sum(1 for v in self.work.values() if v),
            "shifts": sum(len(v) for v in self.work.values()),
            "paid_hours": self.paid_hours,
            "short_agent_intervals": self.short_total,
            "over_agent_intervals": self.over_total,
            "objective": self.objective,
            "lower_bound": self.lower_bound,
            "gap": self.gap,
            "status": self.status,
            "hard_rules_broken": sum(
                1 for r in rules if r["kind"] == "hard" and not r["satisfied"]
            ),
            "soft_rules_broken": sum(
                1 for r in rules if r["kind"] != "hard" and not r["satisfied"]
            ),
            "wall_time_s": self.wall_time,
        }

    # -- rules ----------------------------------------------------------------------
    @property
    def rules(self) -> pa.Table:
        """Each agent's rules: satisfied, or broken with the reason (see the class doc)."""
        if not hasattr(self, "_rules"):
            self._rules = pa.Table.from_pylist(
                self._check_rules(),
                schema=pa.schema(
                    [
                        ("agent", pa.string()),
                        ("rule", pa.string()),
                        ("kind", pa.string()),
                        ("satisfied", pa.bool_()),
                        ("detail", pa.string()),
                        ("reason", pa.string()),
                    ]
                ),
            )
        return self._rules

    def _check_rules(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        m = self.model
        cand, req = m.program.cand, self.req
        iv = req.interval
        for av in m.vars:
            a, labor, shifts = av.agent, av.labor, self.work[av.agent.name]
            days = sorted(int(cand.day[p]) for p in shifts)
            hours = float(sum(cand.paid_hours[p] for p in shifts))

            def add(
                rule: str,
                ok: bool,
                detail: str,
                reason: str = "",
                *,
                kind: str | None = None,
                name: str = a.name,
                lab: LaborRules = labor,
            ) -> None:
                k = kind or ("soft" if lab.is_soft(rule) else "hard")
                out.append(
                    {
                        "agent": name,
                        "rule": rule,
                        "kind": k,
                        "satisfied": ok,
                        "detail": detail,
                        "reason": "" if ok else reason,
                    }
                )

            run = _longest_run(days, req.days, wrap=m.program.rules.wrap)
            add(
                "max_consecutive_days",
                run <= labor.max_consecutive_days,
                f"longest run {run} day(s) (max {labor.max_consecutive_days})",
                "soft rule: covering the requirement with this agent's availability",
            )
            rest = _least_rest(shifts, m)
            add(
                "min_rest",
                rest >= labor.min_rest - 1e-6,
                f"least rest {rest / 3600:.1f} h (min {labor.min_rest / 3600:g} h)"
                if math.isfinite(rest)
                else "one shift or none",
                "soft rule: the next shift covers intervals that would be short",
            )
            worst_week = max(
                (
                    sum(
                        float(cand.paid_hours[p]) for p in shifts if w0 <= int(cand.day[p]) < w0 + 7
                    )
                    for w0 in range(0, req.days, 7)
                ),
                default=0.0,
            )
            add(
                "max_weekly_hours",
                worst_week <= labor.max_weekly_hours + 1e-6,
                f"{worst_week:g} h in the busiest week (max {labor.max_weekly_hours:g} h)",
                "soft rule: extra hours cover intervals that would be short",
            )
            if labor.paired_days_off:
                pair = _paired_off(days, req.days, wrap=m.program.rules.wrap)
                add(
                    "paired_days_off",
                    pair is not None,
                    f"{WEEKDAYS[req.weekday(pair[0])]} and {WEEKDAYS[req.weekday(pair[1])]} off"
                    if pair
                    else "no two consecutive days off",
                    "soft rule: every pair of days off would leave intervals short",
                )
            if labor.stable_start is not None and shifts:
                starts = [int(cand.slot[p]) for p in shifts]
                spread = (max(starts) - min(starts)) * iv
                add(
                    "stable_start",
                    spread <= labor.stable_start + 1e-6,
                    f"starts within {spread / 3600:g} h (band {labor.stable_start / 3600:g} h)",
                    "soft rule: the days need different start times to be covered",
                )
            add(
                "contract_max_hours",
                hours <= a.max_hours + 1e-6,
                f"{hours:g} h (max {a.max_hours:g} h)",
                kind="hard",
            )
            target = a.min_hours * req.days / 7.0
            if a.min_hours > 0:
                add(
                    "contract_min_hours",
                    hours >= target - 1e-6,
                    f"{hours:g} h (contract {a.min_hours:g}-{a.max_hours:g} h"
                    + (f", {target:g} h pro rata" if req.days < 7 else "")
                    + ")",
                    self._why_short_hours(av, hours, target),
                    kind="contract",
                )
            available_ok = all(
                _fits(a, req.weekday(int(cand.day[p])), float(m.start_s[p]), float(m.end_s[p]))
                for p in shifts
            )
            add(
                "availability",
                available_ok,
                "every shift inside the agent's availability",
                kind="hard",
            )
            skills_ok = all(req.queues[int(cand.queue[p])] in a.skills for p in shifts)
            add("skills", skills_ok, "every shift on a queue the agent is skilled for", kind="hard")
            one_a_day = len(days) == len(set(days))
            add(
                "one_shift_a_day",
                one_a_day,
                f"{len(days)} shift(s) on {len(set(days))} day(s)",
                kind="hard",
            )
            for d in sorted(a.days_off):
                worked = [p for p in shifts if req.weekday(int(cand.day[p])) == d]
                add(
                    f"day_off_{WEEKDAYS[d]}",
                    not worked,
                    f"{WEEKDAYS[d]} off as asked" if not worked else f"works {WEEKDAYS[d]}",
                    self._why_worked(worked[0]) if worked else "",
                    kind="preference",
                )
            if a.prefer_start is not None and shifts:
                far = max(
                    min(
                        abs(float(m.start_s[p]) - a.prefer_start) % DAY,
                        DAY - abs(float(m.start_s[p]) - a.prefer_start) % DAY,
                    )
                    for p in shifts
                )
                add(
                    "prefer_start",
                    far <= 3600 + 1e-6,
                    f"starts within {far / 3600:g} h of {clock(a.prefer_start)}",
                    "other start times cover intervals that would be short" if far > 3600 else "",
                    kind="preference",
                )
        return out

    def _why_worked(self, p: int) -> str:
        """Why an agent works a shift they wanted off: the intervals it keeps covered."""
        m = self.model
        rows = m.program.on[:, [p]].toarray().ravel() > 0
        need = self.req.flat().ravel()
        cov = self._coverage.ravel()
        tight = np.flatnonzero(rows & (cov - 1 < need - 1e-9))
        if tight.size:
            q, h = divmod(int(tight[0]), self.req.horizon)
            return (
                f"without it {self.req.queues[q]} would be short in {tight.size} "
                f"interval(s) from {day_clock(self.req, h)} (required "
                f"{need[tight[0]]:g}, scheduled {cov[tight[0]]:g})"
            )
        return "no other agent could take the shift within their rules and contracts at lower cost"

    def _why_short_hours(self, av: _AgentVars, hours: float, target: float) -> str:
        cand = self.model.program.cand
        days_possible = len({int(cand.day[p]) for p in av.pool})
        best = sorted((float(cand.paid_hours[p]) for p in av.pool), reverse=True)
        reach = min(sum(best[:days_possible]), av.agent.max_hours, av.labor.max_weekly_hours)
        if not av.pool.size:
            return "no shift fits the agent's skills and availability"
        if reach < target - 1e-6:
            return (
                f"availability and rules allow at most about {reach:g} h "
                f"({days_possible} day(s) with a fitting shift)"
            )
        if self.short_total <= 1e-9:
            return (
                f"{target - hours:g} h more would only add over-staffing: the requirement "
                "is covered without them"
            )
        return (
            "the shifts that would cover short intervals break this agent's rules or availability"
        )


def _longest_run(days: list[int], horizon: int, *, wrap: bool) -> int:
    worked = np.zeros(horizon, bool)
    worked[days] = True
    if not worked.any():
        return 0
    if wrap and worked.all():
        return horizon
    seq = np.concatenate([worked, worked]) if wrap else worked
    best = run = 0
    for w in seq.tolist():
        run = run + 1 if w else 0
        best = max(best, run)
    return min(best, horizon)


def _least_rest(shifts: list[int], m: _RosterModel) -> float:
    m.rest_conflicts()
    starts = sorted((float(m._start_abs[p]), float(m._end_abs[p])) for p in shifts)
    gaps = [b[0] - a[1] for a, b in itertools.pairwise(starts)]
    if m.program.rules.wrap and len(starts) > 1:
        gaps.append(starts[0][0] + m._span - starts[-1][1])
    return min(gaps) if gaps else math.inf


def _paired_off(days: list[int], horizon: int, *, wrap: bool) -> tuple[int, int] | None:
    off = [d for d in range(horizon) if d not in set(days)]
    for d in off:
        nxt = d + 1 if d + 1 < horizon else (0 if wrap else None)
        if nxt is not None and nxt in off:
            return d, nxt
    return None
