"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import threading
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = [
    "MIGRATIONS",
    "WRITE_INTENT",
    "alembic_config",
    "make_engine",
    "make_sessionmaker",
    "migrate",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


WRITE_INTENT: ContextVar[bool] = ContextVar("contactops_write_intent", default=True)
"""False while serving a GET: SQLite then reads in a deferred transaction, beside writers."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``.

    SQLite: one file in WAL mode shared by the server's threads, foreign keys on.
    A writing transaction starts with ``BEGIN IMMEDIATE`` (so a read-then-write
    cannot interleave with another writer) and writers of this process queue on
    a lock, first come first served, instead of SQLite's sleeping busy handler;
    reads (GET requests, see :data:`WRITE_INTENT`) use a plain ``BEGIN`` and run
    beside them. PostgreSQL: a pool with pre-ping; cases are row-locked when
    changed.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        writers = threading.Lock()

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # BEGIN is ours, below
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            if WRITE_INTENT.get():
                if not writers.acquire(timeout=60):
                    raise TimeoutError("waited 60 s for the database's write lock")
                connection.info["contactops_writer"] = True
                try:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                except BaseException:
                    _release(connection)
                    raise
            else:
                connection.exec_driver_sql("BEGIN")

        def _release(connection: Any) -> None:
            if connection.info.pop("contactops_writer", False):
                writers.release()

        event.listen(engine, "commit", _release)
        event.listen(engine, "rollback", _release)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (responses read them)."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    """The Alembic configuration of the service's migrations (shipped in the package)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``revision``."""
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
