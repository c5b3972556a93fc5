"""Adapters, one module per export format; each exposes ``ADAPTER``.

``get_adapter(name)`` imports the module on demand, so an adapter's own
dependencies load only when it is used.

An adapter may also have ``sniff(head: bytes) -> bool``: does the start of a
file (its first 64 KiB, byte-order mark removed) look like this format?  It
must be cheap, never raise, and be specific (a plain CSV header is not "any
CSV"). :func:`guess_format` asks every adapter that has one, and
:func:`format_mismatch` builds the error an adapter raises, before yielding
anything, when a file's header lacks what its format needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from contactops.errors import FormatMismatchError, InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from contactops.data._adapter import Adapter

__all__ = ["FORMATS", "format_mismatch", "get_adapter", "guess_format", "read_head"]

HEAD_BYTES = 65_536

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
        raise InvalidParameterError(
            "format",
            name,
            "one of " + ", ".join(sorted(FORMATS)),
            "Name the system the file was exported from.",
        )
    module = importlib.import_module(f"contactops.data.adapters.{FORMATS[name]}")
    adapter: Adapter = module.ADAPTERS[name] if hasattr(module, "ADAPTERS") else module.ADAPTER
    return adapter


def read_head(path: Path, n: int = HEAD_BYTES) -> bytes:
    """The first ``n`` bytes of a file, a UTF-8 (or UTF-16) byte-order mark removed."""
    with open(path, "rb") as fh:  # noqa: PTH123 -- a binary read of a prefix
        head = fh.read(n)
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if head.startswith(bom):
            return head[len(bom) :]
    return head


def guess_format(path: Path, exclude: str | None = None) -> str | None:
    """The export format the start of the file looks like, or None.

    Asks each adapter with a ``sniff`` method, in a fixed order (the specific
    vendor formats before the generic ones); ``exclude`` skips one format
    (the one the file was just found not to be).
    """
    try:
        head = read_head(path)
    except OSError:
        return None
    for name in FORMATS:
        if name == exclude:
            continue
        try:
            sniff = getattr(get_adapter(name), "sniff", None)
            if sniff is not None and sniff(head):
                return name
        except Exception:  # noqa: BLE001, S112 -- a guess must never fail the real error
            continue
    return None


def format_mismatch(
    path: Path, fmt: str, missing: Sequence[str], found: Sequence[str] = ()
) -> FormatMismatchError:
    """The error for a file whose header lacks ``missing`` (with a guess of its format)."""
    return FormatMismatchError(
        str(path), fmt, list(missing), guess_format(path, exclude=fmt), list(found)
    )
