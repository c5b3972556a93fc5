"""Hostile files for the columnar adapters (issue 13): every record accounted for.

Each property writes a file derived from a real sample -- the Anonymous Bank call log
(``../shared/data/anonymous-bank-1999``) as a mapped CSV, as Avaya interval rows built
from its calls, and as surveys of its calls; the agent-state fixtures; small hand-made
samples -- with hostile values injected (bad cells, huge and non-finite numbers,
impossible dates, out-of-range years, wrong types, nested Parquet columns, epoch
nanoseconds, bytes that are not UTF-8, a byte-order mark, CR-only line endings,
truncation, DST days), ingests it into a real warehouse and checks, for every file:

- no exception escapes;
- ``read`` equals the records in the file, counted independently (Python's csv
  module; the Parquet metadata);
- ``read = loaded + rejected + duplicates``, and the tables hold exactly that;
- every stored row satisfies the record's invariants;
- a re-ingest changes nothing; a failed load leaves the warehouse as it was.

A header lacking the format's columns is its own test (``FormatMismatchError``).
The samples under ../shared are optional locally (the hand-made ones always run) and
required in CI (``test_shared_samples_present``).
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contactops.data import Warehouse
from contactops.data._schema import MAX_DURATION_S
from contactops.data.adapters import get_adapter, read_head
from contactops.data.adapters._columns import GAP_REASON, Folds, as_timestamp
from contactops.data.adapters._flat import CONVERT_FAILED
from contactops.errors import FormatMismatchError
from tests import conftest
from tests.conftest import shared_file


def local(*args: int) -> datetime:
    """A naive local wall-clock time (what the files hold)."""
    return datetime(*args)  # noqa: DTZ001 -- wall clock, placed in a zone by the adapter


FIXTURES = Path(__file__).parent / "fixtures" / "agent_states"
JANUARY = "data/anonymous-bank-1999/january.txt"
SHIFTS = "data/anonymous-bank-1999/data_anonymous_bank_shifts.csv"
HOSTILE = settings(
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# -- the samples ------------------------------------------------------------------------------


@dataclass
class Base:
    """A clean sample of one format: header, rows (text cells), ingest options."""

    name: str
    fmt: str
    table: str
    header: list[str]
    rows: list[list[str]]
    options: dict[str, Any] = field(default_factory=dict)
    times: tuple[str, ...] = ()  # the columns holding local times (DST injections)
    tz: str = "UTC"
    parquet: str | None = None  # the format that reads it as Parquet, if any


CSV_HEADER = [
    "contact_id",
    "channel",
    "queue",
    "priority",
    "customer_id",
    "arrived_at",
    "queued_at",
    "answered_at",
    "ended_at",
    "wait_s",
    "talk_s",
    "hold_s",
    "acw_s",
    "outcome",
    "bot_confidence",
]


def _inline_csv() -> Base:
    rows = []
    start = local(2024, 11, 2, 22, 0)
    for i in range(14):
        a = start + timedelta(minutes=17 * i)
        answered = i % 4 != 3
        q, ans, end = (
            a + timedelta(seconds=5),
            a + timedelta(seconds=35),
            a + timedelta(seconds=335),
        )
        rows.append(
            [
                f"L{i}",
                ["voice", "Chat", "email"][i % 3],
                f"q{i % 2}",
                str(i % 3),
                f"cust{i % 5}",
                a.isoformat(sep=" "),
                q.isoformat(sep=" "),
                ans.isoformat(sep=" ") if answered else "",
                end.isoformat(sep=" "),
                "30",
                "300" if answered else "",
                "0",
                "20" if answered else "",
                "answered" if answered else "abandoned",
                "0.5",
            ]
        )
    return Base(
        "legs (hand-made)",
        "csv",
        "interactions",
        CSV_HEADER,
        rows,
        {"timezone": "America/New_York"},
        ("arrived_at", "queued_at", "answered_at", "ended_at"),
        "America/New_York",
        "parquet",
    )


AVAYA = [
    "ROW_DATE",
    "STARTTIME",
    "INTRVL",
    "SPLIT",
    "CALLSOFFERED",
    "ACDCALLS",
    "ABNCALLS",
    "ACCEPTABLE",
    "SLVLABNS",
    "ANSTIME",
    "ABNTIME",
    "ACDTIME",
    "ACWTIME",
    "HOLDTIME",
    "TRANSFERRED",
]


def _inline_intervals() -> Base:
    rows = []
    for split in ("101", "102"):
        for k in range(8):
            minute = 60 * 22 + 30 * k
            day = 3 + minute // 1440
            hhmm = f"{(minute % 1440) // 60:02d}{minute % 60:02d}"
            rows.append(
                [
                    f"11/{day:02d}/2024",
                    hhmm,
                    "30",
                    split,
                    "10",
                    "8",
                    "2",
                    "6",
                    "1",
                    "120",
                    "40",
                    "1600",
                    "400",
                    "30",
                    "1",
                ]
            )
    return Base(
        "intervals (hand-made)",
        "interval-csv",
        "intervals",
        AVAYA,
        rows,
        {"preset": "avaya", "timezone": "America/New_York"},
        (),
        "America/New_York",
    )


def _inline_surveys() -> Base:
    rows = [
        [
            f"S{i}",
            f"cust{i}",
            f"2024-03-0{1 + i % 9} 1{i % 10}:00:00",
            str(1 + i % 5),
            str(i % 11),
            "fine" if i % 2 else "",
        ]
        for i in range(12)
    ]
    return Base(
        "surveys (hand-made)",
        "surveys",
        "surveys",
        ["contact_id", "customer_id", "surveyed_at", "csat", "nps", "verbatim"],
        rows,
        {"timezone": "Europe/Berlin"},
        ("surveyed_at",),
        "Europe/Berlin",
        "surveys",
    )


def _fixture(name: str, options: dict[str, Any], times: tuple[str, ...]) -> Base:
    with (FIXTURES / name).open(encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    return Base(
        name, "agent-states", "agent_states", header, rows, options, times, "UTC", "agent-states"
    )


@cache
def _bank_calls(n: int = 240) -> list[dict[str, Any]] | None:
    """The first ``n`` clean calls of the real January log, times as local datetimes."""
    path = conftest.SHARED / JANUARY
    if not path.exists():
        return None
    calls = []
    with path.open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh, delimiter="\t"):
            day = datetime.strptime(rec["date"], "%y%m%d")  # noqa: DTZ007 -- local

            def at(clock: str, day: datetime = day) -> datetime:
                h, m, s = (int(x) for x in clock.split(":"))
                return day + timedelta(hours=h, minutes=m, seconds=s)

            arrived = at(rec["vru_entry"])
            answered = at(rec["ser_start"]) if rec["outcome"] == "AGENT" else None
            ended = (
                at(rec["ser_exit"])
                if answered
                else at(rec["q_exit"])
                if rec["q_exit"] != "0:00:00"
                else at(rec["vru_exit"])
            )
            if not arrived <= (answered or arrived) <= ended:
                continue  # a call across midnight: the log keeps one date
            calls.append({**rec, "arrived": arrived, "answered": answered, "ended": ended})
            if len(calls) == n:
                break
    return calls


BANK_MAPPING = {
    "contact_id": "call_id",
    "customer_id": "customer_id",
    "priority": "priority",
    "queue": "type",
    "arrived_at": "start",
    "answered_at": "answer",
    "ended_at": "end",
    "wait_s": "q_time",
    "talk_s": "ser_time",
    "agent_id": "server",
    "channel": {"value": "voice"},
    "outcome": {
        "column": "outcome",
        "values": {"AGENT": "answered", "HANG": "abandoned", "PHANTOM": "abandoned"},
    },
}


def _bank_csv() -> Base | None:
    calls = _bank_calls()
    if calls is None:
        return None
    header = [
        "call_id",
        "customer_id",
        "priority",
        "type",
        "start",
        "answer",
        "end",
        "q_time",
        "ser_time",
        "outcome",
        "server",
    ]
    rows = [
        [
            c["call_id"],
            c["customer_id"],
            c["priority"],
            c["type"],
            c["arrived"].isoformat(sep=" "),
            c["answered"].isoformat(sep=" ") if c["answered"] else "",
            c["ended"].isoformat(sep=" "),
            c["q_time"],
            c["ser_time"],
            c["outcome"],
            c["server"],
        ]
        for c in calls
    ]
    return Base(
        "anonymous bank calls (mapped CSV)",
        "csv",
        "interactions",
        header,
        rows,
        {"mapping": BANK_MAPPING, "timezone": "Asia/Jerusalem"},
        ("start", "answer", "end"),
        "Asia/Jerusalem",
        "parquet",
    )


def _bank_intervals() -> Base | None:
    calls = _bank_calls()
    if calls is None:
        return None
    slots: dict[tuple[str, datetime], list[dict[str, Any]]] = {}
    for c in calls:
        a = c["arrived"]
        slot = a.replace(minute=a.minute // 30 * 30, second=0)
        slots.setdefault((c["type"], slot), []).append(c)
    rows = []
    for (split, slot), group in sorted(slots.items()):
        ans = [c for c in group if c["answered"]]
        rows.append(
            [
                slot.strftime("%m/%d/%Y"),
                slot.strftime("%H%M"),
                "30",
                split,
                str(len(group)),
                str(len(ans)),
                str(len(group) - len(ans)),
                str(sum(int(c["q_time"]) <= 20 for c in ans)),
                "0",
                str(sum(int(c["q_time"]) for c in ans)),
                "0",
                str(sum(int(c["ser_time"]) for c in ans)),
                "0",
                "0",
                "0",
            ]
        )
    return Base(
        "anonymous bank intervals (Avaya rows)",
        "interval-csv",
        "intervals",
        AVAYA,
        rows,
        {"preset": "avaya", "timezone": "Asia/Jerusalem"},
        (),
        "Asia/Jerusalem",
    )


def _bank_surveys() -> Base | None:
    calls = _bank_calls()
    if calls is None:
        return None
    rows = [
        [
            c["call_id"],
            c["customer_id"],
            c["ended"].isoformat(sep=" "),
            str(1 + int(c["call_id"]) % 5),
            str(int(c["call_id"]) % 11),
            "",
        ]
        for c in calls[:80]
    ]
    return Base(
        "anonymous bank surveys",
        "surveys",
        "surveys",
        ["contact_id", "customer_id", "surveyed_at", "csat", "nps", "verbatim"],
        rows,
        {"timezone": "Asia/Jerusalem"},
        ("surveyed_at",),
        "Asia/Jerusalem",
        "surveys",
    )


def bases(fmt: str) -> list[Base]:
    """The samples of one format: the hand-made ones, and those from ../shared if present."""
    out: dict[str, list[Base | None]] = {
        "csv": [_inline_csv(), _bank_csv()],
        "interval-csv": [_inline_intervals(), _bank_intervals()],
        "surveys": [_inline_surveys(), _bank_surveys()],
        "agent-states": [
            _fixture("genesys_routing_status.csv", {"preset": "genesys"}, ("startTime", "endTime")),
            _fixture(
                "amazon_connect_agent_activity_audit.csv",
                {"preset": "amazon-connect", "timezone": "UTC"},
                ("Status start time",),
            ),
            _fixture(
                "amazon_connect_agent_events.csv",
                {"preset": "amazon-connect", "layout": "events"},
                ("EventTimestamp",),
            ),
        ],
    }
    return [b for b in out[fmt] if b is not None]


def test_shared_samples_present() -> None:
    """The real samples the properties derive files from (skipped locally, required in CI)."""
    shared_file(JANUARY)
    assert _bank_calls() is not None
    assert len(_bank_calls() or []) == 240


# -- hostile values ---------------------------------------------------------------------------

BAD_BYTE = "\udcff"  # encoded with surrogateescape: the byte 0xFF, not UTF-8
CELLS = [
    "",
    " ",
    "inf",
    "-inf",
    "nan",
    "NaN",
    "1e400",
    "-1e400",
    "1e300",
    "1e10",
    "-5",
    "-0.5",
    "3.5",
    "40000",
    "-40000",
    "32767",
    "99999999999999999999",
    "9223372036854775808",
    "1700000000000000000",
    "0",
    "true",
    "[1, 2]",
    '{"a": 1}',
    "2024-02-30 10:00:00",
    "02/30/2024",
    "2023-02-29",
    "0000-01-01 00:00:00",
    "0001-01-01T00:00:00+01:00",
    "0001-01-01 00:00:00",
    "9999-12-31T23:00:00-05:00",
    "9999-12-31 23:59:59",
    "2024-03-01T09:00:00Z",
    "2024-03-01 09:00:00.1234567",
    "24:00",
    "2575",
    "12/31/9999",
    "01/01/0001",
    "x" * 3000,
    "Café",
    "\u202ertl",
    "=cmd|' /C calc'!A0",
    "NULL",
    "N/A",
    "a,b",
    'quo"te',
    "two\nlines",
    "cr\ronly",
    "Caf" + BAD_BYTE,
    BAD_BYTE,
    "\ufeffbom",
    "AGENT",
    "HANG",
    "busy",
    "Lunch",
    "OFFLINE",
    "-1:00:00",
    "1:00:00",
    "999999:00:00",
]


def _dst_hours(tz: str, year: int) -> tuple[list[datetime], list[datetime]]:
    """Local times in the repeated (autumn) and skipped (spring) hours of ``year``."""
    zone = ZoneInfo(tz)
    fold: list[datetime] = []
    gap: list[datetime] = []
    t = datetime(year, 1, 1, tzinfo=UTC)
    prev = t.astimezone(zone).utcoffset()
    while t.year == year:
        off = t.astimezone(zone).utcoffset()
        if off != prev and off is not None and prev is not None:
            local = t.astimezone(zone).replace(tzinfo=None)
            shift = off - prev
            if shift < timedelta(0):  # clocks back: local [local, local - shift) repeats
                fold.extend(local + timedelta(minutes=m) for m in range(0, 60, 7))
            else:  # clocks forward: local [local - shift, local) never happens
                gap.extend(local - shift + timedelta(minutes=m) for m in range(1, 60, 7))
        prev = off
        t += timedelta(hours=1)
    return fold, gap


@st.composite
def hostile_rows(draw: st.DrawFn, base: Base) -> list[list[str]]:
    """The base's rows with hostile cells, repeats, short and long rows, DST times."""
    rows = [list(r) for r in base.rows]
    width = len(base.header)
    for _ in range(draw(st.integers(0, 6))):
        r = draw(st.integers(0, len(rows) - 1))
        c = draw(st.integers(0, width - 1))
        rows[r][c] = draw(st.sampled_from(CELLS))
    if base.times and base.tz != "UTC" and draw(st.booleans()):
        fold, gap = _dst_hours(base.tz, 1999 if "Jerusalem" in base.tz else 2024)
        for _ in range(draw(st.integers(1, 4))):
            r = draw(st.integers(0, len(rows) - 1))
            c = base.header.index(draw(st.sampled_from(base.times)))
            rows[r][c] = draw(st.sampled_from(fold + gap)).isoformat(sep=" ")
    if draw(st.booleans()):  # a repeated record
        rows.append(list(draw(st.sampled_from(rows))))
    if draw(st.booleans()):  # a short row and a long row
        r = draw(st.integers(0, len(rows) - 1))
        rows[r] = rows[r][: draw(st.integers(1, width - 1))]
        r = draw(st.integers(0, len(rows) - 1))
        rows[r] = [*rows[r], "extra"]
    return rows


