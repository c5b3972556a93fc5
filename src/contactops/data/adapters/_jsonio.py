"""Reading JSON exports record by record, and checking the values in them.

Shared by the JSON adapters (``amazon-connect``, ``genesys``).  A file may
hold one JSON array, JSON lines, or objects written back to back with no
separator (Kinesis Data Firehose).  :func:`iter_json` yields each top-level
value (each element, for a top-level array) with the line it starts on, and
turns text it cannot parse into a :class:`JsonError` instead of stopping:

- a UTF-8 byte-order mark is skipped, and lines may end in LF, CRLF or CR;
- bytes that are not UTF-8 are kept (``surrogateescape``) so the record
  they are in can be rejected by the field that holds them (:func:`text`);
- a value nested deeper than :data:`MAX_DEPTH` (200) levels of arrays and
  objects is one :class:`JsonError`, found by a scan that does not recurse:
  no contact record is anywhere near that deep, and Python's parser (and
  every walk over the parsed value) recurses once per level, so such a value
  would otherwise refuse the whole file with a ``RecursionError``.  The unit
  is the top-level value: an element of a top-level array, a line, or a
  wrapper object such as ``{"conversations": [...]}`` as a whole;
- after a parse error, reading resumes at the next line whose first
  character is ``{`` or ``[`` at the same or a smaller indentation than the
  broken value, or, if sooner, at the next object that opens with the same
  first key as the broken one (records back to back on one line); the
  skipped text is one :class:`JsonError`.  A file that is
  not JSON at all (a CSV, a tab-separated log) is therefore one error.

Values (:func:`text`, :func:`timestamp`, :func:`seconds`) and whole canonical
rows (:func:`check_row`) are checked against the record's limits
(``contactops.data._schema``): a timestamp from year 1 to 9999 once in UTC, a
duration finite, >= 0 and at most ``MAX_DURATION_S``, and arrived <= queued,
arrived <= answered <= ended.  A value that breaks them is a :class:`FieldError`:
its record is rejected, never stored wrong, never a traceback.

:func:`records` adds format detection: when the file is not JSON at all, or
its first record is an object with none of the format's identifying keys, it
raises :func:`~contactops.data.adapters.format_mismatch` before anything is
read.

The whole file is held in memory: contact-record exports are batches of
megabytes, and the adapters need the whole file to collapse repeats anyway.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from contactops.data._adapter import utc
from contactops.data._schema import MAX_DURATION_S, MAX_TS, MIN_TS
from contactops.data.adapters import format_mismatch, read_head

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from pathlib import Path

__all__ = [
    "MAX_DEPTH",
    "FieldError",
    "JsonError",
    "JsonValue",
    "check_row",
    "clean",
    "iter_json",
    "records",
    "seconds",
    "shifted",
    "starts_with_json_scalar",
    "text",
    "timestamp",
]

MAX_DEPTH = 200  # levels of arrays/objects in one top-level value; deeper is a reject
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_OPEN = np.frombuffer(b"[{", dtype=np.uint8)

_SURROGATE = re.compile("[\ud800-\udfff]")
_WS = " \t\r\n"
_AFTER_SCALAR = _WS + ',]}[{"'  # what may follow a number or literal that ends a value
_NEXT_VALUE = re.compile(r"\n([ \t]*)[\[{]")
_FIRST_KEY = re.compile(r'\{\s*("(?:[^"\\]|\\.)*")\s*:')
TIMESTAMP_RULE = "an ISO-8601 timestamp with a time of day, e.g. 2024-05-01T09:30:00Z"


class FieldError(ValueError):
    """A source value broke its rule; the record holding it is rejected."""

    def __init__(self, field: str | None, value: Any, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.value = None if value is None else clean(str(value))[:500]
        self.reason = reason

    def __reduce__(self) -> tuple[type[FieldError], tuple[str | None, Any, str]]:
        # the constructor's arguments, so the error survives pickling (a worker's error)
        return (type(self), (self.field, self.value, self.reason))


@dataclass(frozen=True)
class JsonValue:
    line: int
    value: Any


@dataclass(frozen=True)
class JsonError:
    line: int
    text: str
    reason: str


def clean(s: str) -> str:
    """``s`` with undecodable bytes shown as ``\\xNN`` (safe to store and print)."""
    if s.isascii() or not _SURROGATE.search(s):
        return s
    try:
        return s.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate written as a \\u escape in the JSON
        return s.encode("utf-8", "backslashreplace").decode("utf-8")


BLOCK = 8 << 20  # characters read at a time; a value may span blocks


def iter_json(path: Path) -> Iterator[JsonValue | JsonError]:
    """Each top-level JSON value of the file (each element of a top-level array).

    The file is read in blocks: only the text not yet parsed is held, so a
    file of a million records is never in memory at once (one top-level
    value, such as ``{"conversations": [...]}``, still is).  A parse failure
    is only judged once enough text is at hand: if it might just be the end
    of the block, more is read first.
    """
    decoder = json.JSONDecoder()
    reader = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    doc = ""
    eof = False
    first = True
    pos = 0
    in_array = False
    array_empty, array_line = False, 0  # an open array none of whose elements was read yet
    mark, mark_line = 0, 1  # doc[mark] is on line mark_line; marks only move forward

    def line_of(p: int) -> int:
        nonlocal mark, mark_line
        mark_line += doc.count("\n", mark, p)
        mark = p
        return mark_line

    with path.open("rb") as fh:
        held_cr = ""  # a CR ending a block: perhaps the first half of a CRLF

        def more() -> bool:
            """Append the next block; False at the end of the file."""
            nonlocal doc, pos, eof, first, mark, held_cr
            if eof:
                return False
            # at least as much again as the text not yet parsed: one value spanning many
            # blocks (or a deep one scanned on each try) costs linear, not quadratic, time
            raw = fh.read(max(BLOCK, len(doc) - pos))
            text = held_cr + reader.decode(raw, final=not raw)
            if first:
                text = text.removeprefix("\ufeff")
                first = False
            held_cr = ""
            if raw and text.endswith("\r"):
                held_cr, text = "\r", text[:-1]
            # CRLF and CR alone (old Mac) end lines too; a raw CR is only ever whitespace
            # in valid JSON (strings hold it escaped), so lines are counted and records
            # resynchronised after an error the same whatever the line ends
            if "\r" in text:
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            # drop what is parsed, keeping the line count right
            line_of(pos)
            doc = doc[pos:] + text
            pos = 0
            mark = 0
            if not raw:
                eof = True
            return True

        more()
        while True:
            while True:
                while pos < len(doc) and (doc[pos] in _WS or doc[pos] == ","):
                    pos += 1
                if pos < len(doc) or not more():
                    break
            if pos >= len(doc):
                if in_array and array_empty:
                    # cut short before its first element ('[' at the end of the file): one
                    # broken record, not nothing (cut after an element, that element is
                    # the broken record)
                    yield JsonError(
                        array_line,
                        "[",
                        "must be JSON: the file ends inside an array, "
                        "before its first element (the file is cut short)",
                    )
                return
            if doc[pos] == "[" and not in_array:
                in_array = True  # read the elements one by one: a bad one costs only itself
                array_empty, array_line = True, line_of(pos)
                pos += 1
                continue
            if doc[pos] == "]" and in_array:
                in_array = array_empty = False
                pos += 1
                continue
            array_empty = False
            try:
                value, end = decoder.raw_decode(doc, pos)
            except RecursionError:
                value, end = _DEEP, _skip(doc, pos)
                if end < 0 and not eof:
                    more()  # the end of the deep value is further on
                    continue
                if end < 0:  # deep and cut short by the end of the file: one error
                    end = _resync(doc, pos)
            except json.JSONDecodeError as exc:
                nxt = _resync(doc, pos)
                if not eof and (nxt >= len(doc) or exc.pos >= len(doc) - 1):
                    more()  # perhaps only cut by the block: judge with more text
                    continue
                where = line_of(pos)
                excerpt = clean(doc[pos : min(nxt, pos + 200)]).strip()
                # exc.lineno counts from the start of the text held: use exc.pos instead
                yield JsonError(
                    where,
                    excerpt,
                    f"must be JSON: {exc.msg} at line "
                    f"{where + doc.count(chr(10), pos, exc.pos)} column {exc.colno}",
                )
                pos = nxt
                continue
            if end >= len(doc) and not eof:
                # a number or literal cut by the block would parse short: read on
                more()
                continue
            if (
                not isinstance(value, dict | list)
                and value is not _DEEP
                and end < len(doc)
                and doc[end] not in _AFTER_SCALAR
            ):
                # a number or literal glued to other text ("-1." cut from "-1.5e3", "12ab"):
                # one broken value, not a value and then an error
                nxt = _resync(doc, pos)
                if not eof and nxt >= len(doc):
                    more()  # perhaps only cut by the block ("-1." of "-1.5"): read on
                    continue
                where = line_of(pos)
                yield JsonError(
                    where,
                    clean(doc[pos : min(nxt, pos + 200)]).strip(),
                    f"must be JSON: {doc[pos : end + 1]!r} is not a value",
                )
                pos = nxt
                continue
            if value is _DEEP or _depth(doc, pos, end) > MAX_DEPTH:
                where = line_of(pos)
                yield JsonError(
                    where,
                    clean(doc[pos : min(end, pos + 200)]).strip(),
                    f"must be nested at most {MAX_DEPTH} levels deep (arrays and "
                    "objects): no contact record is, so this is not one",
                )
                pos = end
                continue
            yield JsonValue(line_of(pos), value)
            pos = end


_DEEP = object()  # marks a value too deep for the parser


def _depth(doc: str, start: int, end: int) -> int:
    """How deep arrays and objects nest in ``doc[start:end]`` (one parsed value).

    Cheap for ordinary values: only text with more than :data:`MAX_DEPTH`
    opening brackets is scanned, with regular expressions and numpy (no
    recursion, no per-character Python loop).
    """
    if doc.count("[", start, end) + doc.count("{", start, end) <= MAX_DEPTH:
        return 0
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", doc[start:end]))
    codes = np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)
    steps = np.where(np.isin(codes, _OPEN), 1, -1)
    return int(np.cumsum(steps).max(initial=0))


def _skip(doc: str, pos: int) -> int:
    """The end of the array or object starting at ``pos``, or -1 if ``doc`` ends first.

    Iterative: used for values too deep for Python's parser.
    """
    depth = 0
    for m in _TOKEN.finditer(doc, pos):
        c = m.group()
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth == 0:
                return m.end()
    return -1


def _resync(doc: str, pos: int) -> int:
    """Where to resume after a value starting at ``pos`` failed to parse."""
    col = pos - (doc.rfind("\n", 0, pos) + 1)
    nxt = len(doc)
    for m in _NEXT_VALUE.finditer(doc, pos):
        if len(m.group(1)) <= col:
            nxt = m.end(1)
            break
    # records back to back on one line (Firehose): the next object that opens with the
    # same first key as the broken one, when that comes first
    first = _FIRST_KEY.match(doc, pos)
    if first:
        same = re.compile(r"\{\s*" + re.escape(first.group(1)) + r"\s*:")
        for found in same.finditer(doc, pos + 1, nxt):
            # an object that is the value of a key or opens an array is nested in the
            # broken one (e.g. {"k": {"k": ... cut short), not the next record
            before = doc[: found.start()].rstrip(_WS)
            if before[-1:] not in (":", "["):
                return found.start()
    return nxt


# -- values --------------------------------------------------------------------------------


def text(field: str, value: Any) -> str | None:
    """A string (or integer id) value; ``None`` for null or empty."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise FieldError(field, json.dumps(value)[:200], "must be a string")
    s = str(value).strip()
    if _SURROGATE.search(s):
        raise FieldError(
            field,
            s,
            "must be UTF-8 text: the file holds bytes in another "
            "encoding (e.g. Latin-1); convert it to UTF-8 and ingest again",
        )
    return s or None


