"""One integer program, solved twice: as an LP for the bound, with CP-SAT for the schedule.

The program is kept as sparse matrices (``A_eq x = b_eq``, ``A_ub x <= b_ub``,
bounds, costs) with integer coefficients, so the same rows go to HiGHS
(through :func:`scipy.optimize.linprog`, the linear relaxation, whose optimum
is a lower bound of every schedule) and to OR-Tools CP-SAT (the integer
schedule, warm-started from the rounded LP solution).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from ortools.sat.python import cp_model
from scipy.optimize import linprog

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["IntegerProgram", "Progress", "SolveOutcome", "restrict", "solve_cpsat", "solve_lp"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Progress:
    """A report while solving: the stage, the best schedule so far and the bound.

    ``objective`` and ``bound`` are in the objective's units (paid agent-hours);
    ``gap`` is ``(objective - bound) / bound``.
    """

    stage: str
    elapsed: float
    objective: float = math.nan
    bound: float = math.nan
    solutions: int = 0

    @property
    def gap(self) -> float:
        if not (math.isfinite(self.objective) and math.isfinite(self.bound)):
            return math.nan
        return relative_gap(self.objective, self.bound)


def relative_gap(objective: float, bound: float) -> float:
    """``(objective - bound) / bound`` (0 when both are 0)."""
    if bound > 1e-9:
        return max(objective - bound, 0.0) / bound
    return 0.0 if objective <= 1e-9 else math.inf


@dataclass
class IntegerProgram:
    """``min c.x`` s.t. ``A_eq x = b_eq``, ``A_ub x <= b_ub``, ``lb <= x <= ub``, x integer."""

    c: FloatArray
    lb: FloatArray
    ub: FloatArray
    a_eq: sp.csr_array
    b_eq: FloatArray
    a_ub: sp.csr_array
    b_ub: FloatArray
    names: list[str] = field(default_factory=list)  # block names, for messages

    @property
    def n(self) -> int:
        return int(self.c.size)

    def violation(self, x: FloatArray) -> float:
        """Largest violation of any constraint or bound by ``x``."""
        worst = 0.0
        if self.b_eq.size:
            worst = max(worst, float(np.abs(self.a_eq @ x - self.b_eq).max()))
        if self.b_ub.size:
            worst = max(worst, float((self.a_ub @ x - self.b_ub).max()))
        return max(worst, float((self.lb - x).max()), float((x - self.ub).max()))


@dataclass
class SolveOutcome:
    """Values of the variables, and how they were found."""

    x: FloatArray
    status: str
    cp_objective: float = math.nan
    cp_bound: float = math.nan
    wall_time: float = 0.0
    solutions: int = 0
    stats: dict[str, Any] = field(default_factory=dict)


def restrict(ip: IntegerProgram, free: npt.NDArray[np.bool_], values: FloatArray) -> IntegerProgram:
    """The program over the ``free`` columns, every other column fixed at ``values``.

    Rows that touch no free column are dropped; the fixed columns' part of the
    others moves to the right-hand side.
    """
    fixed = values * ~free

    def part(a: sp.csr_array, b: FloatArray) -> tuple[sp.csr_array, FloatArray]:
        if not b.size:
            return sp.csr_array((0, int(free.sum()))), b
        touched = np.flatnonzero(a @ free.astype(np.float64) != 0)
        rows = a[touched]
        return sp.csr_array(rows[:, free]), b[touched] - rows @ fixed

    a_eq, b_eq = part(ip.a_eq, ip.b_eq)
    a_ub, b_ub = part(ip.a_ub, ip.b_ub)
    return IntegerProgram(ip.c[free], ip.lb[free], ip.ub[free], a_eq, b_eq, a_ub, b_ub)


def solve_lp(
    ip: IntegerProgram, *, time_limit: float | None = None
) -> tuple[float, FloatArray | None, str]:
    """The LP relaxation by HiGHS: ``(optimum, solution, status)``.

    The optimum is a valid lower bound only when HiGHS proves optimality;
    otherwise ``-inf`` is returned as the bound.
    """
    options: dict[str, Any] = {"presolve": True}
    if time_limit is not None:
        options["time_limit"] = max(float(time_limit), 0.1)
    ub = np.where(np.isfinite(ip.ub), ip.ub, np.inf)
    # scipy-stubs list dense arrays only; HiGHS takes the sparse matrices as they are
    res = linprog(
        ip.c,
        A_ub=ip.a_ub if ip.b_ub.size else None,  # type: ignore[call-overload]
        b_ub=ip.b_ub if ip.b_ub.size else None,
        A_eq=ip.a_eq if ip.b_eq.size else None,
        b_eq=ip.b_eq if ip.b_eq.size else None,
        bounds=np.column_stack([ip.lb, ub]),
        method="highs",
        options=options,
    )
    if res.status == 0:
        return float(res.fun), np.asarray(res.x, dtype=np.float64), "optimal"
    x = np.asarray(res.x, dtype=np.float64) if res.x is not None else None
    return -math.inf, x, str(res.message)


class _Watcher(cp_model.CpSolverSolutionCallback):
    """Counts solutions, reports progress, stops at the gap limit."""

    def __init__(
        self,
        scale: float,
        offset: float,
        bound: float,
        gap_limit: float,
        report: Callable[[Progress], None] | None,
        t0: float,
    ) -> None:
        super().__init__()
        self.scale = scale
        self.offset = offset
        self.bound = bound
        self.gap_limit = gap_limit
        self.report = report
        self.t0 = t0
        self.count = 0
        self.best = math.inf
        self.lock = threading.Lock()

    def on_solution_callback(self) -> None:
        with self.lock:
            self.count += 1
            obj = self.objective_value / self.scale + self.offset
            self.best = min(self.best, obj)
            if self.report is not None:
                self.report(
                    Progress(
                        "cp-sat", time.perf_counter() - self.t0, self.best, self.bound, self.count
                    )
                )
            if math.isfinite(self.bound) and relative_gap(self.best, self.bound) <= self.gap_limit:
                self.stop_search()


def _int_costs(c: FloatArray) -> tuple[IntArray, float]:
    """Integer objective coefficients and the scale used (1 % of the smallest cost or better)."""
    pos = np.abs(c[c != 0])
    if pos.size == 0:
        return np.zeros(c.size, np.int64), 1.0
    scale = 200.0 / float(pos.min())
    scale = min(scale, 1e12 / float(pos.max()))
    return np.round(c * scale).astype(np.int64), scale


def solve_cpsat(
    ip: IntegerProgram,
    *,
    hint: FloatArray | None,
    time_limit: float,
    workers: int,
    seed: int,
    bound: float = -math.inf,
    gap_limit: float = 0.0,
    report: Callable[[Progress], None] | None = None,
    t0: float | None = None,
    log: bool = False,
    deterministic_limit: float | None = None,
    offset: float = 0.0,
) -> SolveOutcome:
    """Solve ``ip`` with CP-SAT within ``time_limit`` seconds on ``workers`` threads."""
    t0 = time.perf_counter() if t0 is None else t0
    model = cp_model.CpModel()
    lb = np.ceil(ip.lb - 1e-9).astype(np.int64)
    big = int(4e12)
    ub = np.where(np.isfinite(ip.ub), np.floor(ip.ub + 1e-9), big).astype(np.int64)
    xs = [
        model.new_int_var(int(lo), int(hi), "")
        for lo, hi in zip(lb.tolist(), ub.tolist(), strict=True)
    ]
    for a, b, sense in ((ip.a_eq, ip.b_eq, "eq"), (ip.a_ub, ip.b_ub, "ub")):
        if not b.size:
            continue
        csr = sp.csr_array(a)
        indptr, indices, data = csr.indptr, csr.indices, csr.data
        coef = np.round(data).astype(np.int64)
        if np.any(np.abs(coef - data) > 1e-9):
            raise ValueError("constraint coefficients must be whole numbers")
        rhs = b.tolist()
        for r in range(b.size):
            lo_, hi_ = int(indptr[r]), int(indptr[r + 1])
            expr = cp_model.LinearExpr.weighted_sum(
                [xs[j] for j in indices[lo_:hi_].tolist()], coef[lo_:hi_].tolist()
            )
            value = rhs[r]
            if sense == "eq":
                model.add(expr == round(value))
            else:
                model.add(expr <= math.floor(value + 1e-9))
    cint, scale = _int_costs(ip.c)
    nz = np.flatnonzero(cint)
    model.minimize(
        cp_model.LinearExpr.weighted_sum([xs[j] for j in nz.tolist()], cint[nz].tolist())
    )
    if hint is not None:  # NaN: no hint for that variable
        known = np.flatnonzero(np.isfinite(hint))
        for j, h in zip(
            known.tolist(), np.round(hint[known]).astype(np.int64).tolist(), strict=True
        ):
            model.add_hint(xs[j], h)
    solver = cp_model.CpSolver()
    remaining = max(time_limit - (time.perf_counter() - t0), 0.5)
    solver.parameters.max_time_in_seconds = remaining
    solver.parameters.num_workers = max(int(workers), 1)
    solver.parameters.random_seed = int(seed)
    solver.parameters.log_search_progress = log
    if deterministic_limit is not None:
        solver.parameters.max_deterministic_time = deterministic_limit
    watcher = _Watcher(scale, offset, bound, gap_limit, report, t0)
    status = solver.solve(model, watcher)
    name = solver.status_name(status).lower()
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = np.array([solver.value(v) for v in xs], dtype=np.float64)
        return SolveOutcome(
            values,
            name,
            solver.objective_value / scale,
            solver.best_objective_bound / scale,
            solver.wall_time,
            watcher.count,
            {"scale": scale},
        )
    return SolveOutcome(
        np.zeros(ip.n), name, math.nan, math.nan, solver.wall_time, 0, {"scale": scale}
    )
