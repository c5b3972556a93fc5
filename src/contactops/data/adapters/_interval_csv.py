"""``interval-csv``: ACD interval reports (Avaya CMS hsplit/isplit, Cisco UCCE
Call_Type_Interval, or any CSV of per-queue interval counts) into ``intervals``.

A mapping (option ``mapping``: a dict or a YAML file; or ``preset=avaya`` /
``preset=cisco``, which a mapping then overrides key by key) names, for each
canonical value, the source column, a constant, or a list of columns to add::

    queue: SPLIT
    date: ROW_DATE            # with time: STARTTIME (HH:MM[:SS] or HHMM);
    time: STARTTIME           # or one datetime: column
    interval_minutes: 30      # or a column (Avaya INTRVL)
    offered: CALLSOFFERED
    answered: ACDCALLS
    abandoned: ABNCALLS
    answered_within: ACCEPTABLE
    abandoned_within: SLVLABNS
    threshold_s: 20           # or a column (Avaya SERVICELEVEL)
    handle_s: [ACDTIME, ACWTIME]
    wait_s: ANSTIME
    abandon_wait_s: ABNTIME
    transferred: TRANSFERRED
    timezone: America/New_York
    date_format: "%m/%d/%Y"   # strptime; also datetime_format; default ISO 8601

Settings (``timezone``, ``date_format``, ``datetime_format``,
``interval_minutes``, ``threshold_s``, ``delimiter``, ``encoding``,
``source``) may also be given as ingest options, which win.

Canonical values: counts (``offered``, ``answered``, ``abandoned``,
``answered_within``, ``abandoned_within``, ``transferred``) are whole numbers
>= 0; ``handle_s``, ``wait_s`` and ``abandon_wait_s`` are the interval's
*total* seconds (Avaya ACDTIME+ACWTIME, ANSTIME, ABNTIME; Cisco HandleTime,
AnswerWaitTime), so ASA = wait_s / answered and AHT = handle_s / answered;
columns added together treat a blank as 0.  ``interval_start`` is the local
start in ``timezone`` (default UTC) stored as UTC.  On the day daylight saving
ends, the repeated hour is two hours: per queue, in file order, an interval
that steps back to (or repeats) an earlier start of that hour is the second
occurrence, and so is every later one of that hour (see
:class:`~contactops.data.adapters._columns.Folds`); an export listing each
queue's intervals in time order thus keeps all 25 hours.  On the day it
starts, an interval in the skipped hour does not exist and is refused with
that reason.

Refused rows (with line, field, value, reason): no queue, a date or time that
does not parse (a date that does not exist, 02/30, is refused, never rolled
forward to 03/01, also in the presets' ``%m/%d/%Y``), a start outside
0001-01-01..9999-12-31 UTC, a count that is not a finite whole number >= 0,
seconds that are not finite, negative or above ``MAX_DURATION_S`` (366 days),
an interval length that does not divide a day, answered > offered.  The
preset's optional columns (e.g. SERVICELEVEL, TRANSFERRED) may be absent
(null); the columns the format needs (queue, date/time or datetime, offered,
a column interval length) and those the user's mapping names must be in the
header, else the file is refused before anything is read
(:class:`~contactops.errors.FormatMismatchError`).  The file may have any
line ending (old-Mac ``\\r`` too) and a byte-order mark.  ``source`` is
``interval-csv`` unless the ``source`` setting names the system; as an ingest
option it is also accepted as ``source_name`` (``Warehouse.ingest``'s own
first parameter is called ``source``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from contactops.data._adapter import CHUNK_ROWS, Chunk, Reject
from contactops.data._schema import INTERVALS
from contactops.data.adapters._columns import (
    GAP_REASON,
    MAX_US,
    MIN_US,
    RANGE_REASON,
    Folds,
    as_float,
    as_text,
    as_timestamp,
    build_chunk,
    duration_checks,
    load_mapping,
    localise,
    mask,
    pick_preset,
    settle,
    source_refs,
    timezone,
)
from contactops.data.adapters._flat import csv_chunks, header_names
from contactops.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path
    from zoneinfo import ZoneInfo

    import numpy as np

__all__ = ["ADAPTER", "PRESETS"]

PRESETS: dict[str, dict[str, Any]] = {
    # Avaya CMS hsplit/isplit (README: ASA = ANSTIME/ACDCALLS, AHT = (ACDTIME+ACWTIME)/ACDCALLS)
    "avaya": {
        "queue": "SPLIT",
        "date": "ROW_DATE",
        "time": "STARTTIME",
        "interval_minutes": "INTRVL",
        "offered": "CALLSOFFERED",
        "answered": "ACDCALLS",
        "abandoned": "ABNCALLS",
        "answered_within": "ACCEPTABLE",
        "abandoned_within": "SLVLABNS",
        "threshold_s": "SERVICELEVEL",
        "handle_s": ["ACDTIME", "ACWTIME"],
        "wait_s": "ANSTIME",
        "abandon_wait_s": "ABNTIME",
        "transferred": "TRANSFERRED",
        "date_format": "%m/%d/%Y",
    },
    # Cisco UCCE Call_Type_Interval
    "cisco": {
        "queue": "CallTypeID",
        "datetime": "DateTime",
        "interval_minutes": 30,
        "offered": "CallsOffered",
        "answered": "CallsHandled",
        "abandoned": "TotalCallsAband",
        "answered_within": "ServiceLevelCalls",
        "abandoned_within": "ServiceLevelAband",
        "wait_s": "AnswerWaitTime",
        "handle_s": "HandleTime",
    },
}
_COUNTS = ("offered", "answered", "abandoned", "answered_within", "abandoned_within", "transferred")
_SECONDS = ("handle_s", "wait_s", "abandon_wait_s", "threshold_s", "staffed_s")
_VALUES = ("queue", "date", "time", "datetime", "interval_minutes", *_COUNTS, *_SECONDS)
_SETTINGS = (
    "timezone",
    "date_format",
    "datetime_format",
    "delimiter",
    "encoding",
    "source",
    "source_name",
)
_OVERRIDES = (
    "timezone",
    "date_format",
    "datetime_format",
    "interval_minutes",
    "threshold_s",
    "delimiter",
    "encoding",
    "source",
)
_CLOCK = r"^\s*(?P<h>\d{1,2}):(?P<m>\d\d)(?::(?P<s>\d\d))?\s*$"
_HHMM = r"^\s*\d{1,4}\s*$"


class _Settings:
    """The resolved mapping and settings of one ingest."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        base = dict(pick_preset(options, PRESETS, "Or give a mapping of your own.") or {})
        user = load_mapping(options.get("mapping"))
        unknown = sorted(set(user) - set(_VALUES) - set(_SETTINGS))
        if unknown:
            raise InvalidParameterError(
                "mapping",
                unknown[0],
                "one of " + ", ".join((*_VALUES, *_SETTINGS)),
                "Keys are canonical names, values source columns.",
            )
        merged = {**base, **user}
        for key in _OVERRIDES:
            if options.get(key) is not None:
                merged[key] = options[key]
        self.user_columns = {k for k, v in user.items() if k in _VALUES} | {
            k for k in _OVERRIDES if options.get(k) is not None and k in _VALUES
        }
        self.values = {k: merged[k] for k in _VALUES if merged.get(k) is not None}
        if (
            "queue" not in self.values
            or "offered" not in self.values
            or not ("datetime" in self.values or "date" in self.values)
        ):
            raise InvalidParameterError(
                "mapping",
                user or None,
                "a mapping naming at least queue, date (and time) or datetime, and offered",
                "Give preset=avaya or preset=cisco, or a mapping.",
            )
        if "interval_minutes" not in self.values:
            raise InvalidParameterError(
                "interval_minutes",
                None,
                "a number of minutes or a column",
                "Say interval_minutes=15, 30 or 60.",
            )
        self.tz: ZoneInfo = timezone(merged.get("timezone", "UTC"))
        self.date_format: str | None = merged.get("date_format")
        self.datetime_format: str | None = merged.get("datetime_format")
        self.delimiter = str(merged.get("delimiter", ","))
        self.encoding = str(merged.get("encoding", "utf-8"))
        # ``source_name`` is the same setting under a name that does not clash with
        # Warehouse.ingest's own first parameter (``source``, the file)
        name = options.get("source_name", merged.get("source_name"))
        self.source = str(name if name is not None else merged.get("source", "interval-csv"))
        self.batch_rows = int(options.get("batch_rows", CHUNK_ROWS))
        self.table = "intervals"
        self.fmt = "interval-csv"


