"""``anonymous-bank``: the Technion SEE call log of the "Anonymous Bank" (1999).

Tab-separated, 17 columns, CRLF or LF, ``YYMMDD`` dates, ``H:MM:SS`` clock
times on the day of the call (local time, Israel), ``0:00:00``/0 for "not
applicable" (``../shared/data/anonymous-bank-1999/SOURCE.md``).

Mapping to the canonical record:

- contact id ``YYMMDD-<vru+line>-<call_id>``; customer 0 (not identified) is null.
- queue = call ``type`` (PS, PE, IN, NE, NW, TT, AA); segment ``priority`` for
  priority 2, else ``regular``.
- ``AGENT``: answered; ``HANG`` after queueing: abandoned, wait = ``q_time``;
  ``HANG`` without queueing: the caller left in the VRU (self-service), written
  as ``deflected``.
- ``PHANTOM`` rows are virtual calls the source says to ignore: rejected,
  with that reason, so they stay accounted for.
- ``AGENT`` rows with no service start (a known defect) are answered with no
  talk time (null) and answered at the queue exit.
- A time more than 12 hours before the event it follows crossed midnight;
  the source's clocks are a second apart at times, which is kept as is.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from contactops.data._adapter import Chunk, RowBuffer, utc

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

HEADER = ("vru+line", "call_id", "customer_id", "priority", "type", "date", "vru_entry",
          "vru_exit", "vru_time", "q_start", "q_exit", "q_time", "outcome", "ser_start",
          "ser_exit", "ser_time", "server")
_ZERO = "0:00:00"


class _FieldError(ValueError):
    def __init__(self, field: str, value: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.value = value
        self.reason = reason


def _clock(field: str, text: str) -> int:
    parts = text.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise _FieldError(field, text, "a clock time H:MM:SS")
    h, m, s = (int(p) for p in parts)
    if m > 59 or s > 59 or h > 47:
        raise _FieldError(field, text, "a clock time H:MM:SS with minutes and seconds below 60")
    return h * 3600 + m * 60 + s


def _int(field: str, text: str) -> int:
    t = text.strip()
    if not t.lstrip("-").isdigit():
        raise _FieldError(field, text, "a whole number")
    return int(t)


class AnonymousBank:
    name = "anonymous-bank"
    description = "Technion SEE 'Anonymous Bank' call log (tab-separated, 1999)"
    table = "interactions"

    def read(self, path: Path, options: Mapping[str, Any]) -> Iterator[Chunk]:
        tz = ZoneInfo(str(options.get("timezone", "Asia/Jerusalem")))
        buf = RowBuffer()
        ref = path.name
        with path.open("rb") as fh:
            header_ok = None
            for lineno, raw in enumerate(fh, start=1):
                try:
                    text = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError as exc:
                    buf.reject(lineno, None, raw[:80].hex(), f"not UTF-8 text ({exc.reason})")
                    continue
                if header_ok is None:
                    cols = tuple(c.strip() for c in text.split("\t"))
                    header_ok = cols == HEADER
                    if header_ok:
                        continue  # the header is not a record
                if not text.strip():
                    continue  # blank line: nothing to account for
                if not header_ok:
                    buf.reject(lineno, None, text[:200],
                               "not an anonymous-bank file: the first line is not the header "
                               + " ".join(HEADER))
                    continue
                fields = text.split("\t")
                if len(fields) != len(HEADER):
                    buf.reject(lineno, None, text[:200],
                               f"{len(HEADER)} tab-separated fields (got {len(fields)})")
                    continue
                try:
                    row = self._row(dict(zip(HEADER, fields, strict=True)), tz)
                except _FieldError as bad:
                    buf.reject(lineno, bad.field, bad.value, f"must be {bad.reason}")
                    continue
                if row is None:
                    buf.reject(lineno, "outcome", "PHANTOM",
                               "a PHANTOM record: a virtual call the source says to ignore")
                    continue
                row["source_ref"] = f"{ref}:{lineno}"
                buf.add(row)
                yield from buf.flush()
        yield from buf.flush(final=True)

    @staticmethod
    def _row(r: dict[str, str], tz: ZoneInfo) -> dict[str, Any] | None:
        outcome = r["outcome"].strip()
        if outcome == "PHANTOM":
            return None
        if outcome not in ("AGENT", "HANG"):
            raise _FieldError("outcome", outcome, "AGENT, HANG or PHANTOM")
        d = r["date"].strip()
        if len(d) != 6 or not d.isdigit():
            raise _FieldError("date", d, "a date YYMMDD")
        try:
            day = date(1900 + int(d[:2]) if int(d[:2]) >= 50 else 2000 + int(d[:2]),
                       int(d[2:4]), int(d[4:]))
        except ValueError as exc:
            raise _FieldError("date", d, "a real date YYMMDD") from exc
        midnight = datetime(day.year, day.month, day.day, tzinfo=tz)

        def at(field: str, after: datetime | None = None) -> datetime:
            t = midnight + timedelta(seconds=_clock(field, r[field].strip()))
            if after is not None and (after - t) > timedelta(hours=12):
                t += timedelta(days=1)  # crossed midnight (a second back is clock rounding)
            return utc(t)

        vru_entry = at("vru_entry")
        vru_exit = at("vru_exit", vru_entry)
        q_time = _int("q_time", r["q_time"])
        ser_time = _int("ser_time", r["ser_time"])
        priority = _int("priority", r["priority"])
        queued = r["q_start"].strip() != _ZERO or q_time > 0
        q_start = at("q_start", vru_entry) if queued else None
        q_exit = at("q_exit", q_start) if queued else None
        served = outcome == "AGENT"
        has_service = r["ser_start"].strip() != _ZERO
        answered_at = ended = None
        talk = None
        if served:
            base = q_start or vru_exit
            answered_at = at("ser_start", base) if has_service else (q_exit or vru_exit)
            ended = at("ser_exit", answered_at) if has_service else answered_at
            talk = float(ser_time) if has_service else None
            kind = "answered"
        elif queued:
            kind = "abandoned"
            ended = q_exit
        else:
            kind = "deflected"
            ended = vru_exit
        cid = f"{d}-{r['vru+line'].strip()}-{r['call_id'].strip()}"
        customer = r["customer_id"].strip()
        server = r["server"].strip()
        return {
            "contact_id": cid,
            "initial_contact_id": cid,
            "customer_id": None if customer in ("", "0") else customer,
            "channel": "voice",
            "queue": r["type"].strip(),
            "segment": "priority" if priority == 2 else "regular",
            "priority": priority,
            "arrived_at": vru_entry,
            "queued_at": q_start,
            "answered_at": answered_at,
            "ended_at": ended,
            "wait_s": float(q_time) if queued else None,
            "talk_s": talk,
            "outcome": kind,
            "agent_id": None if server in ("", "NO_SERVER") or not served else server,
            "source": "anonymous-bank",
        }


ADAPTER = AnonymousBank()
