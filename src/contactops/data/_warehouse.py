"""The embedded DuckDB warehouse: canonical tables, ingest with full accounting.

One file per workspace (default ``./contactops.duckdb``).  An ingest streams
an adapter's chunks through the invariant guard (a row that breaks the
record's rules is a reject, whatever the adapter did) into temporary staging
tables, then, in the same transaction, collapses repeats, replaces older
versions of a record, inserts what is new and stores the rejects; an error
anywhere rolls everything back.  Ingests of one database file are serialised
within a process.  Ingesting the same file again adds nothing: a contact leg
is identified by ``(source, contact_id)`` and a reject by its source file,
line, field and reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
import threading
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
    AGENT_STATE_CATEGORIES,
    AGENT_STATES,
    CHANNELS,
    INTERACTIONS,
    INTERVALS,
    MAX_DURATION_S,
    MAX_TS,
    MIN_TS,
    OUTCOMES,
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

_KEYS = {
    "interactions": ("source", "contact_id"),
    "surveys": ("source", "contact_id"),
    "intervals": ("source", "queue", "interval_start"),
    "agent_states": ("source", "agent_id", "started_at"),
}
_SCHEMAS = {
    "interactions": INTERACTIONS,
    "surveys": SURVEYS,
    "intervals": INTERVALS,
    "agent_states": AGENT_STATES,
}
# which of a file's repeats of a key is kept: the newest version, else the first read
# (``_pos``); of two state spans starting together, the longer (a zero-length logout
# followed by a login at the same instant keeps the login)
_KEEP = {
    "interactions": "version DESC NULLS LAST, _pos",
    "agent_states": "ended_at - started_at DESC, _pos",
}
# the tables whose records carry no version of their own: each stored record's version
# (the ``as_of`` time of the export it came from) and ingest are kept beside it, in
# ``<table>_lineage`` keyed like the table, so the canonical tables keep their columns
_RESTATED = ("surveys", "intervals", "agent_states")


@dataclass
class IngestReport:
    """What one ingest did.  ``read == loaded + rejected + duplicates`` always.

    ``replaced`` counts, of ``loaded``, the rows that replaced a stored record (a
    newer version).  ``removed`` counts stored contact legs deleted because a newer
    snapshot of their conversation no longer has them (Genesys); they are not rows
    of this file, so not part of ``read``.  ``timezone`` is the IANA zone the adapter
    read local times in (None: the times carried their own offsets); ``as_of`` the
    version given to the file's interval reports, surveys or agent states.
    """

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
    removed: int = 0  # stored legs a newer snapshot of their conversation dropped
    timezone: str | None = None
    as_of: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- one lock per database file, for the ingests of this process ----------------------------
_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(key: str) -> threading.RLock:
    with _LOCKS_GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            lock = _LOCKS[key] = threading.RLock()
        return lock


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

    Notes
    -----
    Several ``Warehouse`` objects of one process may open the same file (DuckDB
    shares one database between them) and be used from several threads: their
    ingests are serialised by a lock keyed by the file's resolved path, and each
    ingest runs on its own cursor, in its own transaction.
    """

    def __init__(self, path: str | Path | None = None, *, create: bool = True) -> None:
        if path is None:
            path = os.environ.get("CONTACTOPS_WAREHOUSE", DEFAULT_PATH)
        self.path = str(path)
        # this open makes the file (a caller whose first load is refused may remove it)
        self.created = self.path != ":memory:" and not Path(self.path).exists()
        if not create and self.path != ":memory:" and not Path(self.path).is_file():
            raise WarehouseNotFoundError(self.path)
        if self.path == ":memory:":
            target, key = self.path, f":memory:{id(self)}"
        else:  # one spelling per file, so that DuckDB shares one database in this process
            target = key = str(Path(self.path).resolve())
        self._lock = _lock_for(key)
        try:
            self.con = duckdb.connect(target)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise WarehouseBusyError(self.path, str(exc)) from exc
            raise InvalidParameterError(
                "path", self.path, "a DuckDB database file", f"DuckDB could not open it: {exc}"
            ) from exc
        except duckdb.Error as exc:
            raise InvalidParameterError(
                "path", self.path, "a DuckDB database file", f"DuckDB could not open it: {exc}"
            ) from exc
        with self._lock:
            self._create_tables()

    def _create_tables(self) -> None:
        con = self.con
        # rows carry no meaning in their stored order (every read orders explicitly);
        # letting DuckDB write them in any order makes large loads ~25% faster
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")  # the CLI draws its own
        for name, schema in _SCHEMAS.items():
            extra = "ingest_id VARCHAR" if name == "interactions" else ""
            con.execute(ddl(name, schema, extra))
        for name in _RESTATED:
            keys = [_SCHEMAS[name].field(k) for k in _KEYS[name]]
            con.execute(
                ddl(f"{name}_lineage", pa.schema(keys), "version TIMESTAMPTZ, ingest_id VARCHAR")
            )
        # columns added since a warehouse file was created (inserts name their columns)
        con.execute("ALTER TABLE intervals ADD COLUMN IF NOT EXISTS staffed_s DOUBLE")
        con.execute(ddl("rejects", REJECTS, "ingest_id VARCHAR, rejected_at TIMESTAMPTZ"))
        # the content of the file a reject came from: its identity, whatever the path
        con.execute("ALTER TABLE rejects ADD COLUMN IF NOT EXISTS file_sha256 VARCHAR")
        con.execute(
            "CREATE TABLE IF NOT EXISTS ingests (ingest_id VARCHAR, source_file VARCHAR, "
            "sha256 VARCHAR, format VARCHAR, target VARCHAR, read BIGINT, loaded BIGINT, "
            "replaced BIGINT, rejected BIGINT, duplicates BIGINT, started_at TIMESTAMPTZ, "
            "seconds DOUBLE)"
        )
        for column in ("removed BIGINT", "timezone VARCHAR", "as_of TIMESTAMPTZ"):
            con.execute(f"ALTER TABLE ingests ADD COLUMN IF NOT EXISTS {column}")

    # -- context manager ------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- ingest ---------------------------------------------------------------------------
    def ingest(
        self,
        source: str | Path | Iterable[str | Path],
        /,
        format: str,
        progress: Callable[[int], None] | None = None,
        **options: Any,
    ) -> IngestReport | list[IngestReport]:
        """Load one file (or several) of the given export ``format``.

        Returns the :class:`IngestReport` (a list of them for several files).
        ``progress`` is called with the number of source rows read so far.
        ``options`` go to the adapter (e.g. ``mapping=...`` for flat files), except
        ``as_of``: for interval reports, surveys and agent states, the time the
        export was taken (an ISO 8601 timestamp or an aware datetime; naive is UTC;
        default: the file's modification time).  A restated record replaces the
        stored one only when its export is strictly newer.
        """
        if isinstance(source, str | Path):
            return self._ingest_one(Path(source), format, progress, options)
        return [self._ingest_one(Path(p), format, progress, options) for p in source]

    def _ingest_one(
        self, path: Path, fmt: str, progress: Callable[[int], None] | None, options: dict[str, Any]
    ) -> IngestReport:
        adapter = get_adapter(fmt)
        if not path.is_file():
            raise InvalidParameterError("source", str(path), "an existing file", "Check the path.")
        table = adapter.table
        options = dict(options)
        given = options.pop("as_of", None)  # the warehouse's option, not the adapter's
        as_of_option = _as_of(given)
        if as_of_option is not None and table not in _RESTATED:
            raise InvalidParameterError(
                "as_of",
                given,
                "given only for interval reports, surveys and agent states",
                "Contact legs carry their own version (e.g. their last update); leave as_of out.",
            )
        snapshot = getattr(adapter, "snapshot_of", None)
        if snapshot is not None and (table != "interactions" or snapshot not in INTERACTIONS.names):
            raise ContactopsError(
                f"adapter {adapter.name!r}: snapshot_of={snapshot!r} is "
                "not a column of interactions"
            )
        zone = options.get("timezone") or getattr(adapter, "default_timezone", None)
        report = IngestReport(
            str(path),
            fmt,
            table,
            ingest_id=uuid.uuid4().hex[:16],
            timezone=None if zone is None else str(zone),
        )
        with self._lock:
            return self._load(path, adapter, options, progress, report, as_of_option, snapshot)

    def _load(
        self,
        path: Path,
        adapter: Any,
        options: dict[str, Any],
        progress: Callable[[int], None] | None,
        report: IngestReport,
        as_of: datetime | None,
        snapshot: str | None,
    ) -> IngestReport:
        table = report.table
        key = _KEYS[table]
        schema = _SCHEMAS[table]
        started = datetime.now(tz=UTC)
        t0 = time.perf_counter()
        mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        # a cursor of its own: its transaction is not shared with other users of self.con
        con = self.con.cursor()
        # the file's hash (lineage) is computed alongside the read; hashlib releases the GIL
        hasher = ThreadPoolExecutor(max_workers=1)
        digest = hasher.submit(_sha256, path)
        con.execute("BEGIN TRANSACTION")
        try:

            def open_feed(progress: Callable[[int], None] | None) -> _Feed:
                return _Feed(
                    adapter.read(path, options), adapter.name, str(path), table, schema, progress
                )

            feed = open_feed(progress)
            streamed = (
                table == "interactions"
                and snapshot is None
                and self._stream(con, feed, key, report.ingest_id)
            )
            if streamed is None:
                # the file repeats a record, or one that is stored: start again, staged
                con.execute("ROLLBACK")
                con.execute("BEGIN TRANSACTION")
                # progress reports rows read so far: held at the first pass's count
                # until the second catches up, never sent back to the start
                floor = feed.read
                feed = open_feed(None if progress is None else lambda n: progress(max(n, floor)))
                streamed = False
            if streamed:
                report.loaded = feed.streamed
            else:
                # chunks stay Arrow (columnar, not Python objects) until one set-based merge
                batches = list(feed.batches())
                staged = pa.Table.from_batches(batches, schema) if batches else schema.empty_table()
                # file order, so that of two copies with the same version the first read wins
                staged = staged.append_column("_pos", pa.array(np.arange(staged.num_rows)))
                con.register("staged", staged)
                if table in _RESTATED:
                    version = self._version_of(con, digest.result(), table, as_of or mtime)
                    report.as_of = version
                    if version is None:  # loaded before versions were kept: as it is
                        report.loaded = report.replaced = 0
                    else:
                        report.loaded, report.replaced = _merge_restated(
                            con, table, key, version, report.ingest_id
                        )
                else:
                    report.loaded, report.replaced, report.removed = _merge_versioned(
                        con, key, report.ingest_id, snapshot
                    )
            report.read, report.rejected = feed.read, feed.rejected
            report.duplicates = report.read - report.loaded - report.rejected
            if report.duplicates < feed.duplicates:  # checked before anything is kept
                raise ContactopsError(
                    "ingest accounting broken: fewer duplicates than the adapter reported"
                )
            con.register(
                "staged_rejects",
                pa.concat_tables(feed.rejects) if feed.rejects else REJECTS.empty_table(),
            )
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
                "AND r.reason = s.reason)",
                {"id": report.ingest_id, "at": started, "sha": sha},
            )
            report.seconds = time.perf_counter() - t0
            con.execute(
                "INSERT INTO ingests (ingest_id, source_file, sha256, format, target, read, "
                "loaded, replaced, rejected, duplicates, started_at, seconds, removed, "
                "timezone, as_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    report.ingest_id,
                    str(path),
                    sha,
                    report.format,
                    table,
                    report.read,
                    report.loaded,
                    report.replaced,
                    report.rejected,
                    report.duplicates,
                    started,
                    report.seconds,
                    report.removed,
                    report.timezone,
                    report.as_of,
                ],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            hasher.shutdown(wait=True)
            for view in ("staged", "staged_rejects", "streamed"):
                with contextlib.suppress(duckdb.Error):  # not registered: the error came first
                    con.unregister(view)
            con.close()
        return report

    @staticmethod
    def _version_of(
        con: duckdb.DuckDBPyConnection, sha: str, table: str, as_of: datetime
    ) -> datetime | None:
        """The version of a file's records: ``as_of``, unless the same content was
        loaded into ``table`` before; then the version it got then (None when that
        load predates versions), so that loading it again never beats anything."""
        before = con.execute(
            "SELECT count(*), min(as_of) FROM ingests WHERE sha256 = ? AND target = ?", [sha, table]
        ).fetchall()[0]
        if not before[0]:
            return as_of
        return None if before[1] is None else before[1].astimezone(UTC)

    def _stream(
        self, con: duckdb.DuckDBPyConnection, feed: _Feed, key: tuple[str, ...], ingest_id: str
    ) -> bool | None:
        """Insert the feed's rows straight into ``interactions``, if that is all there is to do.

        Streaming lets DuckDB compress and write one batch while the adapter converts
        the next, and never holds the file in memory: about 30% faster than staging
        on 2 cores.  It is only right when the file repeats no record and none of its
        records is stored yet; then the merge would be a plain append.  Returns False
        (nothing done) when the first batch already overlaps the stored records, None
        when a repeat or an overlap shows after streaming (the caller rolls back and
        stages), True when the rows are in.
        """
        first = feed.peek()
        if first is None:
            return False  # nothing to load: the staged path is as cheap
        on = " AND ".join(f"t.{k} = f.{k}" for k in key)
        con.register("streamed", first)
        overlap = con.execute(
            f"SELECT EXISTS (SELECT 1 FROM streamed f JOIN interactions t ON {on})"
        ).fetchall()[0][0]
        con.unregister("streamed")
        if overlap:  # e.g. the same file again: stage without a wasted pass
            return False
        names = list(INTERACTIONS.names)
        con.register("streamed", pa.RecordBatchReader.from_batches(INTERACTIONS, feed.batches()))
        try:
            feed.streamed = int(
                con.execute(
                    f"INSERT INTO interactions ({', '.join(names)}, ingest_id) "
                    f"SELECT {', '.join(names)}, ? FROM streamed",
                    [ingest_id],
                ).fetchall()[0][0]
            )
        except duckdb.Error:
            if feed.error is not None:  # the adapter's own error, not DuckDB's wrapper of it
                raise feed.error from None
            raise
        con.unregister("streamed")  # (after an error, the caller's cleanup unregisters it)
        # the checks the staged merge makes before it appends, made after: repeats in the
        # file, then records of the same sources stored by earlier ingests
        sources = sorted(feed.sources)
        n_keys = con.execute(
            f"SELECT count(DISTINCT hash({_hashed_key(key, sources)})) "
            "FROM interactions WHERE ingest_id = ?",
            [ingest_id],
        ).fetchall()[0][0]
        if n_keys < feed.streamed:
            return None
        placeholders = ", ".join("?" for _ in sources)
        older = f"source IN ({placeholders}) AND ingest_id IS DISTINCT FROM ?"
        if con.execute(
            f"SELECT count(*) FROM interactions WHERE {older}", [*sources, ingest_id]
        ).fetchall()[0][0]:
            clash = con.execute(
                f"SELECT EXISTS (SELECT 1 FROM interactions f JOIN (SELECT {', '.join(key)} "
                f"FROM interactions WHERE {older}) t ON {on} WHERE f.ingest_id = ?)",
                [*sources, ingest_id, ingest_id],
            ).fetchall()[0][0]
            if clash:
                return None
        return True

    # -- reading ---------------------------------------------------------------------------
    def sql(self, query: str, params: list[Any] | None = None) -> pa.Table:
        """Run a query and return an Arrow table."""
        return self.con.sql(query, params=params or None).to_arrow_table()

    def interactions(self) -> pa.Table:
        return self.sql(
            "SELECT * EXCLUDE (version, ingest_id) FROM interactions ORDER BY source, contact_id"
        )

    def rejects(self) -> pa.Table:
        return self.sql("SELECT * FROM rejects ORDER BY source_file, line, field, reason, value")

    def ingests(self) -> pa.Table:
        return self.sql("SELECT * FROM ingests ORDER BY started_at")

    def count(self, table: str = "interactions") -> int:
        if table not in (*_SCHEMAS, "rejects", "ingests"):
            raise InvalidParameterError(
                "table", table, "a warehouse table", ", ".join((*_SCHEMAS, "rejects", "ingests"))
            )
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])

    # -- the zone of the data ----------------------------------------------------------------
    def data_timezones(self) -> dict[str, str]:
        """Queue -> the IANA zone its stored data was read in.

        A queue's zone is the one zone recorded by the ingests its stored contact
        legs, interval reports and agent state spans came from (ingests whose times
        carried their own offsets record none).  Queues with no recorded zone, or
        with data read in different zones, are left out.
        """
        zones: dict[str, set[str]] = {}
        for queue, zone in self._zone_pairs():
            if queue is not None and zone is not None:
                zones.setdefault(queue, set()).add(zone)
        return {q: next(iter(z)) for q, z in sorted(zones.items()) if len(z) == 1}

    def data_timezone(self, queues: str | Iterable[str] | None = None) -> str | None:
        """The one IANA zone the stored data (or that of ``queues``) was read in.

        None when no ingest of that data recorded a zone (e.g. every timestamp
        carried its own UTC offset) or when the data was read in more than one
        zone (see :meth:`data_timezones` for the zone of each queue).
        """
        wanted = (
            None
            if queues is None
            else ({queues} if isinstance(queues, str) else {str(q) for q in queues})
        )
        zones = {
            zone
            for queue, zone in self._zone_pairs()
            if zone is not None and (wanted is None or queue in wanted)
        }
        return next(iter(zones)) if len(zones) == 1 else None

    def _zone_pairs(self) -> list[tuple[str | None, str | None]]:
        """Distinct (queue, zone) of the stored data's ingests (surveys: no queue)."""

        def joined(table: str, queue: str) -> str:
            using = ", ".join(_KEYS[table])
            return (
                f"SELECT DISTINCT {queue} AS queue, m.ingest_id FROM {table} t "
                f"JOIN {table}_lineage m USING ({using})"
            )

        used = " UNION ".join(
            [
                "SELECT DISTINCT queue, ingest_id FROM interactions",
                joined("intervals", "t.queue"),
                joined("agent_states", "t.queue"),
                joined("surveys", "NULL::VARCHAR"),
            ]
        )
        return [
            (q, z)
            for q, z in self.con.execute(
                f"SELECT DISTINCT u.queue, g.timezone FROM ({used}) u "
                "JOIN ingests g USING (ingest_id)"
            ).fetchall()
        ]


