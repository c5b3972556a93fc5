"""``zendesk``: Zendesk Support tickets, one canonical leg per ticket.

Two shapes, told apart by the first character of the file:

- JSON from the API: ``{"tickets": [...], "ticket_metrics": [...]}`` (metrics
  optional, matched by ``ticket_id``), ``{"ticket": {...}}``, a list of
  tickets, or tickets one per line.  A ticket may carry its metrics inline
  under ``metric_set``/``metrics``.
- CSV: a ticket export or the warehouse table Fivetran lands (columns ``id``,
  ``created_at``, ``updated_at``, ``status``, ``priority``, ``group_id``,
  ``assignee_id``, ``requester_id``, ``via_channel``); optional metric columns
  ``solved_at`` and ``reply_time_in_minutes`` (also spelled
  ``reply_time_in_minutes_calendar`` or ``first_reply_time_in_minutes``).

Mapping: contact_id = initial_contact_id = ticket id; channel ``email`` when
``via.channel`` is email, else ``ticket``; queue = group name (``group``,
``group_name``) or ``group_id``; priority low/normal/high/urgent = 1..4;
arrived_at = ``created_at``; answered_at = created_at + first reply time
(``reply_time_in_minutes.calendar``) and wait_s = that time in seconds, when
known; ended_at = ``solved_at``; customer_id = ``requester_id``; agent_id =
``assignee_id``; version = ``updated_at``.  Timestamps without an offset are
UTC (Zendesk stores UTC).  Outcome: see :mod:`._tickets` (replied or solved:
answered; deleted unreplied: blocked; open unreplied: callback_requested).
Satisfaction ratings are not loaded.

Refused (line, field, value, reason): no id, no or bad ``created_at``, a
timestamp outside years 1..9999 UTC, an unknown priority or status, a reply
time that is not a finite number of minutes from 0 to 366 days (``inf``,
``1e300``, ``1e400`` which JSON reads as infinity, negatives), a ticket solved
before it was created or before its first reply, bytes that are not UTF-8,
text that is not JSON/CSV, JSON nested deeper than 200 levels (see
``_jsonio``).

Format: a file whose first character (byte-order mark and spaces aside) is
``{`` or ``[``, or that starts with a JSON scalar (a record of the wrong type),
is JSON, anything else CSV.  ``sniff`` looks for the JSON keys
``"tickets"``/``"ticket"``/``"ticket_metrics"`` beside Zendesk's own
``"via"``, ``"submitter_id"``, ``"assignee_id"`` (and none of Freshdesk's), or a
CSV header with
``id``, ``created_at`` and one of ``via_channel``, ``submitter_id``,
``requester_id``.  A CSV header without ``id`` and ``created_at``, or a JSON
file whose first record has neither (nor ``tickets``/``ticket``), raises
``format_mismatch`` before anything is loaded.
"""

from __future__ import annotations

import csv
import json
import math
from typing import TYPE_CHECKING, Any

from contactops.data._adapter import Chunk, RowBuffer
from contactops.data._schema import MAX_DURATION_S
from contactops.data.adapters import format_mismatch, read_head
from contactops.data.adapters._jsonio import (
    FieldError,
    JsonError,
    check_row,
    clean,
    records,
    shifted,
    starts_with_json_scalar,
    text,
    timestamp,
)
from contactops.data.adapters._tickets import ticket_outcome

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from datetime import datetime
    from pathlib import Path

__all__ = ["ADAPTER"]

PRIORITIES = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
STATUSES = ("new", "open", "pending", "hold", "solved", "closed", "deleted")
_REPLY_COLUMNS = (
    "reply_time_in_minutes",
    "reply_time_in_minutes_calendar",
    "first_reply_time_in_minutes",
    "reply_time_calendar_minutes",
)
REQUIRED = ("id", "created_at")
_CSV_OWN = ("via_channel", "submitter_id", "requester_id")
_JSON_WRAPPERS = (b'"tickets"', b'"ticket"', b'"ticket_metrics"')
_JSON_OWN = (b'"via"', b'"submitter_id"', b'"assignee_id"', b'"reply_time_in_minutes"')
_FRESHDESK_OWN = (b'"fr_due_by"', b'"fr_escalated"', b'"responder_id"')