def timestamp(field: str, value: Any) -> datetime | None:
    """An ISO-8601 timestamp (``Z`` or an offset; none means UTC), as aware UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FieldError(field, json.dumps(value)[:200], "must be " + TIMESTAMP_RULE)
    s = value.strip()
    if "T" not in s and " " not in s:
        raise FieldError(field, value, "must be " + TIMESTAMP_RULE)
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise FieldError(field, value, "must be " + TIMESTAMP_RULE) from None
    return in_range(field, dt, value)


_RANGE_RULE = "an instant from year 1 to year 9999 once converted to UTC"


def in_range(field: str, dt: datetime, shown: Any = None) -> datetime:
    """``dt`` as aware UTC, if it is an instant the record can hold (years 1..9999 UTC)."""
    try:
        at = utc(dt)
    except OverflowError:  # e.g. 0001-01-01T00:30+01:00 is in year 0 in UTC
        raise FieldError(
            field, shown if shown is not None else dt.isoformat(), "must be " + _RANGE_RULE
        ) from None
    if not MIN_TS <= at <= MAX_TS:
        raise FieldError(
            field, shown if shown is not None else dt.isoformat(), "must be " + _RANGE_RULE
        )
    return at


def shifted(field: str, start: datetime, secs: float) -> datetime:
    """``start`` plus ``secs`` seconds, if the sum is an instant the record can hold."""
    try:
        return in_range(field, start + timedelta(seconds=secs))
    except OverflowError:
        raise FieldError(
            field, f"{start.isoformat()} + {secs}s", "must be " + _RANGE_RULE
        ) from None


_DURATION_RULE = f"a duration in seconds from 0 to {MAX_DURATION_S:.0f} (366 days)"


def seconds(field: str, value: Any, units_per_second: float = 1.0) -> float | None:
    """A duration as float seconds (``units_per_second`` 1000 for ms).

    Finite, >= 0 and at most ``MAX_DURATION_S`` once in seconds; anything else
    (``NaN``, ``Infinity``, ``1e400`` which JSON reads as infinity, a negative
    or an absurd value such as milliseconds read as seconds) is a FieldError.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(field, json.dumps(value)[:200], "must be a number")
    try:
        secs = float(value) / units_per_second
    except OverflowError:  # an integer beyond what a float holds
        secs = math.inf
    if not math.isfinite(secs) or not 0 <= secs <= MAX_DURATION_S:
        raise FieldError(field, str(value)[:200], "must be " + _DURATION_RULE)
    return secs


