"""Interaction data: the canonical tables, the export adapters, the DuckDB warehouse.

>>> from contactops.data import Warehouse
>>> wh = Warehouse(":memory:")
>>> report = wh.ingest("january.txt", format="anonymous-bank")
>>> report.read == report.loaded + report.rejected + report.duplicates
True
"""

from contactops.data._adapter import Chunk, Reject, RowBuffer, canonical_batch
from contactops.data._schema import (
    AGENT_STATE_CATEGORIES,
    AGENT_STATES,
    CHANNELS,
    INTERACTIONS,
    INTERVALS,
    OUTCOMES,
    REJECTS,
    SURVEYS,
)
from contactops.data._warehouse import DEFAULT_PATH, IngestReport, Warehouse
from contactops.data.adapters import FORMATS, get_adapter

__all__ = [
    "AGENT_STATES",
    "AGENT_STATE_CATEGORIES",
    "CHANNELS",
    "DEFAULT_PATH",
    "FORMATS",
    "INTERACTIONS",
    "INTERVALS",
    "OUTCOMES",
    "REJECTS",
    "SURVEYS",
    "Chunk",
    "IngestReport",
    "Reject",
    "RowBuffer",
    "Warehouse",
    "canonical_batch",
    "get_adapter",
]
