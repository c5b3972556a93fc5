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
- A time more than 12 hours before the event it follows crossed midnight.
- The source's clocks disagree at times: a service start logged before the
  queue start (``ser_start`` < ``q_start``: 73 calls of January and
  February 1999 by 1-3 s, 8 more by 9-86 s) is taken as the queue start too
  (``queued_at`` = ``answered_at``), so arrived <= queued <= answered holds;
  ``wait_s`` stays the source's ``q_time``.
- A VRU exit logged before the VRU entry (a negative ``vru_time``: 58 rows in
  January and February 1999, by 6 s to 3 min) is a defect of the entry clock:
  the call's other times agree with the exit (``q_start`` = ``vru_exit``), so
  the call is taken to arrive when it left the VRU (``arrived_at`` =
  ``vru_exit``), which keeps arrived <= queued <= answered.
- Priority is 0, 1 or 2; ``q_time`` and ``ser_time`` are whole seconds from 0
  to 366 days; a row whose times end up out of order (answered before it
  arrived, ended before it was answered) is rejected (``_jsonio.check_row``).

Time zone.  Clock times are local (``Asia/Jerusalem``, the
``default_timezone``; the ``timezone`` option overrides it) and stored in
UTC.  Two days a year the local clock is not one-to-one:

- spring forward: a clock time the clocks skipped (on 1999-04-02,
  02:00-02:59) did not happen; the row is rejected, naming the field, the
  time and the rule, never shifted to a neighbouring hour;
