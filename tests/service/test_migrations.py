"""The Alembic migrations build exactly the tables the models declare, on both databases,
and downgrade cleanly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from contactops.service import make_engine, migrate
from contactops.service._db import alembic_config
from contactops.service._models import Base


def test_migrations_match_the_models_and_downgrade(database_url):
    url = database_url.replace("postgresql://", "postgresql+psycopg://")
    engine = make_engine(url)
    migrate(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
        assert diff == []
        assert context.get_current_revision() == "0001"
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine)  # and up again
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()
