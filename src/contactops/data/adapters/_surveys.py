"""``surveys``: post-contact survey results (CSV or Parquet) into the ``surveys`` table.

One row per survey response, tied to the contact leg it rates by
``contact_id`` (the KPI rollup joins CSAT and NPS to legs on it).  Columns
named like the canonical ones (``contact_id``, ``customer_id``,
``surveyed_at``, ``csat``, ``nps``, ``verbatim``, ``source``) are read as
they are; others are named by the ``mapping`` option, a dict or a YAML file
from canonical column to source column, in the style of the ``csv`` adapter::

    contact_id: CallID
    surveyed_at: {column: Completed, format: "%d/%m/%Y %H:%M"}
    csat: {column: Q1, values: {"Very satisfied": 5, "Satisfied": 4, "Neutral": 3,
                                "Dissatisfied": 2, "Very dissatisfied": 1, "N/A": null}}
    nps: Q2
    verbatim: Comments
    source: {value: qualtrics}                 # a constant

A value map translates source values (trimmed, exact case) before the rule
is checked; values it does not name are read as they are, and a map to
``null`` means "no answer".

Options: ``mapping``; ``file_format`` (``csv`` or ``parquet``; default from
the suffix: ``.parquet``/``.pq`` is Parquet, ``.csv``/``.tsv``/``.txt`` CSV,
any other suffix Parquet when the file starts with Parquet's magic bytes,
else CSV); ``timezone`` (IANA, default UTC) for naive timestamps;
``timestamp_format`` (``strptime``) when ``surveyed_at`` has no ``format`` of
its own; CSV only: ``delimiter`` (default ``,``) and ``encoding`` (default
UTF-8).

Rules, applied per Arrow batch with ``pyarrow.compute``:

- ``contact_id`` is required;
- ``csat`` is a whole number 1-5 and ``nps`` a whole number 0-10 (numbers
  or numeric text; ``4.0`` is 4, ``4.5`` is refused), or empty;
- at least one of ``csat``, ``nps`` and ``verbatim`` is given;
- ``surveyed_at`` is a timestamp (ISO 8601 text, offset or ``Z`` honoured,
  naive text local time in ``timezone``; Arrow timestamps; numbers as Unix
  seconds) from 0001-01-01 to 9999-12-31 UTC, or empty; the rules for dates
  that do not exist and for DST days are the ``csv`` adapter's (a skipped
  local time is refused; the repeated hour is placed by file order);
- text must be UTF-8 (or say ``encoding``);
- ``source`` is ``surveys`` unless the file (or the mapping) gives one;
  ``source_ref`` is ``file:line`` (CSV: the physical line; Parquet: the
  0-based row index).

A refused row is reported once, with the first rule it breaks, its line,
field, value and reason; nothing is dropped silently: ``read`` is every record
(CSV, any line ending, byte-order mark dropped) or every Parquet row.  A
header without ``contact_id`` or any of ``csat``/``nps``/``verbatim`` (or
without a column the mapping names) refuses the file before anything is read
(:class:`~contactops.errors.FormatMismatchError`).  A response is
identified by ``(source, contact_id)``: a repeat in the file or a second
ingest of it counts as a duplicate.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from contactops.data._adapter import CHUNK_ROWS, Chunk, Reject
from contactops.data._schema import SURVEYS
from contactops.data.adapters._columns import (
    Folds,
    MappedField,
    as_float,
    as_text,
    as_timestamp,
    build_chunk,
    gather,
    load_mapping,
    mask,
    resolve_fields,
    settle,
    source_refs,
    timezone,
)
from contactops.data.adapters._flat import csv_chunks, header_names, parquet_chunks
from contactops.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path
    from zoneinfo import ZoneInfo

__all__ = ["ADAPTER"]

NAME = "surveys"
_FIELDS = tuple(f.name for f in SURVEYS if f.name != "source_ref")
_TEXT = ("contact_id", "customer_id", "verbatim", "source")
_SCORES = {"csat": (1, 5), "nps": (0, 10)}
_ANSWERS = ("csat", "nps", "verbatim")
_FILE_FORMATS = ("csv", "parquet")
_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "csv", ".txt": "csv"}


_field = functools.partial(
    MappedField,
    scale=False,
    strip_keys=True,
    example="For example {column: Q1, values: {'Very satisfied': 5, 'N/A': null}} or "
    "{value: qualtrics}.",
)


class _Spec:
    """The resolved options of one ingest."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        mapping = load_mapping(options.get("mapping"))
        unknown = sorted(set(mapping) - set(_FIELDS))
        if unknown:
            raise InvalidParameterError(
                "mapping",
                unknown[0],
                "a survey column: " + ", ".join(_FIELDS),
                "Keys are canonical names, values the source columns.",
            )
        self.fields = {k: _field(k, v) for k, v in mapping.items()}
        file_format = options.get("file_format")
        if file_format is not None and file_format not in _FILE_FORMATS:
            raise InvalidParameterError(
                "file_format",
                file_format,
                "csv or parquet",
                "Or leave it out to go by the file's suffix.",
            )
        self.file_format: str | None = file_format
        self.tz: ZoneInfo = timezone(options.get("timezone", "UTC"))
        self.timestamp_format: str | None = options.get("timestamp_format")
        self.delimiter = str(options.get("delimiter", ","))
        self.encoding = str(options.get("encoding", "utf-8"))
        self.batch_rows = int(options.get("batch_rows", CHUNK_ROWS))
        self.table = "surveys"
        self.fmt = NAME

    def resolve(self, names: list[str]) -> dict[str, MappedField]:
        """The fields filled for a file with these column names."""
        return resolve_fields(self.fields, _FIELDS, names, _field)