@st.composite
def hostile_csv(draw: st.DrawFn, base: Base) -> bytes:
    """A CSV file of the base: hostile rows, line endings, BOM, maybe truncated."""
    rows = draw(hostile_rows(base))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=ending)
    writer.writerow(base.header)
    header_len = len(out.getvalue().encode())
    for row in rows:
        writer.writerow(row)
        if draw(st.integers(0, 9)) == 0:
            out.write(ending)  # a blank line: not a record
    data = out.getvalue().encode("utf-8", "surrogateescape")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
        header_len += 3
    if draw(st.integers(0, 3)) == 0:  # truncated (never inside a quoted value)
        cut = draw(st.integers(header_len + 1, len(data)))
        kept = data[:cut]
        if kept.count(b'"') % 2:
            kept = kept[: kept.rindex(b'"')]
            kept = kept[: max(header_len, max(kept.rfind(b"\n"), kept.rfind(b"\r")) + 1)]
        data = kept
    return data


def csv_records(data: bytes) -> int:
    """The records of a CSV file after its header (blank lines are none), counted apart."""
    text = data.decode("utf-8", "surrogateescape")
    return sum(1 for rec in list(csv.reader(io.StringIO(text, newline="")))[1:] if rec)


# -- what must hold after every ingest -------------------------------------------------------

