"""``csv`` and ``parquet``: any flat file of contact legs, one row per leg.

Columns named like the canonical record (``../shared/DESIGN.md``) are read
as they are; others are named by the ``mapping`` option, a dict or a YAML
file from canonical column to source column::

    contact_id: CallID
    arrived_at: {column: StartTime, format: "%d/%m/%Y %H:%M:%S"}
    channel: {value: voice}                    # a constant
    outcome: {column: Result, values: {ANS: answered, ABN: abandoned}}
    wait_s: {column: QueueMs, scale: 0.001}

Options: ``mapping``; ``timezone`` (IANA, default UTC) for naive
timestamps; ``timestamp_format`` (``strptime``) for every timestamp column
without its own ``format``; CSV only: ``delimiter`` (default ``,``) and
``encoding`` (default UTF-8).

Rules, applied to whole batches with ``pyarrow.compute`` (no Python loop per
row; only refused rows become :class:`Reject` objects):

- required: ``contact_id``, ``arrived_at``, ``channel`` (one of CHANNELS,
  any case), ``outcome`` (one of OUTCOMES).  Without an outcome column, a leg
  with ``answered_at`` is ``answered`` and one without is ``abandoned``.  A
  file whose header lacks a required column (or one the mapping names) is
  refused before anything is read: :class:`~contactops.errors.FormatMismatchError`
  names the missing columns and guesses the file's real format.
- ``initial_contact_id`` defaults to ``contact_id``; ``source`` to the format
  name (``csv``/``parquet``) unless the file or the mapping gives one.
- timestamps: ISO 8601 text (offset or ``Z`` honoured, naive text is local
  time in ``timezone``), text in a ``strptime`` format, Arrow timestamps and
  dates, or numbers (Unix seconds).  A date that does not exist (30 February)
  is refused, never rolled forward; an instant outside 0001-01-01..9999-12-31
  UTC (also once a local time is converted) is refused; the same text always
  gives the same instant, whatever the rest of its batch holds.
- local times (``timezone``): a time the clocks skip when daylight saving
  starts does not exist and is refused with that reason.  In the hour repeated
  when it ends, each timestamp column is read in file order: its ambiguous
  times are the first occurrence until one steps back (is earlier than one
  before it that day), and from there the second (see
  :class:`~contactops.data.adapters._columns.Folds`), so a log written in time
  order keeps both hours.  Give offsets or UTC to need no rule.
- durations ``wait_s``/``talk_s``/``hold_s``/``acw_s`` are finite numbers
  >= 0 and at most ``MAX_DURATION_S`` (366 days; ``inf``, ``1e400`` and
  ``1e300`` are refused); ``bot_confidence`` is in [0, 1]; ``priority`` a
  whole number that fits int16.  Numbers of any Arrow type are read (integers
  beyond 2^53 or int64 are refused by the range rules, not by the reader).
- a leg arrives, queues, is answered and ends in that order: ``queued_at``,
  ``answered_at`` and ``ended_at`` before ``arrived_at``, or ``ended_at``
  before ``answered_at``, are refused.
- a value that is not one (a list or struct where a value belongs, bytes
  that are not UTF-8, also in a Parquet string column) refuses its row.
- a refused row is reported once, with the first rule it breaks, its line
  (CSV: the physical line, exact unless a quoted value spans lines; Parquet:
  the 0-based row index), field, value and reason.  CSV rows with the wrong
  number of fields, bytes that are not UTF-8 and files that are not CSV or
  Parquet at all are refused the same way; nothing is dropped silently.
- ``read`` is every record of the file: for CSV, every record after the
  header (a blank line is none; a quoted value may span lines), with any line
  ending (``\\n``, ``\\r\\n``, old-Mac ``\\r``) and a UTF-8 byte-order mark
  dropped; for Parquet, every row its metadata counts (rows a damaged row
  group cannot give are refused with the reader's reason).  Should a value
  still make a batch's conversion raise, that batch is converted row by row
  and the row refused with the error.
- repeats of a ``contact_id`` are left to the warehouse (duplicates).
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from contactops.data._adapter import CHUNK_ROWS, SCHEMAS, Chunk, Reject
from contactops.data._schema import CHANNELS, INTERACTIONS, OUTCOMES
from contactops.data.adapters import HEAD_BYTES, format_mismatch
from contactops.data.adapters._columns import (
    Folds,
    MappedField,
    as_bool,
    as_float,
    as_text,
    as_timestamp,
    broadcast,
    build_chunk,
    duration_checks,
    gather,
    load_mapping,
    mask,
    resolve_fields,
    settle,
    source_refs,
    timezone,
)
from contactops.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from pathlib import Path
    from zoneinfo import ZoneInfo

__all__ = ["ADAPTERS", "csv_chunks", "header_names", "parquet_chunks"]

BATCH_ROWS = CHUNK_ROWS
_TEXT = (
    "contact_id",
    "initial_contact_id",
    "previous_contact_id",
    "customer_id",
    "queue",
    "segment",
    "agent_id",
    "team",
    "site",
    "transferred_to",
    "source",
)
_ENUMS = {"channel": CHANNELS, "outcome": OUTCOMES}
_TIMES = ("arrived_at", "queued_at", "answered_at", "ended_at", "version")
_DURATIONS = ("wait_s", "talk_s", "hold_s", "acw_s")
_FIELDS = tuple(f.name for f in INTERACTIONS)
_REQUIRED = ("contact_id", "arrived_at", "channel", "outcome")
# (earlier, later): a leg arrives, may queue, may be answered, ends, in that order
_ORDER = (
    ("arrived_at", "queued_at"),
    ("arrived_at", "answered_at"),
    ("queued_at", "answered_at"),
    ("arrived_at", "ended_at"),
    ("queued_at", "ended_at"),
    ("answered_at", "ended_at"),
)
# errors a value (not the code) can raise while a batch is converted: the batch is then
# converted row by row, and a row that still raises one is refused with it
_VALUE_ERRORS = (pa.ArrowException, ValueError, OverflowError, ArithmeticError, UnicodeError)


_field = functools.partial(
    MappedField, example="For example {column: Result, values: {ANS: answered}} or {value: voice}."
)


class _Spec:
    def __init__(self, options: Mapping[str, Any], default_source: str) -> None:
        mapping = load_mapping(options.get("mapping"))
        unknown = sorted(set(mapping) - set(_FIELDS))
        if unknown:
            raise InvalidParameterError(
                "mapping",
                unknown[0],
                "a canonical column: " + ", ".join(_FIELDS),
                "Keys are canonical names, values the source columns.",
            )
        self.fields = {k: _field(k, v) for k, v in mapping.items()}
        self.tz: ZoneInfo = timezone(options.get("timezone", "UTC"))
        self.timestamp_format: str | None = options.get("timestamp_format")
        self.default_source = default_source
        self.fmt = default_source
        self.delimiter = str(options.get("delimiter", ","))
        self.encoding = str(options.get("encoding", "utf-8"))
        self.batch_rows = int(options.get("batch_rows", BATCH_ROWS))
        self.table = "interactions"

    def resolve(self, names: list[str]) -> dict[str, MappedField]:
        """The fields filled for a file with these column names."""
        return resolve_fields(self.fields, _FIELDS, names, _field)


class _Converter:
    """Turns source record batches into canonical rows plus rejects."""

    def __init__(self, spec: _Spec, names: list[str], adapter: str, ref: str) -> None:
        self.spec = spec
        self.names = set(names)
        self.fields = spec.resolve(names)
        self.adapter = adapter
        self.ref = ref
        self.folds = Folds()
        self.constants: dict[str, pa.Array] = {}
        for name, f in self.fields.items():
            if f.is_constant:
                arr, bad, reason, _ = self._convert(name, f, pa.array([f.constant]))
                if bad.any():
                    raise InvalidParameterError(f"mapping.{name}.value", f.constant, reason)
                self.constants[name] = arr

    def source_columns(self) -> list[str]:
        return sorted(
            {
                f.column
                for f in self.fields.values()
                if f.column is not None and f.column in self.names
            }
        )

    def missing(self) -> list[str]:
        """The columns the file lacks: mapped ones, then required ones (none: it fits)."""
        out = [
            f.column
            for f in self.fields.values()
            if f.column is not None and f.column not in self.names
        ]
        have = set(self.fields) | ({"outcome"} if "answered_at" in self.fields else set())
        out.extend(name for name in _REQUIRED if name not in have)
        return out

    def snapshot(self) -> Any:
        return self.folds.snapshot()

    def restore(self, snap: Any) -> None:
        self.folds.restore(snap)

    def _convert(
        self, name: str, f: MappedField, src: pa.Array
    ) -> tuple[pa.Array, np.ndarray, str, list[tuple[np.ndarray, str]]]:
        if name in _TIMES:
            fmt = f.format or self.spec.timestamp_format
            arr, bad, more = as_timestamp(src, self.spec.tz, fmt, folds=self.folds, key=name)
            if pa.types.is_integer(src.type) or pa.types.is_floating(src.type):
                return arr, bad, "Unix seconds from 0001-01-01 to 9999-12-31", more
            return (
                arr,
                bad,
                (
                    f"a timestamp in format {fmt}"
                    if fmt
                    else "an ISO 8601 timestamp, e.g. 2024-01-31T08:15:00"
                ),
                more,
            )
        if name in _DURATIONS or name in ("bot_confidence", "priority"):
            arr, bad = as_float(src)
            if f.scale is not None:
                arr = pc.multiply(arr, f.scale)
            return arr, bad, "a finite number", []
        if name == "escalated_from_bot":
            arr, bad = as_bool(src)
            return arr, bad, "true/false, yes/no or 1/0"
        arr, bad = as_text(src)
        if f.values:
            keys = pa.array(list(f.values), type=pa.string())
            mapped = pc.take(
                pa.array([str(v) for v in f.values.values()], type=pa.string()),
                pc.index_in(arr, value_set=keys),
            )
            arr = pc.coalesce(mapped, arr)
        if name in _ENUMS:
            values = pa.array(_ENUMS[name])
            if not pc.any(pc.invert(pc.is_in(arr, value_set=values, skip_nulls=True))).as_py():
                return arr, bad, "", []  # already canonical (a file we wrote): nothing to fold
            arr = pc.utf8_lower(pc.utf8_trim_whitespace(arr))
            known = pc.is_in(arr, value_set=values)
            bad |= mask(pc.and_(pc.is_valid(arr), pc.invert(known)))
            return arr, bad, "one of " + ", ".join(_ENUMS[name]), []
        return arr, bad, "UTF-8 text", []

    def convert(self, batch: pa.RecordBatch, lines: np.ndarray, extra: list[Reject]) -> Chunk:
        n = batch.num_rows
        cols, raws, checks, whole = gather(
            _FIELDS, self.fields, self.constants, self.names, batch, self._convert
        )
        # derived and default columns
        if "outcome" not in self.fields and "answered_at" in cols:
            cols["outcome"] = pc.if_else(
                pc.is_valid(cols["answered_at"]), pa.scalar("answered"), pa.scalar("abandoned")
            )
        for name in _REQUIRED:
            if name in cols:
                checks.append((name, mask(pc.is_null(cols[name])), f"missing: {name} is required"))
            elif not any(w[0] == name for w in whole):
                hint = (
                    "give a constant, e.g. mapping={channel: {value: voice}}"
                    if name == "channel"
                    else f"map one, e.g. mapping={{{name}: <column>}}"
                )
                whole.append((name, f"no {name} column in the file: {hint}"))
        for name in _DURATIONS:
            if name in cols:
                checks.extend(duration_checks(name, cols[name]))
        for early, late in _ORDER:
            if early in cols and late in cols:
                checks.append(
                    (late, mask(pc.less(cols[late], cols[early])), f"must not be before {early}")
                )
        if "bot_confidence" in cols:
            c = cols["bot_confidence"]
            checks.append(
                (
                    "bot_confidence",
                    mask(pc.or_(pc.less(c, 0.0), pc.greater(c, 1.0))),
                    "must be between 0 and 1",
                )
            )
        if "priority" in cols:
            p = cols["priority"]
            checks.append(
                (
                    "priority",
                    mask(
                        pc.or_(
                            pc.not_equal(pc.floor(p), p),
                            pc.or_(pc.less(p, -32768.0), pc.greater(p, 32767.0)),
                        )
                    ),
                    "must be a whole number from -32768 to 32767",
                )
            )
        if "contact_id" in cols:
            initial = cols.get("initial_contact_id")
            cols["initial_contact_id"] = (
                cols["contact_id"] if initial is None else pc.coalesce(initial, cols["contact_id"])
            )
        cols["source"] = (
            pc.coalesce(cols["source"], pa.scalar(self.adapter))
            if "source" in cols
            else broadcast(pa.array([self.adapter]), n)
        )
        cols["source_ref"] = source_refs(self.ref, lines)

        good, rejects = settle(n, lines, extra, whole, checks, raws)
        return build_chunk("interactions", INTERACTIONS, cols, good, rejects, n + len(extra))


def _empty(rejects: list[Reject] | None = None, table: str = "interactions") -> Chunk:
    rejects = rejects or []
    return Chunk(table, SCHEMAS[table].empty_table(), rejects, len(rejects), 0)


def _reject_lines(
    path: Path, after: int, reason: str, table: str = "interactions"
) -> Iterator[Chunk]:
    """Refuse every non-blank physical line after line ``after``, in chunks."""
    rejects: list[Reject] = []
    # latin-1 maps every byte to a character: universal line endings (\n, \r\n, \r) on bytes
    with path.open(encoding="latin-1", newline="") as fh:
        for lineno, line in enumerate(fh, start=1):
            if lineno <= after or not line.strip():
                continue
            raw = line.encode("latin-1")
            rejects.append(
                Reject(
                    lineno,
                    None,
                    raw[:200].decode("utf-8", "backslashreplace").rstrip("\r\n"),
                    reason,
                )
            )
            if len(rejects) >= BATCH_ROWS:
                yield _empty(rejects, table)
                rejects = []
    if rejects:
        yield _empty(rejects, table)


class _FlatAdapter:
    table = "interactions"

    def __init__(self, name: str, description: str) -> None:
        self.name = name
        self.description = description

    def read(self, path: Path, options: Mapping[str, Any]) -> Iterator[Chunk]:
        spec = _Spec(options, self.name)
        if path.stat().st_size == 0:
            yield _empty()
            return

        def make(names: list[str]) -> _Converter:
            return _Converter(spec, names, self.name, path.name)

        reader = parquet_chunks if self.name == "parquet" else csv_chunks
        yield from reader(path, spec, make)

    def sniff(self, head: bytes) -> bool:
        """A flat file of contact legs: Parquet (``parquet``) or a CSV header (``csv``)
        naming at least ``contact_id`` and ``arrived_at``, with ``channel``, ``outcome``
        or ``answered_at``."""
        if self.name == "parquet":
            # a small file's footer (its schema) is in the head
            return head.startswith(b"PAR1") and all(
                name.encode() in head for name in ("contact_id", "arrived_at")
            )
        names = {n.lower() for n in header_names(head)}
        return {"contact_id", "arrived_at"} <= names and bool(
            names & {"channel", "outcome", "answered_at"}
        )


def _unreadable(start: int, stop: int, reason: str, table: str) -> Iterator[Chunk]:
    for first in range(start, stop, BATCH_ROWS):
        yield _empty(
            [Reject(i, None, None, reason) for i in range(first, min(stop, first + BATCH_ROWS))],
            table,
        )


def parquet_chunks(
    path: Path, spec: CsvOptions, make_converter: Callable[[list[str]], CsvConverter]
) -> Iterator[Chunk]:
    """Stream a Parquet file through a converter, accounting for every row.

    Every row the file's metadata counts is read: loaded or refused.  Only the
    columns the converter reads are decoded, row group by row group; rows of a
    row group past a point where its data cannot be read are refused with that
    reason (a row's line is its 0-based index in the file).  A file that is not
    Parquet (no readable footer) is one reject.  A file whose columns lack what
    the format needs raises :class:`~contactops.errors.FormatMismatchError`
    before anything is yielded.
    """
    table = spec.table
    try:
        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
        total = pf.metadata.num_rows
        groups = [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)]
    except (pa.ArrowException, OSError) as exc:
        yield _empty([Reject(None, None, None, f"not a Parquet file: {exc}")], table)
        return
    conv = make_converter(names)
    missing = conv.missing()
    if missing:
        raise format_mismatch(path, spec.fmt, missing, names)
    columns = conv.source_columns() or names[:1]
    row = 0
    for group, size in enumerate(groups):
        end = row + size
        try:
            for batch in pf.iter_batches(
                batch_size=spec.batch_rows, columns=columns, row_groups=[group]
            ):
                n = min(batch.num_rows, end - row)
                lines = np.arange(row, row + n, dtype=np.int64)
                row += n
                yield convert_safely(conv, batch.slice(0, n), lines, [], table)
        except (pa.ArrowException, OSError) as exc:
            yield from _unreadable(row, end, f"unreadable Parquet data: {exc}", table)
        row = end
    if row < total:  # rows the metadata counts outside its row groups
        yield from _unreadable(
            row,
            total,
            "unreadable Parquet data: the row is counted in "
            "the file's metadata but in no row group",
            table,
        )
    if total == 0:
        yield _empty(None, table)


def convert_safely(
    conv: CsvConverter, batch: pa.RecordBatch, lines: np.ndarray, extra: list[Reject], table: str
) -> Chunk:
    """``conv.convert`` of a batch; if a value makes it raise, row by row.

    The converters handle every value they know of; this is the guard that keeps
    ``read`` exact for the values they do not: the rare batch that raises is
    converted again one row at a time (the converter's state, e.g. its
    :class:`~contactops.data.adapters._columns.Folds`, restored first), and a
    row that still raises is refused with the error, never dropped.
    """
    snap = conv.snapshot() if hasattr(conv, "snapshot") else None
    try:
        return conv.convert(batch, lines, extra)
    except _VALUE_ERRORS:
        if snap is not None:
            conv.restore(snap)  # type: ignore[attr-defined]
    rows: list[pa.Table] = []
    rejects = list(extra)
    read = len(extra)
    dups = 0
    for i in range(batch.num_rows):
        snap = conv.snapshot() if hasattr(conv, "snapshot") else None
        try:
            chunk = conv.convert(batch.slice(i, 1), lines[i : i + 1], [])
        except _VALUE_ERRORS as exc:
            if snap is not None:
                conv.restore(snap)  # type: ignore[attr-defined]
            rejects.append(
                Reject(
                    int(lines[i]),
                    None,
                    None,
                    f"{CONVERT_FAILED}: {type(exc).__name__}: {exc}"[:500],
                )
            )
            read += 1
            continue
        rows.append(chunk.batch)
        rejects.extend(chunk.rejects)
        read += chunk.rows_read
        dups += chunk.duplicates
    batch_out = pa.concat_tables(rows) if rows else SCHEMAS[table].empty_table()
    chunk = Chunk(table, batch_out, rejects, read, dups)
    chunk.check()
    return chunk


CONVERT_FAILED = "a value of this row could not be converted"


class CsvConverter(Protocol):
    """What the readers need from an adapter: its columns, and batch conversion.

    ``missing()`` names the columns the file lacks for the format (the reader
    then raises :func:`~contactops.data.adapters.format_mismatch`).  A converter
    with state across batches also has ``snapshot()`` and ``restore(state)``.
    """

    def source_columns(self) -> list[str]: ...

    def missing(self) -> list[str]: ...

    def convert(self, batch: pa.RecordBatch, lines: np.ndarray, extra: list[Reject]) -> Chunk: ...


class CsvOptions(Protocol):
    fmt: str
    delimiter: str
    encoding: str
    batch_rows: int
    table: str


def header_names(head: bytes, delimiter: str | None = None, encoding: str = "utf-8") -> list[str]:
    """The column names of the first CSV record of ``head`` (never raises).

    Any line ending (``\\n``, ``\\r\\n``, or old Mac ``\\r``) ends the record; a
    byte-order mark is dropped; without ``delimiter``, the one of ``,``, ``;``,
    tab and ``|`` that splits the header most is used.
    """
    try:
        text = codecs.getincrementaldecoder(encoding)("replace").decode(head)
    except LookupError:
        return []
    text = text.lstrip("\ufeff")
    try:
        first = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or ","), [])
        if delimiter is None:
            for other in (";", "\t", "|"):
                alt = next(csv.reader(io.StringIO(text, newline=""), delimiter=other), [])
                if len(alt) > len(first):
                    first = alt
    except csv.Error:
        return []
    return [name.strip() for name in first]


def csv_chunks(
    path: Path, spec: CsvOptions, make_converter: Callable[[list[str]], CsvConverter]
) -> Iterator[Chunk]:
    """Stream a CSV file (header on line 1) through a converter, accounting for every line.

    Columns are read as bytes with pyarrow's streaming reader; rows with the
    wrong number of fields are refused with their physical line; files that are
    not UTF-8 go through the csv module instead (see :func:`_python_csv`).
    """
    table = spec.table
    if path.stat().st_size == 0:
        yield _empty(None, table)
        return
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    try:
        names = _header(head, spec)
    except (UnicodeDecodeError, LookupError) as exc:
        yield from _reject_lines(
            path, 0, f"not a {spec.encoding} CSV file: the header does not decode ({exc})", table
        )
        return
    if not any(names):
        yield from _reject_lines(
            path, 1, "not a CSV file: the first line is empty, where the header should be", table
        )
        return
    conv = make_converter(names)
    missing = conv.missing()
    if missing:
        raise format_mismatch(path, spec.fmt, missing, names)
    if spec.encoding.replace("-", "").lower() in ("utf8", "utf_8") and not _is_utf8(path):
        # pyarrow cannot report a malformed row holding bytes that are not UTF-8; the
        # csv module can, so such files are read in Python (slower, complete)
        yield from _python_csv(path, spec, conv, names)
        return
    invalid: list[Reject] = []
    invalid_lines: list[int] = []
    n_cols = len(names)

    def on_invalid(row: Any) -> str:
        number = row.number
        try:
            text: str | None = str(row.text)[:500]
        except UnicodeDecodeError:  # pyarrow decodes the row's bytes to give the text
            text = None
        if number is not None:
            invalid_lines.append(number)
        invalid.append(
            Reject(
                number, None, text, f"{n_cols} fields like the header (got {row.actual_columns})"
            )
        )
        return "skip"

    wanted = conv.source_columns()
    read_options = pacsv.ReadOptions(
        use_threads=False,
        block_size=1 << 22,
        skip_rows=1,
        column_names=names,
        encoding=spec.encoding,
    )
    # a quoted value may hold line breaks: one record, whatever block boundary it spans
    parse_options = pacsv.ParseOptions(
        delimiter=spec.delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
    )
    convert_options = pacsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.binary()),
        include_columns=wanted or None,
        strings_can_be_null=True,
        null_values=[""],
        quoted_strings_can_be_null=True,
    )
    good_rows = 0
    last_line = 1
    reader = None
    while True:
        # only reading is guarded: an error converting a batch is a bug, and must surface
        try:
            if reader is None:
                reader = pacsv.open_csv(
                    path,
                    read_options=read_options,
                    parse_options=parse_options,
                    convert_options=convert_options,
                )
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowException, UnicodeDecodeError) as exc:
            if invalid:
                yield _empty(list(invalid), table)
                last_line = max([last_line, *(r.line or 0 for r in invalid)])
                invalid.clear()
            yield from _reject_lines(path, last_line, f"not readable as CSV: {exc}", table)
            return
        lines = _physical_lines(good_rows, batch.num_rows, invalid_lines)
        good_rows += batch.num_rows
        extra, invalid[:] = list(invalid), []
        if batch.num_rows:
            last_line = max(last_line, int(lines[-1]))
        last_line = max([last_line, *(r.line or 0 for r in extra)])
        yield convert_safely(conv, batch, lines, extra, table)
    if invalid:
        yield _empty(list(invalid), table)
    if good_rows == 0:
        yield _empty(None, table)


def _header(head: bytes, spec: CsvOptions) -> list[str]:
    """The header record's names: any line ending, byte-order mark dropped.

    Raises UnicodeDecodeError when the header is not text in ``spec.encoding``
    (LookupError for an unknown encoding).
    """
    text = codecs.getincrementaldecoder(spec.encoding)("surrogateescape").decode(head)
    text = text.lstrip("\ufeff")
    try:
        names = next(csv.reader(io.StringIO(text, newline=""), delimiter=spec.delimiter), [])
    except csv.Error as exc:
        raise UnicodeDecodeError(spec.encoding, b"", 0, 1, f"not a CSV header: {exc}") from exc
    for name in names:
        try:
            name.encode("utf-8")
        except UnicodeEncodeError as exc:  # a byte the encoding does not decode
            raw = name.encode("utf-8", "surrogateescape")
            raise UnicodeDecodeError(
                spec.encoding, raw, exc.start, exc.end, "invalid byte in the header"
            ) from exc
    return names


def _is_utf8(path: Path) -> bool:
    """Whether the whole file decodes as UTF-8 (read in blocks, in C)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _python_csv(
    path: Path, spec: CsvOptions, conv: CsvConverter, names: list[str]
) -> Iterator[Chunk]:
    """Read a CSV file with the csv module; undecodable bytes stay bytes (and are refused)."""
    wanted = conv.source_columns()
    index = [names.index(c) for c in wanted]
    n_cols = len(names)
    rows: list[list[bytes | None]] = []
    lines: list[int] = []
    invalid: list[Reject] = []

    def flush() -> Chunk:
        batch = pa.RecordBatch.from_arrays(
            [pa.array([r[i] for r in rows], type=pa.binary()) for i in range(len(wanted))]
            or [pa.nulls(len(rows))],
            names=wanted or ["_"],
        )
        chunk = convert_safely(
            conv, batch, np.asarray(lines, dtype=np.int64), list(invalid), spec.table
        )
        rows.clear()
        lines.clear()
        invalid.clear()
        return chunk

    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as fh:
        reader = csv.reader(fh, delimiter=spec.delimiter)
        line = 1
        try:
            next(reader, None)  # the header
            line = reader.line_num
            for record in reader:
                start, line = line + 1, reader.line_num
                if not record:
                    continue
                if len(record) != n_cols:
                    invalid.append(
                        Reject(
                            start,
                            None,
                            spec.delimiter.join(record)[:500]
                            .encode("utf-8", "surrogateescape")
                            .decode("utf-8", "backslashreplace"),
                            f"{n_cols} fields like the header (got {len(record)})",
                        )
                    )
                    continue
                rows.append(
                    [
                        None if record[i] == "" else record[i].encode("utf-8", "surrogateescape")
                        for i in index
                    ]
                )
                lines.append(start)
                if len(rows) >= spec.batch_rows:
                    yield flush()
        except csv.Error as exc:
            yield flush()
            yield from _reject_lines(path, line, f"not readable as CSV: {exc}", spec.table)
            return
    yield flush()


def _physical_lines(start: int, n: int, invalid_lines: list[int]) -> np.ndarray:
    """Line numbers of valid records ``start .. start+n-1`` (0-based), header on line 1.

    Skipped invalid rows shift the records after them down by one line each.
    """
    base = np.arange(start, start + n, dtype=np.int64) + 2
    if not invalid_lines:
        return base
    inv = np.sort(np.asarray(invalid_lines, dtype=np.int64))
    lines = base
    for _ in range(len(inv) + 1):
        shifted = base + np.searchsorted(inv, lines, side="right")
        if np.array_equal(shifted, lines):
            break
        lines = shifted
    return lines


ADAPTERS = {
    "csv": _FlatAdapter("csv", "Any CSV file of contact legs, with a column mapping"),
    "parquet": _FlatAdapter("parquet", "Any Parquet file of contact legs, with a column mapping"),
}
