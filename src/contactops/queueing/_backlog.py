"""Backlog staffing for deferred work (email, tickets, back-office cases).

Deferred work does not queue in real time: it waits in a backlog and has to be
finished by a deadline (for example 90% within 24 business hours).  The
question is how many agents each interval needs so that every item is done in
time, with the backlog carried from interval to interval.

The model (fluid, one item = ``aht`` agent-seconds of work):

* work that has arrived by the end of interval ``k`` is an *upper* bound on
  the work that can have been done (``U_k``: opening backlog plus arrivals);
* work that is due by then is a *lower* bound (``L_k``): each interval's
  arrivals are spread evenly over the interval and each item is due
  ``deadline`` business seconds after it arrived; a share ``share`` is due at
  ``deadline`` and the rest at ``final_deadline``;
* among all completion curves between the two bounds we take the *taut
  string* (the shortest path through the corridor).  It is the plan with the
  lowest peak staffing and the least variation from interval to interval, and
  of all plans doing the least total work that meets every due date, working
  earliest-due first.

Closed intervals (outside business hours) get no agents and do not count
towards deadlines.  Work whose deadline falls after the horizon is required
pro rata (the share of its deadline window that lies inside the horizon), so
the plan does not collapse at the end of the horizon; ``deadline="end"``
instead requires everything by the end of the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from contactops.errors import InvalidParameterError
from contactops.queueing._kernels import taut_string
from contactops.queueing._validation import FloatArray, as_array

__all__ = ["BacklogPlan", "backlog_staffing"]


@dataclass(frozen=True)
class BacklogPlan:
    """Agents per interval for deferred work, and the backlog they leave.

    Arrays have one value per interval.  ``workload`` is the agent-seconds of
    work the plan does in each interval; ``agents`` is that over the interval
    length (rounded up when ``integer``); ``scheduled`` adds shrinkage.
    ``backlog`` counts the items waiting at the end of each interval under the
    staffed plan, ``due`` the items that had to be finished by then, and
    ``overdue`` the items past due (zero when the plan is feasible).
    """

    agents: FloatArray
    scheduled: FloatArray
    workload: FloatArray
    backlog: FloatArray
    completed: FloatArray
    due: FloatArray
    overdue: FloatArray

    @property
    def closing_backlog(self) -> float:
        return float(self.backlog[-1]) if self.backlog.size else 0.0


def _taut_string(lower: FloatArray, upper: FloatArray) -> FloatArray:
    """Shortest path from (0, 0) through ``lower[k] <= S[k] <= upper[k]``, ending at lower[-1].

    Points are ``k = 0..N`` (``lower[0] = upper[0] = 0`` at the start).  The
    funnel algorithm, compiled, in O(N) (see ``_kernels.taut_string``).
    """
    n = lower.size - 1
    lo = np.ascontiguousarray(lower, dtype=np.float64).copy()
    hi = np.ascontiguousarray(upper, dtype=np.float64).copy()
    lo[0] = hi[0] = 0.0
    hi[n] = lo[n]  # end point fixed at what is due
    s: FloatArray = taut_string(lo, hi)
    return np.clip(s, lower, upper)


def _due_curve(
    work: FloatArray,
    opening: float,
    opening_due: float,
    deadline: float,
    final: float,
    share: float,
) -> FloatArray:
    """Work due by each boundary 0..N (deadlines in intervals of open time), in O(N)."""
    n = work.size
    nodes = np.arange(n + 1, dtype=np.float64)
    start = nodes[:-1]
    arrived = np.concatenate(([0.0], np.cumsum(work)))

    def ramp(d: float) -> FloatArray:
        # cohort i arrives uniformly over [i, i+1) and is due d later, so the work due by
        # boundary k is the work arrived by k - d: the piecewise-linear cumulative arrivals
        out: FloatArray = np.interp(nodes - d, nodes, arrived)
        # at the horizon, work not yet due counts pro rata of its deadline window elapsed
        frac = np.clip(n - (start + d), 0.0, 1.0)
        pro_rata = np.clip((n - (start + 0.5)) / max(d, 1e-12), 0.0, 1.0)
        frac = np.where(frac < 1.0, np.maximum(frac, pro_rata), frac)
        out[n] = frac @ work
        return out

    due = share * ramp(deadline) + (1.0 - share) * ramp(final)
    # the opening backlog is all there at the start and due at boundary opening_due
    # (at the end of the first interval at the earliest); pro rata past the horizon
    opening_frac = (nodes >= max(opening_due, 1e-9)).astype(np.float64)
    if opening_due > n:
        opening_frac[n] = n / opening_due
    result: FloatArray = due + opening * opening_frac
    return result


def backlog_staffing(
    arrivals: Any,
    aht: Any,
    interval: float,
    *,
    deadline: float | str,
    share: float = 1.0,
    final_deadline: float | None = None,
    opening_backlog: float = 0.0,
    opening_due: float | None = None,
    open_intervals: Any = None,
    shrinkage: float = 0.0,
    integer: bool = True,
) -> BacklogPlan:
    """Agents per interval to clear deferred work by its deadline.

    Parameters
    ----------
    arrivals : array_like, shape (N,)
        Items arriving in each interval.
    aht : float or array_like, shape (N,)
        Handle time of one item, seconds (per arrival interval).
    interval : float
        Interval length, seconds (900, 1800 or 3600).
    deadline : float or "end"
        Business seconds after arrival by which ``share`` of the items must be
        done, or ``"end"``: everything by the end of the horizon.
    share : float
        Share of each interval's items due at ``deadline`` (e.g. 0.9).
    final_deadline : float, optional
        When the remaining ``1 - share`` is due; default ``2 * deadline``.
    opening_backlog : float
        Items waiting at the start of the horizon.
    opening_due : float, optional
        Business seconds until the opening backlog is due; default ``deadline``.
    open_intervals : array_like of bool, shape (N,), optional
        Business hours; work arriving while closed waits for the next opening.
    shrinkage : float
        ``scheduled = agents / (1 - shrinkage)``.
    integer : bool
        Round agents up per interval.
    """
    work_items = as_array("arrivals", arrivals, fix="Give the items arriving per interval.")
    if work_items.ndim != 1 or work_items.size == 0:
        raise InvalidParameterError(
            "arrivals", work_items.shape, "a non-empty 1-D array", "Give one count per interval."
        )
    size = work_items.size
    handle = np.broadcast_to(
        as_array(
            "aht",
            aht,
            low=0.0,
            low_inclusive=False,
            fix="Give the handle time of one item in seconds.",
        ),
        (size,),
    ).astype(np.float64)
    length = float(
        as_array(
            "interval",
            interval,
            low=0.0,
            low_inclusive=False,
            fix="Give the interval length in seconds, e.g. 1800.",
        )
    )
    share_v = float(
        as_array(
            "share",
            share,
            low=0.0,
            high=1.0,
            low_inclusive=False,
            fix="Give the share due at the deadline, e.g. 0.9.",
        )
    )
    shrink = float(
        as_array(
            "shrinkage",
            shrinkage,
            low=0.0,
            high=1.0,
            high_inclusive=False,
            fix="Give the share of paid time away from work, e.g. 0.3.",
        )
    )
    backlog0 = float(
        as_array(
            "opening_backlog", opening_backlog, fix="Give the items waiting at the start, >= 0."
        )
    )
    if open_intervals is None:
        is_open = np.ones(size, dtype=bool)
    else:
        is_open = np.asarray(open_intervals, dtype=bool)
        if is_open.shape != (size,):
            raise InvalidParameterError(
                "open_intervals",
                is_open.shape,
                f"shape ({size},)",
                "Give one True/False per interval.",
            )
    if not is_open.any():
        raise InvalidParameterError(
            "open_intervals",
            "all closed",
            "at least one open interval",
            "Mark the business hours as open.",
        )
    # compress time to open intervals: closed-interval arrivals join the next open one
    open_idx = np.flatnonzero(is_open)
    slot = np.searchsorted(open_idx, np.arange(size))
    slot = np.minimum(slot, open_idx.size - 1)
    work = np.zeros(open_idx.size)
    np.add.at(work, slot, work_items * handle)
    items = np.zeros(open_idx.size)
    np.add.at(items, slot, work_items)
    m = open_idx.size
    opening_work = backlog0 * handle[open_idx[0]]

    if deadline == "end":
        due = np.zeros(m + 1)
        due[m] = work.sum() + opening_work
    else:
        dl = float(
            as_array(
                "deadline",
                deadline,
                low=0.0,
                low_inclusive=False,
                fix='Give business seconds after arrival, or "end".',
            )
        )
        fd = (
            2.0 * dl
            if final_deadline is None
            else float(
                as_array(
                    "final_deadline",
                    final_deadline,
                    low=dl,
                    fix="The final deadline cannot come before the deadline.",
                )
            )
        )
        d = dl / length
        f = fd / length
        od = (
            d
            if opening_due is None
            else float(as_array("opening_due", opening_due, fix="Give business seconds, >= 0."))
            / length
        )
        due = _due_curve(work, opening_work, od, d, f, share_v)
    upper = np.concatenate(([opening_work], opening_work + np.cumsum(work)))
    lower = np.minimum(due, upper)
    done = _taut_string(lower, upper)
    plan_work = np.diff(done)
    agents_open = plan_work / length
    if integer:
        agents_open = np.ceil(agents_open - 1e-9)
    # the staffed plan, simulated: cannot do work that has not arrived
    capacity = agents_open * length
    completed = np.empty(m)
    s = 0.0
    for i in range(m):
        s = min(upper[i + 1], s + capacity[i])
        completed[i] = s
    cum_items = np.concatenate(([backlog0], backlog0 + np.cumsum(items)))
    # work position -> item count; the opening backlog is the first stretch of work
    work_axis = np.concatenate(([0.0], upper))
    item_axis = np.concatenate(([0.0], cum_items))
    done_items = np.interp(completed, work_axis, item_axis)
    due_items = np.interp(due[1:], work_axis, item_axis)
    # back to the full calendar
    agents = np.zeros(size)
    agents[open_idx] = agents_open
    workload = np.zeros(size)
    workload[open_idx] = np.where(integer, capacity, plan_work)
    backlog = np.empty(size)
    completed_full = np.empty(size)
    due_full = np.empty(size)
    arrived = np.cumsum(work_items) + backlog0
    last_done = 0.0
    last_due = 0.0
    pos = 0
    for i in range(size):
        if is_open[i]:
            last_done = done_items[pos]
            last_due = due_items[pos]
            pos += 1
        completed_full[i] = last_done
        due_full[i] = last_due
        backlog[i] = arrived[i] - last_done
    scheduled = agents / (1.0 - shrink)
    if integer:
        scheduled = np.ceil(scheduled - 1e-9) + 0.0  # + 0.0 turns -0.0 into 0.0
    overdue = np.maximum(due_full - completed_full, 0.0)
    overdue[overdue < 1e-6] = 0.0
    return BacklogPlan(
        agents=agents,
        scheduled=scheduled,
        workload=workload,
        backlog=np.maximum(backlog, 0.0),
        completed=completed_full,
        due=due_full,
        overdue=overdue,
    )
