"""Adapters, one module per export format; each exposes ``ADAPTER``.

``get_adapter(name)`` imports the module on demand, so an adapter's own
dependencies load only when it is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from contactops.errors import InvalidParameterError

if TYPE_CHECKING:
    from contactops.data._adapter import Adapter

__all__ = ["FORMATS", "get_adapter"]

# format name -> module
FORMATS: dict[str, str] = {
    "amazon-connect": "_amazon_connect",
    "anonymous-bank": "_anonymous_bank",
    "genesys": "_genesys",
    "csv": "_flat",
    "parquet": "_flat",
    "interval-csv": "_interval_csv",
    "zendesk": "_zendesk",
    "freshdesk": "_freshdesk",
    "surveys": "_surveys",
    "agent-states": "_agent_states",
}


def get_adapter(name: str) -> Adapter:
    """The adapter for export format ``name``."""
    if name not in FORMATS:
        raise InvalidParameterError("format", name, "one of " + ", ".join(sorted(FORMATS)),
                                    "Name the system the file was exported from.")
    module = importlib.import_module(f"contactops.data.adapters.{FORMATS[name]}")
    adapter: Adapter = module.ADAPTERS[name] if hasattr(module, "ADAPTERS") else module.ADAPTER
    return adapter
