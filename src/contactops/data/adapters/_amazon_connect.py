"""``amazon-connect``: Amazon Connect contact records (CTRs), one JSON object per leg.

The file may be one JSON array, JSON lines, or records written back to back
with no separator (Kinesis Data Firehose); see ``_jsonio``.  Field map
(``../shared/data/formats/README.md``):

- ``contact_id`` = ``ContactId``; ``initial_contact_id`` = ``InitialContactId``
  (the leg itself when absent); ``previous_contact_id`` = ``PreviousContactId``.
- ``customer_id`` = ``CustomerEndpoint.Address``; ``agent_id`` =
  ``Agent.Username`` (else ``Agent.ARN``); ``team`` = the first level present
  of ``Agent.HierarchyGroups`` (``Level1`` .. ``Level5``, its ``GroupName``).
- ``channel``: ``Channel`` VOICE, CHAT, TASK, EMAIL -> voice, chat, ticket,
  email (records without ``Channel`` predate chat and are voice); a leg with
  ``InitiationMethod`` CALLBACK is the queued callback itself -> ``callback``.
- ``queue`` = ``Queue.Name``; ``arrived_at`` = ``InitiationTimestamp``,
  ``queued_at`` = ``Queue.EnqueueTimestamp``, ``answered_at`` =
  ``Agent.ConnectedToAgentTimestamp``, ``ended_at`` = ``DisconnectTimestamp``.
- ``wait_s`` = ``Queue.Duration`` (else dequeue - enqueue); ``talk_s``,
  ``hold_s``, ``acw_s`` = ``Agent.AgentInteractionDuration``,
  ``CustomerHoldDuration``, ``AfterContactWorkDuration``.
- ``outcome``: ``answered`` when connected to an agent; else
  ``callback_requested`` for a CALLBACK leg, or a queued leg that a CALLBACK
  leg follows (its ``NextContactId``, or the callback's ``PreviousContactId``);
  else ``abandoned`` when queued; else ``deflected`` (IVR / self-service only).
- ``transferred_to`` = ``TransferredToEndpoint.Address``, else the queue of the
  next leg when that leg is in the same file.
- ``version`` = ``LastUpdateTimestamp``.  Delivery is at least once: within a
  file the record with the latest ``LastUpdateTimestamp`` per ``ContactId`` (of
  equal ones, the first in the file, as the warehouse decides across files) is
  kept and the others are counted as duplicates; across files the warehouse
  keeps the newest version.  The whole file's legs are held to chain them
  (``transferred_to``, callbacks), so version repeats are settled here too.
- ``source_ref`` = ``file:line`` where the record starts (``file:line#k`` for
  the k-th record starting on a line shared with others).

A record without ``ContactId`` or ``InitiationTimestamp``, with a timestamp
that does not parse or lies outside years 1..9999 UTC, a duration that is not
a number from 0 to 366 days, a dequeue before the enqueue, times out of order
(answered before initiated, disconnected before answered...), text that is
not UTF-8, an unknown ``Channel`` or JSON nested deeper than 200 levels is
rejected with field, value, reason (see ``_jsonio``).

Format: ``sniff`` looks for ``"ContactId"`` beside ``"InitiationTimestamp"``,
``"InitiationMethod"`` or ``"AWSContactTraceRecordFormatVersion"``.  A file that is
not JSON, or whose first record is an object with neither ``ContactId`` nor
``InitiationTimestamp``, raises ``format_mismatch`` before anything is loaded.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from contactops.data._adapter import Chunk, RowBuffer
from contactops.data.adapters._jsonio import (
    FieldError,
    JsonError,
    check_row,
    records,
    seconds,
    text,
    timestamp,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

CHANNELS = {"VOICE": "voice", "CHAT": "chat", "TASK": "ticket", "EMAIL": "email"}
REQUIRED = ("ContactId", "InitiationTimestamp")
_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass
class _Leg:
    line: int
    ref: str
    row: dict[str, Any]
    method: str | None
    next_id: str | None
    version: datetime | None


def _obj(record: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A nested object, or an empty one when absent or null."""
    value = record.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FieldError(key, json.dumps(value)[:200], "must be an object")
    return value


