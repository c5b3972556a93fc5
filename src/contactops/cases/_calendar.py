"""Business-hours calendars and business-time arithmetic.

A :class:`BusinessCalendar` says when a department is open: an IANA time zone,
opening hours per weekday (several spans a day allowed, ``24:00`` for
midnight), public holidays of a country (the ``holidays`` package) and explicit
closed dates. Two operations give SLA clocks their meaning:

``add(start, seconds)``
    the instant at which ``seconds`` of open time have passed after ``start``;
``between(start, end)``
    the open seconds in ``[start, end]``.

Both work on timezone-aware instants and walk the local calendar day by day,
turning each local opening span into UTC through the zone, so a day on which
daylight saving starts or ends has as many open seconds as the wall clock
really shows (a 00:00-24:00 day is 23 or 25 hours long on those days).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

from contactops.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

__all__ = ["WEEKDAYS", "BusinessCalendar", "parse_hours"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY = 86_400
# a calendar that finds no open time in this many days is treated as never open
_MAX_SCAN_DAYS = 3 * 366
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_HOURS_HELP = (
    'Write opening hours such as "mon-fri 09:00-17:00; sat 10:00-14:00" '
    '(24:00 for midnight; several spans per day allowed, e.g. "mon 08:00-12:00,'
    '13:00-17:00").'
)

Span = tuple[int, int]


def _clock_seconds(hours: str, minutes: str, text: str) -> int:
    h, m = int(hours), int(minutes)
    if m >= 60 or h > 24 or (h == 24 and m != 0):
        raise InvalidParameterError("hours", text, "made of valid times 00:00-24:00", _HOURS_HELP)
    return h * 3600 + m * 60


def _parse_spans(text: str, whole: str) -> tuple[Span, ...]:
    text = text.strip()
    if text.lower() in {"closed", ""}:
        return ()
    spans = []
    for part in text.split(","):
        m = _SPAN.match(part.strip())
        if not m:
            raise InvalidParameterError("hours", whole, "a list of HH:MM-HH:MM spans", _HOURS_HELP)
        spans.append(
            (
                _clock_seconds(m.group(1), m.group(2), whole),
                _clock_seconds(m.group(3), m.group(4), whole),
            )
        )
    return tuple(spans)


def _days(text: str, whole: str) -> list[int]:
    out: list[int] = []
    for part in text.lower().split(","):
        ends = [p.strip()[:3] for p in part.split("-")]
        if any(e not in WEEKDAYS for e in ends) or len(ends) > 2:
            raise InvalidParameterError(
                "hours", whole, "day names such as mon, tue-fri", _HOURS_HELP
            )
        first, last = WEEKDAYS.index(ends[0]), WEEKDAYS.index(ends[-1])
        out.extend(
            range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        )
    return out


def parse_hours(spec: str | Mapping[str, Any]) -> dict[int, tuple[Span, ...]]:
    """Opening hours per weekday (0 = Monday) as spans of seconds after local midnight.

    ``spec`` is text (``"mon-fri 09:00-17:00; sat 10:00-14:00"``, ``"24x7"``) or a
    mapping of day names (or ranges) to span text (``{"mon-fri": "09:00-17:00"}``).
    Days not named are closed.
    """
    if isinstance(spec, str):
        raw = spec.strip()
        if raw.lower() in {"24x7", "24/7", "always"}:
            return dict.fromkeys(range(7), ((0, _DAY),))
        items: list[tuple[str, str]] = []
        for chunk in filter(None, (c.strip() for c in raw.split(";"))):
            day_part, _, span_part = chunk.partition(" ")
            items.append((day_part, span_part))
        if not items:
            raise InvalidParameterError("hours", spec, "non-empty", _HOURS_HELP)
    else:
        items = [(str(k), str(v)) for k, v in spec.items()]
    whole = spec if isinstance(spec, str) else repr(dict(spec))
    hours: dict[int, tuple[Span, ...]] = dict.fromkeys(range(7), ())
    for day_part, span_part in items:
        spans = _parse_spans(span_part, whole)
        for d in _days(day_part, whole):
            hours[d] = tuple(sorted((*hours[d], *spans)))
    return hours


def _check_aware(name: str, value: datetime) -> None:
    if (
        not isinstance(value, datetime)
        or value.tzinfo is None
        or value.tzinfo.utcoffset(value) is None
    ):
        raise InvalidParameterError(
            name,
            value,
            "a timezone-aware datetime",
            "Attach a zone, e.g. datetime(..., tzinfo=UTC).",
        )


@dataclass(frozen=True)
class BusinessCalendar:
    """When a department is open.

    Parameters
    ----------
    timezone
        IANA zone name (``"Europe/Berlin"``) in which the hours are read.
    hours
        ``{weekday: ((start_s, end_s), ...)}``, weekday 0 = Monday, seconds after
        local midnight, ``end_s`` up to 86400; or text for :func:`parse_hours`.
    holidays
        Explicit closed local dates (``date`` or ISO text).
    country, subdivision
        Public holidays of this country (and state/province) from the
        ``holidays`` package are closed too.
    """

    timezone: str = "UTC"
    hours: Mapping[int, tuple[Span, ...]] | str = "24x7"
    holidays: tuple[date, ...] = ()
    country: str | None = None
    subdivision: str | None = None
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _spans: dict[int, tuple[Span, ...]] = field(init=False, repr=False, compare=False)
    _public: Any = field(init=False, repr=False, compare=False)
    _cache: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise InvalidParameterError(
                "timezone",
                self.timezone,
                "an IANA time zone name",
                'Use e.g. "Europe/Berlin" or "America/New_York".',
            ) from None
        if isinstance(self.hours, str) or any(isinstance(k, str) for k in self.hours):
            spans = parse_hours(self.hours)  # type: ignore[arg-type]
        else:
            spans = {
                d: tuple(sorted((int(a), int(b)) for a, b in self.hours.get(d, ())))
                for d in range(7)
            }
        for d, day_spans in spans.items():
            last_end = -1
            for start, end in day_spans:
                if not 0 <= start < end <= _DAY:
                    raise InvalidParameterError(
                        f"hours[{WEEKDAYS[d]}]",
                        (start, end),
                        "spans with 0 <= start < end <= 86400 seconds",
                        _HOURS_HELP,
                    )
                if start < last_end:
                    raise InvalidParameterError(
                        f"hours[{WEEKDAYS[d]}]", day_spans, "spans that do not overlap", _HOURS_HELP
                    )
                last_end = end
        if not any(spans.values()):
            raise InvalidParameterError(
                "hours", self.hours, "open on at least one weekday", _HOURS_HELP
            )
        closed = []
        for h in self.holidays:
            try:
                closed.append(h if isinstance(h, date) else date.fromisoformat(str(h)))
            except ValueError:
                raise InvalidParameterError(
                    "holidays", h, "ISO dates (YYYY-MM-DD)", 'Write e.g. "2026-12-24".'
                ) from None
        public = None
        if self.country:
            try:
                public = holidays_lib.country_holidays(self.country, subdiv=self.subdivision)
            except NotImplementedError:
                raise InvalidParameterError(
                    "country",
                    f"{self.country}/{self.subdivision}",
                    "a country (and subdivision) known to the holidays package",
                    'Use an ISO code such as "US", "DE" or "BR", or list the dates in '
                    "holidays instead.",
                ) from None
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_spans", spans)
        object.__setattr__(self, "_public", public)
        object.__setattr__(self, "holidays", tuple(sorted(set(closed))))

    # ------------------------------------------------------------------ construction
    @classmethod
    def always(cls, timezone: str = "UTC") -> BusinessCalendar:
        """Open 24 hours a day, every day (still in a zone, for display)."""
        return cls(timezone=timezone, hours="24x7")

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> BusinessCalendar:
        """From ``{"timezone", "hours", "holidays", "country", "subdivision"}`` (JSON-able)."""
        return cls(
            timezone=spec.get("timezone", "UTC"),
            hours=spec.get("hours", "24x7"),
            holidays=tuple(spec.get("holidays") or ()),
            country=spec.get("country"),
            subdivision=spec.get("subdivision"),
        )

    # ------------------------------------------------------------------ queries
    @property
    def zone(self) -> ZoneInfo:
        """The calendar's zone."""
        return self._zone

    def is_holiday(self, day: date) -> bool:
        """True when the local date ``day`` is closed as a holiday."""
        if day in self.holidays:
            return True
        return self._public is not None and day in self._public

    def _local(self, day: date, seconds: int) -> datetime:
        if seconds == _DAY:
            day, seconds = day + timedelta(days=1), 0
        h, rest = divmod(seconds, 3600)
        local = datetime(day.year, day.month, day.day, h, rest // 60, rest % 60, tzinfo=self._zone)
        return local.astimezone(UTC)

    def day_spans(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The open spans of local date ``day``, as UTC instants."""
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        out: tuple[tuple[datetime, datetime], ...] = ()
        if not self.is_holiday(day):
            spans = [
                (self._local(day, a), self._local(day, b)) for a, b in self._spans[day.weekday()]
            ]
            out = tuple((a, b) for a, b in spans if b > a)
        if len(self._cache) > 20_000:
            self._cache.clear()
        self._cache[day] = out
        return out

    def _spans_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = start.astimezone(self._zone).date() - timedelta(days=1)
        empty = 0
        while True:
            spans = self.day_spans(day)
            for a, b in spans:
                if b > start:
                    yield max(a, start), b
            empty = 0 if spans else empty + 1
            if empty > _MAX_SCAN_DAYS:
                raise InvalidParameterError(
                    "calendar",
                    self,
                    f"open at least once in {_MAX_SCAN_DAYS} days after {start.isoformat()}",
                    "Check the opening hours and holidays.",
                )
            day += timedelta(days=1)

    def is_open(self, at: datetime) -> bool:
        """True when ``at`` falls in an open span."""
        _check_aware("at", at)
        local_day = at.astimezone(self._zone).date()
        for day in (local_day - timedelta(days=1), local_day):
            for a, b in self.day_spans(day):
                if a <= at < b:
                    return True
        return False

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself when open, else the start of the next open span."""
        _check_aware("at", at)
        return next(self._spans_from(at.astimezone(UTC)))[0]

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant at which ``seconds`` of open time have passed after ``start``.

        ``add(start, 0)`` is ``start``; a sum that ends exactly at closing time is
        that closing instant, not the next opening.
        """
        _check_aware("start", start)
        if not seconds >= 0:
            raise InvalidParameterError(
                "seconds", seconds, "a number >= 0", "Business time only runs forward."
            )
        start = start.astimezone(UTC)
        if seconds == 0:
            return start
        remaining = float(seconds)
        for a, b in self._spans_from(start):
            span = (b - a).total_seconds()
            if remaining <= span:
                return a + timedelta(seconds=remaining)
            remaining -= span
        raise AssertionError("unreachable")  # pragma: no cover - _spans_from never ends

    def between(self, start: datetime, end: datetime) -> float:
        """Open seconds in ``[start, end]``; negative when ``end`` is before ``start``."""
        _check_aware("start", start)
        _check_aware("end", end)
        if end < start:
            return -self.between(end, start)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        total = 0.0
        day = start.astimezone(self._zone).date() - timedelta(days=1)
        last = end.astimezone(self._zone).date()
        while day <= last:
            for a, b in self.day_spans(day):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total

    def open_seconds_per_week(self) -> float:
        """Nominal open seconds in a week without holidays (for display)."""
        return float(sum(b - a for spans in self._spans.values() for a, b in spans))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, the inverse of :meth:`from_dict`."""
        hours = {
            WEEKDAYS[d]: ",".join(
                f"{a // 3600:02d}:{a % 3600 // 60:02d}-{b // 3600:02d}:{b % 3600 // 60:02d}"
                for a, b in s
            )
            for d, s in self._spans.items()
            if s
        }
        return {
            "timezone": self.timezone,
            "hours": hours,
            "holidays": [d.isoformat() for d in self.holidays],
            "country": self.country,
            "subdivision": self.subdivision,
        }
