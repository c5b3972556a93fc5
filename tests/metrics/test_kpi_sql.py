"""The same KPI declarations on another engine: ``kpi_sql`` on PostgreSQL equals ``kpis``.

The contact legs and surveys of a DuckDB warehouse are copied into a fresh
PostgreSQL schema; the query ``kpi_sql(dialect="postgres")`` writes runs there
and every grain value and KPI must equal what :func:`kpis` computes in DuckDB.
PostgreSQL is the server on 127.0.0.1:5432 (trust auth; override with
CONTACTOPS_TEST_PG): unreachable, skipped locally, a failure under CI=true.
"""

from __future__ import annotations

import math
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pytest

from contactops.data import INTERACTIONS, SURVEYS, Warehouse, canonical_batch
from contactops.errors import InvalidParameterError
from contactops.metrics import kpi_sql, kpis

if TYPE_CHECKING:
    from collections.abc import Iterator

psycopg = pytest.importorskip("psycopg")

PG = os.environ.get("CONTACTOPS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test").replace(
    "postgresql+psycopg://", "postgresql://"
)
T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # DST starts in New York on 8 March
_PG_TYPES = {
    pa.string(): "TEXT",
    pa.int16(): "SMALLINT",
    pa.int8(): "SMALLINT",
    pa.float64(): "DOUBLE PRECISION",
    pa.bool_(): "BOOLEAN",
    pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ",
}


def _legs(n: int = 3000, seed: int = 7) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Legs over 5 weeks: 3 queues, 2 channels, answered/abandoned/deflected/blocked,
    customers who come back (some within days), transfers, bot legs, and surveys."""
    rng = np.random.default_rng(seed)
    rows, surveys = [], []
    for i in range(n):
        at = T0 + timedelta(seconds=float(rng.uniform(0, 35 * 86400)))
        outcome = str(
            rng.choice(
                ["answered", "abandoned", "deflected", "blocked"], p=[0.75, 0.15, 0.07, 0.03]
            )
        )
        wait = None if outcome == "deflected" else float(rng.exponential(25.0))
        talk = (
            float(rng.gamma(2.0, 150.0)) if outcome == "answered" and rng.random() > 0.05 else None
        )
        cid = f"c{i}"
        rows.append(
            {
                "contact_id": cid,
                "initial_contact_id": cid,
                "customer_id": None if rng.random() < 0.1 else f"k{int(rng.integers(0, 900))}",
                "channel": "voice" if rng.random() < 0.7 else "chat",
                "queue": str(rng.choice(["sales", "support", "billing"])),
                "arrived_at": at,
                "queued_at": at,
                "outcome": outcome,
                "wait_s": wait,
                "talk_s": talk,
                "hold_s": float(rng.exponential(20.0)) if talk is not None else None,
                "acw_s": float(rng.exponential(40.0)) if talk is not None else None,
                "transferred_to": "billing"
                if outcome == "answered" and rng.random() < 0.1
                else None,
                "bot_confidence": float(rng.random()) if rng.random() < 0.2 else None,
                "escalated_from_bot": bool(rng.random() < 0.1),
                "source": "test",
                "source_ref": f"t:{i}",
            }
        )
        if outcome == "answered" and rng.random() < 0.6:
            surveys.append(
                {
                    "contact_id": cid,
                    "csat": int(rng.integers(1, 6)),
                    "nps": int(rng.integers(0, 11)),
                    "source": "test",
                    "source_ref": f"s:{i}",
                }
            )
    # transfer legs: not initial contacts, so never counted as repeats
    for i in range(0, n, 50):
        first = rows[i]
        rows.append(
            {
                **first,
                "contact_id": f"x{i}",
                "previous_contact_id": first["contact_id"],
                "arrived_at": first["arrived_at"] + timedelta(minutes=5),
                "source_ref": f"t:x{i}",
            }
        )
    return rows, surveys


@pytest.fixture(scope="module")
def warehouse() -> Warehouse:
    rows, surveys = _legs()
    wh = Warehouse(":memory:")
    wh.con.register("b", canonical_batch(rows))
    wh.con.execute("INSERT INTO interactions SELECT *, 'test' FROM b")
    wh.con.register("s", pa.Table.from_pylist(surveys, schema=SURVEYS))
    wh.con.execute("INSERT INTO surveys SELECT * FROM s")
    return wh


@pytest.fixture(scope="module")
def pg(warehouse: Warehouse) -> Iterator[Any]:
    """A connection whose search path is a fresh schema holding the warehouse's tables."""
    try:
        conn = psycopg.connect(PG, connect_timeout=3, autocommit=True)
    except psycopg.Error as exc:
        message = f"PostgreSQL at {PG} is not reachable ({str(exc).splitlines()[0]})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI needs it")
        pytest.skip(message)
    schema = f"kpi_{uuid.uuid4().hex[:10]}"
    conn.execute(f"CREATE SCHEMA {schema}")
    conn.execute(f"SET search_path TO {schema}")
    try:
        for name, arrow_schema, table in (
            (
                "interactions",
                INTERACTIONS,
                warehouse.sql("SELECT * EXCLUDE (ingest_id) FROM interactions"),
            ),
            ("surveys", SURVEYS, warehouse.sql("SELECT * FROM surveys")),
        ):
            cols = ", ".join(f"{f.name} {_PG_TYPES[f.type]}" for f in arrow_schema)
            conn.execute(f"CREATE TABLE {name} ({cols})")
            names = ", ".join(arrow_schema.names)
            with conn.cursor().copy(f"COPY {name} ({names}) FROM STDIN") as copy:
                for row in table.select(arrow_schema.names).to_pylist():
                    copy.write_row(list(row.values()))
        yield conn
    finally:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
        conn.close()


