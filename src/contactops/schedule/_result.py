"""The schedule: shifts, breaks, coverage against the requirement, and the bound."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from contactops.errors import InvalidParameterError
from contactops.schedule._expand import clock
from contactops.schedule._rules import WEEKDAYS

if TYPE_CHECKING:
    from contactops.schedule._grid import Requirement
    from contactops.schedule._shifts import ShiftProgram

__all__ = ["CoverageMixin", "Schedule"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def timestamps(req: Requirement, slots: IntArray | list[int]) -> pa.Array:
    """UTC timestamps of interval indices of the horizon (may run past its end)."""
    base = round(req.start.timestamp() * 1e6)
    us = base + np.asarray(slots, dtype=np.int64) * round(req.interval * 1e6)
    return pa.array(us, type=pa.timestamp("us", tz="UTC"))


def local_day(req: Requirement, day: int) -> str:
    return (req.start + timedelta(days=day)).date().isoformat()


class CoverageMixin:
    """Coverage against the requirement, shared by schedules and rosters."""

    req: Requirement
    _coverage: FloatArray  # (queues, horizon)

    @property
    def queues(self) -> tuple[str, ...]:
        return self.req.queues

    @property
    def interval(self) -> float:
        """Interval length in seconds."""
        return self.req.interval

    @property
    def requirement(self) -> npt.NDArray[Any]:
        """The requirement, shaped as given."""
        return self.req.like_input(self.req.values)

    @property
    def coverage(self) -> npt.NDArray[Any]:
        """Agents on shift and not on break per interval, shaped like the requirement."""
        return self.req.like_input(self._coverage.reshape(self.req.values.shape))

    @property
    def short(self) -> npt.NDArray[Any]:
        """Agents below the requirement per interval (agent-intervals), like the requirement."""
        return self.req.like_input(np.maximum(self.req.values - self._cov3(), 0.0))

    @property
    def over(self) -> npt.NDArray[Any]:
        """Agents above the requirement per interval (agent-intervals), like the requirement."""
        return self.req.like_input(np.maximum(self._cov3() - self.req.values, 0.0))

    @property
    def short_total(self) -> float:
        """Agent-intervals short over the horizon (all queues)."""
        return float(np.maximum(self.req.flat() - self._coverage, 0.0).sum())

    @property
    def over_total(self) -> float:
        """Agent-intervals over the requirement over the horizon (all queues)."""
        return float(np.maximum(self._coverage - self.req.flat(), 0.0).sum())

    def _cov3(self) -> FloatArray:
        return self._coverage.reshape(self.req.values.shape)

    def staffing(self, queue: str | None = None) -> IntArray:
        """Agents available per interval over the whole horizon, breaks taken out.

        One value per interval (days x intervals, flattened): what
        ``contactops.simulate.AgentGroup(staffing=...)`` takes.
        """
        if queue is None:
            if len(self.queues) != 1:
                raise InvalidParameterError(
                    "queue",
                    None,
                    f"one of {list(self.queues)}",
                    "Say which queue's staffing you want.",
                )
            q = 0
        elif queue in self.queues:
            q = self.queues.index(queue)
        else:
            raise InvalidParameterError(
                "queue", queue, f"one of {list(self.queues)}", "Check the queue name."
            )
        return np.asarray(np.round(self._coverage[q]), dtype=np.int64)

    def coverage_table(self) -> pa.Table:
        """One row per queue and interval: ``queue, interval_start`` (UTC), ``required,
        scheduled, short, over`` (agents), for charts and reports."""
        q_n, h = self._coverage.shape
        need = self.req.flat()
        cov = self._coverage
        ts = timestamps(self.req, np.tile(np.arange(h, dtype=np.int64), q_n))
        return pa.table(
            {
                "queue": pa.array(
                    np.repeat(np.array(self.queues, dtype=object), h).tolist(), pa.string()
                ),
                "interval_start": ts,
                "required": need.ravel(),
                "scheduled": cov.ravel(),
                "short": np.maximum(need - cov, 0.0).ravel(),
                "over": np.maximum(cov - need, 0.0).ravel(),
            }
        )

    def short_intervals(self) -> pa.Table:
        """The intervals left short (a subset of :meth:`coverage_table`)."""
        table = self.coverage_table()
        mask = pa.array(np.asarray(table.column("short").to_numpy()) > 1e-9)
        return table.filter(mask)


class Schedule(CoverageMixin):
    """A shift schedule over a horizon, from :func:`schedule_shifts`.

    Attributes
    ----------
    shifts : pyarrow.Table
        One row per group of agents working the same shift with the same
        breaks: ``shift, queue, template, day, date, weekday, start, end``
        (UTC), ``start_time, end_time`` (local), ``agents, hours, paid_hours``
        (per agent) and ``breaks`` (text).
    breaks : pyarrow.Table
        One row per break of each group: ``shift, queue, template, day,
        agents, break, start, end, start_time, paid``.
    coverage, short, over : numpy.ndarray
        Per interval, shaped like the requirement.
    lower_bound : float
        Optimum of the linear relaxation (HiGHS): no schedule costs less.
    objective : float
        Cost of this schedule (paid, short and over, in paid agent-hours).
    gap : float
        ``(objective - lower_bound) / lower_bound``.
    status : str
        ``optimal`` (CP-SAT proved it), ``feasible`` (time limit), or
        ``lp-rounded`` (the rounded LP solution was the best found).
    """

    def __init__(
        self,
        program: ShiftProgram,
        x: IntArray,
        y: IntArray,
        *,
        status: str,
        lower_bound: float,
        gap: float,
        parts: dict[str, float],
        wall_time: float,
        stats: dict[str, Any],
    ) -> None:
        self.program = program
        self.req = program.req
        self.x = x
        self.y = y
        self.status = status
        self.lower_bound = lower_bound
        self.gap = gap
        self.objective = parts["objective"]
        self.cost = dict(parts)
        self.wall_time = wall_time
        self.stats = stats
        self._coverage = program.coverage(x.astype(float), y.astype(float)).reshape(
            len(self.req.queues), -1
        )
        self._lines: list[dict[str, Any]] | None = None

    # -- totals -------------------------------------------------------------------
    @property
    def shift_count(self) -> int:
        return int(self.x.sum())

    @property
    def paid_hours(self) -> float:
        return float(self.program.cand.paid_hours @ self.x)

    def summary(self) -> dict[str, Any]:
        """Totals: shifts, paid hours, short/over agent-intervals, objective, bound, gap."""
        return {
            "queues": list(self.queues),
            "days": self.req.days,
            "interval_s": self.req.interval,
            "shifts": self.shift_count,
            "paid_hours": self.paid_hours,
            "short_agent_intervals": self.short_total,
            "over_agent_intervals": self.over_total,
            "short_intervals": int((self.req.flat() - self._coverage > 1e-9).sum()),
            "objective": self.objective,
            "lower_bound": self.lower_bound,
            "gap": self.gap,
            "status": self.status,
            "wall_time_s": self.wall_time,
            **{f"{k}": v for k, v in self.cost.items() if k != "objective"},
        }

    # -- shift lines --------------------------------------------------------------
    def lines(self) -> list[dict[str, Any]]:
        """Groups of agents with the same shift and breaks (plain dicts)."""
        if self._lines is not None:
            return self._lines
        cand = self.program.cand
        g_first = np.searchsorted(cand.g_shift, np.arange(cand.n + 1))
        out: list[dict[str, Any]] = []
        for s in np.flatnonzero(self.x > 0).tolist():
            n = int(self.x[s])
            per_break = []
            for g in range(int(g_first[s]), int(g_first[s + 1])):
                lo, hi = int(cand.g_ptr[g]), int(cand.g_ptr[g + 1])
                offs = np.repeat(cand.b_offset[lo:hi], self.y[lo:hi])
                per_break.append(offs.tolist())
            combos = Counter(zip(*per_break, strict=True)) if per_break else Counter({(): n})
            for combo, k in sorted(combos.items()):
                out.append(self._line(s, k, list(combo)))
        for i, line in enumerate(out):
            line["shift"] = i + 1
        self._lines = out
        return out

    def _line(self, s: int, agents: int, offsets: list[int]) -> dict[str, Any]:
        cand, req = self.program.cand, self.req
        t = cand.templates[int(cand.template[s])]
        specs = cand.breaks[int(cand.template[s])]
        start = int(cand.start[s])
        iv = req.interval
        brks: list[dict[str, Any]] = [
            {
                "break": spec.name,
                "start": start + off,
                "end": start + off + spec.length,
                "paid": spec.paid,
            }
            for spec, off in zip(specs, offsets, strict=True)
        ]
        day = int(cand.day[s])
        return {
            "queue": req.queues[int(cand.queue[s])],
            "template": t.name,
            "day": day,
            "date": local_day(req, day),
            "weekday": WEEKDAYS[req.weekday(day)],
            "start": start,
            "end": start + int(cand.length[s]),
            "start_time": clock(int(cand.slot[s]) * iv),
            "end_time": clock((int(cand.slot[s]) + int(cand.length[s])) * iv),
            "agents": agents,
            "hours": int(cand.length[s]) * iv / 3600.0,
            "paid_hours": float(cand.paid_hours[s]),
            "break_list": brks,
            "breaks": "; ".join(
                f"{b['break']} {clock((b['start'] % req.per_day) * iv)}-"
                f"{clock((b['end'] % req.per_day) * iv)}"
                for b in brks
            ),
        }

    @property
    def shifts(self) -> pa.Table:
        """The schedule, one row per group of identical shifts (see the class doc)."""
        lines = self.lines()
        return pa.table(
            {
                "shift": pa.array([ln["shift"] for ln in lines], pa.int64()),
                "queue": pa.array([ln["queue"] for ln in lines], pa.string()),
                "template": pa.array([ln["template"] for ln in lines], pa.string()),
                "day": pa.array([ln["day"] for ln in lines], pa.int64()),
                "date": pa.array([ln["date"] for ln in lines], pa.string()),
                "weekday": pa.array([ln["weekday"] for ln in lines], pa.string()),
                "start": timestamps(self.req, [ln["start"] for ln in lines]),
                "end": timestamps(self.req, [ln["end"] for ln in lines]),
                "start_time": pa.array([ln["start_time"] for ln in lines], pa.string()),
                "end_time": pa.array([ln["end_time"] for ln in lines], pa.string()),
                "agents": pa.array([ln["agents"] for ln in lines], pa.int64()),
                "hours": pa.array([ln["hours"] for ln in lines], pa.float64()),
                "paid_hours": pa.array([ln["paid_hours"] for ln in lines], pa.float64()),
                "breaks": pa.array([ln["breaks"] for ln in lines], pa.string()),
            }
        )

    @property
    def breaks(self) -> pa.Table:
        """Every break of every group of shifts (see the class doc)."""
        rows = [(ln, b) for ln in self.lines() for b in ln["break_list"]]
        iv = self.req.interval
        return pa.table(
            {
                "shift": pa.array([ln["shift"] for ln, _ in rows], pa.int64()),
                "queue": pa.array([ln["queue"] for ln, _ in rows], pa.string()),
                "template": pa.array([ln["template"] for ln, _ in rows], pa.string()),
                "day": pa.array([ln["day"] for ln, _ in rows], pa.int64()),
                "agents": pa.array([ln["agents"] for ln, _ in rows], pa.int64()),
                "break": pa.array([b["break"] for _, b in rows], pa.string()),
                "start": timestamps(self.req, [b["start"] for _, b in rows]),
                "end": timestamps(self.req, [b["end"] for _, b in rows]),
                "start_time": pa.array(
                    [clock((b["start"] % self.req.per_day) * iv) for _, b in rows], pa.string()
                ),
                "paid": pa.array([b["paid"] for _, b in rows], pa.bool_()),
            }
        )

    def __repr__(self) -> str:
        gap = "-" if not math.isfinite(self.gap) else f"{100 * self.gap:.2f}%"
        return (
            f"Schedule({self.shift_count} shifts, {self.paid_hours:,.1f} paid h, "
            f"short {self.short_total:,.2f} / over {self.over_total:,.2f} agent-intervals, "
            f"gap {gap}, {self.status})"
        )