_DURATIONS = ("wait_s", "talk_s", "hold_s", "acw_s")
_TIMES = ("arrived_at", "queued_at", "answered_at", "ended_at")


def check_row(row: Mapping[str, Any]) -> None:
    """Raise :class:`FieldError` unless a canonical row keeps the record's invariants.

    Durations are finite, >= 0 and at most ``MAX_DURATION_S``; timestamps are in
    years 1..9999 UTC; and ``arrived_at <= queued_at``, ``arrived_at <= answered_at
    <= ended_at``, ``arrived_at <= ended_at`` (those present).  The adapters check
    source values as they read them; this is the last word on what they built.
    """
    for name in _DURATIONS:
        value = row.get(name)
        if value is not None and not (math.isfinite(value) and 0 <= value <= MAX_DURATION_S):
            raise FieldError(name, value, "must be " + _DURATION_RULE)
    for name in (*_TIMES, "version"):
        value = row.get(name)
        if value is not None:
            in_range(name, value)
    arrived, queued, answered, ended = (row.get(n) for n in _TIMES)
    for earlier, later, name, rule in (
        (arrived, queued, "queued_at", "must not be before arrived_at"),
        (arrived, answered, "answered_at", "must not be before arrived_at"),
        (arrived, ended, "ended_at", "must not be before arrived_at"),
        (answered, ended, "ended_at", "must not be before answered_at"),
    ):
        if earlier is not None and later is not None and later < earlier:
            raise FieldError(name, later.isoformat(), rule + f" ({earlier.isoformat()})")


