"""The case service: FastAPI + SQLAlchemy 2 + Alembic over :mod:`contactops.cases`.

``create_app(Settings)`` builds the application (SQLite file by default,
PostgreSQL when ``CONTACTOPS_DATABASE_URL`` says so); ``tick_all`` runs the SLA
clocks (the service does it in the background, ``contactops cases tick`` from
cron). See ``docs/reference/service.md``.
"""

from contactops.service._app import BodyLimit, create_app
from contactops.service._db import make_engine, make_sessionmaker, migrate
from contactops.service._settings import DEFAULT_DATABASE_URL, Settings
from contactops.service._store import (
    CaseStore,
    VersionConflictError,
    create_user,
    ensure_bootstrap,
    first_admin,
    issue_token,
    revoke_tokens,
    seed_demo,
    tick_all,
)

__all__ = [
    "DEFAULT_DATABASE_URL",
    "BodyLimit",
    "CaseStore",
    "Settings",
    "VersionConflictError",
    "create_app",
    "create_user",
    "ensure_bootstrap",
    "first_admin",
    "issue_token",
    "make_engine",
    "make_sessionmaker",
    "migrate",
    "revoke_tokens",
    "seed_demo",
    "tick_all",
]