def _as_of(value: Any) -> datetime | None:
    """The ``as_of`` option as an aware UTC datetime (naive is UTC), None if not given."""
    if value is None:
        return None
    rule = "an ISO 8601 timestamp, e.g. 2024-03-05T18:00:00Z"
    fix = "Give the time the export was taken; leave it out to use the file's modification time."
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidParameterError("as_of", value, rule, fix) from None
    else:
        raise InvalidParameterError("as_of", value, rule, fix)
    try:
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (OverflowError, ValueError):  # e.g. 0001-01-01T00:00+01:00 before year 1 in UTC
        raise InvalidParameterError(
            "as_of", value, rule + " between years 1 and 9999 UTC", fix
        ) from None


def _merge_versioned(
    con: duckdb.DuckDBPyConnection, key: tuple[str, ...], ingest_id: str, snapshot: str | None
) -> tuple[int, int, int]:
    """Merge ``staged`` contact legs: collapse repeats, replace older stored versions,
    insert the new.  With ``snapshot`` (the column naming a leg's conversation), a
    newer version of a conversation replaces all its stored legs: those it no longer
    has are removed, and the legs of an older snapshot are not added.

    Returns ``(loaded, replaced, removed)``.
    """
    table = "interactions"
    on = " AND ".join(f"t.{k} = s.{k}" for k in key)
    part = ", ".join(key)
    sources = [r[0] for r in con.execute("SELECT DISTINCT source FROM staged").fetchall()]
    n_staged, n_keys = con.execute(
        f"SELECT count(*), count(DISTINCT hash({_hashed_key(key, sources)})) FROM staged"
    ).fetchall()[0]
    conv = f"source, {snapshot}" if snapshot else ""
    if n_keys < n_staged or snapshot:  # repeats in the file: keep one of each (see _KEEP)
        # (of a conversation in several snapshots in the file, only the newest's legs)
        newest = (
            f" AND version IS NOT DISTINCT FROM max(version) OVER (PARTITION BY {conv})"
            if snapshot
            else ""
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE staged_one AS SELECT * FROM staged QUALIFY "
            f"row_number() OVER (PARTITION BY {part} ORDER BY {_KEEP[table]}) = 1{newest}"
        )
        source = "staged_one"
    else:
        source = "staged"
    names = list(INTERACTIONS.names)
    target = f"{table} ({', '.join(names)}, ingest_id)"
    picked = ", ".join(f"s.{n}" for n in names)
    placeholders = ", ".join("?" for _ in sources) or "NULL"
    try:
        overlap = con.execute(
            f"SELECT count(*) FROM {table} WHERE source IN ({placeholders})", sources
        ).fetchall()[0][0]
        if not overlap:  # nothing of these sources stored yet: a plain append
            loaded = int(
                con.execute(
                    f"INSERT INTO {target} SELECT {picked}, ? FROM {source} s", [ingest_id]
                ).fetchall()[0][0]
            )
            return loaded, 0, 0
        removed = 0
        older_conv = ""
        if snapshot:
            same_conv = f"s.source = t.source AND s.{snapshot} = t.{snapshot}"
            # stored legs of a conversation this file has a newer snapshot of, and which
            # that snapshot no longer has
            removed = int(
                con.execute(
                    f"DELETE FROM {table} t WHERE t.source IN ({placeholders}) "
                    "AND EXISTS (SELECT 1 "
                    f"FROM {source} s WHERE {same_conv} AND s.version IS NOT NULL AND (t.version "
                    f"IS NULL OR s.version > t.version)) AND NOT EXISTS (SELECT 1 FROM {source} s "
                    f"WHERE {on})",
                    sources,
                ).fetchall()[0][0]
            )
            # a leg of a conversation stored in a snapshot as new or newer is not added
            older_conv = (
                f" AND NOT EXISTS (SELECT 1 FROM {table} t WHERE {same_conv} AND "
                "t.version IS NOT NULL AND (s.version IS NULL OR t.version >= "
                "s.version))"
            )
        replaced = int(
            con.execute(
                f"DELETE FROM {table} t USING {source} s WHERE {on} AND s.version IS NOT NULL "
                "AND (t.version IS NULL OR s.version > t.version)"
            ).fetchall()[0][0]
        )
        loaded = int(
            con.execute(
                f"INSERT INTO {target} SELECT {picked}, ? FROM {source} s "
                f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {on}){older_conv}",
                [ingest_id],
            ).fetchall()[0][0]
        )
        return loaded, replaced, removed
    finally:
        con.execute("DROP TABLE IF EXISTS staged_one")