REQUESTS = [
    {"by": ["interval15", "queue"]},
    {
        "by": ["interval30", "channel"],
        "timezone": "America/New_York",
        "sl_definition": "wait_le_t",
        "threshold": 30.0,
    },
    {"by": ["interval60"], "timezone": "Asia/Kolkata", "exclude_short_abandons": True},
    {"by": ["day", "queue"], "timezone": "America/New_York", "fcr_days": 3.0, "min_surveys": 5},
    {
        "by": ["week", "channel"],
        "start": "2026-03-09",
        "end": "2026-03-30",
        "sl_definition": "excl_abandon_before_t",
        "min_surveys": 10,
    },
    {"by": ["month"], "fcr_days": 0.5, "metrics": ["offered", "fcr", "csat"]},
    {"by": [], "sl_definition": "answered_within_t_over_answered", "min_surveys": 1},
]


def _key(value: Any) -> Any:
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: ",".join(r["by"]) or "all")
def test_postgres_runs_the_same_definitions(
    warehouse: Warehouse, pg: Any, request_: dict[str, Any]
) -> None:
    ours = kpis(warehouse, **request_).to_pylist()
    sql, params = kpi_sql(dialect="postgres", **request_)
    cur = pg.execute(sql, params)
    names = [d.name for d in cur.description]
    theirs = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    assert len(theirs) == len(ours) > 0
    grains = [
        c for c in names if c in ("interval_start", "day", "week", "month", "queue", "channel")
    ]
    by_key = {tuple(_key(r[g]) for g in grains): r for r in theirs}
    compared = 0
    for row in ours:
        other = by_key[tuple(_key(row[g]) for g in grains)]
        for name, value in row.items():
            if name in grains or name not in other or name.endswith(("_lo", "_hi")):
                continue
            got = other[name]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                assert got is None, (name, row)
            else:
                assert got == pytest.approx(value, rel=1e-9, abs=1e-12), (name, row, got)
            compared += 1
    assert compared >= len(ours) * 2


def test_other_dialects_get_no_duckdb_functions() -> None:
    for dialect in ("spark", "bigquery", "snowflake", "trino"):
        sql, params = kpi_sql(["interval15", "queue"], dialect=dialect, timezone="Europe/Berlin")
        lowered = sql.lower()
        for duckdb_only in ("time_bucket", "epoch_us", "rowid", "$tz", "semi join"):
            assert duckdb_only not in lowered, (dialect, duckdb_only)
        assert params["tz"] == "Europe/Berlin"


def test_unknown_dialect_is_named() -> None:
    with pytest.raises(InvalidParameterError, match="dialect"):
        kpi_sql(dialect="cobol")
