"""What an adapter is, and the helpers every adapter uses.

An adapter reads one file of one export format and yields :class:`Chunk`
objects: a batch of canonical rows for one table, the rows it refused (each
with line, field, value and reason), and its own accounting.  Every chunk
must satisfy ``rows_read == batch.num_rows + len(rejects) + duplicates``, so
the warehouse can prove ``read = loaded + rejected + duplicates``.

Adapters live in ``contactops.data.adapters``, one module each, and expose a
module-level ``ADAPTER`` object with ``name``, ``description``, ``table`` and
``read(path, options)``.  They never touch the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

from contactops.data._schema import (
    AGENT_STATES,
    CHANNELS,
    INTERACTIONS,
    INTERVALS,
    OUTCOMES,
    SURVEYS,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path

__all__ = [
    "SCHEMAS",
    "Adapter",
    "Chunk",
    "Reject",
    "RowBuffer",
    "canonical_batch",
]

SCHEMAS: dict[str, pa.Schema] = {
    "interactions": INTERACTIONS,
    "surveys": SURVEYS,
    "intervals": INTERVALS,
    "agent_states": AGENT_STATES,
}
CHUNK_ROWS = 65_536


@dataclass(frozen=True)
class Reject:
    """One refused source row: where it was, which field, what value, why."""

    line: int | None
    field: str | None
    value: str | None
    reason: str


@dataclass
class Chunk:
    """A batch of canonical rows for ``table`` and what the adapter refused."""

    table: str
    batch: pa.Table
    rejects: list[Reject] = field(default_factory=list)
    rows_read: int = 0
    duplicates: int = 0  # rows the adapter itself found superseded (e.g. older record versions)

    def check(self) -> None:
        """The accounting rule every adapter must keep."""
        if self.rows_read != self.batch.num_rows + len(self.rejects) + self.duplicates:
            msg = (
                f"adapter accounting broken: read {self.rows_read} != loaded candidates "
                f"{self.batch.num_rows} + rejected {len(self.rejects)} + duplicates "
                f"{self.duplicates}"
            )
            raise AssertionError(msg)


class Adapter(Protocol):
    """The interface every adapter module's ``ADAPTER`` object has."""

    name: str
    description: str
    table: str

    def read(self, path: Path, options: Mapping[str, Any]) -> Iterator[Chunk]:
        """Yield chunks for the file at ``path``."""
        ...


def canonical_batch(rows: Sequence[Mapping[str, Any]], table: str = "interactions") -> pa.Table:
    """Rows (dicts) to a table with exactly the canonical schema of ``table``.

    Missing columns are null; datetimes must be timezone-aware (UTC).  The
    caller has already validated values (channel, outcome...); this checks
    them again and fails loudly, because a wrong value here is an adapter bug.
    """
    schema = SCHEMAS[table]
    cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
    if table == "interactions":
        for value in cols["channel"]:
            if value not in CHANNELS:
                raise AssertionError(f"adapter produced channel {value!r}")
        for value in cols["outcome"]:
            if value not in OUTCOMES:
                raise AssertionError(f"adapter produced outcome {value!r}")
    return pa.table({f.name: pa.array(cols[f.name], type=f.type) for f in schema}, schema=schema)


class RowBuffer:
    """Collects canonical rows and rejects, and cuts them into chunks.

    >>> buf = RowBuffer("interactions")
    >>> buf.reject(3, "date", "99x", "a date YYMMDD")   # counts as read
    >>> buf.add({...})                                  # counts as read
    >>> yield from buf.flush(final=True)
    """

    def __init__(self, table: str = "interactions", chunk_rows: int = CHUNK_ROWS) -> None:
        self.table = table
        self.chunk_rows = chunk_rows
        self.rows: list[dict[str, Any]] = []
        self.rejects: list[Reject] = []
        self.read = 0
        self.duplicates = 0

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.read += 1

    def reject(self, line: int | None, field_name: str | None, value: Any, reason: str) -> None:
        text = None if value is None else str(value)[:500]
        self.rejects.append(Reject(line, field_name, text, reason))
        self.read += 1

    def duplicate(self, n: int = 1) -> None:
        self.duplicates += n
        self.read += n

    def flush(self, *, final: bool = False) -> Iterator[Chunk]:
        if not final and len(self.rows) < self.chunk_rows:
            return
        if not (self.rows or self.rejects or self.duplicates or final):
            return
        chunk = Chunk(
            self.table,
            canonical_batch(self.rows, self.table),
            self.rejects,
            self.read,
            self.duplicates,
        )
        chunk.check()
        self.rows, self.rejects, self.read, self.duplicates = [], [], 0, 0
        yield chunk


def utc(dt: datetime) -> datetime:
    """A naive datetime read as UTC, or an aware one converted to UTC."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
