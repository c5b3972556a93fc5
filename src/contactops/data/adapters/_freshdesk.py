"""``freshdesk``: Freshdesk tickets (API v2 JSON), one canonical leg per ticket.

The file holds one ticket object (``GET /api/v2/tickets/{id}?include=stats``),
a list of them, ``{"tickets": [...]}``, or tickets one per line.

Mapping: contact_id = initial_contact_id = ``id``; channel from ``source``
(1 email, 10 outbound email: ``email``; 3 phone: ``voice``; 7 chat: ``chat``;
5 Twitter, 6 Facebook, 13 WhatsApp: ``message``; 2 portal, 9 feedback widget
and any other number: ``ticket``); queue = ``group_id``; priority 1..4
(low..urgent) as is; arrived_at = ``created_at``; answered_at =
``stats.first_responded_at`` and wait_s = answered_at - created_at; ended_at =
``stats.resolved_at``, else ``stats.closed_at``; customer_id =
``requester_id`` (or ``requester.id``); agent_id = ``responder_id``; version =
``updated_at``.  Status 2 open, 3 pending, 4 resolved, 5 closed (higher numbers
are custom statuses, taken as open).  Outcome: see :mod:`._tickets` (replied
or resolved/closed: answered; open unreplied: callback_requested).

Refused (line, field, value, reason): no id or created_at, a status or
priority that is not a whole number (priority 1..4), a timestamp outside
years 1..9999 UTC, a first reply or resolution before creation, a resolution
before the first reply, a first reply more than 366 days after creation (the
record's longest wait), bytes that are not UTF-8, text that is not JSON, JSON
nested deeper than 200 levels (see ``_jsonio``).

Format: ``sniff`` looks for Freshdesk's own keys (``"fr_due_by"``,
``"fr_escalated"``, ``"responder_id"``) or ``"stats"`` with
``"first_responded_at"``.  A file that is not JSON, or whose first record is
an object with neither ``id`` nor ``created_at`` (nor a ``tickets`` list),
raises ``format_mismatch`` before anything is loaded.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from contactops.data._adapter import Chunk, RowBuffer
from contactops.data.adapters._jsonio import (
    FieldError,
    JsonError,
    check_row,
    clean,
    records,
    text,
    timestamp,
)
from contactops.data.adapters._tickets import ticket_outcome

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

__all__ = ["ADAPTER"]

CHANNELS = {
    1: "email",
    10: "email",
    3: "voice",
    7: "chat",
    5: "message",
    6: "message",
    13: "message",
    2: "ticket",
    9: "ticket",
}
STATUSES = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}
REQUIRED = ("id", "created_at")
_OWN_KEYS = (b'"fr_due_by"', b'"fr_escalated"', b'"responder_id"')


def _whole(field: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or (low is not None and value < low)
        or (high is not None and value > high)
    ):
        rule = "a whole number" + (f" from {low} to {high}" if low is not None and high else "")
        raise FieldError(field, json.dumps(value)[:200], "must be " + rule)
    return value


def ticket_row(t: Mapping[str, Any]) -> dict[str, Any]:
    """One Freshdesk ticket as a canonical row."""
    cid = text("id", t.get("id"))
    if cid is None:
        raise FieldError("id", None, "missing: every ticket has an id")
    created = timestamp("created_at", t.get("created_at"))
    if created is None:
        raise FieldError("created_at", None, "missing: every ticket has a created_at")
    status = _whole("status", t.get("status", 2), 2)
    priority = None if t.get("priority") is None else _whole("priority", t["priority"], 1, 4)
    source = t.get("source")
    channel = "ticket" if source is None else CHANNELS.get(_whole("source", source), "ticket")
    raw_stats = t.get("stats")
    stats: dict[str, Any] = raw_stats if isinstance(raw_stats, dict) else {}
    first = timestamp("stats.first_responded_at", stats.get("first_responded_at"))
    if first is not None and first < created:
        raise FieldError(
            "stats.first_responded_at", first.isoformat(), "must not be before created_at"
        )
    ended_field = "stats.resolved_at" if stats.get("resolved_at") else "stats.closed_at"
    ended = timestamp(ended_field, stats.get(ended_field.split(".")[1]))
    if ended is not None and ended < created:
        raise FieldError(ended_field, ended.isoformat(), "must not be before created_at")
    raw_requester = t.get("requester")
    requester: dict[str, Any] = raw_requester if isinstance(raw_requester, dict) else {}
    row: dict[str, Any] = {
        "contact_id": cid,
        "initial_contact_id": cid,
        "customer_id": text("requester_id", t.get("requester_id", requester.get("id"))),
        "channel": channel,
        "queue": text("group_id", t.get("group_id")),
        "priority": priority,
        "arrived_at": created,
        "answered_at": first,
        "ended_at": ended,
        "wait_s": None if first is None else (first - created).total_seconds(),
        "outcome": ticket_outcome(
            replied=first is not None, done=status in (4, 5) or ended is not None
        ),
        "agent_id": text("responder_id", t.get("responder_id")),
        "source": "freshdesk",
        "version": timestamp("updated_at", t.get("updated_at")),
    }
    check_row(row)
    return row


class Freshdesk:
    name = "freshdesk"
    description = "Freshdesk tickets (API v2 JSON, with stats)"
    table = "interactions"

    @staticmethod
    def sniff(head: bytes) -> bool:
        """Does the start of a file look like Freshdesk tickets?"""
        return head.lstrip()[:1] in (b"{", b"[") and (
            any(k in head for k in _OWN_KEYS)
            or (b'"stats"' in head and b'"first_responded_at"' in head)
        )

    def read(self, path: Path, options: Mapping[str, Any]) -> Iterator[Chunk]:  # noqa: ARG002 (protocol)
        buf = RowBuffer()
        for item in records(path, self.name, REQUIRED, _looks_right):
            if isinstance(item, JsonError):
                buf.reject(item.line, None, item.text, item.reason)
                continue
            ref = f"{path.name}:{item.line}"
            value = item.value
            if isinstance(value, dict) and isinstance(value.get("tickets"), list):
                tickets = [(f"{ref}#tickets[{i}]", t) for i, t in enumerate(value["tickets"])]
            else:
                tickets = [(ref, value)]
            for tref, t in tickets:
                if not isinstance(t, dict):
                    buf.reject(
                        item.line,
                        None,
                        clean(json.dumps(t, default=str))[:200],
                        "must be a Freshdesk ticket object",
                    )
                    continue
                try:
                    row = ticket_row(t)
                except FieldError as bad:
                    buf.reject(item.line, bad.field, bad.value, bad.reason)
                    continue
                row["source_ref"] = tref
                buf.add(row)
                yield from buf.flush()
        yield from buf.flush(final=True)


def _looks_right(value: Mapping[str, Any]) -> bool:
    return "tickets" in value or any(k in value for k in REQUIRED)


ADAPTER = Freshdesk()
