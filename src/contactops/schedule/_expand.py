"""Every shift a set of templates allows over a horizon, and where its breaks can go.

A *candidate* is one template starting at one interval of one day for one
queue; a *break option* is one break of one candidate starting at one of the
slots of its window.  Both are index arrays, so the coverage matrix of a week
of thousands of candidates is built with numpy, not Python loops.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from contactops.errors import InvalidParameterError
from contactops.schedule._rules import WEEKDAYS, ScheduleWarning, ShiftTemplate

if TYPE_CHECKING:
    from collections.abc import Sequence

    from contactops.schedule._grid import Requirement

__all__ = [
    "BreakSpec",
    "Candidates",
    "clock",
    "day_clock",
    "expand",
    "grid_slots",
    "template_breaks",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def clock(seconds: float) -> str:
    """``HH:MM`` of a time of day (``26:00`` past midnight stays ``02:00``)."""
    s = round(seconds) % 86400
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}"


def grid_slots(value: float, interval: float, name: str, what: str, *, mode: str = "exact") -> int:
    """``value`` seconds in intervals; ``mode`` exact (error off the grid), up or down."""
    q = value / interval
    k = round(q)
    if abs(q - k) <= 1e-6:
        return int(k)
    if mode == "up":
        return math.ceil(q)
    if mode == "down":
        return math.floor(q)
    raise InvalidParameterError(
        name,
        value,
        f"a multiple of the interval ({interval:g} s)",
        f"Put the {what} on the {interval / 60:g}-minute grid.",
    )


@dataclass(frozen=True)
class BreakSpec:
    """One break of a template on the grid: window of start offsets, in slots."""

    name: str
    length: int
    earliest: int
    latest: int
    paid: bool


@dataclass
class Candidates:
    """Candidate shifts and break options over the horizon, as index arrays."""

    templates: Sequence[ShiftTemplate]
    breaks: list[list[BreakSpec]]  # per template
    queue: IntArray
    template: IntArray
    day: IntArray
    slot: IntArray  # start interval within the day
    start: IntArray  # start interval within the horizon
    length: IntArray  # in intervals
    paid_hours: FloatArray
    cost_factor: FloatArray  # template cost multiplier
    b_group: IntArray  # per break option: its (candidate, break) group
    b_offset: IntArray  # start offset from the shift start, in intervals
    b_length: IntArray
    g_shift: IntArray  # per group: the candidate
    g_break: IntArray  # per group: which break of the template
    g_ptr: IntArray  # options of group g are b_ptr[g]:b_ptr[g+1]
    n_queues: int
    horizon: int
    wrap: bool

    @property
    def n(self) -> int:
        return int(self.queue.size)

    @property
    def n_options(self) -> int:
        return int(self.b_group.size)

    @property
    def b_shift(self) -> IntArray:
        return self.g_shift[self.b_group]

    def subset(self, keep: IntArray) -> Candidates:
        """The candidates ``keep`` (in that order) with their groups and break options."""
        keep = np.asarray(keep, dtype=np.int64)
        g_first = np.searchsorted(self.g_shift, np.arange(self.n + 1))
        groups = np.concatenate(
            [np.arange(g_first[s], g_first[s + 1]) for s in keep] + [np.zeros(0, np.int64)]
        ).astype(np.int64)
        new_shift = np.repeat(
            np.arange(keep.size, dtype=np.int64), (g_first[keep + 1] - g_first[keep])
        )
        width = self.g_ptr[groups + 1] - self.g_ptr[groups]
        options = (
            np.repeat(self.g_ptr[groups], width)
            + np.arange(int(width.sum()))
            - np.repeat(np.cumsum(width) - width, width)
        ).astype(np.int64)
        return Candidates(
            templates=self.templates,
            breaks=self.breaks,
            queue=self.queue[keep],
            template=self.template[keep],
            day=self.day[keep],
            slot=self.slot[keep],
            start=self.start[keep],
            length=self.length[keep],
            paid_hours=self.paid_hours[keep],
            cost_factor=self.cost_factor[keep],
            b_group=np.repeat(np.arange(groups.size, dtype=np.int64), width),
            b_offset=self.b_offset[options],
            b_length=self.b_length[options],
            g_shift=new_shift,
            g_break=self.g_break[groups],
            g_ptr=np.concatenate([[0], np.cumsum(width)]).astype(np.int64),
            n_queues=self.n_queues,
            horizon=self.horizon,
            wrap=self.wrap,
        )

    def _rows(
        self, starts: IntArray, lengths: IntArray, queues: IntArray
    ) -> tuple[IntArray, IntArray]:
        """Row (queue x horizon) and column of each interval covered by each item."""
        total = int(lengths.sum())
        col = np.repeat(np.arange(starts.size, dtype=np.int64), lengths)
        first = np.repeat(np.cumsum(lengths) - lengths, lengths)
        at = np.repeat(starts, lengths) + (np.arange(total, dtype=np.int64) - first)
        if self.wrap:
            at %= self.horizon
            keep = np.ones(total, bool)
        else:
            keep = at < self.horizon
        row = np.repeat(queues, lengths) * self.horizon + at
        return row[keep], col[keep]

    def on_shift_matrix(self) -> sp.csr_array:
        """``(queues*horizon, candidates)``: 1 where a candidate is on shift."""
        row, col = self._rows(self.start, self.length, self.queue)
        return sp.csr_array(
            (np.ones(row.size), (row, col)), shape=(self.n_queues * self.horizon, self.n)
        )

    def break_matrix(self) -> sp.csr_array:
        """``(queues*horizon, break options)``: 1 where a break option is on break."""
        shift = self.b_shift
        row, col = self._rows(self.start[shift] + self.b_offset, self.b_length, self.queue[shift])
        return sp.csr_array(
            (np.ones(row.size), (row, col)), shape=(self.n_queues * self.horizon, self.n_options)
        )

    def group_matrix(self) -> sp.csr_array:
        """``(groups, break options)``: 1 where the option belongs to the group."""
        g = self.b_group
        return sp.csr_array(
            (np.ones(g.size), (g, np.arange(g.size))), shape=(self.g_shift.size, g.size)
        )


def template_breaks(t: ShiftTemplate, interval: float) -> list[BreakSpec]:
    """The template's breaks on the grid, in order of their windows."""
    p = f"template {t.name!r}"
    out = []
    for b in t.breaks:
        length = grid_slots(b.length, interval, f"{p}.breaks[{b.name!r}].length", "break length")
        for k, (w0, w1) in enumerate(b.windows()):
            e = grid_slots(
                w0,
                interval,
                f"{p}.breaks[{b.name!r}].earliest",
                "break window",
                mode="up" if b.count > 1 else "exact",
            )
            la = grid_slots(
                w1,
                interval,
                f"{p}.breaks[{b.name!r}].latest",
                "break window",
                mode="down" if b.count > 1 else "exact",
            )
            if la < e:
                raise InvalidParameterError(
                    f"{p}.breaks[{b.name!r}]",
                    f"window {k + 1} of {b.count}",
                    f"at least one start on the {interval / 60:g}-minute grid",
                    "Widen the window or lower the count.",
                )
            name = b.name if b.count == 1 else f"{b.name} {k + 1}"
            out.append(BreakSpec(name, length, e, la, b.paid))
    return sorted(out, key=lambda s: s.earliest)