def _merge_restated(
    con: duckdb.DuckDBPyConnection,
    table: str,
    key: tuple[str, ...],
    version: datetime,
    ingest_id: str,
) -> tuple[int, int]:
    """Merge ``staged`` interval reports, surveys or agent states, all of ``version``.

    Repeats in the file collapse to one (see ``_KEEP``).  A stored record of the
    same key is replaced only by a strictly newer version that restates it
    differently; restated identically, it keeps its values and takes the newer
    version and ``source_ref`` (so an export between the two cannot beat it later,
    and the result does not depend on the order of the loads).  A stored record
    without a version (stored before versions were kept) is older than any.
    Returns ``(loaded, replaced)``.
    """
    lineage = f"{table}_lineage"
    names = list(_SCHEMAS[table].names)
    keys = ", ".join(key)
    part = keys
    on_t = " AND ".join(f"t.{k} = s.{k}" for k in key)
    on_m = " AND ".join(f"m.{k} = s.{k}" for k in key)
    sources = [r[0] for r in con.execute("SELECT DISTINCT source FROM staged").fetchall()]
    n_staged, n_keys = con.execute(
        f"SELECT count(*), count(DISTINCT hash({_hashed_key(key, sources)})) FROM staged"
    ).fetchall()[0]
    if n_keys < n_staged:  # repeats in the file: keep one of each
        con.execute(
            "CREATE OR REPLACE TEMP TABLE staged_one AS SELECT * FROM staged QUALIFY "
            f"row_number() OVER (PARTITION BY {part} ORDER BY {_KEEP.get(table, '_pos')}) = 1"
        )
        source = "staged_one"
    else:
        source = "staged"
    target = f"{table} ({', '.join(names)})"
    picked = ", ".join(f"s.{n}" for n in names)
    placeholders = ", ".join("?" for _ in sources) or "NULL"
    stamp = {"v": version, "id": ingest_id}
    try:
        overlap = con.execute(
            f"SELECT count(*) FROM {table} WHERE source IN ({placeholders})", sources
        ).fetchall()[0][0]
        if not overlap:  # nothing of these sources stored yet: a plain append
            con.execute(f"DELETE FROM {lineage} WHERE source IN ({placeholders})", sources)
            loaded = int(
                con.execute(f"INSERT INTO {target} SELECT {picked} FROM {source} s").fetchall()[0][
                    0
                ]
            )
            con.execute(f"INSERT INTO {lineage} SELECT {keys}, $v, $id FROM {source}", stamp)
            return loaded, 0
        differs = " OR ".join(
            f"t.{c} IS DISTINCT FROM s.{c}" for c in names if c not in key and c != "source_ref"
        )
        # the stored records this export restates with a strictly newer version
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE restated AS SELECT {', '.join(f's.{k}' for k in key)},"
            f" bool_or({differs}) AS differs, any_value(s.source_ref) AS source_ref "
            f"FROM {source} s JOIN {table} t ON {on_t} "
            f"WHERE NOT EXISTS (SELECT 1 FROM {lineage} m WHERE {on_m} AND m.version IS NOT "
            "NULL AND m.version >= $v) GROUP BY ALL",
            {"v": version},
        )
        replaced = int(
            con.execute(
                f"DELETE FROM {table} t USING restated s WHERE {on_t} AND s.differs"
            ).fetchall()[0][0]
        )
        # restated identically: the newer export is now its lineage (file, line, version)
        con.execute(
            f"UPDATE {table} t SET source_ref = s.source_ref FROM restated s "
            f"WHERE {on_t} AND NOT s.differs"
        )
        con.execute(f"DELETE FROM {lineage} m USING restated s WHERE {on_m}")
        con.execute(
            f"INSERT INTO {lineage} SELECT {keys}, $v, $id FROM restated WHERE NOT differs", stamp
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE fresh AS SELECT * FROM {source} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {on_t})"
        )
        loaded = int(
            con.execute(f"INSERT INTO {target} SELECT {picked} FROM fresh s").fetchall()[0][0]
        )
        con.execute(f"DELETE FROM {lineage} m USING fresh s WHERE {on_m}")  # left by hand
        con.execute(f"INSERT INTO {lineage} SELECT {keys}, $v, $id FROM fresh", stamp)
        return loaded, replaced
    finally:
        for temp in ("staged_one", "restated", "fresh"):
            con.execute(f"DROP TABLE IF EXISTS {temp}")


