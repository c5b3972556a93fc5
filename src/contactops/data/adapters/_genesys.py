"""``genesys``: Genesys Cloud analytics conversation details, one leg per queue visit.

Input: the response of ``POST /api/v2/analytics/conversations/details/query``
(an object with ``conversations``), a single conversation, a list of them or
JSON lines of either (see ``_jsonio``).  A conversation is
``participants[purpose] -> sessions[mediaType] -> segments[] + metrics[]``
(``../shared/data/formats/README.md``); metric values are milliseconds.

Legs.  Every session of an ``acd`` participant is one queue visit; visits
are ordered by their first segment.  Leg 1 has ``contact_id`` =
``conversationId``, leg n > 1 ``conversationId-n``; all have
``initial_contact_id`` = ``conversationId`` and ``previous_contact_id`` =
the leg before.  Each ``agent`` (or ``user``) session belongs to the latest
visit that started before it, preferring a visit to the same queue.

- ``queue`` = the visit's ``queueName`` when present, else ``queueId``;
  ``channel`` = the session's ``mediaType`` (voice, chat, email, message,
  callback); ``customer_id`` = the customer session's ``ani`` or
  ``addressFrom``; ``agent_id`` = the ``userId`` of the first agent to answer.
- ``arrived_at`` = ``conversationStart`` for leg 1, the visit's start after;
  ``queued_at`` = the visit's first acd segment start; ``answered_at`` = the
  agent's first ``interact`` segment (else queue entry + ``tAnswered``);
  ``ended_at`` = the end of the answering agent's last segment other than
  wrap-up (answered), else the visit's end; ``conversationEnd`` when neither.
- ``wait_s`` = ``tAnswered`` (answered) or ``tAbandon`` (abandoned), else
  ``tAcd``, else the acd segments' span.  ``talk_s``, ``hold_s``, ``acw_s`` =
  ``tTalkComplete`` (else the sum of ``tTalk``, else of ``interact`` segments),
  ``tHeldComplete`` (``tHeld``, ``hold`` segments), ``tAcw`` (``wrapup``
  segments) of the answering agent sessions; 0 when an answered leg has none.
- ``outcome``: ``answered`` when an agent session has an ``interact`` segment
  or ``tAnswered``; else ``callback_requested`` for a callback visit or one
  the next visit is a callback for; else ``abandoned`` when the visit has
  ``tAbandon`` or is the last; else ``deflected`` -- a flow-out, handed on
  unanswered to the next leg (``transferred_to``), neither answered nor
  abandoned (Genesys: offered = answered + abandoned + flow-outs).
- A conversation with no acd visit but an agent session is one leg, not
  queued (a direct or outbound call); one with neither (IVR only) is one
  ``deflected`` leg.
- ``version`` = the latest timestamp in the conversation, so a later
  snapshot of the same conversation replaces an earlier one (within a file
  the earlier snapshot's legs count as duplicates).  ``source_ref`` =
  ``file:line`` (``file:line#k`` for the k-th conversation of an object or
  line holding several).

A conversation is rejected whole (one reject, counted once in ``read``)
when it has no ``conversationId`` or ``conversationStart``, a timestamp that
does not parse or lies outside years 1..9999 UTC, a segment that ends before
it starts, a metric that is not a number of milliseconds from 0 to 366 days,
a leg whose times are out of order (answered before it arrived, ended before
it was answered) or whose durations add up past 366 days, text that is not
UTF-8, a media type outside the canonical channels, or JSON nested deeper
than 200 levels (see ``_jsonio``).

Format: ``sniff`` looks for ``"conversationId"`` with ``"participants"``.  A
file that is not JSON, or whose first record is an object with none of
``conversationId``, ``conversationStart``, ``participants`` (and is not a
query response with ``conversations``/``totalHits``), raises
``format_mismatch`` before anything is loaded.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from contactops.data._adapter import Chunk, RowBuffer
from contactops.data.adapters._jsonio import (
    FieldError,
    JsonError,
    check_row,
    records,
    seconds,
    shifted,
    text,
    timestamp,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

MEDIA = ("voice", "chat", "email", "message", "callback")
REQUIRED = ("conversationId", "conversationStart", "participants")
_WRAPPER = ("conversations", "totalHits")
_AGENT = ("agent", "user")
_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass
class _Session:
    purpose: str
    media: str | None
    user: str | None
    start: datetime | None = None
    end: datetime | None = None  # of the customer-facing (non-wrapup) segments
    queue: str | None = None
    interact_at: datetime | None = None
    seg_s: dict[str, float] = field(default_factory=dict)  # segmentType -> seconds
    metrics: dict[str, list[float]] = field(default_factory=dict)  # name -> seconds

    def metric(self, name: str) -> float | None:
        values = self.metrics.get(name)
        return sum(values) if values else None

    @property
    def answered(self) -> bool:
        return self.interact_at is not None or self.metric("tAnswered") is not None


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise FieldError(where, json.dumps(value)[:200], "must be a list")
    return value


def _dict(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise FieldError(where, json.dumps(value)[:200], "must be an object")
    return value


def _session(purpose: str, user: str | None, s: Mapping[str, Any], where: str) -> _Session:
    media = text(f"{where}.mediaType", s.get("mediaType"))
    if media is not None:
        media = media.lower()
        if media not in MEDIA:
            raise FieldError(f"{where}.mediaType", media, "must be one of " + ", ".join(MEDIA))
    sess = _Session(purpose, media, user)
    for k, raw in enumerate(_list(s.get("segments"), f"{where}.segments")):
        seg = _dict(raw, f"{where}.segments[{k}]")
        at = f"{where}.segments[{k}]"
        start = timestamp(f"{at}.segmentStart", seg.get("segmentStart"))
        end = timestamp(f"{at}.segmentEnd", seg.get("segmentEnd"))
        kind = (text(f"{at}.segmentType", seg.get("segmentType")) or "").lower()
        queue = text(f"{at}.queueName", seg.get("queueName")) or text(
            f"{at}.queueId", seg.get("queueId")
        )
        if sess.queue is None:
            sess.queue = queue
        if start is not None:
            sess.start = start if sess.start is None else min(sess.start, start)
            if kind == "interact" and (sess.interact_at is None or start < sess.interact_at):
                sess.interact_at = start
        if end is not None and kind != "wrapup":
            sess.end = end if sess.end is None else max(sess.end, end)
        if start is not None and end is not None:
            if end < start:
                raise FieldError(
                    f"{at}.segmentEnd",
                    end.isoformat(),
                    f"must not be before segmentStart ({start.isoformat()})",
                )
            sess.seg_s[kind] = sess.seg_s.get(kind, 0.0) + (end - start).total_seconds()
    for k, raw in enumerate(_list(s.get("metrics"), f"{where}.metrics")):
        m = _dict(raw, f"{where}.metrics[{k}]")
        name = text(f"{where}.metrics[{k}].name", m.get("name"))
        if name is None or not name.startswith("t"):
            continue  # counts (nOffered...) and the like are not durations
        value = seconds(f"{where}.metrics[{k}].value", m.get("value"), 1000.0)
        if value is not None:
            sess.metrics.setdefault(name, []).append(value)
    return sess


def _part(sess: _Session, complete: str, metric: str, segment: str) -> float | None:
    for value in (sess.metric(complete), sess.metric(metric), sess.seg_s.get(segment)):
        if value is not None:
            return value
    return None


def _legs(conv: Any) -> tuple[str, list[dict[str, Any]]]:
    """The canonical rows (without ``source_ref``) of one conversation."""
    c = _dict(conv, "conversation")
    cid = text("conversationId", c.get("conversationId"))
    if cid is None:
        raise FieldError("conversationId", None, "is required: every conversation has one")
    start = timestamp("conversationStart", c.get("conversationStart"))
    if start is None:
        raise FieldError("conversationStart", None, "is required: when the conversation began")
    end = timestamp("conversationEnd", c.get("conversationEnd"))
    customer_id = None
    sessions: list[_Session] = []
    for pi, raw in enumerate(_list(c.get("participants"), "participants")):
        p = _dict(raw, f"participants[{pi}]")
        purpose = (text(f"participants[{pi}].purpose", p.get("purpose")) or "").lower()
        user = text(f"participants[{pi}].userId", p.get("userId"))
        for si, raw_s in enumerate(_list(p.get("sessions"), f"participants[{pi}].sessions")):
            where = f"participants[{pi}].sessions[{si}]"
            s = _dict(raw_s, where)
            sessions.append(_session(purpose, user, s, where))
            if purpose == "customer" and customer_id is None:
                customer_id = text(f"{where}.ani", s.get("ani")) or text(
                    f"{where}.addressFrom", s.get("addressFrom")
                )
    stamps = [t for s in sessions for t in (s.start, s.end) if t is not None]
    version = max([start, *stamps] + ([end] if end else []))
    visits = sorted((s for s in sessions if s.purpose == "acd"), key=lambda s: s.start or start)
    agents = [s for s in sessions if s.purpose in _AGENT]
    served: list[list[_Session]] = [[] for _ in visits]
    direct: list[_Session] = []
    for a in agents:
        begun = [
            i
            for i, v in enumerate(visits)
            if v.start is None or a.start is None or v.start <= a.start
        ]
        same = [i for i in begun if visits[i].queue == a.queue]
        if same or begun:
            served[(same or begun)[-1]].append(a)
        elif visits:
            served[0].append(a)
        else:
            direct.append(a)
    media = next(
        (s.media for s in sessions if s.purpose == "customer" and s.media),
        next((s.media for s in sessions if s.media), None),
    )
    base = {
        "initial_contact_id": cid,
        "customer_id": customer_id,
        "source": "genesys",
        "version": version,
    }
    if not visits:
        answering = [a for a in direct if a.answered]
        only: dict[str, Any] = {
            **base,
            "contact_id": cid,
            "channel": media or "voice",
            "arrived_at": start,
            "ended_at": end or (max(stamps) if stamps else None),
            "outcome": "deflected",
        }
        if answering:
            only.update(_answered(answering, None))
            only["queue"] = answering[0].queue
            only["ended_at"] = only["ended_at"] or end
        check_row(only)
        return cid, [only]
    rows: list[dict[str, Any]] = []
    for i, v in enumerate(visits):
        leg_id = cid if i == 0 else f"{cid}-{i + 1}"
        nxt = visits[i + 1] if i + 1 < len(visits) else None
        row: dict[str, Any] = {
            **base,
            "contact_id": leg_id,
            "channel": v.media or media or "voice",
            "previous_contact_id": rows[-1]["contact_id"] if rows else None,
            "queue": v.queue,
            "arrived_at": start if i == 0 else (v.start or start),
            "queued_at": v.start,
            "ended_at": v.end,
            "transferred_to": nxt.queue if nxt else None,
        }
        answering = [a for a in served[i] if a.answered]
        abandon = v.metric("tAbandon")
        if answering:
            row.update(_answered(answering, v))
            row["ended_at"] = row["ended_at"] or v.end
        elif row["channel"] == "callback" or (nxt is not None and nxt.media == "callback"):
            row["outcome"] = "callback_requested"
        elif abandon is not None or nxt is None:
            row["outcome"] = "abandoned"
        else:
            row["outcome"] = "deflected"  # a flow-out to the next leg
        if row["outcome"] != "answered":
            row["wait_s"] = next(
                (w for w in (abandon, v.metric("tAcd"), v.seg_s.get("interact")) if w is not None),
                None,
            )
        check_row(row)
        rows.append(row)
    return cid, rows


def _answered(answering: list[_Session], visit: _Session | None) -> dict[str, Any]:
    first = min(answering, key=lambda a: a.interact_at or a.start or _OLDEST)
    answered_at = first.interact_at
    t_answered = first.metric("tAnswered")
    if answered_at is None and visit is not None and visit.start and t_answered is not None:
        answered_at = shifted("tAnswered", visit.start, t_answered)
    wait = None
    if visit is not None:
        wait = next(
            (
                w
                for w in (t_answered, visit.metric("tAcd"), visit.seg_s.get("interact"))
                if w is not None
            ),
            None,
        )
    ends = [a.end for a in answering if a.end is not None]
    return {
        "outcome": "answered",
        "answered_at": answered_at,
        "agent_id": first.user,
        "wait_s": wait,
        "ended_at": max(ends) if ends else None,
        "talk_s": sum(_part(a, "tTalkComplete", "tTalk", "interact") or 0.0 for a in answering),
        "hold_s": sum(_part(a, "tHeldComplete", "tHeld", "hold") or 0.0 for a in answering),
        "acw_s": sum(_part(a, "tAcw", "tAcw", "wrapup") or 0.0 for a in answering),
    }


class Genesys:
    name = "genesys"
    description = "Genesys Cloud analytics conversation details (JSON)"
    table = "interactions"

    @staticmethod
    def sniff(head: bytes) -> bool:
        """Does the start of a file look like Genesys Cloud conversation details?"""
        return (
            head.lstrip()[:1] in (b"{", b"[")
            and b'"conversationId"' in head
            and b'"participants"' in head
        )

    def read(self, path: Path, options: Mapping[str, Any]) -> Iterator[Chunk]:  # noqa: ARG002 -- the protocol's signature; no options yet
        buf = RowBuffer()
        convs: list[tuple[int, str, Any]] = []
        for item in records(path, self.name, REQUIRED, _looks_right):
            if isinstance(item, JsonError):
                buf.reject(item.line, None, item.text, item.reason)
                continue
            value = item.value
            wrapper = (
                isinstance(value, dict)
                and "conversationId" not in value
                and ("conversations" in value or "totalHits" in value)
            )
            if not wrapper:
                convs.append((item.line, "", value))
                continue
            inner = value.get("conversations")
            if inner is not None and not isinstance(inner, list):
                buf.reject(
                    item.line,
                    "conversations",
                    json.dumps(inner)[:200],
                    "must be a list of conversations",
                )
                continue
            convs.extend((item.line, f"#{k}", c) for k, c in enumerate(inner or [], start=1))
        per_line = Counter(line for line, _, _ in convs)
        seen_on_line: Counter[int] = Counter()
        best: dict[str, tuple[datetime, list[dict[str, Any]]]] = {}
        order: list[str] = []
        for line, sub, conv in convs:
            seen_on_line[line] += 1
            ref = f"{path.name}:{line}"
            if sub:
                ref += sub
            elif per_line[line] > 1:
                ref += f"#{seen_on_line[line]}"
            try:
                cid, rows = _legs(conv)
            except FieldError as bad:
                buf.reject(line, bad.field, bad.value, bad.reason)
                continue
            for row in rows:
                row["source_ref"] = ref
            version = rows[0]["version"]
            kept = best.get(cid)
            if kept is None:
                best[cid] = (version, rows)
                order.append(cid)
            elif version > kept[0]:  # of equal versions the first read stays, as in the warehouse
                buf.duplicate(len(kept[1]))
                best[cid] = (version, rows)
            else:
                buf.duplicate(len(rows))
        for cid in order:
            for row in best[cid][1]:
                buf.add(row)
            yield from buf.flush()
        yield from buf.flush(final=True)


def _looks_right(value: Mapping[str, Any]) -> bool:
    return any(k in value for k in (*REQUIRED, *_WRAPPER))


ADAPTER = Genesys()
ADAPTER.snapshot_of = "initial_contact_id"  # type: ignore[attr-defined]  # see the warehouse
