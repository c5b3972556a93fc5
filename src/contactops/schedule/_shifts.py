"""``schedule_shifts``: how many agents start which shift when, and where their breaks go.

The model (one integer program over the whole horizon, all queues):

* ``x[s]`` agents work candidate shift ``s`` (template, queue, day, start);
* ``y[b]`` of them take break option ``b`` (a break of ``s`` at one slot of its
  window); each break of each shift is taken by all its agents:
  ``sum(y over the break's window) = x[s]``;
* coverage in interval ``i`` is the agents on shift minus those on break;
  ``coverage + short - over = requirement`` with ``short`` split in segments
  whose cost per agent rises with the marginal service-level loss
  (:mod:`contactops.schedule._weights`), ``over`` and paid hours costed;
* optional rules: breaks keep a share of the agents on shift available, daily
  caps per template and in total, a budget of paid hours.

Every rule is homogeneous in ``x`` and ``y``, so "nobody works" is always
feasible and the program always has a schedule: when demand cannot be met,
the best schedule comes back with its short intervals.  The requirement is
kept to 1/100 agent (short and over are counted in hundredths), so plans with
fractional agents are scheduled as they are, not rounded up.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from contactops.errors import InvalidParameterError
from contactops.queueing import DEFAULT_SL_DEFINITION, QueueModel
from contactops.schedule._expand import Candidates, expand
from contactops.schedule._grid import Requirement, as_requirement
from contactops.schedule._implicit import (
    aggregate_breaks,
    assign_breaks,
    envelope_round,
    families,
)
from contactops.schedule._result import Schedule
from contactops.schedule._rules import Costs, ShiftRules, ShiftTemplate
from contactops.schedule._solve import (
    IntegerProgram,
    Progress,
    relative_gap,
    restrict,
    solve_cpsat,
    solve_lp,
)
from contactops.schedule._weights import Segments, short_segments

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = ["ShiftProgram", "build_program", "schedule_shifts"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
UNIT = 100  # short and over are counted in hundredths of an agent


class ShiftProgram:
    """The integer program of a shift schedule and the maps back to shifts and breaks."""

    def __init__(
        self, req: Requirement, cand: Candidates, seg: Segments, costs: Costs, rules: ShiftRules
    ) -> None:
        self.req = req
        self.cand = cand
        self.seg = seg
        self.costs = costs
        self.rules = rules
        self.on = cand.on_shift_matrix()  # rows x candidates
        self.brk = cand.break_matrix()  # rows x options
        self.n_rows = len(req.queues) * req.horizon
        self.need = req.flat().ravel()
        self.ip = self._build()
        self.families = families(self)

    # -- layout -------------------------------------------------------------------
    @property
    def n_x(self) -> int:
        return self.cand.n

    @property
    def n_y(self) -> int:
        return self.cand.n_options

    def split(self, v: FloatArray) -> tuple[FloatArray, FloatArray]:
        return v[: self.n_x], v[self.n_x : self.n_x + self.n_y]

    def shift_cost(self) -> FloatArray:
        """Paid cost of one agent on each candidate."""
        return self.cand.paid_hours * self.cand.cost_factor * self.costs.paid_hour

    def over_cost(self) -> float:
        """Cost of one agent-interval over the requirement."""
        return self.costs.over * self.req.interval / 3600.0

    def _build(self) -> IntegerProgram:
        cand, seg = self.cand, self.seg
        n_rows, n_x, n_y = self.n_rows, self.n_x, self.n_y
        # caps: no shift needs more agents than its queue's peak (plus one)
        peak = self.req.flat().max(axis=1) if self.n_rows else np.zeros(0)
        cap = np.ceil(peak[cand.queue] + 1.0)
        for ti, t in enumerate(cand.templates):
            if t.max_per_day is not None:
                cap[cand.template == ti] = np.minimum(cap[cand.template == ti], t.max_per_day)
        if self.rules.max_agents_per_day is not None:
            cap = np.minimum(cap, self.rules.max_agents_per_day)
        # short segments in hundredths; widths from rounded cumulative edges
        edges = np.round(np.cumsum(seg.widths, axis=1) * UNIT)
        widths = np.diff(np.concatenate([np.zeros((n_rows, 1)), edges], axis=1), axis=1)
        u_row, u_k = np.nonzero(widths > 0)
        n_u = u_row.size
        self.u_row = u_row.astype(np.int64)
        n = n_x + n_y + n_u + n_rows
        self.u_slice = slice(n_x + n_y, n_x + n_y + n_u)
        self.o_slice = slice(n_x + n_y + n_u, n)
        c = np.concatenate(
            [
                self.shift_cost(),
                np.zeros(n_y),
                seg.slopes[u_row, u_k] / UNIT,
                np.full(n_rows, self.over_cost() / UNIT),
            ]
        )
        reach = self.on @ cap  # most agents that can be on shift per row
        lb = np.zeros(n)
        ub = np.concatenate([cap, cap[cand.b_shift], widths[u_row, u_k], reach * UNIT])
        # coverage rows: UNIT*(on - break) + short - over = UNIT*need
        u_mat = sp.csr_array((np.ones(n_u), (u_row, np.arange(n_u))), shape=(n_rows, n_u))
        cover = sp.hstack(
            [self.on * UNIT, -self.brk * UNIT, u_mat, -sp.eye_array(n_rows, format="csr")],
            format="csr",
        )
        # each break of each shift: its options sum to the shift's agents
        groups = cand.group_matrix()
        n_g = groups.shape[0]
        pick = sp.csr_array((np.ones(n_g), (np.arange(n_g), cand.g_shift)), shape=(n_g, n_x))
        assign = sp.hstack([-pick, groups, sp.csr_array((n_g, n_u + n_rows))], format="csr")
        a_eq = sp.vstack([cover, assign], format="csr")
        b_eq = np.concatenate([np.round(self.need * UNIT), np.zeros(n_g)])
        ub_rows: list[sp.csr_array] = []
        b_ub: list[FloatArray] = []
        share = round(self.rules.break_coverage * 100)
        if share > 0 and n_y:
            rows = np.flatnonzero(np.asarray(self.brk.sum(axis=1)).ravel() > 0)
            block = sp.hstack(
                [
                    -self.on[rows] * (100 - share),
                    self.brk[rows] * 100,
                    sp.csr_array((rows.size, n_u + n_rows)),
                ],
                format="csr",
            )
            ub_rows.append(block)
            b_ub.append(np.full(rows.size, 100.0))
        days = self.req.days

        def per_day(mask: npt.NDArray[np.bool_], limit: int) -> None:
            idx = np.flatnonzero(mask)
            if not idx.size:
                return
            mat = sp.csr_array((np.ones(idx.size), (cand.day[idx], idx)), shape=(days, n))
            ub_rows.append(mat)
            b_ub.append(np.full(days, float(limit)))

        for ti, t in enumerate(cand.templates):
            if t.max_per_day is not None:
                per_day(cand.template == ti, t.max_per_day)
        if self.rules.max_agents_per_day is not None:
            per_day(np.ones(n_x, bool), self.rules.max_agents_per_day)
        if self.rules.max_paid_hours is not None:
            minutes = np.round(cand.paid_hours * 60.0)
            ub_rows.append(
                sp.csr_array((minutes, (np.zeros(n_x, np.int64), np.arange(n_x))), shape=(1, n))
            )
            b_ub.append(np.array([math.floor(self.rules.max_paid_hours * 60.0 + 1e-9)]))
        a_ub = sp.vstack(ub_rows, format="csr") if ub_rows else sp.csr_array((0, n))
        return IntegerProgram(
            c, lb, ub, a_eq, b_eq, a_ub, np.concatenate(b_ub) if b_ub else np.zeros(0)
        )

    # -- from x and y to everything else ---------------------------------------------
    def coverage(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Agents on shift and not on break, ``(queues*horizon,)``."""
        return np.asarray(self.on @ x - self.brk @ y)

    def objective(self, x: FloatArray, y: FloatArray) -> dict[str, float]:
        cov = self.coverage(x, y)
        short = np.maximum(self.need - cov, 0.0)
        over = np.maximum(cov - self.need, 0.0)
        paid = float(self.shift_cost() @ x)
        short_cost = float(self.seg.cost(short).sum())
        over_cost = float(over.sum() * self.over_cost())
        return {
            "objective": paid + short_cost + over_cost,
            "paid_cost": paid,
            "short_cost": short_cost,
            "over_cost": over_cost,
        }

    def complete(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """The full variable vector for ``x`` and ``y`` (short and over at their best)."""
        cov = self.coverage(x, y)
        short = np.maximum(np.round(self.need * UNIT) - np.round(cov * UNIT), 0.0)
        over = np.maximum(np.round(cov * UNIT) - np.round(self.need * UNIT), 0.0)
        ub = self.ip.ub[self.u_slice]
        cum = np.cumsum(ub) - ub
        first = np.searchsorted(self.u_row, self.u_row)  # u_row is sorted
        u = np.clip(short[self.u_row] - (cum - cum[first]), 0.0, ub)
        return np.concatenate([x, y, u, over])

    def round_lp(self, v: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Integer shifts and breaks near the LP solution, then a greedy polish.

        Shifts of each queue and template are rounded along their start times
        by cumulative sums (systematic rounding), so the agents on shift in any
        interval stay within one of the LP's per template; family breaks follow
        the LP's curve inside their feasible band and are handed to shifts;
        then single agents are added or removed while that lowers the cost.
        """
        cand = self.cand
        x_lp, y_lp = self.split(v)
        fam = self.families
        z_lp = aggregate_breaks(self, fam, y_lp)
        x = np.zeros(self.n_x)
        key = cand.queue * len(cand.templates) + cand.template
        order = np.lexsort((cand.start, key))
        xs, ks = x_lp[order].clip(0.0), key[order]
        cum = np.cumsum(xs)
        first = np.searchsorted(ks, ks)  # keys are sorted
        base = np.concatenate([[0.0], cum])[first]
        rounded = np.round(cum - base + 1e-9)
        prev = np.concatenate([[0.0], rounded[:-1]])
        prev[first == np.arange(ks.size)] = 0.0
        x[order] = np.maximum(rounded - prev, 0.0)
        x = np.minimum(x, self.ip.ub[: self.n_x])
        y = assign_breaks(self, fam, x, envelope_round(self, fam, x, z_lp))
        return self.polish(x, y)

    def _cost_curve(self, cov: FloatArray, delta: float) -> FloatArray:
        """Per interval: cost at ``cov + delta`` minus cost at ``cov``."""

        def at(c: FloatArray) -> FloatArray:
            return (
                self.seg.cost(np.maximum(self.need - c, 0.0))
                + np.maximum(c - self.need, 0.0) * self.over_cost()
            )

        return at(cov + delta) - at(cov)

    def polish(
        self,
        x: FloatArray,
        y: FloatArray,
        *,
        max_moves: int = 20_000,
        swaps: int = 40,
        tries: int = 12,
    ) -> tuple[FloatArray, FloatArray]:
        """Local search from an integer schedule, while it lowers the cost.

        Moves: add one agent to a shift, remove one, or both at once (one
        agent moved to another shift, or the same shift with its breaks
        elsewhere), each break at its best slot.  A move that would break a
        side rule (break coverage, daily caps, budget) is skipped for the next
        best.  A start that breaks a side rule is repaired first (breaks moved
        within their windows); if that fails the search starts from nobody.
        """
        search = _LocalSearch(self, x, y)
        if not search.repair():
            search = _LocalSearch(self, np.zeros(self.n_x), np.zeros(self.n_y))
        for _ in range(max_moves):
            add, rem = search.deltas()
            moved = False
            for value, kind, s in search.best_moves(add, rem, tries):
                if value >= -1e-9:
                    break
                if (search.add(s) if kind == "add" else search.remove(s)) is not None:
                    moved = True
                    break
            if not moved and not search.swap(rem, swaps):
                break
        return search.x, search.y


class _LocalSearch:
    """Exact cost changes of one-agent moves, vectorised over every shift.

    The side rules (rows of ``A_ub``, which only involve shifts and breaks)
    are kept by tracking their slack and checking each move before it is made.
    """

    def __init__(self, program: ShiftProgram, x: FloatArray, y: FloatArray) -> None:
        self.p = program
        self.cand = program.cand
        self.x, self.y = x.copy(), y.copy()
        self.cost = program.shift_cost()
        self.on_t, self.brk_t = program.on.T.tocsr(), program.brk.T.tocsr()
        self.on_c, self.brk_c = program.on.tocsc(), program.brk.tocsc()
        self.starts = self.cand.g_ptr[:-1]
        self.has_groups = self.cand.g_shift.size > 0
        self.cov = program.coverage(self.x, self.y)
        self.cap = program.ip.ub[: program.n_x]
        self.groups_of = np.searchsorted(self.cand.g_shift, np.arange(self.cand.n + 1))
        self.g_gain = self.g_loss = np.zeros(0)
        ip = program.ip
        self.side = ip.b_ub.size > 0
        n_xy = program.n_x + program.n_y
        self.ub_c = sp.csc_array(ip.a_ub[:, :n_xy]) if self.side else None
        self.slack = (
            ip.b_ub - ip.a_ub[:, :n_xy] @ np.concatenate([self.x, self.y])
            if self.side
            else np.zeros(0)
        )

    # -- side rules -------------------------------------------------------------------
    def _fits(self, cols: list[int], sign: float) -> bool:
        """Would changing each column in ``cols`` by ``sign`` keep every side rule?"""
        if not self.side:
            return True
        assert self.ub_c is not None
        change: dict[int, float] = {}
        for j in cols:
            lo, hi = self.ub_c.indptr[j], self.ub_c.indptr[j + 1]
            for r, v in zip(
                self.ub_c.indices[lo:hi].tolist(), self.ub_c.data[lo:hi].tolist(), strict=True
            ):
                change[r] = change.get(r, 0.0) + sign * v
        return all(self.slack[r] - d >= -1e-9 for r, d in change.items())

    def _book(self, cols: list[int], sign: float) -> None:
        if not self.side:
            return
        assert self.ub_c is not None
        for j in cols:
            lo, hi = self.ub_c.indptr[j], self.ub_c.indptr[j + 1]
            self.slack[self.ub_c.indices[lo:hi]] -= sign * self.ub_c.data[lo:hi]

    def repair(self, max_steps: int = 10_000) -> bool:
        """Move breaks within their windows until every side rule holds (or give up)."""
        if not self.side:
            return True
        assert self.ub_c is not None
        n_x = self.p.n_x
        for _ in range(max_steps):
            bad = np.flatnonzero(self.slack < -1e-9)
            if not bad.size:
                return True
            row = int(bad[0])
            a_row = self.p.ip.a_ub[[row], : n_x + self.p.n_y].tocoo()
            fixed = False
            # a break option on this row with agents: move one of them elsewhere in its window
            for j, v in zip(a_row.col.tolist(), a_row.data.tolist(), strict=True):
                if j < n_x or v <= 0 or self.y[j - n_x] <= 0:
                    continue
                o = j - n_x
                g = int(self.cand.b_group[o])
                lo, hi = int(self.cand.g_ptr[g]), int(self.cand.g_ptr[g + 1])
                for o2 in range(lo, hi):
                    if o2 == o:
                        continue
                    self._book([n_x + o], -1.0)
                    if self._fits([n_x + o2], 1.0):
                        self._move_break(o, o2)
                        fixed = True
                        break
                    self._book([n_x + o], 1.0)
                if fixed:
                    break
            if not fixed:
                # remove an agent of a shift on this row (caps, budget, or stuck breaks)
                shifts = [
                    j
                    for j, v in zip(a_row.col.tolist(), a_row.data.tolist(), strict=True)
                    if j < n_x and v > 0 and self.x[j] > 0
                ]
                shifts += [
                    int(self.cand.b_shift[j - n_x])
                    for j, v in zip(a_row.col.tolist(), a_row.data.tolist(), strict=True)
                    if j >= n_x and v > 0 and self.y[j - n_x] > 0
                ]
                if not shifts:
                    return False
                self.deltas()
                self._apply(shifts[0], -1.0, self._pick_remove, check=False)
        return False

    def _move_break(self, o: int, o2: int) -> None:
        n_x = self.p.n_x
        self.y[o] -= 1.0
        self.y[o2] += 1.0
        rows, vals = self._column(self.brk_c, o)
        self.cov[rows] += vals
        rows, vals = self._column(self.brk_c, o2)
        self.cov[rows] -= vals
        self._book([n_x + o2], 1.0)  # o was booked out by the caller

    # -- moves ------------------------------------------------------------------------
    def _add_delta(self) -> tuple[FloatArray, FloatArray]:
        gain = -self.p._cost_curve(self.cov, 1.0)
        add = self.cost - self.on_t @ gain
        g_gain = self.brk_t @ gain if self.has_groups else np.zeros(0)
        if self.has_groups:
            add += np.bincount(
                self.cand.g_shift, np.minimum.reduceat(g_gain, self.starts), minlength=self.p.n_x
            )
        add[self.x >= self.cap] = np.inf
        return add, g_gain

    def deltas(self) -> tuple[FloatArray, FloatArray]:
        add, self.g_gain = self._add_delta()
        loss = self.p._cost_curve(self.cov, -1.0)
        rem = -self.cost + self.on_t @ loss
        if self.has_groups:
            self.g_loss = np.where(self.y > 0, self.brk_t @ loss, -np.inf)
            best = np.maximum.reduceat(self.g_loss, self.starts)
            rem -= np.bincount(
                self.cand.g_shift, np.where(np.isfinite(best), best, 0.0), minlength=self.p.n_x
            )
        rem[self.x <= 0] = np.inf
        return add, rem

    @staticmethod
    def best_moves(add: FloatArray, rem: FloatArray, k: int) -> list[tuple[float, str, int]]:
        """The ``k`` cheapest additions and removals, cheapest first."""
        out: list[tuple[float, str, int]] = []
        for kind, d in (("add", add), ("rem", rem)):
            if not d.size:
                continue
            top = (
                np.argpartition(d, min(k, d.size - 1))[: k + 1] if d.size > k else np.arange(d.size)
            )
            out += [(float(d[s]), kind, int(s)) for s in top.tolist() if np.isfinite(d[s])]
        return sorted(out)

    def _column(self, mat: Any, j: int) -> tuple[IntArray, FloatArray]:
        lo, hi = mat.indptr[j], mat.indptr[j + 1]
        return mat.indices[lo:hi], mat.data[lo:hi]

    def _pick_add(self, a: int, b: int) -> int:
        return a + int(np.argmin(self.g_gain[a:b]))

    def _pick_remove(self, a: int, b: int) -> int:
        return a + int(np.argmax(self.g_loss[a:b]))

    def _apply(
        self, s: int, sign: float, pick: Callable[[int, int], int], *, check: bool = True
    ) -> list[int] | None:
        chosen = [
            pick(int(self.cand.g_ptr[g]), int(self.cand.g_ptr[g + 1]))
            for g in range(int(self.groups_of[s]), int(self.groups_of[s + 1]))
        ]
        cols = [s] + [self.p.n_x + o for o in chosen]
        if check and not self._fits(cols, sign):
            return None
        self._book(cols, sign)
        self.x[s] += sign
        rows, vals = self._column(self.on_c, s)
        self.cov[rows] += sign * vals
        for o in chosen:
            self.y[o] += sign
            rows, vals = self._column(self.brk_c, o)
            self.cov[rows] -= sign * vals
        return chosen

    def add(self, s: int) -> list[int] | None:
        return self._apply(s, 1.0, self._pick_add)

    def remove(self, s: int) -> list[int] | None:
        return self._apply(s, -1.0, self._pick_remove)

    def _undo_remove(self, s: int, options: list[int]) -> None:
        cols = [s] + [self.p.n_x + o for o in options]
        self._book(cols, 1.0)
        self.x[s] += 1.0
        rows, vals = self._column(self.on_c, s)
        self.cov[rows] += vals
        for o in options:
            self.y[o] += 1.0
            rows, vals = self._column(self.brk_c, o)
            self.cov[rows] -= vals

    def swap(self, rem: FloatArray, tries: int) -> bool:
        """Move one agent: the cheapest removals, each followed by the best addition."""
        order = np.argsort(rem, kind="stable")[:tries]
        for s in order.tolist():
            if not np.isfinite(rem[s]):
                break
            options = self.remove(s)
            if options is None:
                continue
            add, self.g_gain = self._add_delta()
            for t in np.argsort(add, kind="stable")[:4].tolist():
                if rem[s] + add[t] >= -1e-9:
                    break
                if self.add(t) is not None:
                    return True
            self._undo_remove(s, options)
        return False


def build_program(
    requirement: Any,
    templates: Sequence[ShiftTemplate],
    rules: ShiftRules | None = None,
    *,
    costs: Costs | None = None,
    queue_model: QueueModel | Sequence[QueueModel | None] | Mapping[str, QueueModel] | None = None,
    threshold: float | Mapping[str, float] = 20.0,
    shrinkage: float = 0.0,
    definition: str = DEFAULT_SL_DEFINITION,
    interval: float | None = None,
    start: Any = None,
    timezone: str | None = None,
) -> ShiftProgram:
    """The integer program :func:`schedule_shifts` solves (for inspection and benchmarks)."""
    rules = ShiftRules() if rules is None else rules
    costs = Costs() if costs is None else costs
    if not isinstance(rules, ShiftRules):
        raise InvalidParameterError(
            "rules", type(rules).__name__, "a ShiftRules", "e.g. ShiftRules(wrap=True)."
        )
    req = as_requirement(requirement, interval=interval, start=start, timezone=timezone)
    cand = expand(req, templates, wrap=rules.wrap)
    seg = short_segments(
        req,
        costs,
        models=queue_model,
        threshold=threshold,
        shrinkage=shrinkage,
        definition=definition,
    )
    return ShiftProgram(req, cand, seg, costs, rules)


def schedule_shifts(
    requirement: Any,
    templates: Sequence[ShiftTemplate],
    rules: ShiftRules | None = None,
    *,
    costs: Costs | None = None,
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
    gap_limit: float = 0.0,
    progress: Callable[[Progress], None] | None = None,
) -> Schedule:
    """Shifts and breaks covering ``requirement`` at least cost.

    Parameters
    ----------
    requirement
        Agents to schedule per interval (shrinkage included): a ``(days,
        intervals)`` array, ``{queue: array}``, or the plan's long frame
        (``queue``, ``interval_start``, ``required``).
    templates
        The :class:`ShiftTemplate` s agents may work.
    rules
        :class:`ShiftRules` (wrap the week, break coverage, caps, budget).
    costs
        :class:`Costs` of paid hours, short and over agent-hours.
    queue_model
        A queueing model per queue (``ErlangC``/``ErlangA``/``ErlangX`` with one
        value per interval of the horizon): short intervals are then weighted by
        their marginal service-level loss at ``threshold`` seconds under
        ``definition``, with ``shrinkage`` removed from scheduled agents.
    interval, start, timezone
        The grid of an array requirement (interval length in seconds; local
        midnight of day 1), or the clock of a frame's templates.
    time_limit, workers, seed
        CP-SAT's wall-time budget for the whole solve (seconds), threads and
        random seed.  With ``workers=1`` the result is reproducible.
    gap_limit
        Stop as soon as a schedule is within this relative gap of the LP bound.
    progress
        Called with a :class:`Progress` after the LP and at every better
        schedule.

    Returns
    -------
    Schedule
        ``.shifts``, ``.breaks``, ``.coverage``, ``.short``, ``.over``,
        ``.lower_bound``, ``.gap`` and more; never "infeasible".
    """
    t0 = time.perf_counter()
    for name, value, rule in (
        ("time_limit", time_limit, "> 0 seconds"),
        ("workers", workers, "a whole number >= 1"),
        ("gap_limit", gap_limit, ">= 0"),
    ):
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or value < 0
            or (name != "gap_limit" and value <= 0)
            or (name == "workers" and not isinstance(value, int))
        ):
            raise InvalidParameterError(name, value, rule, "See schedule_shifts' parameters.")
    program = build_program(
        requirement,
        templates,
        rules,
        costs=costs,
        queue_model=queue_model,
        threshold=threshold,
        shrinkage=shrinkage,
        definition=definition,
        interval=interval,
        start=start,
        timezone=timezone,
    )
    return solve_program(
        program,
        time_limit=time_limit,
        workers=workers,
        seed=seed,
        gap_limit=gap_limit,
        progress=progress,
        t0=t0,
    )


FULL_MODEL_LIMIT = 8_000  # variables: up to this, CP-SAT takes the whole program at once
LNS_WIDTH = 1 / 3  # a window frees the shifts starting within this share of the longest shift
LNS_EFFORT = 0.5  # CP-SAT's deterministic time per window


def solve_program(
    program: ShiftProgram,
    *,
    time_limit: float,
    workers: int,
    seed: int,
    gap_limit: float = 0.0,
    progress: Callable[[Progress], None] | None = None,
    t0: float | None = None,
) -> Schedule:
    """LP bound, rounded warm start, then CP-SAT; the best schedule found.

    Programs up to ``FULL_MODEL_LIMIT`` variables go to CP-SAT whole (it can
    prove optimality).  Larger ones are improved by CP-SAT on windows of the
    horizon (large-neighbourhood search): the shifts starting in a window,
    their breaks and the intervals they touch are re-solved with everything
    else fixed, window after window, until the time limit, the gap limit, or
    a sweep with no gain; any time left then goes to CP-SAT on the whole.
    """
    t0 = time.perf_counter() if t0 is None else t0
    ip = program.ip
    t_build = time.perf_counter() - t0
    bound, v_lp, lp_status = solve_lp(ip, time_limit=max(0.7 * time_limit, 2.0))
    t_lp = time.perf_counter() - t0 - t_build
    zero_x, zero_y = np.zeros(program.n_x), np.zeros(program.n_y)
    candidates: list[tuple[str, FloatArray, FloatArray]] = [("empty", zero_x, zero_y)]
    if lp_status == "optimal" and v_lp is not None:
        xr, yr = program.round_lp(v_lp)
        if ip.violation(program.complete(xr, yr)) <= 1e-6:
            candidates.append(("lp-rounded", xr, yr))
    else:  # no LP in time: build greedily from nobody
        candidates.append(("greedy", *program.polish(zero_x, zero_y)))

    def value(c: tuple[str, FloatArray, FloatArray]) -> float:
        return round(program.objective(c[1], c[2])["objective"], 9)

    best = min(reversed(candidates), key=value)
    if progress is not None:
        progress(Progress("lp", time.perf_counter() - t0, value(best), bound))
    stats: dict[str, Any] = {"lns_windows": 0, "lns_improved": 0}
    out = None
    if ip.n > FULL_MODEL_LIMIT:
        best = _lns(
            program,
            best,
            bound=bound,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
            gap_limit=gap_limit,
            progress=progress,
            t0=t0,
            stats=stats,
        )
    elapsed = time.perf_counter() - t0
    done = math.isfinite(bound) and relative_gap(value(best), bound) <= gap_limit
    if not done and (ip.n <= FULL_MODEL_LIMIT or time_limit - elapsed > 2.0):
        hint = program.complete(best[1], best[2])
        out = solve_cpsat(
            ip,
            hint=hint,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
            bound=bound,
            gap_limit=gap_limit,
            report=progress,
            t0=t0,
        )
        if out.status in ("optimal", "feasible"):
            x, y = program.split(out.x)
            candidates = [best, (out.status, x, y)]
            best = min(reversed(candidates), key=value)
    status, x, y = best
    parts = program.objective(x, y)
    if math.isfinite(bound) and relative_gap(parts["objective"], bound) <= 1e-9:
        status = "optimal"  # it meets the LP bound: nothing can be cheaper
    wall = time.perf_counter() - t0
    if progress is not None:
        progress(Progress("done", wall, parts["objective"], bound, out.solutions if out else 0))
    stats.update(
        {
            "candidates": program.n_x,
            "break_options": program.n_y,
            "variables": ip.n,
            "constraints": int(ip.b_eq.size + ip.b_ub.size),
            "lp_status": lp_status,
            "cp_status": out.status if out else "not run",
            "cp_objective": out.cp_objective if out else math.nan,
            "cp_bound": out.cp_bound if out else math.nan,
            "cp_solutions": out.solutions if out else 0,
            "build_s": t_build,
            "lp_s": t_lp,
            "time_limit": time_limit,
            "workers": workers,
            "seed": seed,
        }
    )
    return Schedule(
        program,
        np.round(x).astype(np.int64),
        np.round(y).astype(np.int64),
        status=status,
        lower_bound=bound,
        gap=relative_gap(parts["objective"], bound) if math.isfinite(bound) else math.nan,
        parts=parts,
        wall_time=wall,
        stats=stats,
    )


def _lns(
    program: ShiftProgram,
    best: tuple[str, FloatArray, FloatArray],
    *,
    bound: float,
    time_limit: float,
    workers: int,
    seed: int,
    gap_limit: float,
    progress: Callable[[Progress], None] | None,
    t0: float,
    stats: dict[str, Any],
) -> tuple[str, FloatArray, FloatArray]:
    """Re-solve windows of the horizon with CP-SAT while it pays and time is left."""
    ip, cand = program.ip, program.cand
    horizon = program.req.horizon
    longest = int(cand.length.max()) if cand.n else 1
    width = max(round(longest * LNS_WIDTH), 4)
    status, x, y = best
    current = program.complete(x, y)
    cost = program.objective(x, y)["objective"]
    on_rows = program.on.T.tocsr()  # candidate -> rows it covers
    u_of_row = sp.csr_array(
        (np.ones(program.u_row.size), (program.u_row, np.arange(program.u_row.size))),
        shape=(program.n_rows, program.u_row.size),
    )
    offsets = [0, width // 4, width // 2, 3 * width // 4]
    stale = 0
    it = 0
    for sweep in range(1_000_000):
        shift = offsets[sweep % len(offsets)]
        improved = False
        for a in range(shift, horizon + shift, max(width // 2, 1)):
            if time.perf_counter() - t0 > time_limit - 0.5:
                return status, x, y
            rel = (cand.start - a) % horizon
            pick = rel < width
            if not pick.any():
                continue
            rows = np.zeros(program.n_rows, bool)
            rows[on_rows[np.flatnonzero(pick)].indices] = True
            free = np.concatenate(
                [pick, pick[cand.b_shift], (u_of_row[rows].sum(axis=0) > 0), rows]
            )
            sub = restrict(ip, free, current)
            it += 1
            out = solve_cpsat(
                sub,
                hint=current[free],
                workers=workers,
                seed=seed + it,
                time_limit=max(time_limit - (time.perf_counter() - t0), 0.5),
                t0=time.perf_counter(),
                deterministic_limit=LNS_EFFORT,
            )
            stats["lns_windows"] = it
            if out.status not in ("optimal", "feasible"):
                continue
            trial = current.copy()
            trial[free] = out.x
            tx, ty = program.split(trial)
            new = program.objective(tx, ty)["objective"]
            if new < cost - 1e-7:
                cost, x, y, current = new, tx, ty, program.complete(tx, ty)
                status = "feasible"
                improved = True
                stats["lns_improved"] = stats.get("lns_improved", 0) + 1
                if progress is not None:
                    progress(Progress("cp-sat", time.perf_counter() - t0, cost, bound, it))
                if math.isfinite(bound) and relative_gap(cost, bound) <= gap_limit:
                    return status, x, y
        stale = 0 if improved else stale + 1
        if stale >= 2:
            break
    return status, x, y