LO, HI = "TIMESTAMPTZ '0001-01-01 00:00:00+00'", "TIMESTAMPTZ '9999-12-31 23:59:59.999999+00'"


def _dur(col: str) -> str:
    return (
        f"({col} IS NOT NULL AND NOT (isfinite({col}) AND {col} >= 0 AND "
        f"{col} <= {MAX_DURATION_S}))"
    )


def _ts(col: str) -> str:
    return f"({col} IS NOT NULL AND ({col} < {LO} OR {col} > {HI}))"


VIOLATIONS = {
    "interactions": " OR ".join(
        [
            *(_dur(c) for c in ("wait_s", "talk_s", "hold_s", "acw_s")),
            *(_ts(c) for c in ("arrived_at", "queued_at", "answered_at", "ended_at")),
            "queued_at < arrived_at",
            "answered_at < arrived_at",
            "answered_at < queued_at",
            "ended_at < answered_at",
            "ended_at < arrived_at",
            "ended_at < queued_at",
            "NOT (bot_confidence BETWEEN 0 AND 1)",
            "channel NOT IN ('voice', 'chat', 'email', 'message', 'callback', 'ticket')",
            (
                "outcome NOT IN ('answered', 'abandoned', 'deflected', 'blocked', "
                "'callback_requested')"
            ),
        ]
    ),
    "intervals": " OR ".join(
        [
            *(
                _dur(c)
                for c in (
                    "handle_s",
                    "wait_s",
                    "abandon_wait_s",
                    "threshold_s",
                    "staffed_s",
                    "interval_s",
                )
            ),
            *(
                f"({c} IS NOT NULL AND NOT (isfinite({c}) AND {c} >= 0 AND {c} = floor({c})))"
                for c in (
                    "offered",
                    "answered",
                    "abandoned",
                    "answered_within",
                    "abandoned_within",
                    "transferred",
                )
            ),
            _ts("interval_start"),
            "interval_s <= 0",
            "86400 % interval_s <> 0",
            "answered > offered",
        ]
    ),
    "surveys": " OR ".join(
        [
            _ts("surveyed_at"),
            "NOT (csat BETWEEN 1 AND 5)",
            "NOT (nps BETWEEN 0 AND 10)",
            "csat IS NULL AND nps IS NULL AND verbatim IS NULL",
        ]
    ),
    "agent_states": " OR ".join(
        [
            _ts("started_at"),
            _ts("ended_at"),
            "ended_at < started_at",
            "state NOT IN ('available', 'busy', 'aux', 'offline')",
        ]
    ),
}