def _team(agent: Mapping[str, Any]) -> str | None:
    groups = _obj(agent, "HierarchyGroups")
    for level in ("Level1", "Level2", "Level3", "Level4", "Level5"):
        group = groups.get(level)
        if isinstance(group, dict):
            name = text(f"Agent.HierarchyGroups.{level}.GroupName", group.get("GroupName"))
            if name:
                return name
    return None


def _leg(rec: Mapping[str, Any]) -> tuple[dict[str, Any], str | None, str | None, datetime | None]:
    """The canonical row (without outcome/transfer) and the cross-leg keys of one record."""
    cid = text("ContactId", rec.get("ContactId"))
    if cid is None:
        raise FieldError("ContactId", None, "is required: every contact record has a ContactId")
    arrived = timestamp("InitiationTimestamp", rec.get("InitiationTimestamp"))
    if arrived is None:
        raise FieldError("InitiationTimestamp", None, "is required: when the contact was initiated")
    channel_raw = text("Channel", rec.get("Channel"))
    method = text("InitiationMethod", rec.get("InitiationMethod"))
    if channel_raw is None:
        channel = "voice"  # contact records from before chat (2019) have no Channel
    elif channel_raw.upper() in CHANNELS:
        channel = CHANNELS[channel_raw.upper()]
    else:
        raise FieldError("Channel", channel_raw, "must be one of " + ", ".join(CHANNELS))
    if method is not None and method.upper() == "CALLBACK":
        channel = "callback"
    queue = _obj(rec, "Queue")
    agent = _obj(rec, "Agent")
    customer = _obj(rec, "CustomerEndpoint")
    transferred = _obj(rec, "TransferredToEndpoint")
    enqueued = timestamp("Queue.EnqueueTimestamp", queue.get("EnqueueTimestamp"))
    dequeued = timestamp("Queue.DequeueTimestamp", queue.get("DequeueTimestamp"))
    wait = seconds("Queue.Duration", queue.get("Duration"))
    if enqueued is not None and dequeued is not None and dequeued < enqueued:
        raise FieldError(
            "Queue.DequeueTimestamp",
            dequeued.isoformat(),
            f"must not be before Queue.EnqueueTimestamp ({enqueued.isoformat()})",
        )
    if wait is None and enqueued is not None and dequeued is not None:
        wait = seconds("Queue.Duration", (dequeued - enqueued).total_seconds())
    version = timestamp("LastUpdateTimestamp", rec.get("LastUpdateTimestamp"))
    row = {
        "contact_id": cid,
        "initial_contact_id": text("InitialContactId", rec.get("InitialContactId")) or cid,
        "previous_contact_id": text("PreviousContactId", rec.get("PreviousContactId")),
        "customer_id": text("CustomerEndpoint.Address", customer.get("Address")),
        "channel": channel,
        "queue": text("Queue.Name", queue.get("Name")),
        "arrived_at": arrived,
        "queued_at": enqueued,
        "answered_at": timestamp(
            "Agent.ConnectedToAgentTimestamp", agent.get("ConnectedToAgentTimestamp")
        ),
        "ended_at": timestamp("DisconnectTimestamp", rec.get("DisconnectTimestamp")),
        "wait_s": wait,
        "talk_s": seconds("Agent.AgentInteractionDuration", agent.get("AgentInteractionDuration")),
        "hold_s": seconds("Agent.CustomerHoldDuration", agent.get("CustomerHoldDuration")),
        "acw_s": seconds("Agent.AfterContactWorkDuration", agent.get("AfterContactWorkDuration")),
        "agent_id": text("Agent.Username", agent.get("Username"))
        or text("Agent.ARN", agent.get("ARN")),
        "team": _team(agent),
        "transferred_to": text("TransferredToEndpoint.Address", transferred.get("Address")),
        "source": "amazon-connect",
        "version": version,
    }
    # the other timestamps are not stored, but a record whose clock is garbled is not trusted
    for key in ("ConnectedToSystemTimestamp", "TransferCompletedTimestamp"):
        timestamp(key, rec.get(key))
    check_row(row)
    return (
        row,
        method.upper() if method else None,
        text("NextContactId", rec.get("NextContactId")),
        version,
    )