def _map_values(arr: pa.Array, values: dict[str, Any]) -> tuple[pa.Array, np.ndarray]:
    """Source values through a value map (as trimmed text); unmapped values pass through.

    Returns the mapped text and the mask of values that are not UTF-8 text.
    """
    text, bad = as_text(arr)
    text = pc.utf8_trim_whitespace(text)
    keys = pa.array(list(values), type=pa.string())
    targets = pa.array([None if v is None else str(v) for v in values.values()], type=pa.string())
    index = pc.index_in(text, value_set=keys)
    return pc.if_else(pc.is_valid(index), pc.take(targets, index), text), bad


class _Converter:
    """Turns source record batches into survey rows plus rejects."""

    def __init__(self, spec: _Spec, names: list[str], ref: str) -> None:
        self.spec = spec
        self.names = set(names)
        self.fields = spec.resolve(names)
        self.ref = ref
        self.folds = Folds()
        self.constants: dict[str, pa.Array] = {}
        for name, f in self.fields.items():
            if f.is_constant:
                arr, bad, reason, _ = self._convert(name, f, pa.array([f.constant]))
                if bad.any() or (name == "contact_id" and arr[0].as_py() is None):
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
        """The columns the file lacks: mapped ones, contact_id, and one answer column."""
        out = [
            f.column
            for f in self.fields.values()
            if f.column is not None and f.column not in self.names
        ]
        if "contact_id" not in self.fields:
            out.append("contact_id")
        if not any(a in self.fields for a in _ANSWERS):
            out.append("csat, nps or verbatim")
        return out

    def snapshot(self) -> Any:
        return self.folds.snapshot()

    def restore(self, snap: Any) -> None:
        self.folds.restore(snap)

    def _convert(
        self, name: str, f: MappedField, src: pa.Array
    ) -> tuple[pa.Array, np.ndarray, str, list[tuple[np.ndarray, str]]]:
        if f.values:
            src, bad_text = _map_values(src, f.values)
        else:
            bad_text = np.zeros(len(src), dtype=bool)
        if name == "surveyed_at":
            fmt = f.format or self.spec.timestamp_format
            arr, bad, more = as_timestamp(src, self.spec.tz, fmt, folds=self.folds, key=name)
            return (
                arr,
                bad | bad_text,
                (
                    f"a timestamp in format {fmt}"
                    if fmt
                    else "an ISO 8601 timestamp, e.g. 2024-01-31T08:15:00"
                ),
                more,
            )
        if name in _SCORES:
            lo, hi = _SCORES[name]
            reason = f"a whole number from {lo} to {hi}"
            if f.values:
                reason += " (after the value map, which does not name this value)"
            arr, bad = as_float(src)
            out_of_range = pc.or_(
                pc.not_equal(pc.floor(arr), arr),
                pc.or_(pc.less(arr, float(lo)), pc.greater(arr, float(hi))),
            )
            bad |= mask(out_of_range) | bad_text
            return arr, bad, reason, []
        arr, bad = as_text(src)
        return (
            arr,
            bad | bad_text,
            ("UTF-8 text; for another encoding say encoding=..., e.g. encoding='latin-1'"),
            [],
        )

    def convert(self, batch: pa.RecordBatch, lines: np.ndarray, extra: list[Reject]) -> Chunk:
        n = batch.num_rows
        cols, raws, checks, whole = gather(
            _FIELDS, self.fields, self.constants, self.names, batch, self._convert
        )
        if "contact_id" in cols:
            checks.append(
                (
                    "contact_id",
                    mask(pc.is_null(cols["contact_id"])),
                    "missing: contact_id is required (the contact the survey rates)",
                )
            )
        elif not any(w[0] == "contact_id" for w in whole):
            whole.append(
                (
                    "contact_id",
                    (
                        "no contact_id column in the file: map one, e.g. "
                        "mapping={contact_id: <column>}"
                    ),
                )
            )
        answers = [a for a in _ANSWERS if a in cols]
        if answers:
            given = pc.is_valid(cols[answers[0]])
            for a in answers[1:]:
                given = pc.or_(given, pc.is_valid(cols[a]))
            checks.append(
                (
                    "/".join(_ANSWERS),
                    mask(pc.invert(given)),
                    "no answer: a survey needs a csat, nps or verbatim value",
                )
            )
        elif not whole:
            whole.append(
                (
                    "/".join(_ANSWERS),
                    (
                        "no csat, nps or verbatim column in the file: "
                        "map one, e.g. mapping={csat: <column>}"
                    ),
                )
            )
        if "source" in cols:
            cols["source"] = pc.coalesce(cols["source"], pa.scalar(NAME))
        else:
            cols["source"] = pa.nulls(n, pa.string()).fill_null(NAME)
        cols["source_ref"] = source_refs(self.ref, lines)

        good, rejects = settle(n, lines, extra, whole, checks, raws)
        return build_chunk("surveys", SURVEYS, cols, good, rejects, n + len(extra))


