"""The inputs of scheduling and rostering, as plain frozen dataclasses.

Constructors only store and check their parameters (scikit-learn/attrs
style); every check that fails raises :class:`InvalidParameterError` naming
the field, the value, the rule and the fix.  Durations are seconds; times of
day are seconds from midnight on the queue's local clock.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from contactops.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "DAY",
    "WEEKDAYS",
    "Agent",
    "Break",
    "Costs",
    "LaborRules",
    "ScheduleWarning",
    "ShiftRules",
    "ShiftTemplate",
    "start_times",
]

DAY = 86400.0
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class ScheduleWarning(UserWarning):
    """Input that is allowed but probably not what was meant (names the item and rule)."""


def _finite(
    name: str, value: object, *, low: float = 0.0, strict: bool = False, fix: str = ""
) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        v = math.nan
    if not math.isfinite(v) or v < low or (strict and v == low):
        rule = f"a finite number {'>' if strict else '>='} {low:g}"
        raise InvalidParameterError(name, value, rule, fix)
    return v


def start_times(first: float, last: float, every: float) -> tuple[float, ...]:
    """Start times from ``first`` to ``last`` (inclusive) every ``every`` seconds.

    >>> start_times(6 * 3600, 7 * 3600, 1800)
    (21600.0, 23400.0, 25200.0)
    """
    first = _finite("first", first, fix="Give a time of day in seconds from midnight.")
    last = _finite("last", last, fix="Give a time of day in seconds from midnight.")
    every = _finite("every", every, strict=True, fix="Give the step in seconds, e.g. 1800.")
    if last < first:
        raise InvalidParameterError(
            "last", last, f">= first ({first:g})", "The last start cannot come before the first."
        )
    n = math.floor((last - first) / every + 1e-9)
    return tuple(first + k * every for k in range(n + 1))


@dataclass(frozen=True)
class Break:
    """One break (or lunch) taken in every shift of a template.

    The break lasts ``length`` seconds and starts between ``earliest`` and
    ``latest`` seconds after the shift starts (both on the interval grid).
    ``count`` > 1 means that many breaks of this kind: the window is split
    into ``count`` equal consecutive parts, one break in each.  Unpaid breaks
    (``paid=False``, e.g. lunch) are not counted in paid hours.
    """

    length: float
    earliest: float
    latest: float
    paid: bool = True
    name: str = "break"
    count: int = 1

    def __post_init__(self) -> None:
        _finite(
            f"break {self.name!r}.length",
            self.length,
            strict=True,
            fix="Give the break length in seconds, e.g. 900.",
        )
        _finite(
            f"break {self.name!r}.earliest",
            self.earliest,
            fix="Seconds after the shift start, e.g. 3600.",
        )
        _finite(
            f"break {self.name!r}.latest",
            self.latest,
            fix="Seconds after the shift start, e.g. 7200.",
        )
        if self.latest < self.earliest:
            raise InvalidParameterError(
                f"break {self.name!r}.latest",
                self.latest,
                f">= earliest ({self.earliest:g})",
                "The window's end must not come before its start.",
            )
        if not isinstance(self.count, int) or isinstance(self.count, bool) or self.count < 1:
            raise InvalidParameterError(
                f"break {self.name!r}.count",
                self.count,
                "a whole number >= 1",
                "How many such breaks.",
            )

    def windows(self) -> list[tuple[float, float]]:
        """``(earliest, latest)`` start window of each of the ``count`` breaks."""
        if self.count == 1:
            return [(float(self.earliest), float(self.latest))]
        span = (self.latest + self.length - self.earliest) / self.count
        return [
            (self.earliest + k * span, self.earliest + (k + 1) * span - self.length)
            for k in range(self.count)
        ]


@dataclass(frozen=True)
class ShiftTemplate:
    """A kind of shift: its length, allowed starts, days, breaks and cost.

    ``starts`` are times of day (seconds from local midnight) on the interval
    grid; a start plus ``length`` may pass midnight (a night shift).  ``days``
    are weekdays, 0 = Monday.  ``cost`` multiplies the cost of a paid hour
    (e.g. 1.25 for a night premium).  ``max_per_day`` caps the agents
    starting this template on one day; ``queues`` restricts the template to
    some queues (default: every queue).
    """

    name: str
    length: float
    starts: Sequence[float]
    days: Sequence[int] = (0, 1, 2, 3, 4, 5, 6)
    breaks: Sequence[Break] = ()
    cost: float = 1.0
    max_per_day: int | None = None
    queues: Sequence[str] | None = None

    def __post_init__(self) -> None:
        p = f"template {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise InvalidParameterError(
                "template.name", self.name, "a non-empty string", "Name every template."
            )
        length = _finite(
            f"{p}.length",
            self.length,
            strict=True,
            fix="Give the shift length in seconds, e.g. 28800 for 8 hours.",
        )
        if length > DAY:
            raise InvalidParameterError(
                f"{p}.length",
                self.length,
                "at most a day (86400 s)",
                "Split longer duties into several shifts.",
            )
        starts = tuple(self.starts)
        if not starts:
            raise InvalidParameterError(
                f"{p}.starts",
                list(starts),
                "at least one start time",
                "e.g. starts=start_times(6*3600, 14*3600, 1800).",
            )
        for i, s in enumerate(starts):
            v = _finite(f"{p}.starts[{i}]", s, fix="Times of day in seconds from midnight.")
            if v >= DAY:
                raise InvalidParameterError(
                    f"{p}.starts[{i}]",
                    s,
                    "before midnight (< 86400)",
                    "A shift starting after midnight belongs to the "
                    "next day; give its time of day.",
                )
        days = tuple(self.days)
        if not days:
            raise InvalidParameterError(
                f"{p}.days", list(days), "at least one weekday", "0 = Monday ... 6 = Sunday."
            )
        for d in days:
            if not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6:
                raise InvalidParameterError(
                    f"{p}.days",
                    d,
                    "weekdays 0 (Monday) to 6 (Sunday)",
                    "Use 0-6 or day names in the YAML file.",
                )
        _finite(f"{p}.cost", self.cost, fix="A multiplier of the paid-hour cost, e.g. 1.0.")
        if self.max_per_day is not None and (
            not isinstance(self.max_per_day, int) or self.max_per_day < 0
        ):
            raise InvalidParameterError(
                f"{p}.max_per_day",
                self.max_per_day,
                "a whole number >= 0 or None",
                "Leave it out for no cap.",
            )
        # windows of all breaks, in order: each must fit in the shift and not overlap the next
        windows = sorted((w0, w1, b) for b in self.breaks for (w0, w1) in b.windows())
        for w0, w1, b in windows:
            if w1 + b.length > length + 1e-9:
                raise InvalidParameterError(
                    f"{p}.breaks[{b.name!r}]",
                    (w0, w1),
                    f"a window ending with the break inside the shift (latest + length <= "
                    f"{length:g} s)",
                    "Move the window earlier or shorten the break.",
                )
        for (a0, a1, ba), (b0, _b1, bb) in itertools.pairwise(windows):
            if a1 + ba.length > b0 + 1e-9:
                raise InvalidParameterError(
                    f"{p}.breaks",
                    f"{ba.name!r} window {a0:g}-{a1 + ba.length:g} s and "
                    f"{bb.name!r} window from {b0:g} s",
                    "break windows that do not overlap (a break's latest start plus its length "
                    "at or before the next break's earliest start)",
                    "Narrow or move the windows so each break has its own stretch of the shift.",
                )

    @property
    def paid_length(self) -> float:
        """Paid seconds of one shift: its length less its unpaid breaks."""
        unpaid = sum(b.length * b.count for b in self.breaks if not b.paid)
        return float(self.length) - unpaid


@dataclass(frozen=True)
class ShiftRules:
    """Rules of the shift schedule (not of named agents).

    ``wrap``: the week repeats, so a shift running past the end of the
    horizon covers its first intervals (a Sunday night shift covers Monday
    morning).  Without it, intervals past the end are paid but cover nothing.
    ``break_coverage``: while breaks are taken, at least this share of the
    agents on shift in an interval stay available (one agent may always be
    on break); 0 means no limit.  ``max_agents_per_day``: at most this many
    shifts start on one day (all queues together): the head count.
    ``max_paid_hours``: a budget of paid hours over the horizon.
    """

    wrap: bool = False
    break_coverage: float = 0.0
    max_agents_per_day: int | None = None
    max_paid_hours: float | None = None

    def __post_init__(self) -> None:
        v = _finite(
            "rules.break_coverage",
            self.break_coverage,
            fix="A share, e.g. 0.8 keeps 80% of the agents on shift available.",
        )
        if v > 1.0:
            raise InvalidParameterError(
                "rules.break_coverage", self.break_coverage, "a share in [0, 1]", "e.g. 0.8."
            )
        if self.max_agents_per_day is not None and (
            not isinstance(self.max_agents_per_day, int) or self.max_agents_per_day < 0
        ):
            raise InvalidParameterError(
                "rules.max_agents_per_day",
                self.max_agents_per_day,
                "a whole number >= 0 or None",
                "The daily head count.",
            )
        if self.max_paid_hours is not None:
            _finite(
                "rules.max_paid_hours",
                self.max_paid_hours,
                fix="The budget in paid hours over the horizon.",
            )


@dataclass(frozen=True)
class Costs:
    """What the objective charges, in units of one paid agent-hour.

    ``paid_hour``: one paid agent-hour (times the template's ``cost``).
    ``short``: one agent-hour below the requirement.  With a queueing model
    it is scaled in each interval by that interval's marginal service-level
    loss (contacts that miss the target for each agent missing) relative to
    the average interval, never below ``min_short_weight`` of it.  ``over``:
    one agent-hour above the requirement, on top of its paid cost.
    """

    paid_hour: float = 1.0
    short: float = 4.0
    over: float = 0.1
    min_short_weight: float = 0.1

    def __post_init__(self) -> None:
        for name in ("paid_hour", "short", "over", "min_short_weight"):
            _finite(
                f"costs.{name}",
                getattr(self, name),
                fix="Costs are finite and >= 0, in paid agent-hours.",
            )


@dataclass(frozen=True)
class LaborRules:
    """Labor rules of a region, applied to every agent of that region.

    ``max_consecutive_days``: most days worked in a row.  ``min_rest``:
    seconds between the end of one shift and the start of the next.
    ``max_weekly_hours``: paid hours in any calendar week of the horizon
    (7-day blocks from its first day).  ``paired_days_off``: each week has
    at least two consecutive days off.  ``stable_start``: the start times
    (time of day) of an agent's shifts in a week lie within this many
    seconds of each other (``None``: no rule).  Rules named in ``soft`` are
    preferences: they may be broken, at ``soft_weight`` paid hours each time,
    and each break is reported with its reason.
    """

    max_consecutive_days: int = 6
    min_rest: float = 11 * 3600.0
    max_weekly_hours: float = 48.0
    paired_days_off: bool = False
    stable_start: float | None = None
    soft: Sequence[str] = ()
    soft_weight: float = 8.0

    RULES = (
        "max_consecutive_days",
        "min_rest",
        "max_weekly_hours",
        "paired_days_off",
        "stable_start",
    )

    def __post_init__(self) -> None:
        if (
            not isinstance(self.max_consecutive_days, int)
            or isinstance(self.max_consecutive_days, bool)
            or self.max_consecutive_days < 1
        ):
            raise InvalidParameterError(
                "labor.max_consecutive_days",
                self.max_consecutive_days,
                "a whole number >= 1",
                "e.g. 6.",
            )
        _finite("labor.min_rest", self.min_rest, fix="Seconds, e.g. 39600 for 11 hours.")
        _finite("labor.max_weekly_hours", self.max_weekly_hours, strict=True, fix="Hours, e.g. 48.")
        if self.stable_start is not None:
            _finite(
                "labor.stable_start",
                self.stable_start,
                fix="Seconds, e.g. 7200: starts within two hours of each other.",
            )
        _finite("labor.soft_weight", self.soft_weight, fix="Paid hours per broken soft rule.")
        for name in self.soft:
            if name not in self.RULES:
                raise InvalidParameterError(
                    "labor.soft",
                    name,
                    "one of " + ", ".join(self.RULES),
                    "Name the rules that may be broken.",
                )

    def is_soft(self, rule: str) -> bool:
        return rule in self.soft


@dataclass(frozen=True)
class Agent:
    """A named agent to roster.

    ``skills``: queues they can serve.  ``min_hours``/``max_hours``:
    contracted paid hours per week (the minimum is a soft rule, reported
    when missed; the maximum is hard).  ``available``: per weekday (0 =
    Monday), the ``(from, to)`` windows in seconds from midnight in which a
    shift must lie (``to`` may pass 86400 for nights); a weekday missing from
    the mapping means not available that day; ``None`` means always.
    ``days_off``: weekdays the agent wants off (soft).  ``prefer_start``:
    preferred start time of day (soft, the cost grows with the distance).
    ``prefer_templates``: templates they prefer (soft).  ``region``: which
    :class:`LaborRules` apply.
    """

    name: str
    skills: Sequence[str]
    min_hours: float = 0.0
    max_hours: float = 40.0
    available: Mapping[int, Sequence[tuple[float, float]]] | None = None
    days_off: Sequence[int] = ()
    prefer_start: float | None = None
    prefer_templates: Sequence[str] = ()
    region: str = "default"
    weight: float = field(default=1.0)

    def __post_init__(self) -> None:
        p = f"agent {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise InvalidParameterError(
                "agent.name", self.name, "a non-empty string", "Give every agent an id."
            )
        if isinstance(self.skills, str):
            raise InvalidParameterError(
                f"{p}.skills", self.skills, "a list of queue names", "e.g. ['billing', 'sales']."
            )
        lo = _finite(f"{p}.min_hours", self.min_hours, fix="Contracted weekly hours, e.g. 32.")
        hi = _finite(f"{p}.max_hours", self.max_hours, fix="Contracted weekly hours, e.g. 40.")
        if hi < lo:
            raise InvalidParameterError(
                f"{p}.max_hours",
                self.max_hours,
                f">= min_hours ({lo:g})",
                "Swap or fix the contract.",
            )
        for d in self.days_off:
            if not isinstance(d, int) or not 0 <= d <= 6:
                raise InvalidParameterError(
                    f"{p}.days_off", d, "weekdays 0-6", "0 = Monday ... 6 = Sunday."
                )
        if self.available is not None:
            for d, wins in self.available.items():
                if not isinstance(d, int) or not 0 <= d <= 6:
                    raise InvalidParameterError(
                        f"{p}.available", d, "weekdays 0-6", "Key the windows by weekday."
                    )
                for w in wins:
                    a, b = w
                    if not (0 <= a < DAY and a < b <= a + DAY):
                        raise InvalidParameterError(
                            f"{p}.available[{WEEKDAYS[d]}]",
                            w,
                            "(from, to) with 0 <= from < 86400 and from < to <= from + 86400",
                            "Seconds from midnight; a night window ends after 86400.",
                        )
        if self.prefer_start is not None:
            _finite(f"{p}.prefer_start", self.prefer_start, fix="Seconds from midnight.")
        _finite(f"{p}.weight", self.weight, fix="Weight of this agent's preferences.")