# -- the invariant guard -----------------------------------------------------------------------
# Every row the warehouse takes is checked here, whatever the adapter did: a row that
# breaks the record's rules becomes a reject naming the rule (the first it breaks) and
# is never stored.  The checks run as a few Arrow aggregates per column; only a chunk
# in which one fails is checked row by row.

_ORDER = ("arrived_at", "queued_at", "answered_at", "ended_at")
_FLOAT_MAX = sys.float_info.max


@dataclass(frozen=True)
class _Check:
    field: str
    reason: str
    kind: str  # "required", "in", "range" (lo..hi), "order" (``before`` <= field)
    lo: float | int = 0
    hi: float | int = 0
    open_lo: bool = False  # lo < value instead of lo <= value
    values: tuple[str, ...] = ()
    before: str = ""


def _required(*fields: str) -> list[_Check]:
    return [_Check(f, f"{f} is required", "required") for f in fields]


def _one_of(name: str, values: tuple[str, ...]) -> _Check:
    return _Check(name, f"{name} must be one of {', '.join(values)}", "in", values=values)


def _instants(*fields: str) -> list[_Check]:
    lo, hi = (int((t - datetime(1970, 1, 1, tzinfo=UTC)) // _US) for t in (MIN_TS, MAX_TS))
    return [
        _Check(f, f"{f} must be between 0001-01-01 and 9999-12-31 UTC", "range", lo, hi)
        for f in fields
    ]


def _durations(*fields: str) -> list[_Check]:
    return [
        _Check(
            f,
            f"{f} must be a finite number of seconds from 0 to {MAX_DURATION_S:.0f} (366 days)",
            "range",
            0.0,
            MAX_DURATION_S,
        )
        for f in fields
    ]


def _counts(*fields: str) -> list[_Check]:
    return [
        _Check(f, f"{f} must be a finite number >= 0", "range", 0.0, _FLOAT_MAX) for f in fields
    ]


def _ordered(fields: tuple[str, ...], rule: str) -> list[_Check]:
    return [
        _Check(b, f"{b} must not be before {a} ({rule})", "order", before=a)
        for j, b in enumerate(fields)
        for a in fields[:j]
    ]


_US = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)

_CHECKS: dict[str, list[_Check]] = {
    "interactions": [
        *_required(
            "contact_id",
            "initial_contact_id",
            "channel",
            "arrived_at",
            "outcome",
            "source",
            "source_ref",
        ),
        _one_of("channel", CHANNELS),
        _one_of("outcome", OUTCOMES),
        *_instants(*_ORDER, "version"),
        *_durations("wait_s", "talk_s", "hold_s", "acw_s"),
        _Check("bot_confidence", "bot_confidence must be a number from 0 to 1", "range", 0.0, 1.0),
        *_ordered(_ORDER, " <= ".join(_ORDER)),
    ],
    "surveys": [
        *_required("contact_id", "source", "source_ref"),
        *_instants("surveyed_at"),
        _Check("csat", "csat must be a whole number from 1 to 5", "range", 1, 5),
        _Check("nps", "nps must be a whole number from 0 to 10", "range", 0, 10),
    ],
    "intervals": [
        *_required("queue", "interval_start", "interval_s", "source", "source_ref"),
        *_instants("interval_start"),
        _Check(
            "interval_s",
            f"interval_s must be more than 0 and at most {MAX_DURATION_S:.0f} seconds (366 days)",
            "range",
            0.0,
            MAX_DURATION_S,
            open_lo=True,
        ),
        *_counts(
            "offered", "answered", "abandoned", "answered_within", "abandoned_within", "transferred"
        ),
        *_durations("threshold_s", "handle_s", "wait_s", "abandon_wait_s", "staffed_s"),
    ],
    "agent_states": [
        *_required("agent_id", "state", "started_at", "ended_at", "source", "source_ref"),
        _one_of("state", AGENT_STATE_CATEGORIES),
        *_instants("started_at", "ended_at"),
        *_ordered(("started_at", "ended_at"), "a span ends when or after it starts"),
    ],
}

_LINE = re.compile(r":(\d+)(?:#\d+)?$")


def _numbers(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Timestamps as their int64 microseconds (comparable without conversion)."""
    return col.cast(pa.int64()) if pa.types.is_timestamp(col.type) else col


def _fine(check: _Check, batch: pa.Table) -> bool:
    """True when no row of ``batch`` can break ``check`` (aggregates only)."""
    col = batch.column(check.field)
    if check.kind == "required":
        return col.null_count == 0
    if col.null_count == len(col):
        return True
    if check.kind == "in":
        return set(pc.unique(col).to_pylist()) - {None} <= set(check.values)
    if check.kind == "order":
        return not pc.any(pc.less(col, batch.column(check.before))).as_py()
    bounds = _min_max(col)
    if bounds is None:
        return False
    lo, hi = bounds
    low_ok = lo > check.lo if check.open_lo else lo >= check.lo
    return bool(low_ok and hi <= check.hi)


def _min_max(col: pa.ChunkedArray) -> tuple[Any, Any] | None:
    """The least and greatest value of a column, read cheaply, maybe looser than exact.

    Float and timestamp columns are read straight from their value buffers with
    numpy (4-6x faster than Arrow's null-aware min_max): the slots of missing
    values are included, which can only widen the bounds (a false alarm sends the
    chunk to the exact row-by-row check), and a NaN anywhere makes the bounds NaN,
    which no check accepts.  None when a column cannot be read that way.
    """
    if pa.types.is_floating(col.type) or pa.types.is_timestamp(col.type):
        dtype = np.float64 if pa.types.is_floating(col.type) else np.int64
        parts = []
        for chunk in col.chunks:
            if not len(chunk):
                continue
            buffer = chunk.buffers()[1]
            if buffer is None:
                return None
            parts.append(
                np.frombuffer(buffer, dtype=dtype, count=len(chunk), offset=chunk.offset * 8)
            )
        if not parts:
            return None
        values = parts[0] if len(parts) == 1 else np.concatenate(parts)
        lo, hi = values.min(), values.max()
        return (float(lo), float(hi)) if dtype is np.float64 else (int(lo), int(hi))
    bounds = pc.min_max(col)
    return bounds["min"].as_py(), bounds["max"].as_py()


def _breaks(check: _Check, batch: pa.Table) -> np.ndarray:
    """Row by row: which rows break ``check`` (a missing value breaks only "required")."""
    col = batch.column(check.field)
    if check.kind == "required":
        mask = pc.is_null(col)
    elif check.kind == "in":
        mask = pc.invert(pc.is_in(col, value_set=pa.array(check.values, col.type)))
    elif check.kind == "order":
        mask = pc.less(_numbers(col), _numbers(batch.column(check.before)))
    else:
        x = _numbers(col)
        low = pc.greater(x, check.lo) if check.open_lo else pc.greater_equal(x, check.lo)
        mask = pc.invert(pc.and_(low, pc.less_equal(x, check.hi)))  # NaN: both false
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _guard(table: str, batch: pa.Table) -> tuple[pa.Table, list[tuple[Any, ...]]]:
    """The rows of ``batch`` that keep the record's invariants, and a reject
    ``(line, field, value, reason)`` for each other row (for the first rule it breaks)."""
    checks = _CHECKS[table]
    if not batch.num_rows or all(_fine(c, batch) for c in checks):
        return batch, []
    first = np.full(batch.num_rows, -1, dtype=np.int32)
    for k, check in enumerate(checks):
        hit = _breaks(check, batch)
        first[(first < 0) & hit] = k
    bad = np.flatnonzero(first >= 0)
    if not bad.size:
        return batch, []  # an aggregate was only cautious (e.g. a sum overflowed)
    values: list[str | None] = [None] * bad.size
    for k in np.unique(first[bad]):
        rows = np.flatnonzero(first[bad] == k)
        check = checks[int(k)]
        if check.kind == "required":
            continue
        taken = batch.column(check.field).take(pa.array(bad[rows]))
        texts = pc.cast(taken, pa.string()).to_pylist()
        for r, text in zip(rows, texts, strict=True):
            values[r] = None if text is None else text[:500]
    refs = batch.column("source_ref").take(pa.array(bad)).to_pylist()
    rejects = []
    for j, row in enumerate(bad):
        found = _LINE.search(refs[j] or "")
        check = checks[int(first[row])]
        rejects.append(
            (int(found.group(1)) if found else None, check.field, values[j], check.reason)
        )
    keep = np.ones(batch.num_rows, dtype=bool)
    keep[bad] = False
    return batch.filter(pa.array(keep)), rejects


class _Feed:
    """An adapter's chunks as record batches of ``schema``, with the accounting kept.

    Counts rows read and the adapter's own duplicates, passes each chunk through
    the invariant guard, keeps the rejects (the adapter's and the guard's) as Arrow
    tables and the sources seen, and reports progress.  An exception raised while
    DuckDB pulls the batches is kept in ``error`` (DuckDB re-raises its own type).
    """

    def __init__(
        self,
        chunks: Iterator[Chunk],
        adapter: str,
        source_file: str,
        table: str,
        schema: pa.Schema,
        progress: Callable[[int], None] | None,
    ) -> None:
        self._chunks = chunks
        self._adapter = adapter
        self._file = source_file
        self._table = table
        self._schema = schema
        self._loose = pa.schema([f.with_nullable(True) for f in schema])
        self._progress = progress
        self._pending: list[pa.RecordBatch] = []
        self.read = 0
        self.duplicates = 0
        self.rejected = 0
        self.streamed = 0
        self.rejects: list[pa.Table] = []
        self.sources: set[str] = set()
        self.error: BaseException | None = None

    def _reject(self, rejects: list[tuple[Any, ...]]) -> None:
        n = len(rejects)
        lines, fields, values, reasons = zip(*rejects, strict=True)
        self.rejects.append(
            pa.table(
                {
                    "source": [self._adapter] * n,
                    "source_file": [self._file] * n,
                    "line": list(lines),
                    "field": list(fields),
                    "value": list(values),
                    "reason": list(reasons),
                },
                schema=REJECTS,
            )
        )
        self.rejected += n

    def _next(self) -> list[pa.RecordBatch] | None:
        """The batches of the next chunk (maybe none), or None at the end."""
        chunk = next(self._chunks, None)
        if chunk is None:
            return None
        chunk.check()
        self.read += chunk.rows_read
        self.duplicates += chunk.duplicates
        if chunk.rejects:
            self._reject([(r.line, r.field, r.value, r.reason) for r in chunk.rejects])
        if self._progress is not None:
            self._progress(self.read)
        if not chunk.batch.num_rows:
            return []
        # cast to the schema with every column nullable first: a missing required value
        # is the guard's reject, not a cast error refusing the whole file
        batch, refused = _guard(
            self._table, chunk.batch.select(self._schema.names).cast(self._loose)
        )
        if refused:
            self._reject(refused)
        batch = batch.cast(self._schema)
        if "source" in self._schema.names and batch.num_rows:
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