def snapshot(wh: Warehouse) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the warehouse holds, but its log of ingests (as text: comparable)."""
    out = {}
    for table in ("interactions", "intervals", "surveys", "agent_states", "rejects"):
        rows = wh.con.execute(f"SELECT * FROM {table}").fetchall()
        out[table] = sorted(tuple(map(repr, r)) for r in rows)
    return out


class _BoomError(Exception):
    pass


def _boom(_: int) -> None:
    raise _BoomError


def ingest_and_check(path: Path, base: Base, fmt: str, expected: int, **options: Any) -> Warehouse:
    """Ingest ``path`` into a new warehouse and check every promise (see the module)."""
    wh = Warehouse(":memory:")
    opts = {**base.options, **options}
    report = wh.ingest(path, format=fmt, **opts)
    assert not isinstance(report, list)
    assert report.read == expected, (report, expected)
    assert report.read == report.loaded + report.rejected + report.duplicates
    assert wh.count(base.table) == report.loaded
    assert wh.count("rejects") == report.rejected
    assert report.duplicates >= 0
    reasons = [r[0] for r in wh.con.execute("SELECT reason FROM rejects").fetchall()]
    # every bad value is refused by a rule of its own, not by the last-resort guard
    assert not [r for r in reasons if r.startswith(CONVERT_FAILED)]
    bad = wh.con.execute(
        f"SELECT count(*) FROM {base.table} WHERE {VIOLATIONS[base.table]}"
    ).fetchall()[0][0]
    assert bad == 0
    before = snapshot(wh)
    again = wh.ingest(path, format=fmt, **opts)
    assert not isinstance(again, list)
    assert (again.read, again.loaded, again.replaced) == (report.read, 0, 0)
    assert snapshot(wh) == before
    # a load that fails half-way (here: its progress callback) leaves nothing behind
    clean = path.with_name("clean" + path.suffix)
    with pytest.raises(_BoomError):
        wh.ingest(clean, format=fmt, progress=_boom, **opts)
    assert snapshot(wh) == before
    return wh


def write_clean(path: Path, base: Base) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([base.header, *base.rows])


# -- the properties ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "interval-csv", "surveys", "agent-states"])
@HOSTILE
@given(data=st.data())
def test_hostile_csv_files(fmt: str, data: st.DataObject, tmp_path: Path) -> None:
    base = data.draw(st.sampled_from(bases(fmt)), label="base")
    raw = data.draw(hostile_csv(base), label="file")
    path = tmp_path / "hostile.csv"
    path.write_bytes(raw)
    write_clean(tmp_path / "clean.csv", base)
    ingest_and_check(path, base, fmt, csv_records(raw))


def _text(values: list[str]) -> pa.Array:
    """Text cells as a string column, or (holding bytes that are not UTF-8) a binary one."""
    cells = [None if v == "" else v for v in values]
    try:
        return pa.array(cells, pa.string())
    except UnicodeEncodeError:
        return pa.array(
            [None if v is None else v.encode("utf-8", "surrogateescape") for v in cells],
            pa.binary(),
        )


def _column(draw: st.DrawFn, values: list[str], n: int) -> pa.Array:
    """A column of the base, or the same column as another (hostile) Arrow type."""
    kind = draw(
        st.sampled_from(
            [
                "text",
                "text",
                "list",
                "struct",
                "int-huge",
                "uint64",
                "epoch-ns",
                "ts-s-far",
                "ts-ns",
                "date-far",
                "float-bad",
                "decimal",
                "binary-bad",
                "string-bad",
                "dictionary",
                "null",
                "bool",
            ]
        )
    )
    big = 2**62
    if kind == "list":
        return pa.array([[len(v)] if i % 3 else None for i, v in enumerate(values)])
    if kind == "struct":
        return pa.array([{"v": len(v)} for v in values])
    if kind == "int-huge":
        return pa.array([big + i if i % 2 else i for i in range(n)], pa.int64())
    if kind == "uint64":
        return pa.array([2**64 - 1 - i for i in range(n)], pa.uint64())
    if kind == "epoch-ns":
        return pa.array([1_700_000_000_000_000_000 + i for i in range(n)], pa.int64())
    if kind == "ts-s-far":
        return pa.array([-(10**13) if i % 2 else 10**12 for i in range(n)], pa.timestamp("s"))
    if kind == "ts-ns":
        return pa.array(
            [1_700_000_000_000_000_000 + i for i in range(n)], pa.timestamp("ns", tz="UTC")
        )
    if kind == "date-far":
        return pa.array([2_000_000_000 if i % 2 else 19_000 for i in range(n)], pa.date32())
    if kind == "float-bad":
        return pa.array(
            [[math.inf, -math.inf, math.nan, 1e300, -1.0, 2.5][i % 6] for i in range(n)]
        )
    if kind == "decimal":
        return pa.array([10**30 + i for i in range(n)], pa.decimal128(38, 0))
    if kind == "binary-bad":
        return pa.array(
            [
                v.encode("utf-8", "surrogateescape") + (b"\xff" if i % 2 else b"")
                for i, v in enumerate(values)
            ],
            pa.binary(),
        )
    if kind == "string-bad":  # a string column Arrow never validated (as Parquet may hold)
        blobs = [
            v.encode("utf-8", "surrogateescape") + (b"\xc3" if i % 2 else b"")
            for i, v in enumerate(values)
        ]
        offsets = np.cumsum([0, *map(len, blobs)], dtype=np.int32)
        return pa.Array.from_buffers(
            pa.string(), n, [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(b"".join(blobs))]
        )
    if kind == "dictionary":
        return _text(values).dictionary_encode()
    if kind == "null":
        return pa.nulls(n)
    if kind == "bool":
        return pa.array([i % 2 == 0 for i in range(n)])
    return _text(values)


@pytest.mark.parametrize("fmt", ["csv", "surveys", "agent-states"])
@HOSTILE
@given(data=st.data())
def test_hostile_parquet_files(fmt: str, data: st.DataObject, tmp_path: Path) -> None:
    base = data.draw(st.sampled_from(bases(fmt)), label="base")
    rows = [r for r in data.draw(hostile_rows(base), label="rows") if len(r) == len(base.header)]
    n = len(rows)
    columns = {}
    hostile = set(data.draw(st.sets(st.sampled_from(base.header), max_size=3), label="typed"))
    for j, name in enumerate(base.header):
        values = [r[j] for r in rows]
        columns[name] = _column(data.draw, values, n) if name in hostile else _text(values)
    path = tmp_path / "hostile.parquet"
    pq.write_table(
        pa.table(columns),
        path,
        row_group_size=data.draw(st.sampled_from([16, 10_000]), label="group"),
    )
    pq.write_table(
        pa.table(
            {
                k: pa.array(v, pa.string())
                for k, v in zip(base.header, zip(*base.rows, strict=True), strict=True)
            }
        ),
        tmp_path / "clean.parquet",
    )
    options = {"batch_rows": data.draw(st.sampled_from([7, 64, 10_000]), label="batch")}
    if fmt != "csv":
        options["file_format"] = "parquet"
    adapter = base.parquet or fmt
    ingest_and_check(path, base, adapter, pq.ParquetFile(path).metadata.num_rows, **options)


# -- time --------------------------------------------------------------------------------------


def _iso_texts() -> st.SearchStrategy[str]:
    day = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
    clock = st.times()
    zone = st.sampled_from(["", "Z", "+01:00", "-05:00", "+0530", "+14", "z"])
    sep = st.sampled_from(["T", " "])
    iso = st.builds(
        lambda d, t, s, z, frac: f"{d.isoformat()}{s}{t.isoformat()[:frac]}{z}",
        day,
        clock,
        sep,
        zone,
        st.sampled_from([5, 8, 12, 15]),
    )
    impossible = st.builds(
        lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d} 10:00:00",
        st.integers(1, 9999),
        st.integers(1, 12),
        st.integers(28, 31),
    )
    odd = st.sampled_from(
        [
            "2024-03-10 02:30:00",
            "2024-11-03 01:30:00",
            "20240301T0900",
            "2024-03-01T09:00:00.1234567",
            "0000-01-01",
            "24:00",
            "",
            " x ",
            "2024-13-01 00:00:00",
            "2024-03-01T25:00:00",
        ]
    )
    return st.one_of(iso, impossible, odd)


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(_iso_texts(), min_size=1, max_size=8),
    tz=st.sampled_from(["UTC", "America/New_York", "Asia/Jerusalem", "Pacific/Kiritimati"]),
)
def test_timestamp_text_reads_the_same_whatever_the_batch_holds(texts: list[str], tz: str) -> None:
    """The vectorised path and the row-by-row one agree: a value's instant (or refusal)
    depends on its own text only, not on the other rows of its batch."""
    zone = ZoneInfo(tz)

    def read(values: list[str]) -> list[tuple[Any, bool, tuple[bool, ...]]]:
        arr, bad, more = as_timestamp(pa.array(values, pa.string()), zone)
        return [
            (arr[i].as_py(), bool(bad[i]), tuple(bool(m[i]) for m, _ in more))
            for i in range(len(values))
        ]

    together = read(texts)
    for i, text in enumerate(texts):
        alone = read([text])[0]
        assert together[i][0] == alone[0], (text, together[i], alone)
        assert (
            together[i][1] or any(together[i][2]) or together[i][0] is not None or not text.strip()
        )
    # a refused value in the batch (an impossible date) sends its ISO rows the slow way
    with_bad = read([*texts, "2024-02-30 00:00:00"])
    assert [r[0] for r in with_bad[:-1]] == [r[0] for r in together]
    assert with_bad[-1][0] is None
    assert with_bad[-1][1]


@settings(max_examples=60, deadline=None)
@given(
    y=st.integers(1, 9999),
    m=st.integers(1, 12),
    d=st.integers(1, 31),
    h=st.integers(0, 23),
    mi=st.integers(0, 59),
    pad=st.booleans(),
    others=st.lists(st.sampled_from(["02/30/2024 10:00", "12/31/2024 23:59", "x"]), max_size=3),
)
def test_a_format_never_rolls_an_impossible_date_forward(
    y: int, m: int, d: int, h: int, mi: int, pad: bool, others: list[str]
) -> None:
    text = f"{m:02d}/{d:02d}/{y:04d} {h:02d}:{mi:02d}" if pad else f"{m}/{d}/{y:04d} {h}:{mi:02d}"
    arr, bad, _ = as_timestamp(pa.array([*others, text]), ZoneInfo("UTC"), "%m/%d/%Y %H:%M")
    try:
        real = datetime(y, m, d, h, mi, tzinfo=UTC)
    except ValueError:
        real = None
    assert arr[len(others)].as_py() == real
    assert bool(bad[len(others)]) == (real is None)


def _fold_log(tz: str, start: datetime, minutes: int, step: int) -> list[datetime]:
    """UTC instants every ``step`` minutes from the local ``start``, in time order."""
    first = start.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)
    return [first + timedelta(minutes=k) for k in range(0, minutes, step)]


@pytest.mark.parametrize(
    ("tz", "night"),
    [
        ("America/New_York", local(2024, 11, 3)),
        ("Asia/Jerusalem", local(1999, 9, 3)),
        ("Europe/Berlin", local(2024, 10, 27)),
    ],
)
def test_the_repeated_autumn_hour_is_two_hours_for_every_adapter(
    tz: str, night: datetime, tmp_path: Path
) -> None:
    zone = ZoneInfo(tz)
    calls = _fold_log(tz, night - timedelta(hours=1), 5 * 60, 5)
    local = [t.astimezone(zone).replace(tzinfo=None).isoformat(sep=" ") for t in calls]
    assert len(set(local)) < len(local)  # the log does repeat local times
    # contact legs (a call log in time order)
    legs = tmp_path / "legs.csv"
    legs.write_text(
        "contact_id,channel,arrived_at,ended_at,outcome\n"
        + "".join(f"c{i},voice,{t},{t},abandoned\n" for i, t in enumerate(local))
    )
    wh = Warehouse(":memory:")
    report = wh.ingest(legs, format="csv", timezone=tz)
    assert not isinstance(report, list)
    assert (report.loaded, report.rejected, report.duplicates) == (len(calls), 0, 0)
    got = wh.sql("SELECT arrived_at FROM interactions ORDER BY arrived_at").column(0)
    assert got.to_pylist() == calls
    # the same log in batches of 7 rows: the state carries over
    wh = Warehouse(":memory:")
    wh.ingest(legs, format="csv", timezone=tz, batch_rows=7)
    assert (
        wh.sql("SELECT arrived_at FROM interactions ORDER BY arrived_at").column(0).to_pylist()
        == calls
    )
    # surveys and agent state changes (per agent, in file order)
    surveys = tmp_path / "s.csv"
    surveys.write_text(
        "contact_id,surveyed_at,csat\n" + "".join(f"c{i},{t},4\n" for i, t in enumerate(local))
    )
    wh.ingest(surveys, format="surveys", timezone=tz)
    assert (
        wh.sql("SELECT surveyed_at FROM surveys ORDER BY surveyed_at").column(0).to_pylist()
        == calls
    )
    events = tmp_path / "e.csv"
    events.write_text(
        "agent_id,state,started_at\n"
        + "".join(
            f"a{who},{'available' if i % 3 else 'busy'},{t}\n"
            for who in (1, 2)
            for i, t in enumerate(local)
        )
    )
    report = wh.ingest(
        events, format="agent-states", layout="events", timezone=tz, until=calls[-1].isoformat()
    )  # local[-1] may be the second 02:55
    assert not isinstance(report, list)
    assert report.loaded == 2 * len(calls)
    starts = (
        wh.sql(
            "SELECT agent_id, started_at FROM agent_states WHERE agent_id = 'a2' "
            "ORDER BY started_at"
        )
        .column(1)
        .to_pylist()
    )
    assert starts == calls
    # interval reports: queue after queue, each with the repeated hour's intervals twice
    slots = _fold_log(tz, night - timedelta(hours=2), 6 * 60, 30)
    rows = [
        f"{s.astimezone(zone):%m/%d/%Y},{s.astimezone(zone):%H%M},30,{q},5,4,1,4,0,10,0,"
        f"100,10,0,0\n"
        for q in ("101", "102")
        for s in slots
    ]
    ivl = tmp_path / "i.csv"
    ivl.write_text(",".join(AVAYA) + "\n" + "".join(rows))
    report = wh.ingest(ivl, format="interval-csv", preset="avaya", timezone=tz)
    assert not isinstance(report, list)
    assert (report.loaded, report.rejected, report.duplicates) == (2 * len(slots), 0, 0)
    for q in ("101", "102"):
        got = (
            wh.sql(
                f"SELECT interval_start FROM intervals WHERE queue = '{q}' ORDER BY interval_start"
            )
            .column(0)
            .to_pylist()
        )
        assert got == slots


@pytest.mark.parametrize(
    ("tz", "day"), [("America/New_York", local(2024, 3, 10)), ("Europe/Berlin", local(2024, 3, 31))]
)
def test_spring_forward_times_that_do_not_exist_are_rejects(
    tz: str, day: datetime, tmp_path: Path
) -> None:
    zone = ZoneInfo(tz)
    local = [day + timedelta(minutes=m) for m in range(0, 5 * 60, 10)]

    def exists(t: datetime) -> bool:
        return t.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == t

    missing = [t for t in local if not exists(t)]
    assert len(missing) == 6
    legs = tmp_path / "legs.csv"
    legs.write_text(
        "contact_id,channel,arrived_at,outcome\n"
        + "".join(f"c{i},voice,{t.isoformat(sep=' ')},abandoned\n" for i, t in enumerate(local))
    )
    wh = Warehouse(":memory:")
    report = wh.ingest(legs, format="csv", timezone=tz)
    assert not isinstance(report, list)
    assert (report.loaded, report.rejected) == (len(local) - 6, 6)
    reasons = {r["reason"] for r in wh.rejects().to_pylist()}
    assert reasons == {"must be " + GAP_REASON.format(tz=tz).removeprefix("must be ")}
    stored = wh.sql("SELECT arrived_at FROM interactions ORDER BY arrived_at").column(0).to_pylist()
    assert stored == [t.replace(tzinfo=zone).astimezone(UTC) for t in local if exists(t)]


def test_folds_carry_over_and_restore() -> None:
    folds = Folds()
    hour = 3_600_000_000
    assert [folds.second(("k", None), t) for t in (1 * hour, 2 * hour)] == [False, False]
    snap = folds.snapshot()
    assert folds.second(("k", None), hour) is True  # stepped back: the second occurrence
    assert folds.second(("k", None), 3 * hour) is True  # and stays so that day
    folds.restore(snap)
    assert folds.second(("k", None), 3 * hour) is False
    assert folds.second(("other", None), hour) is False  # another group keeps its own


# -- files that are not what they say --------------------------------------------------------


def test_a_bom_and_cr_only_endings_read_like_the_plain_file(tmp_path: Path) -> None:
    for fmt in ("csv", "interval-csv", "surveys", "agent-states"):
        for base in bases(fmt):
            plain = tmp_path / "plain.csv"
            write_clean(plain, base)
            odd = tmp_path / "odd.csv"
            odd.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes().replace(b"\r\n", b"\r"))
            results = []
            for path in (plain, odd):
                wh = Warehouse(":memory:")
                report = wh.ingest(path, format=fmt, **base.options)
                assert not isinstance(report, list)
                drop = "source_ref, ingest_id" if base.table == "interactions" else "source_ref"
                rows = wh.sql(
                    f"SELECT * EXCLUDE ({drop}) FROM {base.table} ORDER BY ALL"
                ).to_pylist()
                results.append((report.read, report.loaded, report.rejected, rows))
            assert results[0] == results[1], base.name
            assert results[0][0] == len(base.rows)


def test_the_cr_only_shifts_file_is_read_and_named_for_what_it_is() -> None:
    """The real shifts table (old-Mac CR endings) is a staffing pattern, no export format:
    every adapter reads its header and refuses it before loading, naming what it lacks
    (before: a csv.Error traceback, 'new-line character seen in unquoted field')."""
    path = shared_file(SHIFTS)
    raw = path.read_bytes()
    assert b"\r" in raw
    assert b"\n" not in raw
    found = ["Hour", "StartTime", *(f"Shift{i}" for i in range(1, 9))]
    options = {"interval-csv": {"preset": "avaya"}}
    for fmt in ("csv", "interval-csv", "surveys", "agent-states"):
        wh = Warehouse(":memory:")
        with pytest.raises(FormatMismatchError) as info:
            wh.ingest(path, format=fmt, **options.get(fmt, {}))
        assert info.value.found == found
        assert info.value.missing
        assert wh.count("rejects") == wh.count("ingests") == 0


def test_sniff_knows_each_format_and_only_it(tmp_path: Path) -> None:
    own: dict[str, list[bytes]] = {}
    for fmt in ("csv", "interval-csv", "surveys", "agent-states"):
        own[fmt] = []
        for base in bases(fmt):
            if fmt == "csv" and "mapping" in base.options:
                continue  # mapped columns: no header could say so
            path = tmp_path / f"{fmt}.csv"
            write_clean(path, base)
            own[fmt].append(read_head(path))
    for fmt in own:
        sniff = get_adapter(fmt).sniff
        for other, other_heads in own.items():
            for head in other_heads:
                assert sniff(head) == (fmt == other), (fmt, other)
    for junk in (b"", b"\x00\xff\xfe", b"PAR1", b'{"a": 1}', b"a,b\r1,2", b"\xef\xbb\xbf"):
        for fmt in (*own, "parquet"):
            assert get_adapter(fmt).sniff(junk) is False


def test_a_file_of_another_format_is_refused_before_loading(tmp_path: Path) -> None:
    samples = {}
    for fmt in ("csv", "interval-csv", "surveys", "agent-states"):
        base = bases(fmt)[0]
        path = tmp_path / f"{fmt.replace('-', '_')}.csv"
        write_clean(path, base)
        samples[fmt] = (path, base)
    for fmt, (_, base) in samples.items():
        for other, (path, _) in samples.items():
            if other == fmt:
                continue
            wh = Warehouse(":memory:")
            with pytest.raises(FormatMismatchError) as info:
                wh.ingest(path, format=fmt, **base.options)
            err = info.value
            assert err.format == fmt
            assert err.missing
            assert err.looks_like == other
            assert snapshot(wh) == snapshot(Warehouse(":memory:"))


def test_a_byte_order_mark_does_not_reach_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfcontact_id,csat\r\nS1,5\r\n")
    wh = Warehouse(":memory:")
    report = wh.ingest(path, format="surveys")
    assert not isinstance(report, list)
    assert report.loaded == 1
    assert wh.sql("SELECT contact_id FROM surveys").column(0).to_pylist() == ["S1"]


def test_a_truncated_parquet_file_is_one_reject(tmp_path: Path) -> None:
    path = tmp_path / "cut.parquet"
    pq.write_table(
        pa.table(
            {
                "contact_id": ["a", "b"],
                "channel": ["voice"] * 2,
                "arrived_at": [1, 2],
                "outcome": ["abandoned"] * 2,
            }
        ),
        path,
    )
    path.write_bytes(path.read_bytes()[:-9])
    wh = Warehouse(":memory:")
    report = wh.ingest(path, format="parquet")
    assert not isinstance(report, list)
    assert (report.read, report.rejected) == (1, 1)
    assert "not a Parquet file" in wh.rejects().to_pylist()[0]["reason"]


def test_interval_source_name_option(tmp_path: Path) -> None:
    """The system's name for interval rows: ``source_name`` (Warehouse.ingest's first
    parameter is called ``source``, so ``source=`` there names the file), or the
    mapping's ``source``."""
    base = _inline_intervals()
    path = tmp_path / "i.csv"
    write_clean(path, base)
    wh = Warehouse(":memory:")
    wh.ingest(path, format="interval-csv", source_name="cms-east", **base.options)
    wh.ingest(
        path,
        format="interval-csv",
        preset="avaya",
        timezone="America/New_York",
        mapping={"source": "cms-west"},
    )
    got = wh.sql("SELECT source, count(*) AS n FROM intervals GROUP BY ALL ORDER BY ALL")
    assert got.to_pylist() == [{"source": "cms-east", "n": 16}, {"source": "cms-west", "n": 16}]