class AmazonConnect:
    name = "amazon-connect"
    description = "Amazon Connect contact records (JSON array, JSON lines or Firehose objects)"
    table = "interactions"

    @staticmethod
    def sniff(head: bytes) -> bool:
        """Does the start of a file look like Amazon Connect contact records?"""
        return (
            head.lstrip()[:1] in (b"{", b"[")
            and b'"ContactId"' in head
            and any(
                k in head
                for k in (
                    b'"InitiationTimestamp"',
                    b'"InitiationMethod"',
                    b'"AWSContactTraceRecordFormatVersion"',
                )
            )
        )

    def read(self, path: Path, options: Mapping[str, Any]) -> Iterator[Chunk]:  # noqa: ARG002 -- the protocol's signature; no options yet
        buf = RowBuffer()
        items = list(
            records(path, self.name, REQUIRED, lambda rec: any(k in rec for k in REQUIRED))
        )
        per_line = Counter(item.line for item in items)
        seen_on_line: Counter[int] = Counter()
        best: dict[str, _Leg] = {}
        order: list[str] = []
        for item in items:
            if isinstance(item, JsonError):
                buf.reject(item.line, None, item.text, item.reason)
                continue
            seen_on_line[item.line] += 1
            ref = f"{path.name}:{item.line}"
            if per_line[item.line] > 1:
                ref += f"#{seen_on_line[item.line]}"
            if not isinstance(item.value, dict):
                buf.reject(
                    item.line,
                    None,
                    json.dumps(item.value)[:200],
                    "must be a contact record (a JSON object)",
                )
                continue
            try:
                row, method, next_id, version = _leg(item.value)
            except FieldError as bad:
                buf.reject(item.line, bad.field, bad.value, bad.reason)
                continue
            row["source_ref"] = ref
            leg = _Leg(item.line, ref, row, method, next_id, version)
            cid = row["contact_id"]
            kept = best.get(cid)
            if kept is None:
                best[cid] = leg
                order.append(cid)
            else:
                buf.duplicate()  # at-least-once delivery: keep the latest update; of equal
                # versions the first read, the warehouse's own rule across files
                if (version or _OLDEST) > (kept.version or _OLDEST):
                    best[cid] = leg

        callbacks = {
            leg.row["previous_contact_id"]
            for leg in best.values()
            if leg.method == "CALLBACK" and leg.row["previous_contact_id"]
        }
        next_of = {
            leg.row["previous_contact_id"]: leg
            for leg in best.values()
            if leg.row["previous_contact_id"]
        }
        for cid in order:
            leg = best[cid]
            row = leg.row
            nxt = best.get(leg.next_id) if leg.next_id else None
            nxt = nxt or next_of.get(cid)
            if row["transferred_to"] is None and nxt is not None:
                row["transferred_to"] = nxt.row["queue"]
            if row["answered_at"] is not None:
                row["outcome"] = "answered"
            elif leg.method == "CALLBACK" or (
                row["queued_at"] is not None
                and (cid in callbacks or (nxt is not None and nxt.method == "CALLBACK"))
            ):
                row["outcome"] = "callback_requested"
            elif row["queued_at"] is not None:
                row["outcome"] = "abandoned"
            else:
                row["outcome"] = "deflected"
            buf.add(row)
            yield from buf.flush()
        yield from buf.flush(final=True)


ADAPTER = AmazonConnect()
