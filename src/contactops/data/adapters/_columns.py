"""Vectorised column conversion shared by the flat-file and interval adapters.

Every converter takes one Arrow array of source values and returns the
converted array (bad values as null) and a numpy mask of the rows whose value
was present but could not be converted.  Nothing loops over rows in Python
except the fallbacks for batches that hold bytes which are not UTF-8 text or
timestamps Arrow's ISO-8601 parser refuses; those loops touch only the batch
that needs them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from contactops.data._adapter import Chunk, Reject
from contactops.data._schema import MAX_DURATION_S
from contactops.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "GAP_REASON",
    "MAX_US",
    "MIN_US",
    "RANGE_REASON",
    "Folds",
    "MappedField",
    "as_bool",
    "as_float",
    "as_text",
    "as_timestamp",
    "broadcast",
    "build_chunk",
    "duration_checks",
    "gather",
    "load_mapping",
    "localise",
    "mask",
    "pick_preset",
    "raw_text",
    "resolve_fields",
    "settle",
    "source_refs",
    "timezone",
]

TS = pa.timestamp("us", tz="UTC")
_NUMBER = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
_TRUE = ("true", "t", "1", "yes", "y")
_FALSE = ("false", "f", "0", "no", "n")


def mask(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow array as a numpy mask, null read as False."""
    if not pc.any(arr).as_py():  # the usual case: nothing flagged, no conversion needed
        return _no_bad(len(arr))
    filled = pc.fill_null(arr, False)
    if isinstance(filled, pa.ChunkedArray):
        filled = filled.combine_chunks()
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def _no_bad(n: int) -> np.ndarray:
    return np.zeros(n, dtype=bool)


def timezone(value: Any, name: str = "timezone") -> ZoneInfo:
    """An IANA time zone from an option value."""
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidParameterError(
            name, value, "an IANA time zone name", "For example UTC or America/New_York."
        ) from exc


def pick_preset(options: Mapping[str, Any], presets: Mapping[str, Any], fix: str) -> Any:
    """The preset named by the ``preset`` option (None without one), or a clear error."""
    name = options.get("preset")
    if name is None:
        return None
    if name not in presets:
        raise InvalidParameterError("preset", name, "one of " + ", ".join(presets), fix)
    return presets[name]


def load_mapping(value: Any, name: str = "mapping") -> dict[str, Any]:
    """A mapping option: a dict, or the path of a YAML file holding one."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, str | Path):
        path = Path(value)
        if not path.is_file():
            raise InvalidParameterError(
                name,
                str(value),
                "a dict or a YAML file",
                "The file does not exist; check the path.",
            )
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InvalidParameterError(
                name, str(value), "a YAML mapping file", f"It does not parse: {exc}"
            ) from exc
        if loaded is None:
            return {}
        if isinstance(loaded, dict):
            return loaded
    raise InvalidParameterError(
        name,
        value,
        "a dict or a YAML file holding one",
        "Map canonical names to source columns, e.g. {contact_id: CallID}.",
    )


def _nested(t: pa.DataType) -> bool:
    return (
        pa.types.is_list(t)
        or pa.types.is_large_list(t)
        or pa.types.is_fixed_size_list(t)
        or pa.types.is_struct(t)
        or pa.types.is_map(t)
        or pa.types.is_union(t)
        or (
            hasattr(pa.types, "is_list_view")
            and (pa.types.is_list_view(t) or pa.types.is_large_list_view(t))
        )
    )


def _decode_rows(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Bytes as UTF-8 text row by row (the rare batch holding bytes that are not UTF-8)."""
    bad = _no_bad(len(arr))
    values: list[str | None] = []
    for i, raw in enumerate(arr.cast(pa.large_binary()).to_pylist()):
        if raw is None:
            values.append(None)
            continue
        try:
            values.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            values.append(None)
            bad[i] = True
    return pa.array(values, type=pa.string()), bad


