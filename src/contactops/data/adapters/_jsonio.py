"""Reading JSON exports record by record, and checking the values in them.

Shared by the JSON adapters (``amazon-connect``, ``genesys``).  A file may
hold one JSON array, JSON lines, or objects written back to back with no
separator (Kinesis Data Firehose).  :func:`iter_json` yields each top-level
value (each element, for a top-level array) with the line it starts on, and
turns text it cannot parse into a :class:`JsonError` instead of stopping:

- bytes that are not UTF-8 are kept (``surrogateescape``) so the record
  they are in can be rejected by the field that holds them (:func:`text`);
- after a parse error, reading resumes at the next line whose first
  character is ``{`` or ``[`` at the same or a smaller indentation than the
  broken value, or, if sooner, at the next object that opens with the same
  first key as the broken one (records back to back on one line); the
  skipped text is one :class:`JsonError`.  A file that is
  not JSON at all (a CSV, a tab-separated log) is therefore one error.

The whole file is held in memory: contact-record exports are batches of
megabytes, and the adapters need the whole file to collapse repeats anyway.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from contactops.data._adapter import utc

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = ["FieldError", "JsonError", "JsonValue", "clean", "iter_json", "seconds", "text",
           "timestamp"]

_SURROGATE = re.compile("[\ud800-\udfff]")
_WS = " \t\r\n"
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
    mark, mark_line = 0, 1  # doc[mark] is on line mark_line; marks only move forward

    def line_of(p: int) -> int:
        nonlocal mark, mark_line
        mark_line += doc.count("\n", mark, p)
        mark = p
        return mark_line

    with path.open("rb") as fh:

        def more() -> bool:
            """Append the next block; False at the end of the file."""
            nonlocal doc, pos, eof, first, mark
            if eof:
                return False
            raw = fh.read(BLOCK)
            text = reader.decode(raw, final=not raw)
            if first:
                text = text.removeprefix("\ufeff")
                first = False
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
                return
            if doc[pos] == "[" and not in_array:
                in_array = True  # read the elements one by one: a bad one costs only itself
                pos += 1
                continue
            if doc[pos] == "]" and in_array:
                in_array = False
                pos += 1
                continue
            try:
                value, end = decoder.raw_decode(doc, pos)
            except json.JSONDecodeError as exc:
                nxt = _resync(doc, pos)
                if not eof and (nxt >= len(doc) or exc.pos >= len(doc) - 1):
                    more()  # perhaps only cut by the block: judge with more text
                    continue
                where = line_of(pos)
                excerpt = clean(doc[pos:min(nxt, pos + 200)]).strip()
                # exc.lineno counts from the start of the text held: use exc.pos instead
                yield JsonError(where, excerpt,
                                f"must be JSON: {exc.msg} at line "
                                f"{where + doc.count(chr(10), pos, exc.pos)} column {exc.colno}")
                pos = nxt
                continue
            if end >= len(doc) and not eof:
                # a number or literal cut by the block would parse short: read on
                more()
                continue
            yield JsonValue(line_of(pos), value)
            pos = end


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
        found = same.search(doc, pos + 1, nxt)
        if found:
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
        raise FieldError(field, s, "must be UTF-8 text: the file holds bytes in another "
                                   "encoding (e.g. Latin-1); convert it to UTF-8 and ingest again")
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
    return utc(dt)


def seconds(field: str, value: Any, units_per_second: float = 1.0) -> float | None:
    """A non-negative duration as float seconds (``units_per_second`` 1000 for ms)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FieldError(field, json.dumps(value)[:200], "must be a number")
    if value < 0:
        raise FieldError(field, value, "must be a duration of zero or more")
    return float(value) / units_per_second
