"""Breaks counted per family (implicit breaks, Bechtold and Jacobs), and back per shift.

In the program every shift has its own variable for each slot of each break
window.  Counted per (queue, template, break) *family* and slot instead,
``z[f, b]`` agents of the family take the break at slot ``b``, and which shift
takes which break is left implicit; an assignment exists exactly when, for
every shift ``k`` of the family in order of start,

* forward:  the agents of shifts starting no later than ``k`` fit in the
  breaks up to ``k``'s latest slot, and
* backward: the breaks before ``k``'s earliest slot are taken by the shifts
  starting before ``k``

(with equal totals).  Windows of one template move with its start, so these
two families of Hall conditions are sufficient.  Rounding works in family
form (:func:`envelope_round` keeps the cumulative break count between the two
conditions), and the result is turned back into per-shift breaks by giving
each break slot, in time order, to the waiting shift whose window closes
first (:func:`assign_breaks`), which never fails when the conditions hold.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from contactops.schedule._shifts import ShiftProgram

__all__ = ["Families", "aggregate_breaks", "assign_breaks", "envelope_round", "families"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass
class Families:
    """Break families: per family its shifts (in start order) and its slots."""

    shifts: list[IntArray]  # candidate indices, sorted by start
    spec: list[int]  # break index within the template
    lo: IntArray  # first slot (absolute, unwrapped) of each family
    size: IntArray  # slots per family
    earliest: IntArray  # window offsets per family
    latest: IntArray
    length: IntArray  # break length per family
    queue: IntArray

    @property
    def n(self) -> int:
        return int(self.lo.size)

    @property
    def ptr(self) -> IntArray:
        return np.concatenate([[0], np.cumsum(self.size)]).astype(np.int64)


def families(program: ShiftProgram) -> Families:
    cand = program.cand
    shifts: list[IntArray] = []
    spec, lo, size, ear, lat, ln, qu = [], [], [], [], [], [], []
    key = cand.queue * len(cand.templates) + cand.template
    order = np.lexsort((cand.start, key))
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    for members in np.split(order, bounds):
        if not members.size:
            continue
        t = int(cand.template[members[0]])
        for r, b in enumerate(cand.breaks[t]):
            shifts.append(members.astype(np.int64))
            spec.append(r)
            first = int(cand.start[members[0]]) + b.earliest
            last = int(cand.start[members[-1]]) + b.latest
            lo.append(first)
            size.append(last - first + 1)
            ear.append(b.earliest)
            lat.append(b.latest)
            ln.append(b.length)
            qu.append(int(cand.queue[members[0]]))

    def arr(v: list[int]) -> IntArray:
        return np.asarray(v, dtype=np.int64)

    return Families(shifts, spec, arr(lo), arr(size), arr(ear), arr(lat), arr(ln), arr(qu))


def envelope_round(
    program: ShiftProgram, fam: Families, x: FloatArray, z_lp: FloatArray | None
) -> FloatArray:
    """Integer family breaks for integer ``x``, shaped like the LP's ``z``.

    Feasible cumulative break counts lie between the agents whose window has
    closed (``low``) and those whose window has opened (``high``); the LP's
    cumulative curve, scaled to the new total, is clipped into that band and
    made non-decreasing.
    """
    starts = program.cand.start
    out = np.zeros(int(fam.size.sum()))
    ptr = fam.ptr
    for f in range(fam.n):
        members = fam.shifts[f]
        size = int(fam.size[f])
        xs = x[members]
        total = float(xs.sum())
        if total <= 0:
            continue
        low = np.zeros(size + 1)
        high = np.zeros(size + 1)
        np.add.at(low, starts[members] + fam.latest[f] - fam.lo[f], xs)
        np.add.at(high, starts[members] + fam.earliest[f] - fam.lo[f], xs)
        low, high = np.cumsum(low)[:size], np.cumsum(high)[:size]
        if z_lp is not None and z_lp[ptr[f] : ptr[f + 1]].sum() > 1e-9:
            zf = z_lp[ptr[f] : ptr[f + 1]].clip(0.0)
            target = np.cumsum(zf) * (total / zf.sum())
        else:
            target = (low + high) / 2
        cum = np.maximum.accumulate(np.clip(np.round(target + 1e-9), low, high))
        out[ptr[f] : ptr[f + 1]] = np.diff(np.concatenate([[0.0], cum]))
    return out


def assign_breaks(program: ShiftProgram, fam: Families, x: FloatArray, z: FloatArray) -> FloatArray:
    """Per-shift break options (explicit ``y``) from family breaks ``z``.

    Each break slot, in time order, goes to the waiting shift whose window
    closes first.
    """
    cand = program.cand
    y = np.zeros(program.n_y)
    g_first = np.searchsorted(cand.g_shift, np.arange(cand.n + 1))
    ptr = fam.ptr
    for f in range(fam.n):
        members = fam.shifts[f]
        zf = np.round(z[ptr[f] : ptr[f + 1]]).astype(np.int64)
        opens = cand.start[members] + fam.earliest[f] - fam.lo[f]
        waiting: list[tuple[int, int]] = []  # (deadline slot, shift position)
        left = np.round(x[members]).astype(np.int64)
        nxt = 0
        for b in np.flatnonzero(zf).tolist():
            while nxt < members.size and opens[nxt] <= b:
                if left[nxt] > 0:
                    heapq.heappush(
                        waiting, (int(opens[nxt]) + int(fam.latest[f] - fam.earliest[f]), nxt)
                    )
                nxt += 1
            need = int(zf[b])
            while need > 0:
                if not waiting:
                    msg = f"break family {f}: no shift can take {need} break(s) at slot {b}"
                    raise RuntimeError(msg)
                deadline, k = waiting[0]
                if deadline < b:
                    msg = f"break family {f}: a shift's window closed before slot {b}"
                    raise RuntimeError(msg)
                take = min(need, int(left[k]))
                s = int(members[k])
                g = int(g_first[s]) + fam.spec[f]
                y[int(cand.g_ptr[g]) + (b - int(opens[k]))] += take
                left[k] -= take
                need -= take
                if left[k] == 0:
                    heapq.heappop(waiting)
        if left.sum():
            msg = f"break family {f}: {int(left.sum())} agent(s) without a break slot"
            raise RuntimeError(msg)
    return y


def aggregate_breaks(program: ShiftProgram, fam: Families, y: FloatArray) -> FloatArray:
    """Family breaks ``z`` from per-shift options ``y``."""
    cand = program.cand
    z = np.zeros(int(fam.size.sum()))
    g_first = np.searchsorted(cand.g_shift, np.arange(cand.n + 1))
    ptr = fam.ptr
    for f in range(fam.n):
        members = fam.shifts[f]
        g = g_first[members] + fam.spec[f]
        for s, gg in zip(members.tolist(), g.tolist(), strict=True):
            lo, hi = int(cand.g_ptr[gg]), int(cand.g_ptr[gg + 1])
            if y[lo:hi].any():
                first = int(cand.start[s]) + int(fam.earliest[f]) - int(fam.lo[f])
                z[ptr[f] + first : ptr[f] + first + hi - lo] += y[lo:hi]
    return z
