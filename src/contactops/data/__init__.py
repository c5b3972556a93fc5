"""Interaction data: the canonical tables, the export adapters, the DuckDB warehouse.

>>> from contactops.data import Warehouse
>>> wh = Warehouse(":memory:")
>>> report = wh.ingest("january.txt", format="anonymous-bank")
>>> report.read == report.loaded + report.rejected + report.duplicates
True
"""

from typing import TYPE_CHECKING

from contactops import _lazy_exports

# imported on first use (contactops._lazy_exports): the package imports in no time
if TYPE_CHECKING:
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

_EXPORTS = {  # submodule -> the names it provides (the imports above, for run time)
    "_adapter": ("Chunk", "Reject", "RowBuffer", "canonical_batch"),
    "_schema": (
        "AGENT_STATE_CATEGORIES",
        "AGENT_STATES",
        "CHANNELS",
        "INTERACTIONS",
        "INTERVALS",
        "OUTCOMES",
        "REJECTS",
        "SURVEYS",
    ),
    "_warehouse": ("DEFAULT_PATH", "IngestReport", "Warehouse"),
    "adapters": ("FORMATS", "get_adapter"),
}
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