def expand(req: Requirement, templates: Sequence[ShiftTemplate], *, wrap: bool) -> Candidates:
    """Every (queue, template, day, start) the templates allow, with break options."""
    if not templates:
        raise InvalidParameterError(
            "templates", [], "at least one shift template", "Describe the shifts agents can work."
        )
    names = [t.name for t in templates]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise InvalidParameterError(
            "templates", sorted(dup), "unique names", "Give every template its own name."
        )
    iv = req.interval
    per_day = req.per_day
    queues = {q: i for i, q in enumerate(req.queues)}
    cols: dict[str, list[int]] = {k: [] for k in ("queue", "template", "day", "slot")}
    breaks: list[list[BreakSpec]] = []
    paid = np.zeros(len(templates))
    lengths = np.array(
        [
            grid_slots(t.length, iv, f"template {t.name!r}.length", "shift length")
            for t in templates
        ],
        dtype=np.int64,
    )
    for ti, t in enumerate(templates):
        p = f"template {t.name!r}"
        specs = template_breaks(t, iv)
        breaks.append(specs)
        paid[ti] = t.paid_length / 3600.0
        slots = sorted({grid_slots(s, iv, f"{p}.starts", "start times") for s in t.starts})
        if t.queues is None:
            tq = list(range(len(req.queues)))
        else:
            unknown = [q for q in t.queues if q not in queues]
            if unknown:
                warnings.warn(
                    f"{p}.queues: {unknown} are not in the requirement "
                    f"({list(req.queues)}); the template serves only the others.",
                    ScheduleWarning,
                    stacklevel=3,
                )
            tq = [queues[q] for q in t.queues if q in queues]
        days = [d for d in range(req.days) if req.weekday(d) in set(t.days)]
        if not tq or not days:
            why = (
                "none of its queues is required"
                if not tq
                else (
                    "none of its days ("
                    + ", ".join(WEEKDAYS[d] for d in sorted(set(t.days)))
                    + ") is in the horizon"
                )
            )
            warnings.warn(f"{p}: cannot cover any interval: {why}.", ScheduleWarning, stacklevel=3)
        for q in tq:
            for d in days:
                for s in slots:
                    cols["queue"].append(q)
                    cols["template"].append(ti)
                    cols["day"].append(d)
                    cols["slot"].append(s)
    template = np.asarray(cols["template"], dtype=np.int64)
    day = np.asarray(cols["day"], dtype=np.int64)
    slot = np.asarray(cols["slot"], dtype=np.int64)
    # break options: per candidate, per break of its template, every slot of the window
    n_b = np.array([len(b) for b in breaks], dtype=np.int64)
    g_shift = np.repeat(np.arange(template.size, dtype=np.int64), n_b[template])
    g_break = np.arange(g_shift.size, dtype=np.int64) - np.repeat(
        np.cumsum(n_b[template]) - n_b[template], n_b[template]
    )
    lo = np.array([s.earliest for b in breaks for s in b], dtype=np.int64)
    hi = np.array([s.latest for b in breaks for s in b], dtype=np.int64)
    blen = np.array([s.length for b in breaks for s in b], dtype=np.int64)
    first_spec = np.concatenate([[0], np.cumsum(n_b)[:-1]]).astype(np.int64)
    spec = first_spec[template[g_shift]] + g_break if g_shift.size else g_shift
    width = hi[spec] - lo[spec] + 1 if g_shift.size else g_shift
    b_group = np.repeat(np.arange(g_shift.size, dtype=np.int64), width)
    g_ptr = np.concatenate([[0], np.cumsum(width)]).astype(np.int64)
    b_offset = (
        (
            np.repeat(lo[spec], width)
            + np.arange(b_group.size, dtype=np.int64)
            - np.repeat(g_ptr[:-1], width)
        )
        if g_shift.size
        else b_group
    )
    b_length = np.repeat(blen[spec], width) if g_shift.size else b_group
    cand = Candidates(
        templates=list(templates),
        breaks=breaks,
        queue=np.asarray(cols["queue"], dtype=np.int64),
        template=template,
        day=day,
        slot=slot,
        start=day * per_day + slot,
        length=lengths[template],
        paid_hours=paid[template],
        cost_factor=np.array([float(t.cost) for t in templates])[template],
        b_group=b_group,
        b_offset=b_offset,
        b_length=b_length,
        g_shift=g_shift,
        g_break=g_break,
        g_ptr=g_ptr,
        n_queues=len(req.queues),
        horizon=req.horizon,
        wrap=wrap,
    )
    _warn_uncovered(req, cand)
    return cand