def test_the_last_resort_guard_refuses_a_row_not_its_batch() -> None:
    """Should a value still make a batch's conversion raise, the batch is converted row by
    row: the row that raises is refused with the error, the others load, and the
    converter's state (its DST folds) is as if the batch had been converted once."""
    from contactops.data.adapters._flat import convert_safely

    class Converter:
        def __init__(self) -> None:
            self.folds = Folds()
            self.seen: list[str] = []

        def source_columns(self) -> list[str]:
            return ["contact_id"]

        def missing(self) -> list[str]:
            return []

        def snapshot(self) -> Any:
            return list(self.seen)

        def restore(self, snap: Any) -> None:
            self.seen = list(snap)

        def convert(self, batch: pa.RecordBatch, lines: np.ndarray, extra: list[Any]) -> Any:
            ids = batch.column(0).to_pylist()
            self.seen.extend(ids)
            if "boom" in ids:
                raise pa.ArrowInvalid("cannot take this value")
            from contactops.data._adapter import Chunk
            from contactops.data._schema import INTERACTIONS

            n = len(ids)
            table = pa.table(
                {f.name: pa.nulls(n, f.type) for f in INTERACTIONS},
                schema=INTERACTIONS.with_metadata(None),
            )
            return Chunk("interactions", table, list(extra), n + len(extra), 0)

    conv = Converter()
    batch = pa.record_batch([pa.array(["a", "boom", "c"])], names=["contact_id"])
    chunk = convert_safely(conv, batch, np.array([2, 3, 4]), [], "interactions")
    assert (chunk.rows_read, chunk.batch.num_rows, len(chunk.rejects)) == (3, 2, 1)
    (reject,) = chunk.rejects
    assert reject.line == 3
    assert reject.reason.startswith(CONVERT_FAILED)
    assert "cannot take this value" in reject.reason
    assert conv.seen == ["a", "c"]  # the failed attempts left no trace
