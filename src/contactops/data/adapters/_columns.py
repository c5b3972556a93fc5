"""Vectorised column conversion shared by the flat-file and interval adapters.

Every converter takes one Arrow array of source values and returns the
converted array (bad values as null) and a numpy mask of the rows whose value
was present but could not be converted.  Nothing loops over rows in Python
except the fallbacks for batches that hold bytes which are not UTF-8 text or
timestamps Arrow's ISO-8601 parser refuses; those loops touch only the batch
that needs them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from contactops.errors import InvalidParameterError

__all__ = [
    "as_bool",
    "as_float",
    "as_text",
    "as_timestamp",
    "load_mapping",
    "localise",
    "mask",
    "raw_text",
    "timezone",
]

TS = pa.timestamp("us", tz="UTC")
_NUMBER = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
_HAS_OFFSET = r"\d:\d\d(:\d\d(\.\d*)?)?\s*([Zz]|[+-]\d\d(:?\d\d)?)$"
_TRUE = ("true", "t", "1", "yes", "y")
_FALSE = ("false", "f", "0", "no", "n")


def mask(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow array as a numpy mask, null read as False."""
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
        raise InvalidParameterError(name, value, "an IANA time zone name",
                                    "For example UTC or America/New_York.") from exc


def load_mapping(value: Any, name: str = "mapping") -> dict[str, Any]:
    """A mapping option: a dict, or the path of a YAML file holding one."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, str | Path):
        path = Path(value)
        if not path.is_file():
            raise InvalidParameterError(name, str(value), "a dict or a YAML file",
                                        "The file does not exist; check the path.")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InvalidParameterError(name, str(value), "a YAML mapping file",
                                        f"It does not parse: {exc}") from exc
        if loaded is None:
            return {}
        if isinstance(loaded, dict):
            return loaded
    raise InvalidParameterError(name, value, "a dict or a YAML file holding one",
                                "Map canonical names to source columns, e.g. "
                                "{contact_id: CallID}.")


def as_text(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Any column as UTF-8 strings; empty strings become null.

    Binary values that are not UTF-8 are bad (null, flagged).
    """
    n = len(arr)
    bad = _no_bad(n)
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
        try:
            arr = arr.cast(pa.string())
        except pa.ArrowInvalid:
            values: list[str | None] = []
            for i, raw in enumerate(arr.to_pylist()):
                if raw is None:
                    values.append(None)
                    continue
                try:
                    values.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    values.append(None)
                    bad[i] = True
            arr = pa.array(values, type=pa.string())
    elif not pa.types.is_string(arr.type):
        if pa.types.is_large_string(arr.type) or pa.types.is_null(arr.type):
            arr = arr.cast(pa.string())
        else:
            arr = pc.cast(arr, pa.string())
    empty = pc.equal(pc.utf8_length(arr), 0)
    if mask(empty).any():
        arr = pc.if_else(empty, pa.scalar(None, pa.string()), arr)
    return arr, bad


def raw_text(arr: pa.Array) -> pa.Array:
    """Values as they were, for reject messages (bytes shown with escapes)."""
    if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
        return pa.array([None if v is None else v.decode("utf-8", "backslashreplace")
                         for v in arr.to_pylist()], type=pa.string())
    return arr