def _warn_uncovered(req: Requirement, cand: Candidates) -> None:
    """Templates that cover no demand, and demand no template covers."""
    need = req.flat().ravel() > 0
    cover = cand.on_shift_matrix()
    covered = np.asarray(cover.sum(axis=1)).ravel() > 0
    per_template = np.zeros(len(cand.templates), bool)
    useful = cover.T @ need.astype(np.float64) > 0
    np.logical_or.at(per_template, cand.template, useful)
    present = np.zeros(len(cand.templates), bool)
    present[cand.template] = True
    for ti, t in enumerate(cand.templates):
        if present[ti] and not per_template[ti]:
            warnings.warn(
                f"template {t.name!r}: cannot cover any interval with demand (every "
                "interval its starts reach has a requirement of 0).",
                ScheduleWarning,
                stacklevel=4,
            )
    gap = need & ~covered
    if gap.any():
        for q, name in enumerate(req.queues):
            idx = np.flatnonzero(gap[q * req.horizon : (q + 1) * req.horizon])
            if idx.size:
                d, k = divmod(int(idx[0]), req.per_day)
                warnings.warn(
                    f"queue {name!r}: {idx.size} interval(s) with demand are covered by no "
                    f"template start (first: {WEEKDAYS[req.weekday(d)]} day {d + 1} "
                    f"{clock(k * req.interval)}); they will be short. Add a template or start "
                    "times that reach them.",
                    ScheduleWarning,
                    stacklevel=4,
                )


def day_clock(req: Requirement, slot_abs: int) -> str:
    """``Mon 08:30`` of an interval of the horizon."""
    d, k = divmod(slot_abs % req.horizon, req.per_day)
    return f"{WEEKDAYS[req.weekday(d)]} {clock(k * req.interval)}"