def _when(field: str, value: Any) -> datetime | None:
    """A Zendesk timestamp: ISO 8601, ``T`` or a space; no offset means UTC."""
    if isinstance(value, str) and value.strip() and "T" not in value and " " not in value.strip():
        raise FieldError(field, value, "must be a timestamp, e.g. 2024-05-01T09:30:00Z")
    return timestamp(field, value)


def _minutes(field: str, value: Any) -> float | None:
    if isinstance(value, dict):
        value = value.get("calendar")
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise FieldError(field, value, "must be a number of minutes")
    try:
        minutes = float(value)
    except (TypeError, ValueError, OverflowError):
        raise FieldError(field, value, "must be a number of minutes") from None
    if not (math.isfinite(minutes) and 0 <= minutes * 60.0 <= MAX_DURATION_S):
        raise FieldError(
            field,
            value,
            f"must be a number of minutes from 0 to {MAX_DURATION_S / 60:.0f} (366 days)",
        )
    return minutes


def ticket_row(t: Mapping[str, Any], metrics: Mapping[str, Any] | None) -> dict[str, Any]:
    """One Zendesk ticket (API or CSV field names) as a canonical row."""
    m = dict(metrics or {})
    cid = text("id", t.get("id"))
    if cid is None:
        raise FieldError("id", None, "missing: every ticket has an id")
    created = _when("created_at", t.get("created_at"))
    if created is None:
        raise FieldError("created_at", None, "missing: every ticket has a created_at")
    status = (text("status", t.get("status")) or "new").lower()
    if status not in STATUSES:
        raise FieldError("status", status, "must be one of " + ", ".join(STATUSES))
    priority_text = text("priority", t.get("priority"))
    priority = None
    if priority_text is not None:
        priority = PRIORITIES.get(priority_text.lower())
        if priority is None:
            raise FieldError("priority", priority_text, "must be low, normal, high or urgent")
    via = t.get("via")
    channel_name = via.get("channel") if isinstance(via, dict) else t.get("via_channel")
    channel = "email" if (text("via.channel", channel_name) or "").lower() == "email" else "ticket"
    reply = None
    for key in ("reply_time_in_minutes", *_REPLY_COLUMNS):
        if m.get(key) not in (None, ""):
            reply = _minutes(key, m[key])
            break
        if t.get(key) not in (None, ""):
            reply = _minutes(key, t[key])
            break
    solved = _when("solved_at", m.get("solved_at", t.get("solved_at")))
    if solved is not None and solved < created:
        raise FieldError("solved_at", solved.isoformat(), "must not be before created_at")
    group = t.get("group") if isinstance(t.get("group"), str) else None
    queue = text("group", group or t.get("group_name")) or text("group_id", t.get("group_id"))
    row: dict[str, Any] = {
        "contact_id": cid,
        "initial_contact_id": cid,
        "customer_id": text("requester_id", t.get("requester_id")),
        "channel": channel,
        "queue": queue,
        "priority": priority,
        "arrived_at": created,
        "answered_at": None
        if reply is None
        else shifted("reply_time_in_minutes", created, reply * 60.0),
        "ended_at": solved,
        "wait_s": None if reply is None else reply * 60.0,
        "outcome": ticket_outcome(
            replied=reply is not None,
            done=status in ("solved", "closed") or solved is not None,
            deleted=status == "deleted",
        ),
        "agent_id": text("assignee_id", t.get("assignee_id")),
        "source": "zendesk",
        "version": _when("updated_at", t.get("updated_at")),
    }
    check_row(row)
    return row


