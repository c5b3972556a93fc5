"""Fixtures of the service tests: a fresh database per test on SQLite and on PostgreSQL.

PostgreSQL is the server on 127.0.0.1:5432 (trust auth, user postgres; override
with CONTACTOPS_TEST_PG). Each test gets its own database, dropped afterwards.
Unreachable: skipped locally, a failure under CI=true.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text

from contactops.service import Settings, create_app, create_user, issue_token, seed_demo
from contactops.service._models import User

if TYPE_CHECKING:
    from collections.abc import Iterator

PG_ADMIN = os.environ.get("CONTACTOPS_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "demo-password-1"


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


@pytest.fixture(scope="session")
def pg_status() -> str | None:
    return _pg_available()


@contextmanager
def _database(kind: str, directory, pg_status: str | None) -> Iterator[str]:
    """A fresh, empty database of ``kind`` (dropped afterwards on PostgreSQL)."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'service.db'}"
        return
    if pg_status is not None:
        message = f"PostgreSQL at {PG_ADMIN} is not reachable ({pg_status})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI needs it")
        pytest.skip(message)
    name = f"contactops_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path, pg_status):
    with _database(request.param, tmp_path, pg_status) as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_database_url(request: pytest.FixtureRequest, tmp_path_factory, pg_status):
    """One database per test module (for tests that change nothing, or only what they made)."""
    with _database(request.param, tmp_path_factory.mktemp("db"), pg_status) as url:
        yield url


@dataclass
class World:
    """A seeded service: the client and a token per user."""

    client: TestClient
    app: object
    tokens: dict[str, str] = field(default_factory=dict)

    def as_(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


def _world(database_url: str) -> Iterator[World]:
    settings = Settings(database_url=database_url, tick_seconds=0, max_body_bytes=16_384)
    app = create_app(settings)
    sessions = app.state.context.sessions
    with sessions() as session:
        users = seed_demo(session, PASSWORD)
        create_user(session, "root", PASSWORD, superuser=True)
        create_user(session, "dual", PASSWORD, memberships={"support": "agent", "billing": "agent"})
        session.commit()
        tokens = {}
        for user in session.scalars(select(User)):
            tokens[user.username], _ = issue_token(session, user, 1, "test")
        session.commit()
    assert "support-agent" in users
    with TestClient(app) as client:
        yield World(client, app, tokens)
    app.state.engine.dispose()


@pytest.fixture
def world(database_url):
    yield from _world(database_url)


@pytest.fixture(scope="module")
def shared_world(module_database_url):
    """A seeded service shared by the tests of one module (per database)."""
    yield from _world(module_database_url)
