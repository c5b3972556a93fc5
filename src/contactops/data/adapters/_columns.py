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
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from contactops.data._adapter import Chunk, Reject
from contactops.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "MappedField",
    "as_bool",
    "as_float",
    "as_text",
    "as_timestamp",
    "broadcast",
    "build_chunk",
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
UNIX_S_MIN = -62_135_596_800.0  # 0001-01-01T00:00:00Z
UNIX_S_MAX = 253_402_300_799.0  # 9999-12-31T23:59:59Z
_NUMBER = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
_HAS_OFFSET = r"\d:\d\d(:\d\d(\.\d*)?)?\s*([Zz]|[+-]\d\d(:?\d\d)?)$"
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
        raise InvalidParameterError(name, value, "an IANA time zone name",
                                    "For example UTC or America/New_York.") from exc


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
    empty = pc.equal(pc.binary_length(arr), 0)  # bytes, read off the offsets
    if pc.any(empty).as_py():
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
        # beyond 0001-01-01 .. 9999-12-31 the microseconds would overflow (or wrap)
        seconds = pc.cast(arr, pa.float64())
        outside = pc.or_(pc.less(seconds, UNIX_S_MIN), pc.greater(seconds, UNIX_S_MAX))
        bad = mask(outside)
        if bad.any():
            arr = pc.if_else(outside, pa.scalar(None, arr.type), arr)
        return pc.cast(pc.multiply(pc.cast(arr, pa.int64()), 1_000_000), TS), bad
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


# -- mapping a canonical column to its source, and settling a batch -------------------------
class MappedField:
    """How one canonical column is filled: from a source column or a constant.

    ``spec`` is a source column name, or a dict with exactly one of ``column``
    and ``value``, and optionally ``values`` (a value map), ``format`` (a
    timestamp format) and, where ``scale`` is allowed, ``scale``.
    """

    def __init__(self, name: str, spec: Any, *, scale: bool = True,
                 strip_keys: bool = False, example: str = "") -> None:
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
        if not isinstance(spec, dict) or not spec or set(spec) - keys \
                or ("column" in spec) == ("value" in spec):
            optional = "'values', 'format', 'scale'" if scale else "'values', 'format'"
            raise InvalidParameterError(
                f"mapping.{name}", spec,
                "a source column name or a dict with exactly one of 'column'/'value' "
                f"(and optionally {optional})", example)
        if "column" in spec:
            self.column = str(spec["column"])
        else:
            self.is_constant = True
            self.constant = spec["value"]
        values = spec.get("values") or {}
        if not isinstance(values, dict):
            raise InvalidParameterError(f"mapping.{name}.values", values,
                                        "a dict from source value to canonical value",
                                        example)
        self.values = {(str(k).strip() if strip_keys else str(k)): v for k, v in values.items()}
        self.format = spec.get("format")
        if scale and spec.get("scale") is not None:
            try:
                self.scale = float(spec["scale"])
            except (TypeError, ValueError) as exc:
                raise InvalidParameterError(f"mapping.{name}.scale", spec["scale"],
                                            "a number") from exc


def resolve_fields(fields: dict[str, MappedField], canonical: tuple[str, ...],
                   names: list[str], make: Any) -> dict[str, MappedField]:
    """The mapped fields plus every canonical column the file has under its own name."""
    out = dict(fields)
    for name in canonical:
        if name not in out and name in names:
            out[name] = make(name, name)
    return out


def broadcast(value: pa.Array, n: int) -> pa.Array:
    """A one-value array repeated ``n`` times (null stays null)."""
    return pa.nulls(n, value.type).fill_null(value[0]) if value[0].is_valid \
        else pa.nulls(n, value.type)


Check = tuple[str, np.ndarray, str]  # (field, rows failing, reason)


def gather(canonical: tuple[str, ...], fields: dict[str, MappedField],
           constants: dict[str, pa.Array], names: set[str], batch: pa.RecordBatch,
           convert: Any) -> tuple[dict[str, pa.Array], dict[str, pa.Array], list[Check],
                                  list[tuple[str, str]]]:
    """Convert the mapped columns of ``batch``.

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
        arr, bad, reason = convert(name, f, src)
        cols[name] = arr
        raws[name] = src
        if bad.any():
            checks.append((name, bad, f"must be {reason}"))
    return cols, raws, checks, whole


def source_refs(ref: str, lines: np.ndarray) -> pa.Array:
    """``file:line`` for each row."""
    return pc.binary_join_element_wise(
        pa.scalar(ref + ":"), pc.cast(pa.array(lines, type=pa.int64()), pa.string()), "")


def settle(n: int, lines: np.ndarray, extra: list[Reject], whole: list[tuple[str, str]],
           checks: list[Check], raws: dict[str, pa.Array]) -> tuple[np.ndarray, list[Reject]]:
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
                rejects.append(Reject(int(lines[i]), name,
                                      None if value is None else str(value)[:500], reason))
                break
    return ~bad_any, rejects


def build_chunk(table: str, schema: pa.Schema, cols: dict[str, pa.Array], good: np.ndarray,
                rejects: list[Reject], rows_read: int) -> Chunk:
    """The chunk of the rows that passed, in ``schema``, with the rejects."""
    keep = cols if good.all() else {k: pc.filter(v, pa.array(good)) for k, v in cols.items()}
    m = int(good.sum())
    arrays = [pc.cast(keep[f.name], f.type) if f.name in keep else pa.nulls(m, f.type)
              for f in schema]
    chunk = Chunk(table, pa.Table.from_arrays(arrays, schema=schema), rejects, rows_read, 0)
    chunk.check()
    return chunk
