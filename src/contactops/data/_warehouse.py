"""The embedded DuckDB warehouse: canonical tables, ingest with full accounting.

One file per workspace (default ``./contactops.duckdb``).  An ingest streams
an adapter's chunks into temporary staging tables, then, in the same
transaction, collapses repeats, replaces older versions of a record, inserts
what is new and stores the rejects; an error anywhere rolls everything back.
Ingesting the same file again adds nothing: a contact leg is identified by
``(source, contact_id)`` and a reject by its source file, line, field and
reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from contactops.data._schema import (
    AGENT_STATES,
    INTERACTIONS,
    INTERVALS,
    REJECTS,
    SURVEYS,
    ddl,
)
from contactops.data.adapters import get_adapter
from contactops.errors import (
    ContactopsError,
    InvalidParameterError,
    WarehouseBusyError,
    WarehouseNotFoundError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from contactops.data._adapter import Chunk

__all__ = ["DEFAULT_PATH", "IngestReport", "Warehouse"]

DEFAULT_PATH = "contactops.duckdb"

_KEYS = {"interactions": ("source", "contact_id"), "surveys": ("source", "contact_id"),
         "intervals": ("source", "queue", "interval_start"),
         "agent_states": ("source", "agent_id", "started_at")}
_SCHEMAS = {"interactions": INTERACTIONS, "surveys": SURVEYS, "intervals": INTERVALS,
            "agent_states": AGENT_STATES}
# which of a file's repeats of a key is kept: the newest version, else the first read
# (``_pos``); of two state spans starting together, the longer (a zero-length logout
# followed by a login at the same instant keeps the login)
_KEEP = {"interactions": "version DESC NULLS LAST, _pos",
         "agent_states": "ended_at - started_at DESC, _pos"}


@dataclass
class IngestReport:
    """What one ingest did.  ``read == loaded + rejected + duplicates`` always."""

    source_file: str
    format: str
    table: str
    read: int = 0
    loaded: int = 0
    replaced: int = 0  # of ``loaded``: newer versions that replaced stored records
    rejected: int = 0
    duplicates: int = 0
    seconds: float = 0.0
    ingest_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Warehouse:
    """An embedded DuckDB database with the canonical tables.

    Parameters
    ----------
    path : str or Path, optional
        The database file; ``":memory:"`` for a throwaway one.  Default:
        ``$CONTACTOPS_WAREHOUSE`` or ``./contactops.duckdb``.
    create : bool, default True
        Create the file when it is missing.  Code that only reads passes
        ``False``: a missing file is then :class:`WarehouseNotFoundError`
        instead of a new empty warehouse.

    Raises
    ------
    WarehouseNotFoundError
        ``create=False`` and no file at ``path``.
    WarehouseBusyError
        Another process holds the file (DuckDB allows one writer process).
    InvalidParameterError
        The file is not a DuckDB database.
    """

    def __init__(self, path: str | Path | None = None, *, create: bool = True) -> None:
        if path is None:
            path = os.environ.get("CONTACTOPS_WAREHOUSE", DEFAULT_PATH)
        self.path = str(path)
        if not create and self.path != ":memory:" and not Path(self.path).is_file():
            raise WarehouseNotFoundError(self.path)
        try:
            self.con = duckdb.connect(self.path)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise WarehouseBusyError(self.path, str(exc)) from exc
            raise InvalidParameterError("path", self.path, "a DuckDB database file",
                                        f"DuckDB could not open it: {exc}") from exc
        except duckdb.Error as exc:
            raise InvalidParameterError("path", self.path, "a DuckDB database file",
                                        f"DuckDB could not open it: {exc}") from exc
        # rows carry no meaning in their stored order (every read orders explicitly);
        # letting DuckDB write them in any order makes large loads ~25% faster
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute("SET enable_progress_bar = false")  # the CLI draws its own
        for name, schema in _SCHEMAS.items():
            extra = "ingest_id VARCHAR" if name == "interactions" else ""
            self.con.execute(ddl(name, schema, extra))
        # columns added since a warehouse file was created (inserts name their columns)
        self.con.execute("ALTER TABLE intervals ADD COLUMN IF NOT EXISTS staffed_s DOUBLE")
        self.con.execute(ddl("rejects", REJECTS, "ingest_id VARCHAR, rejected_at TIMESTAMPTZ"))
        # the content of the file a reject came from: its identity, whatever the path
        self.con.execute("ALTER TABLE rejects ADD COLUMN IF NOT EXISTS file_sha256 VARCHAR")
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS ingests (ingest_id VARCHAR, source_file VARCHAR, "
            "sha256 VARCHAR, format VARCHAR, target VARCHAR, read BIGINT, loaded BIGINT, "
            "replaced BIGINT, rejected BIGINT, duplicates BIGINT, started_at TIMESTAMPTZ, "
            "seconds DOUBLE)")

    # -- context manager ------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- ingest ---------------------------------------------------------------------------
    def ingest(self, source: str | Path | Iterable[str | Path], format: str,
               progress: Callable[[int], None] | None = None,
               **options: Any) -> IngestReport | list[IngestReport]:
        """Load one file (or several) of the given export ``format``.

        Returns the :class:`IngestReport` (a list of them for several files).
        ``progress`` is called with the number of source rows read so far.
        ``options`` go to the adapter (e.g. ``mapping=...`` for flat files).
        """
        if isinstance(source, str | Path):
            return self._ingest_one(Path(source), format, progress, options)
        return [self._ingest_one(Path(p), format, progress, options) for p in source]

    def _ingest_one(self, path: Path, fmt: str, progress: Callable[[int], None] | None,
                    options: dict[str, Any]) -> IngestReport:
        adapter = get_adapter(fmt)
        if not path.is_file():
            raise InvalidParameterError("source", str(path), "an existing file",
                                        "Check the path.")
        table = adapter.table
        key = _KEYS[table]
        schema = _SCHEMAS[table]
        report = IngestReport(str(path), fmt, table, ingest_id=uuid.uuid4().hex[:16])
        started = datetime.now(tz=UTC)
        t0 = time.perf_counter()
        con = self.con
        # the file's hash (lineage) is computed alongside the read; hashlib releases the GIL
        hasher = ThreadPoolExecutor(max_workers=1)
        digest = hasher.submit(_sha256, path)
        con.execute("BEGIN TRANSACTION")
        try:
            def open_feed(progress: Callable[[int], None] | None) -> _Feed:
                return _Feed(adapter.read(path, options), adapter.name, str(path), schema,
                             progress)

            feed = open_feed(progress)
            streamed = table == "interactions" and self._stream(feed, key, report.ingest_id)
            if streamed is None:
                # the file repeats a record, or one that is stored: start again, staged
                con.execute("ROLLBACK")
                con.execute("BEGIN TRANSACTION")
                # progress reports rows read so far: held at the first pass's count
                # until the second catches up, never sent back to the start
                floor = feed.read
                feed = open_feed(None if progress is None else
                                 lambda n: progress(max(n, floor)))
                streamed = False
            if streamed:
                report.loaded = feed.streamed
            else:
                # chunks stay Arrow (columnar, not Python objects) until one set-based merge
                batches = list(feed.batches())
                staged = pa.Table.from_batches(batches, schema) if batches \
                    else schema.empty_table()
                # file order, so that of two copies with the same version the first read wins
                staged = staged.append_column("_pos", pa.array(np.arange(staged.num_rows)))
                con.register("staged", staged)
                report.loaded, report.replaced = self._merge(table, key, report.ingest_id)
            report.read, report.rejected = feed.read, feed.rejected
            report.duplicates = report.read - report.loaded - report.rejected
            if report.duplicates < feed.duplicates:  # checked before anything is kept
                raise ContactopsError("ingest accounting broken: fewer duplicates than the "
                                      "adapter reported")
            con.register("staged_rejects", pa.concat_tables(feed.rejects) if feed.rejects
                         else REJECTS.empty_table())
            # a reject is stored once per file content (the same file by another path
            # adds nothing; another file at the same path is another file); rejects
            # stored before file_sha256 existed are matched by path
            sha = digest.result()
            con.execute(
                f"INSERT INTO rejects ({', '.join(REJECTS.names)}, ingest_id, rejected_at, "
                "file_sha256) SELECT s.*, $id, $at, $sha FROM staged_rejects s WHERE NOT "
                "EXISTS (SELECT 1 FROM rejects r WHERE r.source = s.source AND (r.file_sha256 "
                "= $sha OR (r.file_sha256 IS NULL AND r.source_file = s.source_file)) AND "
                "r.line IS NOT DISTINCT FROM s.line AND r.field IS NOT DISTINCT FROM s.field "
                "AND r.reason = s.reason)", {"id": report.ingest_id, "at": started, "sha": sha})
            report.seconds = time.perf_counter() - t0
            con.execute(
                "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [report.ingest_id, str(path), sha, fmt, table, report.read,
                 report.loaded, report.replaced, report.rejected, report.duplicates, started,
                 report.seconds])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            hasher.shutdown(wait=True)
            for view in ("staged", "staged_rejects", "streamed"):
                with contextlib.suppress(duckdb.Error):  # not registered: the error came first
                    con.unregister(view)
        return report

    def _stream(self, feed: _Feed, key: tuple[str, ...], ingest_id: str) -> bool | None:
        """Insert the feed's rows straight into ``interactions``, if that is all there is to do.

        Streaming lets DuckDB compress and write one batch while the adapter converts
        the next, and never holds the file in memory: about 30% faster than staging
        on 2 cores.  It is only right when the file repeats no record and none of its
        records is stored yet; then the merge would be a plain append.  Returns False
        (nothing done) when the first batch already overlaps the stored records, None
        when a repeat or an overlap shows after streaming (the caller rolls back and
        stages), True when the rows are in.
        """
        con = self.con
        first = feed.peek()
        if first is None:
            return False  # nothing to load: the staged path is as cheap
        on = " AND ".join(f"t.{k} = f.{k}" for k in key)
        con.register("streamed", first)
        overlap = con.execute(f"SELECT EXISTS (SELECT 1 FROM streamed f JOIN interactions t "
                              f"ON {on})").fetchall()[0][0]
        con.unregister("streamed")
        if overlap:  # e.g. the same file again: stage without a wasted pass
            return False
        names = list(INTERACTIONS.names)
        con.register("streamed", pa.RecordBatchReader.from_batches(INTERACTIONS,
                                                                   feed.batches()))
        try:
            feed.streamed = int(con.execute(
                f"INSERT INTO interactions ({', '.join(names)}, ingest_id) "
                f"SELECT {', '.join(names)}, ? FROM streamed", [ingest_id]).fetchall()[0][0])
        except duckdb.Error:
            if feed.error is not None:  # the adapter's own error, not DuckDB's wrapper of it
                raise feed.error from None
            raise
        con.unregister("streamed")  # (after an error, the caller's cleanup unregisters it)
        # the checks the staged merge makes before it appends, made after: repeats in the
        # file, then records of the same sources stored by earlier ingests
        sources = sorted(feed.sources)
        n_keys = con.execute(f"SELECT count(DISTINCT hash({_hashed_key(key, sources)})) "
                             "FROM interactions WHERE ingest_id = ?",
                             [ingest_id]).fetchall()[0][0]
        if n_keys < feed.streamed:
            return None
        placeholders = ", ".join("?" for _ in sources)
        older = f"source IN ({placeholders}) AND ingest_id IS DISTINCT FROM ?"
        if con.execute(f"SELECT count(*) FROM interactions WHERE {older}",
                       [*sources, ingest_id]).fetchall()[0][0]:
            clash = con.execute(
                f"SELECT EXISTS (SELECT 1 FROM interactions f JOIN (SELECT {', '.join(key)} "
                f"FROM interactions WHERE {older}) t ON {on} WHERE f.ingest_id = ?)",
                [*sources, ingest_id, ingest_id]).fetchall()[0][0]
            if clash:
                return None
        return True

    def _merge(self, table: str, key: tuple[str, ...], ingest_id: str) -> tuple[int, int]:
        """Collapse repeats in ``staged``, replace older stored versions, insert the new.

        Returns ``(loaded, replaced)``.
        """
        con = self.con
        on = " AND ".join(f"t.{k} = s.{k}" for k in key)
        part = ", ".join(key)
        has_version = table == "interactions"
        sources = [r[0] for r in con.execute("SELECT DISTINCT source FROM staged").fetchall()]
        n_staged, n_keys = con.execute(
            f"SELECT count(*), count(DISTINCT hash({_hashed_key(key, sources)})) FROM staged"
        ).fetchall()[0]
        if n_keys < n_staged:  # repeats in the file: keep one of each (see _KEEP)
            con.execute(
                "CREATE OR REPLACE TEMP TABLE staged_one AS SELECT * FROM staged QUALIFY "
                f"row_number() OVER (PARTITION BY {part} ORDER BY {_KEEP.get(table, '_pos')})"
                " = 1")
            source = "staged_one"
        else:
            source = "staged"
        replaced = 0
        extra = ", ?" if table == "interactions" else ""
        params = [ingest_id] if table == "interactions" else []
        names = list(_SCHEMAS[table].names)
        target = f"{table} (" + ", ".join(names + (["ingest_id"] if extra else [])) + ")"
        picked = ", ".join(f"s.{n}" for n in names)
        placeholders = ", ".join("?" for _ in sources) or "NULL"
        overlap = con.execute(f"SELECT count(*) FROM {table} WHERE source IN ({placeholders})",
                              sources).fetchall()[0][0]
        if not overlap:  # nothing of these sources stored yet: a plain append
            loaded = int(con.execute(
                f"INSERT INTO {target} SELECT {picked}{extra} FROM {source} s",
                params).fetchall()[0][0])
            con.execute("DROP TABLE IF EXISTS staged_one")
            return loaded, 0
        if has_version:
            replaced = int(con.execute(
                f"DELETE FROM {table} t USING {source} s WHERE {on} AND s.version IS NOT NULL "
                "AND (t.version IS NULL OR s.version > t.version)").fetchall()[0][0])
        else:
            # no versions (interval reports, agent states, surveys): a later export that
            # restates a record replaces it, e.g. an interval or a state span that was still
            # open when the earlier export was cut; the same record again adds nothing
            differs = " OR ".join(f"t.{c} IS DISTINCT FROM s.{c}" for c in names
                                  if c not in key and c != "source_ref")
            replaced = int(con.execute(
                f"DELETE FROM {table} t USING {source} s WHERE {on} AND ({differs})"
            ).fetchall()[0][0])
        loaded = int(con.execute(
            f"INSERT INTO {target} SELECT {picked}{extra} FROM {source} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {on})", params
        ).fetchall()[0][0])
        con.execute("DROP TABLE IF EXISTS staged_one")
        return loaded, replaced

    # -- reading ---------------------------------------------------------------------------
    def sql(self, query: str, params: list[Any] | None = None) -> pa.Table:
        """Run a query and return an Arrow table."""
        return self.con.sql(query, params=params or None).to_arrow_table()

    def interactions(self) -> pa.Table:
        return self.sql("SELECT * EXCLUDE (version, ingest_id) FROM interactions "
                        "ORDER BY source, contact_id")

    def rejects(self) -> pa.Table:
        return self.sql("SELECT * FROM rejects ORDER BY source_file, line, field, reason, value")

    def ingests(self) -> pa.Table:
        return self.sql("SELECT * FROM ingests ORDER BY started_at")

    def count(self, table: str = "interactions") -> int:
        if table not in (*_SCHEMAS, "rejects", "ingests"):
            raise InvalidParameterError("table", table, "a warehouse table",
                                        ", ".join((*_SCHEMAS, "rejects", "ingests")))
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


class _Feed:
    """An adapter's chunks as record batches of ``schema``, with the accounting kept.

    Counts rows read and the adapter's own duplicates, keeps the rejects as Arrow
    tables and the sources seen, and reports progress.  An exception raised while
    DuckDB pulls the batches is kept in ``error`` (DuckDB re-raises its own type).
    """

    def __init__(self, chunks: Iterator[Chunk], adapter: str, source_file: str,
                 schema: pa.Schema, progress: Callable[[int], None] | None) -> None:
        self._chunks = chunks
        self._adapter = adapter
        self._file = source_file
        self._schema = schema
        self._progress = progress
        self._pending: list[pa.RecordBatch] = []
        self.read = 0
        self.duplicates = 0
        self.rejected = 0
        self.streamed = 0
        self.rejects: list[pa.Table] = []
        self.sources: set[str] = set()
        self.error: BaseException | None = None

    def _next(self) -> list[pa.RecordBatch] | None:
        """The batches of the next chunk (maybe none), or None at the end."""
        chunk = next(self._chunks, None)
        if chunk is None:
            return None
        chunk.check()
        self.read += chunk.rows_read
        self.duplicates += chunk.duplicates
        if chunk.rejects:
            n = len(chunk.rejects)
            self.rejects.append(pa.table({
                "source": [self._adapter] * n, "source_file": [self._file] * n,
                "line": [r.line for r in chunk.rejects],
                "field": [r.field for r in chunk.rejects],
                "value": [r.value for r in chunk.rejects],
                "reason": [r.reason for r in chunk.rejects]}, schema=REJECTS))
            self.rejected += n
        if self._progress is not None:
            self._progress(self.read)
        if not chunk.batch.num_rows:
            return []
        batch = chunk.batch.select(self._schema.names).cast(self._schema)
        if "source" in self._schema.names:
            self.sources.update(pc.unique(batch.column("source")).to_pylist())
        batches: list[pa.RecordBatch] = batch.to_batches()
        return batches

    def peek(self) -> pa.Table | None:
        """The first rows (read ahead and kept for :meth:`batches`), or None if there are none."""
        while not self._pending:
            got = self._next()
            if got is None:
                return None
            self._pending = got
        return pa.Table.from_batches(self._pending, self._schema)

    def batches(self) -> Iterator[pa.RecordBatch]:
        try:
            yield from self._pending
            self._pending = []
            while (got := self._next()) is not None:
                yield from got
        except BaseException as exc:
            self.error = exc
            raise


def _hashed_key(key: tuple[str, ...], sources: list[str]) -> str:
    """The key columns hashed to count distinct records (``source`` adds nothing when
    the rows hold one).  Counting distinct 64-bit hashes is faster than counting the
    values and safe: a collision can only make repeats look present, and then the
    exact path settles them."""
    return ", ".join(k for k in key if len(sources) > 1 or k != "source")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
