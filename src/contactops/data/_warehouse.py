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

from contactops.data._schema import INTERACTIONS, INTERVALS, REJECTS, SURVEYS, ddl
from contactops.data.adapters import get_adapter
from contactops.errors import ContactopsError, InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["DEFAULT_PATH", "IngestReport", "Warehouse"]

DEFAULT_PATH = "contactops.duckdb"

_KEYS = {"interactions": ("source", "contact_id"), "surveys": ("source", "contact_id"),
         "intervals": ("source", "queue", "interval_start")}
_SCHEMAS = {"interactions": INTERACTIONS, "surveys": SURVEYS, "intervals": INTERVALS}


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
        The database file (created when missing); ``":memory:"`` for a
        throwaway one.  Default: ``$CONTACTOPS_WAREHOUSE`` or
        ``./contactops.duckdb``.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            path = os.environ.get("CONTACTOPS_WAREHOUSE", DEFAULT_PATH)
        self.path = str(path)
        try:
            self.con = duckdb.connect(self.path)
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
            # chunks stay Arrow (columnar, not Python objects) until one set-based merge
            batches: list[pa.Table] = []
            reject_tables: list[pa.Table] = []
            adapter_duplicates = 0
            for chunk in adapter.read(path, options):
                chunk.check()
                report.read += chunk.rows_read
                adapter_duplicates += chunk.duplicates
                if chunk.batch.num_rows:
                    batches.append(chunk.batch.select(schema.names).cast(schema))
                if chunk.rejects:
                    reject_tables.append(pa.table({
                        "source": [adapter.name] * len(chunk.rejects),
                        "source_file": [str(path)] * len(chunk.rejects),
                        "line": [r.line for r in chunk.rejects],
                        "field": [r.field for r in chunk.rejects],
                        "value": [r.value for r in chunk.rejects],
                        "reason": [r.reason for r in chunk.rejects],
                    }, schema=REJECTS))
                    report.rejected += len(chunk.rejects)
                if progress is not None:
                    progress(report.read)
            staged = pa.concat_tables(batches) if batches else schema.empty_table()
            # file order, so that of two copies with the same version the first one read wins
            staged = staged.append_column("_pos", pa.array(np.arange(staged.num_rows)))
            con.register("staged", staged)
            con.register("staged_rejects", pa.concat_tables(reject_tables) if reject_tables
                         else REJECTS.empty_table())
            report.loaded, report.replaced = self._merge(table, key, report.ingest_id)
            report.duplicates = report.read - report.loaded - report.rejected
            if report.duplicates < adapter_duplicates:  # checked before anything is kept
                raise ContactopsError("ingest accounting broken: fewer duplicates than the "
                                      "adapter reported")
            con.execute(
                "INSERT INTO rejects SELECT s.*, ?, ? FROM staged_rejects s WHERE NOT EXISTS ("
                "SELECT 1 FROM rejects r WHERE r.source = s.source AND r.source_file = "
                "s.source_file AND r.line IS NOT DISTINCT FROM s.line AND r.field IS NOT "
                "DISTINCT FROM s.field AND r.reason = s.reason)",
                [report.ingest_id, started])
            report.seconds = time.perf_counter() - t0
            con.execute(
                "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [report.ingest_id, str(path), digest.result(), fmt, table, report.read,
                 report.loaded, report.replaced, report.rejected, report.duplicates, started,
                 report.seconds])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            hasher.shutdown(wait=True)
            for view in ("staged", "staged_rejects"):
                with contextlib.suppress(duckdb.Error):  # not registered: the error came first
                    con.unregister(view)
        return report

    def _merge(self, table: str, key: tuple[str, ...], ingest_id: str) -> tuple[int, int]:
        """Collapse repeats in ``staged``, replace older stored versions, insert the new.

        Returns ``(loaded, replaced)``.
        """
        con = self.con
        on = " AND ".join(f"t.{k} = s.{k}" for k in key)
        part = ", ".join(key)
        has_version = table == "interactions"
        order = "version DESC NULLS LAST, _pos" if has_version else "_pos"
        sources = [r[0] for r in con.execute("SELECT DISTINCT source FROM staged").fetchall()]
        # one source (the usual case): distinct ids alone decide.  Counting distinct
        # 64-bit hashes is faster than counting strings and safe: a collision can only
        # make repeats look present, and then the exact window below settles them.
        count_keys = part if len(sources) > 1 or table != "interactions" else "contact_id"
        n_staged, n_keys = con.execute(
            f"SELECT count(*), count(DISTINCT hash({count_keys})) FROM staged").fetchall()[0]
        if n_keys < n_staged:  # repeats in the file: keep the newest version of each
            con.execute(
                "CREATE OR REPLACE TEMP TABLE staged_one AS SELECT * FROM staged QUALIFY "
                f"row_number() OVER (PARTITION BY {part} ORDER BY {order}) = 1")
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
                                        "interactions, surveys, intervals, rejects, ingests")
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
