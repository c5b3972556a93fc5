"""The canonical tables of ``../shared/DESIGN.md``, as Arrow schemas and DuckDB DDL.

Every adapter produces record batches with exactly :data:`INTERACTIONS`
(one row per contact leg); the warehouse stores them with two bookkeeping
columns of its own (``version``, ``ingest_id``).  Agent status logs become
:data:`AGENT_STATES` (one row per state span, its state one of
:data:`AGENT_STATE_CATEGORIES`).  Rejected rows go to :data:`REJECTS` with the
source file, line, field, value and reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

import pyarrow as pa

__all__ = [
    "AGENT_STATES",
    "AGENT_STATE_CATEGORIES",
    "CHANNELS",
    "INTERACTIONS",
    "INTERVALS",
    "MAX_DURATION_S",
    "MAX_TS",
    "MIN_TS",
    "OUTCOMES",
    "REJECTS",
    "SURVEYS",
    "ddl",
    "empty_interactions",
]

CHANNELS: Final = ("voice", "chat", "email", "message", "callback", "ticket")
OUTCOMES: Final = ("answered", "abandoned", "deflected", "blocked", "callback_requested")

_TS = pa.timestamp("us", tz="UTC")

# The record's limits, shared by every adapter and by the warehouse's last check: a
# timestamp is an instant from 0001-01-01 to 9999-12-31 UTC (what Python, Arrow and
# DuckDB all hold); a duration (wait, talk, hold, after-contact work, interval
# seconds) is finite, non-negative and at most 366 days: longer is a unit mistake
# (milliseconds read as seconds) or a sentinel, never a real contact.
MIN_TS: Final = datetime(1, 1, 1, tzinfo=UTC)
MAX_TS: Final = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
MAX_DURATION_S: Final = 366 * 86_400.0

INTERACTIONS: Final = pa.schema(
    [
        pa.field("contact_id", pa.string(), nullable=False),
        pa.field("initial_contact_id", pa.string(), nullable=False),
        pa.field("previous_contact_id", pa.string()),
        pa.field("customer_id", pa.string()),
        pa.field("channel", pa.string(), nullable=False),
        pa.field("queue", pa.string()),
        pa.field("segment", pa.string()),
        pa.field("priority", pa.int16()),
        pa.field("arrived_at", _TS, nullable=False),
        pa.field("queued_at", _TS),
        pa.field("answered_at", _TS),
        pa.field("ended_at", _TS),
        pa.field("wait_s", pa.float64()),
        pa.field("talk_s", pa.float64()),
        pa.field("hold_s", pa.float64()),
        pa.field("acw_s", pa.float64()),
        pa.field("outcome", pa.string(), nullable=False),
        pa.field("agent_id", pa.string()),
        pa.field("team", pa.string()),
        pa.field("site", pa.string()),
        pa.field("bot_confidence", pa.float64()),
        pa.field("escalated_from_bot", pa.bool_()),
        pa.field("transferred_to", pa.string()),
        pa.field("source", pa.string(), nullable=False),
        pa.field("source_ref", pa.string(), nullable=False),
        # bookkeeping: a newer version of the same (source, contact_id) replaces an older one
        pa.field("version", _TS),
    ]
)

SURVEYS: Final = pa.schema(
    [
        pa.field("contact_id", pa.string(), nullable=False),
        pa.field("customer_id", pa.string()),
        pa.field("surveyed_at", _TS),
        pa.field("csat", pa.int8()),
        pa.field("nps", pa.int8()),
        pa.field("verbatim", pa.string()),
        pa.field("source", pa.string(), nullable=False),
        pa.field("source_ref", pa.string(), nullable=False),
    ]
)

INTERVALS: Final = pa.schema(
    [
        pa.field("queue", pa.string(), nullable=False),
        pa.field("interval_start", _TS, nullable=False),
        pa.field("interval_s", pa.float64(), nullable=False),
        pa.field("offered", pa.float64()),
        pa.field("answered", pa.float64()),
        pa.field("abandoned", pa.float64()),
        pa.field("answered_within", pa.float64()),
        pa.field("abandoned_within", pa.float64()),
        pa.field("threshold_s", pa.float64()),
        pa.field("handle_s", pa.float64()),
        pa.field("wait_s", pa.float64()),
        pa.field("abandon_wait_s", pa.float64()),
        pa.field("transferred", pa.float64()),
        # agent-seconds available for contacts (staffed minus breaks/aux), when reported
        pa.field("staffed_s", pa.float64()),
        pa.field("source", pa.string(), nullable=False),
        pa.field("source_ref", pa.string(), nullable=False),
    ]
)

# what an agent's time is spent on, whatever the ACD calls it: ready and waiting for a
# contact; handling contacts (talk, hold, after-contact work); paid but not available
# (break, meeting, training, coaching...); not working (logged out)
AGENT_STATE_CATEGORIES: Final = ("available", "busy", "aux", "offline")

AGENT_STATES: Final = pa.schema(
    [
        pa.field("agent_id", pa.string(), nullable=False),
        pa.field("team", pa.string()),
        pa.field("site", pa.string()),
        pa.field("queue", pa.string()),
        pa.field("state", pa.string(), nullable=False),  # one of AGENT_STATE_CATEGORIES
        pa.field("reason", pa.string()),  # the source's own state name or aux code
        pa.field("started_at", _TS, nullable=False),
        pa.field("ended_at", _TS, nullable=False),  # >= started_at
        pa.field("source", pa.string(), nullable=False),
        pa.field("source_ref", pa.string(), nullable=False),
    ]
)

REJECTS: Final = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("line", pa.int64()),
        pa.field("field", pa.string()),
        pa.field("value", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
    ]
)

_DUCK = {
    pa.string(): "VARCHAR",
    pa.int16(): "SMALLINT",
    pa.int8(): "TINYINT",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    _TS: "TIMESTAMPTZ",
}


def ddl(name: str, schema: pa.Schema, extra: str = "") -> str:
    """``CREATE TABLE IF NOT EXISTS`` for an Arrow schema."""
    cols = [f'"{f.name}" {_DUCK[f.type]}{"" if f.nullable else " NOT NULL"}' for f in schema]
    if extra:
        cols.append(extra)
    return f"CREATE TABLE IF NOT EXISTS {name} (" + ", ".join(cols) + ")"


def empty_interactions() -> pa.Table:
    """A table with no rows and the canonical schema."""
    return INTERACTIONS.empty_table()