# -- format detection ----------------------------------------------------------------------

_CUT_SCALAR = re.compile(r"-?\d*\.?\d*([eE][+-]?\d*)?|n(u(ll?)?)?|t(r(ue?)?)?|f(a(l(se?)?)?)?")


def starts_with_json_scalar(head: bytes) -> bool:
    """Does ``head`` start with a JSON scalar (a record of the wrong type, not another format)?

    A first line holding a delimiter (``,``, tab, ``;``, ``|``) is a delimited header,
    even when it starts with a quoted name.  A string or literal cut short (a truncated
    file: ``"abc`` or ``nu``) is still JSON: a broken record, not another format.
    """
    text = head.decode("utf-8", "replace")
    first = next(iter(text.splitlines()), "")  # any line end: \n, \r\n, old-Mac \r
    if any(d in first for d in ",\t;|"):
        return False
    try:
        _, end = json.JSONDecoder().raw_decode(text)
    except (json.JSONDecodeError, RecursionError):
        return text.startswith('"') or _CUT_SCALAR.fullmatch(text.strip()) is not None
    return (
        end >= len(text)
        or text[end] in _WS + "[{"
        or _CUT_SCALAR.fullmatch(text.strip()) is not None
    )


def records(
    path: Path, fmt: str, required: Sequence[str], looks_right: Callable[[Mapping[str, Any]], bool]
) -> Iterator[JsonValue | JsonError]:
    """:func:`iter_json`, after checking that the file is of format ``fmt``.

    Raises ``format_mismatch`` (naming ``required`` as missing) before anything
    is yielded when the file is not JSON at all (its first character, byte-order
    mark and spaces aside, is neither ``{`` nor ``[``, nor does a JSON scalar
    start it: a CSV or tab-separated header), or when its first record
    is an object for which ``looks_right`` is False (none of the format's keys).
    A first record that is broken JSON or not an object is an ordinary reject:
    one bad record does not make a file another format.
    """
    head = read_head(path).lstrip()
    if head and head[:1] not in (b"{", b"[") and not starts_with_json_scalar(head):
        first = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
        found = [c.strip() for c in re.split(r"[\t,;|]", first) if c.strip()][:20]
        raise format_mismatch(path, fmt, required, found)
    items = iter_json(path)
    for item in items:
        if (
            isinstance(item, JsonValue)
            and isinstance(item.value, dict)
            and not looks_right(item.value)
        ):
            raise format_mismatch(
                path,
                fmt,
                [k for k in required if k not in item.value],
                [clean(str(k)) for k in item.value][:20],
            )
        yield item
        break
    yield from items