def as_float(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Numbers (or numeric text) as float64; text that is not a number is bad."""
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type) \
            or pa.types.is_decimal(arr.type):
        out = pc.cast(arr, pa.float64())
        bad = mask(pc.is_nan(out))
        if bad.any():
            out = pc.if_else(pc.is_nan(out), pa.scalar(None, pa.float64()), out)
        return out, bad
    if pa.types.is_boolean(arr.type):
        return pc.cast(arr, pa.float64()), _no_bad(len(arr))
    text, bad = as_text(arr)
    ok = pc.match_substring_regex(text, _NUMBER)
    bad |= mask(pc.and_(pc.is_valid(text), pc.invert(ok)))
    clean = pc.if_else(ok, pc.utf8_trim_whitespace(text), pa.scalar(None, pa.string()))
    return pc.cast(clean, pa.float64()), bad


def as_bool(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """true/false, yes/no, 1/0 (any case) or numbers (non-zero is true)."""
    if pa.types.is_boolean(arr.type):
        return arr, _no_bad(len(arr))
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        return pc.not_equal(arr, 0), _no_bad(len(arr))
    text, bad = as_text(arr)
    low = pc.utf8_lower(pc.utf8_trim_whitespace(text))
    is_true = pc.is_in(low, value_set=pa.array(_TRUE))
    is_false = pc.is_in(low, value_set=pa.array(_FALSE))
    known = pc.or_(is_true, is_false)
    bad |= mask(pc.and_(pc.is_valid(low), pc.invert(known)))
    out = pc.if_else(known, is_true, pa.scalar(None, pa.bool_()))
    return out, bad


def localise(naive: pa.Array, tz: ZoneInfo) -> pa.Array:
    """Naive local times in ``tz`` as UTC (a repeated hour: the first; a skipped one: after)."""
    if str(tz) == "UTC":
        return pc.cast(naive, TS)
    local = pc.assume_timezone(naive, timezone=str(tz), ambiguous="earliest",
                               nonexistent="latest")
    return pc.cast(local, TS)


def _python_parse(text: pa.Array, tz: ZoneInfo, fmt: str | None) -> tuple[pa.Array, np.ndarray]:
    values: list[datetime | None] = []
    bad = _no_bad(len(text))
    for i, item in enumerate(text.to_pylist()):
        if item is None:
            values.append(None)
            continue
        s = item.strip()
        try:
            dt = datetime.strptime(s, fmt) if fmt else datetime.fromisoformat(  # noqa: DTZ007
                s[:-1] + "+00:00" if s[-1:] in "Zz" else s)
        except ValueError:
            values.append(None)
            bad[i] = True
            continue
        values.append(dt.replace(tzinfo=tz).astimezone(UTC) if dt.tzinfo is None
                      else dt.astimezone(UTC))
    return pa.array(values, type=TS), bad


def as_timestamp(arr: pa.Array, tz: ZoneInfo, fmt: str | None = None
                 ) -> tuple[pa.Array, np.ndarray]:
    """Timestamps as UTC; naive ones (and naive text) are local times in ``tz``.

    Text is ISO 8601 (``T`` or a space, optional fraction and offset/``Z``)
    unless ``fmt`` gives a ``strptime`` format.  Integers are Unix seconds.
    """
    n = len(arr)
    if pa.types.is_timestamp(arr.type):
        if arr.type.tz is None:
            return localise(pc.cast(arr, pa.timestamp("us"), safe=False), tz), _no_bad(n)
        return pc.cast(arr, TS, safe=False), _no_bad(n)
    if pa.types.is_date(arr.type):
        return localise(pc.cast(arr, pa.timestamp("us")), tz), _no_bad(n)
    if pa.types.is_integer(arr.type):
        return pc.cast(pc.multiply(pc.cast(arr, pa.int64()), 1_000_000), TS), _no_bad(n)
    text, bad = as_text(arr)
    text = pc.utf8_trim_whitespace(text)
    if fmt is not None:
        has_zone = "%z" in fmt or "%Z" in fmt
        parsed = pc.strptime(text, format=fmt, unit="us", error_is_null=True)
        bad |= mask(pc.and_(pc.is_valid(text), pc.is_null(parsed)))
        if has_zone:
            return pc.cast(parsed, TS), bad
        return localise(parsed, tz), bad
    offset = pc.match_substring_regex(text, _HAS_OFFSET)
    try:
        with_zone = pc.cast(pc.if_else(offset, text, pa.scalar(None, pa.string())), TS)
        naive = pc.cast(pc.if_else(offset, pa.scalar(None, pa.string()), text),
                        pa.timestamp("us"))
        out = pc.if_else(offset, with_zone, localise(naive, tz))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        out, more = _python_parse(text, tz, None)
        bad |= more
    return out, bad