- fall back: a clock time in the repeated hour (on 1999-09-03, 01:00-01:59)
  happened twice.  Each call is placed at the earlier of the two instants
  unless that is before the event it must follow, then at the later: for
  ``vru_entry`` the event is the previous call's ``vru_entry`` on the same
  ``vru+line`` that day (a VRU line carries one call at a time, and the log
  lists each line's calls by ``call_id`` in the order they came), for every
  later time of the call the time before it (``vru_exit`` after
  ``vru_entry``...), a second's clock rounding allowed.  Both real hours are
  kept: a call in the second 01:30 is stored an hour after one in the first.
  The rule cannot tell the hours apart for the first call of a line in the
  repeated hour, or one more than an hour after the line's previous call:
  those are placed in the first (summer-time) hour.

Format.  Line ends may be CRLF, LF or CR alone (old Mac); a UTF-8 byte-order
mark is ignored.  ``sniff`` looks for the tab-separated header starting
``vru+line``, ``call_id``.  A file whose first line is not the header raises
``format_mismatch`` (naming the missing columns) before anything is read.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contactops.data._adapter import Chunk, RowBuffer
from contactops.data._schema import MAX_DURATION_S
from contactops.data.adapters import format_mismatch
from contactops.data.adapters._jsonio import FieldError, check_row, clean
from contactops.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

HEADER = (
    "vru+line",
    "call_id",
    "customer_id",
    "priority",
    "type",
    "date",
    "vru_entry",
    "vru_exit",
    "vru_time",
    "q_start",
    "q_exit",
    "q_time",
    "outcome",
    "ser_start",
    "ser_exit",
    "ser_time",
    "server",
)
_ZERO = "0:00:00"
_SURROGATE = re.compile("[\ud800-\udfff]")
_ROUNDING = timedelta(seconds=1)  # the source's clocks disagree by a second at times


class _FieldError(ValueError):
    def __init__(self, field: str, value: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.value = value
        self.reason = reason

    def __reduce__(self) -> tuple[type[_FieldError], tuple[str, str, str]]:
        # the constructor's arguments, so the error survives pickling
        return (type(self), (self.field, self.value, self.reason))


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


def _duration(field: str, text: str) -> int:
    value = _int(field, text)
    if not 0 <= value <= MAX_DURATION_S:
        raise _FieldError(field, text, f"whole seconds from 0 to {MAX_DURATION_S:.0f} (366 days)")
    return value


def _zone(options: Mapping[str, Any]) -> ZoneInfo:
    name = options.get("timezone") or AnonymousBank.default_timezone
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidParameterError(
            "timezone",
            name,
            "an IANA time zone name",
            "The bank's clocks are Israel time: Asia/Jerusalem.",
        ) from None


def _instant(field: str, wall: datetime, tz: ZoneInfo, not_before: datetime | None) -> datetime:
    """The UTC instant of local clock time ``wall`` (naive), by the module's DST rule."""
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    a, b = first.astimezone(UTC), second.astimezone(UTC)
    if a == b:
        return a
    if (
        a.astimezone(tz).replace(tzinfo=None) != wall
        and b.astimezone(tz).replace(tzinfo=None) != wall
    ):
        raise _FieldError(
            field,
            f"{wall:%Y-%m-%d %H:%M:%S}",
            f"a local time that exists in {tz.key}: the clocks moved forward over it that day",
        )
    early, late = min(a, b), max(a, b)
    if not_before is not None and early < not_before - _ROUNDING:
        return late
    return early


class AnonymousBank:
    name = "anonymous-bank"
    description = "Technion SEE 'Anonymous Bank' call log (tab-separated, 1999)"
    table = "interactions"

    default_timezone = "Asia/Jerusalem"

    @staticmethod
    def sniff(head: bytes) -> bool:
        """Does the start of a file look like the Anonymous Bank log (its header)?"""
        first = re.split(rb"\r\n|\r|\n", head.lstrip(), maxsplit=1)[0]
        cols = [c.strip() for c in first.decode("utf-8", "replace").split("\t")]
        return cols[:2] == ["vru+line", "call_id"] and "q_start" in cols

    def read(self, path: Path, options: Mapping[str, Any]) -> Iterator[Chunk]:
        tz = _zone(options)
        buf = RowBuffer()
        ref = path.name
        last_entry: dict[tuple[str, str], datetime] = {}  # (vru+line, date) -> vru_entry
        with (
            path.open("rb") as raw_fh,
            io.TextIOWrapper(
                raw_fh, encoding="utf-8-sig", errors="surrogateescape", newline=None
            ) as fh,
        ):
            # newline=None: CRLF, LF and CR alone (old Mac) all end a line
            for lineno, raw in enumerate(fh, start=1):
                text = raw.rstrip("\n")
                if lineno == 1:
                    cols = tuple(c.strip() for c in clean(text).split("\t"))
                    if cols != HEADER:
                        missing = [c for c in HEADER if c not in cols] or [
                            "the columns in the order " + " ".join(HEADER)
                        ]
                        raise format_mismatch(path, self.name, missing, list(cols)[:20])
                    continue  # the header is not a record
                if not text.strip():
                    continue  # blank line: nothing to account for
                if _SURROGATE.search(text):
                    buf.reject(
                        lineno,
                        None,
                        clean(text)[:200],
                        "not UTF-8 text: the line holds bytes in another encoding "
                        "(e.g. Latin-1); convert the file to UTF-8 and ingest again",
                    )
                    continue
                fields = text.split("\t")
                if len(fields) != len(HEADER):
                    buf.reject(
                        lineno,
                        None,
                        text[:200],
                        f"{len(HEADER)} tab-separated fields (got {len(fields)})",
                    )
                    continue
                record = dict(zip(HEADER, fields, strict=True))
                line_key = (record["vru+line"].strip(), record["date"].strip())
                try:
                    row = self._row(record, tz, last_entry.get(line_key))
                    if row is not None:
                        check_row(row)
                except _FieldError as bad:
                    buf.reject(lineno, bad.field, bad.value, f"must be {bad.reason}")
                    continue
                except FieldError as bad:
                    buf.reject(lineno, bad.field, bad.value, bad.reason)
                    continue
                if row is None:
                    buf.reject(
                        lineno,
                        "outcome",
                        "PHANTOM",
                        "a PHANTOM record: a virtual call the source says to ignore",
                    )
                    continue
                last_entry[line_key] = row["arrived_at"]
                row["source_ref"] = f"{ref}:{lineno}"
                buf.add(row)
                yield from buf.flush()
        yield from buf.flush(final=True)

    @staticmethod
    def _row(
        r: dict[str, str], tz: ZoneInfo, previous_entry: datetime | None
    ) -> dict[str, Any] | None:
        outcome = r["outcome"].strip()
        if outcome == "PHANTOM":
            return None
        if outcome not in ("AGENT", "HANG"):
            raise _FieldError("outcome", outcome, "AGENT, HANG or PHANTOM")
        d = r["date"].strip()
        if len(d) != 6 or not d.isdigit():
            raise _FieldError("date", d, "a date YYMMDD")
        try:
            day = date(
                1900 + int(d[:2]) if int(d[:2]) >= 50 else 2000 + int(d[:2]),
                int(d[2:4]),
                int(d[4:]),
            )
        except ValueError as exc:
            raise _FieldError("date", d, "a real date YYMMDD") from exc
        midnight = datetime(day.year, day.month, day.day)  # noqa: DTZ001 -- local wall clock
        walls: dict[datetime, datetime] = {}  # UTC instant -> the wall clock it was read from

        def at(
            field: str, after: datetime | None = None, not_before: datetime | None = None
        ) -> datetime:
            wall = midnight + timedelta(seconds=_clock(field, r[field].strip()))
            if after is not None and (walls[after] - wall) > timedelta(hours=12):
                wall += timedelta(days=1)  # crossed midnight (a second back is clock rounding)
            instant = _instant(field, wall, tz, after if after is not None else not_before)
            walls[instant] = wall
            return instant

        vru_entry = at("vru_entry", not_before=previous_entry)
        vru_exit = at("vru_exit", vru_entry)
        q_time = _duration("q_time", r["q_time"])
        ser_time = _duration("ser_time", r["ser_time"])
        priority = _int("priority", r["priority"])
        if priority not in (0, 1, 2):
            raise _FieldError("priority", r["priority"], "0, 1 or 2 (0/1 regular, 2 priority)")
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
            "arrived_at": min(vru_entry, vru_exit),
            # the clocks disagree at times: a service start logged before the queue
            # start (73 calls in 1999, by 1-3 s; 8 more by 9-86 s) puts it there too
            "queued_at": q_start
            if answered_at is None or q_start is None
            else min(q_start, answered_at),
            "answered_at": answered_at,
            "ended_at": ended,
            "wait_s": float(q_time) if queued else None,
            "talk_s": talk,
            "outcome": kind,
            "agent_id": None if server in ("", "NO_SERVER") or not served else server,
            "source": "anonymous-bank",
        }


ADAPTER = AnonymousBank()