def _clock_seconds(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Clock times (``H:MM``, ``H:MM:SS``, or ``HHMM`` as text or a number) as seconds."""
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        arr = pc.cast(arr, pa.string())
    text, bad = as_text(arr)
    parts = pc.extract_regex(pc.fill_null(text, ""), _CLOCK)
    matched = pc.is_valid(parts)
    h = pc.cast(pc.if_else(matched, pc.struct_field(parts, "h"), "0"), pa.int64())
    m = pc.cast(pc.if_else(matched, pc.struct_field(parts, "m"), "0"), pa.int64())
    s_text = pc.if_else(matched, pc.struct_field(parts, "s"), "0")
    s = pc.cast(pc.if_else(pc.equal(pc.utf8_length(s_text), 0), "0", s_text), pa.int64())
    digits = pc.match_substring_regex(text, _HHMM)
    num = pc.cast(pc.if_else(digits, pc.utf8_trim_whitespace(text), "0"), pa.int64())
    h = pc.if_else(digits, pc.divide(num, 100), h)
    m = pc.if_else(digits, pc.subtract(num, pc.multiply(pc.divide(num, 100), 100)), m)
    ok = pc.and_(
        pc.or_(matched, digits), pc.and_(pc.less(h, 24), pc.and_(pc.less(m, 60), pc.less(s, 60)))
    )
    bad |= mask(pc.and_(pc.is_valid(text), pc.invert(ok)))
    seconds = pc.add(pc.add(pc.multiply(h, 3600), pc.multiply(m, 60)), s)
    return pc.if_else(ok, seconds, pa.scalar(None, pa.int64())), bad


_REQUIRED_KEYS = ("queue", "date", "time", "datetime", "offered", "interval_minutes")


class _Converter:
    def __init__(self, settings: _Settings, names: list[str], ref: str) -> None:
        self.s = settings
        self.names = set(names)
        self.ref = ref
        # an interval of a queue repeated in the autumn hour is that hour's second occurrence
        self.folds = Folds(repeat_equal=True)

    def missing(self) -> list[str]:
        """The source columns the file lacks: those the format needs, and the user's own."""
        out: list[str] = []
        for key in self.s.values:
            if key in _REQUIRED_KEYS or key in self.s.user_columns:
                out.extend(c for c in self._columns(key) if c not in self.names and c not in out)
        return out

    def snapshot(self) -> Any:
        return self.folds.snapshot()

    def restore(self, snap: Any) -> None:
        self.folds.restore(snap)

    def _columns(self, key: str) -> list[str]:
        value = self.s.values.get(key)
        if isinstance(value, str):
            return [value]
        if isinstance(value, list | tuple):
            return [str(v) for v in value]
        if isinstance(value, dict) and "column" in value:
            return [str(value["column"])]
        return []

    def source_columns(self) -> list[str]:
        return sorted({c for k in self.s.values for c in self._columns(k) if c in self.names})

    def _constant(self, key: str) -> Any:
        value = self.s.values.get(key)
        if isinstance(value, dict) and "value" in value:
            return value["value"]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        return None

    def convert(self, batch: pa.RecordBatch, lines: np.ndarray, extra: list[Reject]) -> Chunk:
        n = batch.num_rows
        s = self.s
        cols: dict[str, pa.Array] = {}
        raws: dict[str, pa.Array] = {}
        checks: list[tuple[str, np.ndarray, str]] = []
        whole: tuple[str, str] | None = None

        def source(key: str) -> list[pa.Array] | None:
            nonlocal whole
            names = self._columns(key)
            missing = [c for c in names if c not in self.names]
            if missing:
                required = key in (
                    "queue",
                    "date",
                    "time",
                    "datetime",
                    "offered",
                    "interval_minutes",
                )
                if (required or key in s.user_columns) and whole is None:
                    whole = (key, f"the column {missing[0]!r} for {key} is not in the file")
                return None
            arrays = [batch.column(c) for c in names]
            if arrays:
                raws[key] = arrays[0]
            return arrays

        def number(key: str) -> pa.Array | None:
            const = self._constant(key)
            if const is not None:
                try:
                    return pa.nulls(n, pa.float64()).fill_null(float(const))
                except (TypeError, ValueError) as exc:
                    raise InvalidParameterError(key, const, "a number") from exc
            arrays = source(key)
            if not arrays:
                return None
            total: pa.Array | None = None
            any_valid: pa.Array | None = None
            for a in arrays:
                v, bad = as_float(a)
                if bad.any():
                    checks.append((key, bad, "must be a finite number"))
                total = (
                    v if total is None else pc.add(pc.fill_null(total, 0.0), pc.fill_null(v, 0.0))
                )
                any_valid = (
                    pc.is_valid(v) if any_valid is None else pc.or_(any_valid, pc.is_valid(v))
                )
            if len(arrays) > 1 and total is not None and any_valid is not None:
                total = pc.if_else(any_valid, total, pa.scalar(None, pa.float64()))
            return total

        # queue
        q = source("queue")
        if q:
            cols["queue"], bad = as_text(q[0])
            checks.append(
                (
                    "queue",
                    bad | mask(pc.is_null(cols["queue"])),
                    "must be a queue / split / call type name",
                )
            )
        # interval start; the repeated autumn hour: see Folds (per queue, in file order)
        groups = cols.get("queue")
        if "datetime" in s.values:
            d = source("datetime")
            if d:
                start, bad, more = as_timestamp(
                    d[0], s.tz, s.datetime_format, folds=self.folds, key="datetime", groups=groups
                )
                cols["interval_start"] = start
                failed = bad.copy()
                for rows, _ in more:
                    failed |= rows
                checks.append(
                    (
                        "datetime",
                        bad | (mask(pc.is_null(start)) & ~failed),
                        "must be a date and time"
                        + (
                            f" in format {s.datetime_format}"
                            if s.datetime_format
                            else " (ISO 8601)"
                        ),
                    )
                )
                checks.extend(("datetime", rows, why) for rows, why in more)
        else:
            d = source("date")
            t = source("time") if "time" in s.values else None
            if d and (t or "time" not in s.values):
                utc_midnight, bad, more = as_timestamp(d[0], timezone("UTC"), s.date_format)
                failed = bad.copy()
                for rows, _ in more:
                    failed |= rows
                checks.append(
                    (
                        "date",
                        bad | (mask(pc.is_null(utc_midnight)) & ~failed),
                        "must be a date"
                        + (f" in format {s.date_format}" if s.date_format else " (ISO 8601)"),
                    )
                )
                checks.extend(("date", rows, why) for rows, why in more)
                naive = pc.cast(utc_midnight, pa.timestamp("us"))
                if t:
                    secs, tbad = _clock_seconds(t[0])
                    checks.append(
                        (
                            "time",
                            tbad | mask(pc.is_null(secs)),
                            "must be a clock time H:MM, H:MM:SS or HHMM",
                        )
                    )
                    micros = pc.cast(pc.multiply(secs, 1_000_000), pa.duration("us"))
                    naive = pc.add(naive, micros)
                    # the last day's late intervals may pass 9999-12-31 (no wrap: int64 µs)
                    wall = pc.cast(naive, pa.int64())
                    late = mask(pc.greater(wall, MAX_US))
                    if late.any():
                        checks.append(("time", late, RANGE_REASON))
                        naive = pc.if_else(pa.array(late), pa.scalar(None, naive.type), naive)
                start, gap = localise(naive, s.tz, self.folds, "interval_start", groups)
                if gap.any():
                    checks.append(("time" if t else "date", gap, GAP_REASON.format(tz=s.tz)))
                micros_utc = pc.cast(start, pa.int64())
                outside = mask(pc.or_(pc.less(micros_utc, MIN_US), pc.greater(micros_utc, MAX_US)))
                if outside.any():
                    checks.append(("date", outside, RANGE_REASON))
                    start = pc.if_else(pa.array(outside), pa.scalar(None, start.type), start)
                cols["interval_start"] = start
        # interval length
        minutes = number("interval_minutes")
        if minutes is not None:
            ok = pc.and_(
                pc.greater(minutes, 0.0),
                pc.equal(pc.divide(1440.0, minutes), pc.floor(pc.divide(1440.0, minutes))),
            )
            checks.append(
                (
                    "interval_minutes",
                    mask(pc.invert(pc.fill_null(ok, False))),
                    "must be a whole number of minutes dividing a day (15, 30, 60)",
                )
            )
            cols["interval_s"] = pc.multiply(minutes, 60.0)
        for key in _COUNTS:
            v = number(key)
            if v is None:
                continue
            cols[key] = v
            checks.append(
                (
                    key,
                    mask(pc.or_(pc.less(v, 0.0), pc.not_equal(pc.floor(v), v))),
                    "must be a whole number >= 0",
                )
            )
        for key in _SECONDS:
            v = number(key)
            if v is None:
                continue
            cols[key] = v
            checks.extend(duration_checks(key, v))
        if "answered" in cols and "offered" in cols:
            checks.append(
                (
                    "answered",
                    mask(pc.greater(cols["answered"], cols["offered"])),
                    "must not exceed offered",
                )
            )
        cols["source"] = pa.nulls(n, pa.string()).fill_null(s.source)
        cols["source_ref"] = source_refs(self.ref, lines)
        good, rejects = settle(n, lines, extra, [whole] if whole is not None else [], checks, raws)
        return build_chunk("intervals", INTERVALS, cols, good, rejects, n + len(extra))


class IntervalCsv:
    name = "interval-csv"
    description = "ACD interval report CSV (Avaya CMS, Cisco UCCE or mapped columns)"
    table = "intervals"

    def read(self, path: Path, options: Mapping[str, Any]) -> Iterator[Chunk]:
        settings = _Settings(options)
        yield from csv_chunks(path, settings, lambda names: _Converter(settings, names, path.name))

    def sniff(self, head: bytes) -> bool:
        """A CSV header with the interval columns of a preset (Avaya CMS hsplit/isplit,
        Cisco UCCE Call_Type_Interval), or an interval and an offered column."""
        names = {n.lower() for n in header_names(head)}
        avaya = {"row_date", "starttime", "split", "callsoffered"}
        cisco = {"calltypeid", "datetime", "callsoffered"}
        generic = any("interval" in n for n in names) and any("offered" in n for n in names)
        return avaya <= names or cisco <= names or generic


ADAPTER = IntervalCsv()