def as_text(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Any column as UTF-8 strings; empty strings become null.

    Values that cannot be text are bad (null, flagged): bytes that are not
    UTF-8 (also in a Parquet string column, which Arrow does not validate on
    read), and lists, structs or maps (a nested column where a value belongs).
    """
    n = len(arr)
    bad = _no_bad(n)
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if _nested(arr.type):
        return pa.nulls(n, pa.string()), mask(pc.is_valid(arr))
    if (
        pa.types.is_binary(arr.type)
        or pa.types.is_large_binary(arr.type)
        or pa.types.is_fixed_size_binary(arr.type)
    ):
        try:
            arr = arr.cast(pa.string())
        except pa.ArrowInvalid:
            arr, bad = _decode_rows(arr)
    elif pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        try:
            arr.validate(full=True)
        except pa.ArrowInvalid:
            arr, bad = _decode_rows(
                arr.view(pa.binary() if pa.types.is_string(arr.type) else pa.large_binary())
            )
        if pa.types.is_large_string(arr.type):
            arr = arr.cast(pa.string())
    elif pa.types.is_null(arr.type):
        arr = arr.cast(pa.string())
    else:
        try:
            arr = pc.cast(arr, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return pa.nulls(n, pa.string()), mask(pc.is_valid(arr))
    empty = pc.equal(pc.binary_length(arr), 0)  # bytes, read off the offsets
    if pc.any(empty).as_py():
        arr = pc.if_else(empty, pa.scalar(None, pa.string()), arr)
    return arr, bad


def raw_text(arr: pa.Array) -> pa.Array:
    """Values as they were, for reject messages (bytes shown with escapes)."""
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if (
        pa.types.is_binary(arr.type)
        or pa.types.is_large_binary(arr.type)
        or pa.types.is_string(arr.type)
        or pa.types.is_large_string(arr.type)
    ):
        return pa.array(
            [
                None if v is None else v.decode("utf-8", "backslashreplace")
                for v in arr.cast(pa.large_binary()).to_pylist()
            ],
            type=pa.string(),
        )
    if pa.types.is_temporal(arr.type):  # Arrow prints any year; Python's datetime cannot
        try:
            return pc.cast(arr, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return pc.cast(pc.cast(arr, pa.int64()), pa.string())
    return arr


def as_float(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Numbers (or numeric text) as float64; what is not a finite number is bad.

    Integers of any size are taken (rounded to the nearest float: range rules
    refuse the ones too large to mean anything); ``inf``, ``nan`` and text
    such as ``1e400`` that overflows are bad, never stored.
    """
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if (
        pa.types.is_integer(arr.type)
        or pa.types.is_floating(arr.type)
        or pa.types.is_decimal(arr.type)
    ):
        out = pc.cast(arr, pa.float64(), safe=False)
        bad = _no_bad(len(arr))
    elif pa.types.is_boolean(arr.type):
        return pc.cast(arr, pa.float64()), _no_bad(len(arr))
    else:
        text, bad = as_text(arr)
        ok = pc.match_substring_regex(text, _NUMBER)
        bad |= mask(pc.and_(pc.is_valid(text), pc.invert(ok)))
        clean = pc.if_else(ok, pc.utf8_trim_whitespace(text), pa.scalar(None, pa.string()))
        out = pc.cast(clean, pa.float64())
    finite = pc.is_finite(out)
    infinite = mask(pc.invert(finite))
    if infinite.any():
        bad |= infinite
        out = pc.if_else(finite, out, pa.scalar(None, pa.float64()))
    return out, bad


def as_bool(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """true/false, yes/no, 1/0 (any case) or numbers (non-zero is true)."""
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_boolean(arr.type):
        return arr, _no_bad(len(arr))
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        return pc.not_equal(arr, 0), mask(pc.is_nan(pc.cast(arr, pa.float64(), safe=False)))
    text, bad = as_text(arr)
    low = pc.utf8_lower(pc.utf8_trim_whitespace(text))
    is_true = pc.is_in(low, value_set=pa.array(_TRUE))
    is_false = pc.is_in(low, value_set=pa.array(_FALSE))
    known = pc.or_(is_true, is_false)
    bad |= mask(pc.and_(pc.is_valid(low), pc.invert(known)))
    out = pc.if_else(known, is_true, pa.scalar(None, pa.bool_()))
    return out, bad


def duration_checks(name: str, arr: pa.Array) -> list[Check]:
    """The rules of a stored duration (seconds): >= 0 and at most ``MAX_DURATION_S``.

    ``arr`` comes from :func:`as_float` (finite already, after any scale:
    a scale can overflow, so infinity is refused here again).
    """
    out: list[Check] = [(name, mask(pc.less(arr, 0.0)), "must be a duration >= 0 seconds")]
    too_long = mask(pc.or_(pc.greater(arr, MAX_DURATION_S), pc.invert(pc.is_finite(arr))))
    if too_long.any():
        out.append(
            (
                name,
                too_long,
                (
                    f"must be at most {MAX_DURATION_S:.0f} seconds (366 "
                    "days): longer is a unit mistake (milliseconds?) or a "
                    "sentinel"
                ),
            )
        )
    return out


# -- time -------------------------------------------------------------------------------------
class Folds:
    """File-order state that places local times of the repeated autumn hour.

    When the clocks go back, the local times of one hour happen twice.  The
    rule: within one column and one group of rows (the whole file, or e.g.
    one queue or one agent), the ambiguous times of a day are read in file
    order; they are the first occurrence until one steps back (is earlier
    than, or with ``repeat_equal`` the same as, the latest ambiguous time
    seen before it), and that row and every later ambiguous row of that day
    is the second occurrence.  A log written in time order thus keeps both
    hours.  The state carries over from batch to batch of one file.
    """

    def __init__(self, *, repeat_equal: bool = False) -> None:
        self.repeat_equal = repeat_equal
        self._seen: dict[tuple[Any, ...], tuple[int, bool]] = {}

    def snapshot(self) -> dict[tuple[Any, ...], tuple[int, bool]]:
        return dict(self._seen)

    def restore(self, snap: dict[tuple[Any, ...], tuple[int, bool]]) -> None:
        self._seen = dict(snap)

    def second(self, key: tuple[Any, ...], local_us: int) -> bool:
        """Whether this ambiguous local time (in file order) is the second occurrence."""
        day = local_us // 86_400_000_000
        latest, flipped = self._seen.get((*key, day), (local_us, False))
        back = local_us < latest or (
            self.repeat_equal and (*key, day) in self._seen and local_us == latest
        )
        flipped = flipped or back
        self._seen[(*key, day)] = (max(latest, local_us), flipped)
        return flipped


GAP_REASON = (
    "must be a local time that exists in {tz}: the clocks skip it (daylight saving "
    "starts); give it in UTC or with its offset"
)
RANGE_REASON = "must be from 0001-01-01 to 9999-12-31 UTC"


def localise(
    naive: pa.Array,
    tz: ZoneInfo,
    folds: Folds | None = None,
    key: str = "",
    groups: pa.Array | None = None,
) -> tuple[pa.Array, np.ndarray]:
    """Naive local times in ``tz`` as UTC, and the mask of times that do not exist.

    A local time in the hour skipped when daylight saving starts does not
    exist: it is null and flagged (the caller refuses it).  A local time in
    the repeated hour when it ends is placed by ``folds`` (see
    :class:`Folds`; ``groups`` gives each row's group, ``key`` the column);
    without ``folds`` it is the first occurrence.
    """
    n = len(naive)
    naive = pc.cast(naive, pa.timestamp("us"))
    if str(tz) in ("UTC", "Etc/UTC"):
        return pc.cast(naive, TS), _no_bad(n)
    first = pc.assume_timezone(
        naive, timezone=str(tz), ambiguous="earliest", nonexistent="earliest"
    )
    exists = pc.equal(pc.local_timestamp(first), naive)
    gap = mask(pc.and_(pc.is_valid(naive), pc.invert(exists)))
    out = first
    if gap.any():
        out = pc.if_else(pa.array(gap), pa.scalar(None, first.type), first)
    later = pc.assume_timezone(naive, timezone=str(tz), ambiguous="latest", nonexistent="earliest")
    ambiguous = mask(pc.and_(exists, pc.not_equal(first, later)))
    if ambiguous.any():  # only on the day the clocks go back, and only that hour's rows
        pick = np.zeros(n, dtype=bool)
        if folds is not None:
            local = pc.cast(naive, pa.int64()).to_numpy(zero_copy_only=False)
            group = None if groups is None else groups.to_pylist()
            for i in np.flatnonzero(ambiguous):
                pick[i] = folds.second((key, None if group is None else group[i]), int(local[i]))
        if pick.any():
            out = pc.if_else(pa.array(pick), later, out)
    return pc.cast(out, TS), gap


# Arrow's own ISO 8601 cast: exactly these shapes go through it (vectorised); any other
# text goes to datetime.fromisoformat, row by row, on the rows that need it only
_ISO_NAIVE = r"^\d{4}-\d\d-\d\d([T ]\d\d(:\d\d(:\d\d(\.\d{1,6})?)?)?)?$"
_ISO_ZONED = r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d(:?\d\d)?)$"
_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 -- naive: wall-clock microseconds
_US = timedelta(microseconds=1)
MIN_US = -62_135_596_800_000_000  # 0001-01-01T00:00:00Z
MAX_US = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z


def _python_iso(
    text: list[str | None],
    rows: np.ndarray,
    naive: np.ndarray,
    zoned: np.ndarray,
    has_naive: np.ndarray,
    has_zoned: np.ndarray,
    bad: np.ndarray,
    fmt: str | None,
) -> None:
    """Parse the given rows in Python into wall-clock or UTC microseconds (in place)."""
    for i in rows.tolist():
        s = text[i]
        if s is None:
            continue
        try:
            if fmt is None:
                dt = datetime.fromisoformat(s[:-1] + "+00:00" if s[-1:] in "Zz" else s)
            else:
                dt = datetime.strptime(s, fmt)  # noqa: DTZ007 -- zone handled below
        except (ValueError, OverflowError):
            bad[i] = True
            continue
        wall = (dt.replace(tzinfo=None) - _EPOCH) // _US
        offset = dt.utcoffset()
        if offset is None:
            naive[i], has_naive[i] = wall, True
        else:
            zoned[i], has_zoned[i] = wall - offset // _US, True


def _unpadded(text: pa.Array) -> pa.Array:
    """Text with the leading zeros of its numbers removed, lower case (to compare dates)."""
    return pc.utf8_lower(
        pc.replace_substring_regex(text, pattern=r"(^|\D)0+(\d)", replacement=r"\1\2")
    )


def _strptime(text: pa.Array, fmt: str) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Text in ``fmt``: Arrow's strptime, checked where it may have rolled a date forward.

    Arrow rolls an impossible date forward (02/30 becomes 03/01, 23:59:60 the next
    midnight), so a value it reads lands on day 1-3 of a month or on 00:00:0x. Only
    those rows are checked: a value is kept if printing it back in ``fmt`` gives the
    text (leading zeros and case aside); the others, and the text Arrow cannot read,
    are read by :func:`datetime.strptime`, which refuses impossible dates.  Returns
    microseconds (wall clock, or UTC when ``fmt`` has a zone), the rows parsed as UTC,
    and the rows that do not parse.
    """
    n = len(text)
    valid = mask(pc.is_valid(text))
    parsed = pc.strptime(text, format=fmt, unit="us", error_is_null=True)
    got = mask(pc.is_valid(parsed))
    if "%z" in fmt or "%Z" in fmt:
        recheck = valid.copy()
    else:
        recheck = valid & ~got
        wall = pc.cast(parsed, pa.timestamp("us"))
        maybe = (
            mask(
                pc.or_(
                    pc.less_equal(pc.day(wall), 3),
                    pc.and_(
                        pc.equal(pc.hour(wall), 0),
                        pc.and_(pc.equal(pc.minute(wall), 0), pc.less_equal(pc.second(wall), 1)),
                    ),
                )
            )
            & got
        )
        if maybe.any():
            rows = np.flatnonzero(maybe)
            picked = pa.array(rows)
            try:
                printed = pc.strftime(
                    pc.cast(pc.take(wall, picked), pa.timestamp("s"), safe=False), format=fmt
                )
                same = mask(pc.equal(_unpadded(printed), _unpadded(pc.take(text, picked))))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                same = np.zeros(len(rows), dtype=bool)
            recheck[rows[~same]] = True
    values = (
        pc.fill_null(pc.cast(pc.cast(parsed, pa.timestamp("us")), pa.int64()), 0)
        .to_numpy(zero_copy_only=False)
        .astype(np.int64)
    )
    ok = got & ~recheck
    naive = np.where(ok, values, 0)
    zoned = np.zeros(n, dtype=np.int64)
    has_naive = ok.copy()
    has_zoned = np.zeros(n, dtype=bool)
    bad = _no_bad(n)
    if recheck.any():
        _python_iso(
            text.to_pylist(), np.flatnonzero(recheck), naive, zoned, has_naive, has_zoned, bad, fmt
        )
    return (
        pa.array(np.where(has_zoned, zoned, naive), type=pa.int64(), mask=~(has_naive | has_zoned)),
        has_zoned,
        bad,
    )


def _parse_text(text: pa.Array, fmt: str | None) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Timestamp text as microseconds: (values, rows that are UTC, rows that do not parse)."""
    if fmt is not None:
        return _strptime(text, fmt)
    n = len(text)
    valid = mask(pc.is_valid(text))
    fast_naive = mask(pc.match_substring_regex(text, _ISO_NAIVE))
    fast_zoned = mask(pc.match_substring_regex(text, _ISO_ZONED))
    naive = np.zeros(n, dtype=np.int64)
    zoned = np.zeros(n, dtype=np.int64)
    has_naive = np.zeros(n, dtype=bool)
    has_zoned = np.zeros(n, dtype=bool)
    slow = valid & ~(fast_naive | fast_zoned)
    try:
        for fast, target, out, has in (
            (fast_naive, pa.timestamp("us"), naive, has_naive),
            (fast_zoned, TS, zoned, has_zoned),
        ):
            if fast.any():
                picked = pc.if_else(pa.array(fast), text, pa.scalar(None, pa.string()))
                out[:] = pc.fill_null(pc.cast(pc.cast(picked, target), pa.int64()), 0).to_numpy(
                    zero_copy_only=False
                )
                has[:] = fast
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # one of them is not a real date or time (2024-02-30, 24:00): this batch's ISO
        # rows go through Python, which reads the same text to the same instant
        slow, has_naive[:], has_zoned[:] = valid, False, False
    bad = _no_bad(n)
    if slow.any():
        _python_iso(
            text.to_pylist(), np.flatnonzero(slow), naive, zoned, has_naive, has_zoned, bad, None
        )
    return (
        pa.array(np.where(has_zoned, zoned, naive), type=pa.int64(), mask=~(has_naive | has_zoned)),
        has_zoned,
        bad,
    )


def _in_unit(bound_us: int, unit: str) -> int:
    """A bound in microseconds in another unit, within int64."""
    value = {
        "s": bound_us // 1_000_000,
        "ms": bound_us // 1000,
        "us": bound_us,
        "ns": bound_us * 1000,
    }[unit]
    return max(-(2**63), min(2**63 - 1, value))


TimeChecks = list[tuple[np.ndarray, str]]


def as_timestamp(
    arr: pa.Array,
    tz: ZoneInfo,
    fmt: str | None = None,
    *,
    folds: Folds | None = None,
    key: str = "",
    groups: pa.Array | None = None,
) -> tuple[pa.Array, np.ndarray, TimeChecks]:
    """Timestamps as UTC; naive ones (and naive text) are local times in ``tz``.

    Text is ISO 8601 (``T`` or a space, optional fraction and offset/``Z``)
    unless ``fmt`` gives a ``strptime`` format; an impossible date (30
    February) does not parse.  Integers and floats are Unix seconds.  Arrow
    timestamps and dates are taken as they are (naive ones as local times).

    The same text always gives the same instant, whatever else the batch holds:
    the vectorised path and the row-by-row one read each shape alike.

    Returns the UTC values, the rows that do not parse, and further
    (rows, reason) failures: an instant outside 0001-01-01..9999-12-31 UTC
    (also once a local time is converted), and a local time that does not
    exist in ``tz``.  Local times of the repeated autumn hour are placed by
    ``folds`` (:class:`Folds`) when given, else taken as the first occurrence.
    """
    n = len(arr)
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    bad = _no_bad(n)
    zoned = np.zeros(n, dtype=bool)  # rows whose value is UTC already
    t = arr.type
    if pa.types.is_timestamp(t):
        raw = pc.cast(arr, pa.int64())
        out = pc.or_(
            pc.less(raw, _in_unit(MIN_US, t.unit)), pc.greater(raw, _in_unit(MAX_US, t.unit))
        )
        outside = mask(out)
        raw = (
            pc.if_else(pa.array(outside), pa.scalar(None, pa.int64()), raw)
            if outside.any()
            else raw
        )
        values = pc.cast(pc.cast(raw, pa.timestamp(t.unit)), pa.timestamp("us"), safe=False)
        micros = pc.cast(values, pa.int64())
        zoned[:] = t.tz is not None
    elif pa.types.is_date(t):
        days = (
            pc.cast(pc.cast(arr, pa.date32()), pa.int32())
            if pa.types.is_date64(t)
            else pc.cast(arr, pa.int32())
        )
        outside = mask(
            pc.or_(
                pc.less(days, MIN_US // 86_400_000_000), pc.greater(days, MAX_US // 86_400_000_000)
            )
        )
        micros = pc.multiply(pc.cast(days, pa.int64()), 86_400_000_000)
        if outside.any():
            micros = pc.if_else(pa.array(outside), pa.scalar(None, pa.int64()), micros)
    elif pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        seconds = pc.cast(arr, pa.float64(), safe=False)
        finite = pc.fill_null(pc.is_finite(seconds), True)
        bad = mask(pc.invert(finite))
        outside = mask(
            pc.and_(
                finite, pc.or_(pc.less(seconds, MIN_US / 1e6), pc.greater(seconds, MAX_US / 1e6))
            )
        )
        drop = bad | outside
        if drop.any():
            seconds = pc.if_else(pa.array(drop), pa.scalar(None, pa.float64()), seconds)
        if pa.types.is_integer(t):
            kept = pc.if_else(pa.array(drop), pa.scalar(None, t), arr) if drop.any() else arr
            micros = pc.multiply(pc.cast(kept, pa.int64()), 1_000_000)
        else:
            micros = pc.cast(pc.round(pc.multiply(seconds, 1e6)), pa.int64())
        zoned[:] = True
        checks: TimeChecks = []
        if outside.any():
            checks.append(
                (
                    outside,
                    (
                        "must be Unix seconds from 0001-01-01 to 9999-12-31 "
                        "(are they milliseconds or nanoseconds?)"
                    ),
                )
            )
        return pc.cast(micros, TS), bad, checks
    else:
        text, bad = as_text(arr)
        text = pc.utf8_trim_whitespace(text)
        micros, zoned, more = _parse_text(text, fmt)
        bad |= more
        outside = _no_bad(n)
    checks = []
    local = ~zoned & mask(pc.is_valid(micros))
    if local.any():
        wall = pc.if_else(pa.array(local), micros, pa.scalar(None, pa.int64()))
        # the wall clock must itself be a real date before it is placed in a zone
        wall_out = mask(pc.or_(pc.less(wall, MIN_US), pc.greater(wall, MAX_US)))
        if wall_out.any():
            outside |= wall_out
            wall = pc.if_else(pa.array(wall_out), pa.scalar(None, pa.int64()), wall)
            micros = pc.if_else(pa.array(wall_out), pa.scalar(None, pa.int64()), micros)
        placed, gap = localise(pc.cast(wall, pa.timestamp("us")), tz, folds, key, groups)
        micros = pc.if_else(pa.array(local), pc.cast(placed, pa.int64()), micros)
        if gap.any():
            checks.append((gap, GAP_REASON.format(tz=tz)))
    outside |= mask(pc.or_(pc.less(micros, MIN_US), pc.greater(micros, MAX_US)))
    if outside.any():
        micros = pc.if_else(pa.array(outside), pa.scalar(None, pa.int64()), micros)
        checks.insert(0, (outside, RANGE_REASON))
    return pc.cast(micros, TS), bad, checks


# -- mapping a canonical column to its source, and settling a batch -------------------------
class MappedField:
    """How one canonical column is filled: from a source column or a constant.

    ``spec`` is a source column name, or a dict with exactly one of ``column``
    and ``value``, and optionally ``values`` (a value map), ``format`` (a
    timestamp format) and, where ``scale`` is allowed, ``scale``.
    """

    def __init__(
        self,
        name: str,
        spec: Any,
        *,
        scale: bool = True,
        strip_keys: bool = False,
        example: str = "",
    ) -> None:
        self.name = name
        self.column: str | None = None
        self.constant: Any = None
        self.is_constant = False
        self.values: dict[str, Any] = {}
        self.format: str | None = None
        self.scale: float | None = None
        if isinstance(spec, str):
            self.column = spec
            return
        keys = {"column", "value", "values", "format"} | ({"scale"} if scale else set())
        if (
            not isinstance(spec, dict)
            or not spec
            or set(spec) - keys
            or ("column" in spec) == ("value" in spec)
        ):
            optional = "'values', 'format', 'scale'" if scale else "'values', 'format'"
            raise InvalidParameterError(
                f"mapping.{name}",
                spec,
                "a source column name or a dict with exactly one of 'column'/'value' "
                f"(and optionally {optional})",
                example,
            )
        if "column" in spec:
            self.column = str(spec["column"])
        else:
            self.is_constant = True
            self.constant = spec["value"]
        values = spec.get("values") or {}
        if not isinstance(values, dict):
            raise InvalidParameterError(
                f"mapping.{name}.values",
                values,
                "a dict from source value to canonical value",
                example,
            )
        self.values = {(str(k).strip() if strip_keys else str(k)): v for k, v in values.items()}
        self.format = spec.get("format")
        if scale and spec.get("scale") is not None:
            try:
                self.scale = float(spec["scale"])
            except (TypeError, ValueError) as exc:
                raise InvalidParameterError(
                    f"mapping.{name}.scale", spec["scale"], "a number"
                ) from exc


def resolve_fields(
    fields: dict[str, MappedField], canonical: tuple[str, ...], names: list[str], make: Any
) -> dict[str, MappedField]:
    """The mapped fields plus every canonical column the file has under its own name."""
    out = dict(fields)
    for name in canonical:
        if name not in out and name in names:
            out[name] = make(name, name)
    return out


def broadcast(value: pa.Array, n: int) -> pa.Array:
    """A one-value array repeated ``n`` times (null stays null)."""
    return (
        pa.nulls(n, value.type).fill_null(value[0])
        if value[0].is_valid
        else pa.nulls(n, value.type)
    )


Check = tuple[str, np.ndarray, str]  # (field, rows failing, reason)


def gather(
    canonical: tuple[str, ...],
    fields: dict[str, MappedField],
    constants: dict[str, pa.Array],
    names: set[str],
    batch: pa.RecordBatch,
    convert: Any,
) -> tuple[dict[str, pa.Array], dict[str, pa.Array], list[Check], list[tuple[str, str]]]:
    """Convert the mapped columns of ``batch``.

    ``convert(name, field, source)`` returns ``(values, bad, reason)``, and
    optionally a fourth item: further ``(rows, reason)`` failures (a timestamp
    out of range, a local time that does not exist...).

    Returns the converted columns, the raw source columns (for reject values),
    the per-row checks that failed somewhere, and the (field, reason) failures
    that hit every row (a mapped column missing from the file).
    """
    n = batch.num_rows
    cols: dict[str, pa.Array] = {}
    raws: dict[str, pa.Array] = {}
    checks: list[Check] = []
    whole: list[tuple[str, str]] = []
    for name in canonical:
        f = fields.get(name)
        if f is None:
            continue
        if f.is_constant:
            cols[name] = broadcast(constants[name], n)
            continue
        if f.column not in names:
            reason = f"the column {f.column!r} mapped to {name} is not in the file"
            whole.append((name, reason + "; fix the mapping"))
            continue
        src = batch.column(f.column)
        arr, bad, reason, *more = convert(name, f, src)
        cols[name] = arr
        raws[name] = src
        if bad.any():
            checks.append((name, bad, f"must be {reason}"))
        for rows, why in more[0] if more else ():
            checks.append((name, rows, why))
    return cols, raws, checks, whole


def source_refs(ref: str, lines: np.ndarray) -> pa.Array:
    """``file:line`` for each row."""
    return pc.binary_join_element_wise(
        pa.scalar(ref + ":"), pc.cast(pa.array(lines, type=pa.int64()), pa.string()), ""
    )


def settle(
    n: int,
    lines: np.ndarray,
    extra: list[Reject],
    whole: list[tuple[str, str]],
    checks: list[Check],
    raws: dict[str, pa.Array],
) -> tuple[np.ndarray, list[Reject]]:
    """Which rows pass, and a reject for each that does not (its first failed check).

    A failure in ``whole`` refuses every row with that reason.
    """
    rejects = list(extra)
    if whole:
        field_name, reason = whole[0]
        rejects.extend(Reject(int(lines[i]), field_name, None, reason) for i in range(n))
        return np.zeros(n, dtype=bool), rejects
    bad_any = np.zeros(n, dtype=bool)
    for _, bad, _ in checks:
        bad_any |= bad
    for i in np.flatnonzero(bad_any):
        for name, bad, reason in checks:
            if bad[i]:
                raw = raws.get(name)
                value = None if raw is None else raw_text(raw.slice(i, 1))[0].as_py()
                rejects.append(
                    Reject(int(lines[i]), name, None if value is None else str(value)[:500], reason)
                )
                break
    return ~bad_any, rejects


def build_chunk(
    table: str,
    schema: pa.Schema,
    cols: dict[str, pa.Array],
    good: np.ndarray,
    rejects: list[Reject],
    rows_read: int,
) -> Chunk:
    """The chunk of the rows that passed, in ``schema``, with the rejects."""
    keep = cols if good.all() else {k: pc.filter(v, pa.array(good)) for k, v in cols.items()}
    m = int(good.sum())
    arrays = [
        pc.cast(keep[f.name], f.type) if f.name in keep else pa.nulls(m, f.type) for f in schema
    ]
    chunk = Chunk(table, pa.Table.from_arrays(arrays, schema=schema), rejects, rows_read, 0)
    chunk.check()
    return chunk