class Zendesk:
    name = "zendesk"
    description = "Zendesk Support tickets (API JSON with ticket_metrics, or a CSV export)"
    table = "interactions"

    @staticmethod
    def sniff(head: bytes) -> bool:
        """Does the start of a file look like Zendesk tickets (API JSON or a CSV export)?"""
        body = head.lstrip()
        if body[:1] in (b"{", b"["):
            return (
                any(k in body for k in _JSON_WRAPPERS)
                and any(k in body for k in _JSON_OWN)
                and not any(k in body for k in _FRESHDESK_OWN)
            )
        first = body.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
        columns = {c.strip().strip('"').lower() for c in first.split(",")}
        return set(REQUIRED) <= columns and any(c in columns for c in _CSV_OWN)

    def read(self, path: Path, options: Mapping[str, Any]) -> Iterator[Chunk]:  # noqa: ARG002 (protocol)
        buf = RowBuffer()
        head = read_head(path, 4096).lstrip()
        if head[:1] in (b"{", b"[") or starts_with_json_scalar(head):
            yield from self._json(path, buf)
        elif head:
            yield from self._csv(path, buf)
        yield from buf.flush(final=True)

    def _add(
        self, buf: RowBuffer, line: int, ref: str, t: Any, metrics: Mapping[str, Any] | None
    ) -> None:
        if not isinstance(t, dict):
            buf.reject(
                line, None, clean(json.dumps(t, default=str))[:200], "must be a ticket object"
            )
            return
        try:
            row = ticket_row(t, metrics)
        except FieldError as bad:
            buf.reject(line, bad.field, bad.value, bad.reason)
            return
        row["source_ref"] = ref
        buf.add(row)

    def _json(self, path: Path, buf: RowBuffer) -> Iterator[Chunk]:
        for item in records(path, self.name, REQUIRED, _looks_right):
            if isinstance(item, JsonError):
                buf.reject(item.line, None, item.text, item.reason)
                continue
            value = item.value
            ref = f"{path.name}:{item.line}"
            if isinstance(value, dict) and isinstance(value.get("tickets"), list):
                metrics = {
                    str(m.get("ticket_id")): m
                    for m in value.get("ticket_metrics") or []
                    if isinstance(m, dict)
                }
                for i, t in enumerate(value["tickets"]):
                    tid = str(t.get("id")) if isinstance(t, dict) else None
                    self._add(
                        buf,
                        item.line,
                        f"{ref}#tickets[{i}]",
                        t,
                        _inline(t) or metrics.get(tid or ""),
                    )
                    yield from buf.flush()
                continue
            if isinstance(value, dict) and isinstance(value.get("ticket"), dict):
                value = value["ticket"]
            self._add(buf, item.line, ref, value, _inline(value))
            yield from buf.flush()

    def _csv(self, path: Path, buf: RowBuffer) -> Iterator[Chunk]:
        with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
            reader = csv.DictReader(fh)
            try:
                names = reader.fieldnames or []
            except csv.Error:
                names = []
            if names:
                reader.fieldnames = names = [n.strip() for n in names]
            missing = [c for c in REQUIRED if c not in names]
            if missing:
                raise format_mismatch(path, self.name, missing, [clean(n) for n in names][:20])
            line = reader.line_num
            try:
                for record in reader:
                    start, line = line + 1, reader.line_num
                    if None in record or any(v is None for v in record.values()):
                        buf.reject(
                            start,
                            None,
                            clean(",".join(str(v) for v in record.values() if isinstance(v, str)))[
                                :200
                            ],
                            f"{len(names)} fields like the header",
                        )
                        continue
                    self._add(
                        buf,
                        start,
                        f"{path.name}:{start}",
                        {k: (v if v != "" else None) for k, v in record.items()},
                        None,
                    )
                    yield from buf.flush()
            except csv.Error as exc:
                buf.reject(line + 1, None, None, f"not readable as CSV: {exc}")


def _looks_right(value: Mapping[str, Any]) -> bool:
    return any(k in value for k in ("tickets", "ticket", *REQUIRED))


def _inline(t: Any) -> Mapping[str, Any] | None:
    if not isinstance(t, dict):
        return None
    m = t.get("metric_set") or t.get("metrics")
    return m if isinstance(m, dict) else None


ADAPTER = Zendesk()