def _empty(rejects: list[Reject] | None = None) -> Chunk:
    rejects = rejects or []
    return Chunk("surveys", SURVEYS.empty_table(), rejects, len(rejects), 0)


def _file_format(path: Path, spec: _Spec) -> str:
    if spec.file_format is not None:
        return spec.file_format
    suffix = path.suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    with path.open("rb") as fh:
        return "parquet" if fh.read(4) == b"PAR1" else "csv"


class Surveys:
    name = NAME
    description = (
        "Post-contact survey results (CSV or Parquet): csat 1-5, nps 0-10, "
        "verbatim, with a column mapping"
    )
    table = "surveys"

    def read(self, path: Path, options: Mapping[str, Any]) -> Iterator[Chunk]:
        spec = _Spec(options)
        if path.stat().st_size == 0:
            yield _empty()
            return

        def make(names: list[str]) -> _Converter:
            return _Converter(spec, names, path.name)

        reader = parquet_chunks if _file_format(path, spec) == "parquet" else csv_chunks
        yield from reader(path, spec, make)

    def sniff(self, head: bytes) -> bool:
        """A CSV header (or a small Parquet file's schema) with ``contact_id`` and a
        ``csat`` or ``nps`` column."""
        if head.startswith(b"PAR1"):
            return b"contact_id" in head and (b"csat" in head or b"nps" in head)
        names = {n.lower() for n in header_names(head)}
        return "contact_id" in names and bool(names & {"csat", "nps"})


ADAPTER = Surveys()
