"""Hostile files for the row-wise adapters: every record accounted for, every bad value a reject.

Issue 13.  For each JSON adapter (Amazon Connect, Genesys Cloud, Zendesk, Freshdesk)
and the Anonymous Bank log, hypothesis writes files built from the samples (the
repository's fixtures and builders, and ``../shared/data`` when it is beside the
checkout) with hostile records injected: out-of-range, infinite, negative and
wrongly typed durations (``1e400``, which JSON reads as infinity, ``NaN``,
``1e300``), timestamps that leave years 1..9999 once in UTC, impossible dates
(``2024-02-30``), times out of order, JSON nested thousands of levels deep, scalars
instead of records, bytes that are not UTF-8, a truncated last record, a byte-order
mark, and LF, CRLF or CR-only (old Mac) line ends.  Every record of a file is
either clean (and must be stored) or broken in a way the record's rules refuse
(and must be rejected).  For every file, ingested into a real warehouse file:

- no exception escapes;
- ``read`` is the number of records in the file, and ``read = loaded + rejected
  + duplicates``;
- the stored records are exactly the clean ones, and every stored row keeps the
  record's invariants (finite durations from 0 to ``MAX_DURATION_S``, timestamps
  in years 1..9999, arrived <= queued, arrived <= answered <= ended), read back
  through ``Warehouse.interactions()``;
- a load that fails part-way leaves the warehouse as it was, and ingesting the
  file again changes nothing.

Daylight saving time (Asia/Jerusalem) and format detection have their own tests
below.  Files in another format raise ``FormatMismatchError`` (tested on its own).
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contactops.data import Warehouse
from contactops.data._schema import MAX_DURATION_S, MAX_TS, MIN_TS
from contactops.data.adapters import get_adapter, read_head
from contactops.data.adapters._anonymous_bank import HEADER as BANK_HEADER
from contactops.data.adapters._genesys import _legs
from contactops.errors import FormatMismatchError
from tests.conftest import shared_file
from tests.data import test_freshdesk, test_genesys, test_zendesk

if TYPE_CHECKING:
    from collections.abc import Callable

FIXTURES = Path(__file__).parent / "fixtures"
BANK_FILES = (
    "data/anonymous-bank-1999/january.txt",
    "data/anonymous-bank-1999/data_anonymous_bank_february.txt",
)
JERUSALEM = ZoneInfo("Asia/Jerusalem")

# the JSON tests run twice (json_blocks): the file read at once, and 7 characters at a
# time.  Each example ingests into a warehouse file four times (~0.1-0.2 s each), so the
# example counts are kept modest to keep the module in tens of seconds.
JSON_BLOCKS = pytest.mark.usefixtures("json_blocks")
HOSTILE = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- values that must be refused --------------------------------------------------------------

INF400 = "__1E400__"  # written into the JSON text as the literal 1e400 (read as +inf)
LATIN1 = "__LATIN1__"  # written into the file as the Latin-1 byte 0xE9 (not UTF-8)
SECONDS = [
    -1,
    -0.001,
    1e10,
    1e300,
    INF400,
    math.inf,
    -math.inf,
    math.nan,
    2**80,
    MAX_DURATION_S + 1,
    "12",
    True,
    [1],
    {"s": 1},
]
MILLISECONDS = [-1, 1e11, 1e300, INF400, math.inf, math.nan, 2**80, "20s", True]
MINUTES = [-1, 1e10, 1e300, INF400, math.inf, math.nan, "soon", True, [1]]
TIMESTAMPS = [
    "0001-01-01T00:30:00+01:00",  # year 0 once in UTC
    "9999-12-31T23:30:00-01:00",  # year 10000 once in UTC
    "2024-02-30T10:00:00Z",
    "2023-02-29T10:00:00Z",
    "2024-04-31T08:00:00Z",  # impossible days
    "2024-13-01T00:00:00Z",
    "2024-05-06T24:30:00Z",
    "10:00",
    "last tuesday",
    20240506,
    True,
    ["2024-05-06T10:00:00Z"],
    {"at": 1},
]
PAST = "2000-01-01T00:00:00Z"  # before every sample: makes a time out of order
FUTURE = "2030-01-01T00:00:00Z"


def deep(depth: int, open_: str = "[") -> str:
    """A JSON value nested ``depth`` levels: arrays, or objects."""
    if open_ == "[":
        return "[" * depth + "]" * depth
    return '{"k": ' * depth + "1" + "}" * depth


def _set(record: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    """``record[path] = value``, creating missing objects on the way."""
    node: Any = record
    for key in path[:-1]:
        if isinstance(node, dict) and not isinstance(node.get(key), dict | list):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


# -- what a hostile JSON file is made of -------------------------------------------------------


@dataclass
class Spec:
    """One JSON adapter: its clean records and the ways to break one."""

    fmt: str
    bases: Callable[[], list[dict[str, Any]]]
    set_id: Callable[[dict[str, Any], int], str]  # give record i a unique id; returns it
    id_column: str  # the stored column that holds that id
    breakers: dict[str, tuple[list[Any], list[Callable[[dict[str, Any], Any], None]]]]
    latin1: Callable[[dict[str, Any]], None]
    legs: Callable[[dict[str, Any]], int] = lambda _r: 1


def _connect_bases() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(
        (FIXTURES / "amazon_connect_ctr.json").read_text(encoding="utf-8")
    )
    return records


def _connect_id(rec: dict[str, Any], i: int) -> str:
    rec["ContactId"] = f"{rec['ContactId']}-r{i}"
    rec.pop("NextContactId", None)  # each record stands alone (chains are tested elsewhere)
    return str(rec["ContactId"])


def _at(*path: Any) -> Callable[[dict[str, Any], Any], None]:
    def setter(rec: dict[str, Any], value: Any) -> None:
        _set(rec, path, value)

    return setter


def _connect_dequeue_first(rec: dict[str, Any], _value: Any) -> None:
    _set(rec, ("Queue", "EnqueueTimestamp"), rec["InitiationTimestamp"])
    _set(rec, ("Queue", "DequeueTimestamp"), PAST)


CONNECT = Spec(
    "amazon-connect",
    _connect_bases,
    _connect_id,
    "contact_id",
    {
        "duration": (
            SECONDS,
            [
                _at("Queue", "Duration"),
                _at("Agent", "AgentInteractionDuration"),
                _at("Agent", "CustomerHoldDuration"),
                _at("Agent", "AfterContactWorkDuration"),
            ],
        ),
        "timestamp": (
            TIMESTAMPS,
            [
                _at("InitiationTimestamp"),
                _at("DisconnectTimestamp"),
                _at("LastUpdateTimestamp"),
                _at("Queue", "EnqueueTimestamp"),
                _at("Agent", "ConnectedToAgentTimestamp"),
                _at("ConnectedToSystemTimestamp"),
            ],
        ),
        "order": (
            [PAST],
            [
                _at("DisconnectTimestamp"),
                _at("Agent", "ConnectedToAgentTimestamp"),
                _at("Queue", "EnqueueTimestamp"),
                _connect_dequeue_first,
            ],
        ),
    },
    lambda rec: _set(rec, ("Queue", "Name"), "Caf" + LATIN1),
)


def _genesys_bases() -> list[dict[str, Any]]:
    return [
        test_genesys.answered_voice(),
        test_genesys.abandoned_voice(),
        test_genesys.transferred(),
        *test_genesys.flow_out_and_callback(),
        test_genesys.ivr_only(),
    ]


def _genesys_id(conv: dict[str, Any], i: int) -> str:
    conv["conversationId"] = f"{conv['conversationId']}-r{i}"
    return str(conv["conversationId"])


def _first_session(conv: dict[str, Any]) -> dict[str, Any]:
    session: dict[str, Any] = conv["participants"][0]["sessions"][0]
    return session


def _metric(conv: dict[str, Any], value: Any) -> None:
    _first_session(conv).setdefault("metrics", []).append({"name": "tTalk", "value": value})


def _segment(key: str) -> Callable[[dict[str, Any], Any], None]:
    def setter(conv: dict[str, Any], value: Any) -> None:
        _first_session(conv)["segments"][0][key] = value

    return setter


GENESYS = Spec(
    "genesys",
    _genesys_bases,
    _genesys_id,
    "initial_contact_id",
    {
        "duration": (MILLISECONDS, [_metric]),
        "timestamp": (
            TIMESTAMPS,
            [_at("conversationStart"), _segment("segmentStart"), _segment("segmentEnd")],
        ),
        "order": ([FUTURE], [_at("conversationStart")]),
        "segment": ([PAST], [_segment("segmentEnd")]),
    },
    lambda conv: _set(conv, ("participants", 0, "sessions", 0, "mediaType"), "v" + LATIN1),
    legs=lambda conv: len(_legs(conv)[1]),
)


def _zendesk_bases() -> list[dict[str, Any]]:
    t = test_zendesk.ticket
    return [
        t(
            1,
            via={"channel": "email"},
            metric_set={
                "reply_time_in_minutes": {"calendar": 45},
                "solved_at": "2024-04-02T10:30:00Z",
            },
        ),
        t(2, status="closed", solved_at="2024-04-03T09:00:00Z"),
        t(3, status="open", priority="urgent"),
        t(4, status="deleted", priority=None),
        t(5, status="pending", metric_set={"reply_time_in_minutes": {"calendar": 5}}),
    ]


def _ticket_id(t: dict[str, Any], i: int) -> str:
    t["id"] = 1000 + i
    return str(t["id"])


def _zendesk_solved(t: dict[str, Any], value: Any) -> None:
    if isinstance(t.get("metric_set"), dict):
        t["metric_set"].pop("solved_at", None)
    t["solved_at"] = value


def _zendesk_reply(t: dict[str, Any], value: Any) -> None:
    t["metric_set"] = {"reply_time_in_minutes": {"calendar": value}}


ZENDESK = Spec(
    "zendesk",
    _zendesk_bases,
    _ticket_id,
    "contact_id",
    {
        "duration": (MINUTES, [_zendesk_reply]),
        "timestamp": (TIMESTAMPS, [_at("created_at"), _at("updated_at"), _zendesk_solved]),
        "order": ([PAST], [_zendesk_solved]),
        "priority": (["whenever", 2**20, -1, True, ["high"]], [_at("priority")]),
    },
    lambda t: _set(t, ("group",), "Caf" + LATIN1),
)


def _freshdesk_bases() -> list[dict[str, Any]]:
    t = test_freshdesk.ticket
    no_reply = {"first_responded_at": None, "resolved_at": None, "closed_at": None}
    return [
        t(1),
        t(2, status=2, source=3, stats=no_reply),
        t(3, status=5, source=7),
        t(
            4,
            source=13,
            priority=4,
            stats={"first_responded_at": None, "resolved_at": "2024-06-03T12:00:00Z"},
        ),
    ]


def _freshdesk_late_reply(t: dict[str, Any], _value: Any) -> None:
    # a first reply 400 days after creation: a wait longer than MAX_DURATION_S
    t["stats"] = {"first_responded_at": "2025-07-08T09:00:00Z", "resolved_at": None}


FRESHDESK = Spec(
    "freshdesk",
    _freshdesk_bases,
    _ticket_id,
    "contact_id",
    {
        "duration": ([None], [_freshdesk_late_reply]),
        "timestamp": (
            TIMESTAMPS,
            [_at("created_at"), _at("updated_at"), _at("stats", "first_responded_at")],
        ),
        "order": ([PAST], [_at("stats", "first_responded_at"), _at("stats", "resolved_at")]),
        "priority": ([2**15, 2**70, -(2**15) - 1, 0, 5, "2", 2.0, "high"], [_at("priority")]),
    },
    lambda t: _set(t, ("group_id",), "Caf" + LATIN1),
)

SPECS = {s.fmt: s for s in (CONNECT, GENESYS, ZENDESK, FRESHDESK)}


def _shared_bases(fmt: str) -> list[dict[str, Any]]:
    """The real samples of ``fmt`` under ../shared/data (skips when absent, fails in CI)."""
    if fmt == "genesys":
        return [
            json.loads(
                shared_file(f"data/formats/genesys_cloud/{name}").read_text(encoding="utf-8")
            )
            for name in (
                "conversation1_chat_answered_hold.json",
                "conversation2_chat_answered.json",
            )
        ]
    if fmt == "freshdesk":
        raw = json.loads(
            shared_file("data/formats/freshdesk/ticket_1.json").read_text(encoding="utf-8")
        )
        # the demo ticket's first reply came four years after it was created (a reject,
        # see test_freshdesk): created a day before its first reply, it is a clean base
        first = datetime.fromisoformat(raw["stats"]["first_responded_at"])
        raw["created_at"] = (first - timedelta(days=1)).isoformat()
        return [raw]
    if fmt == "zendesk":  # the Fivetran CSV's rows, as API tickets
        path = shared_file("data/formats/zendesk/ticket_data.csv")
        with path.open(encoding="utf-8", newline="") as fh:
            return [{k: (v or None) for k, v in row.items()} for row in csv.DictReader(fh)]
    pytest.skip("no Amazon Connect sample is kept under ../shared (no licence)")
    return []


@dataclass
class Built:
    data: bytes
    read: int  # records in the file, as the adapter counts them
    clean: set[str] = field(default_factory=set)  # ids that must be stored


def _clean_bases(spec: Spec, bases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bases the adapter accepts alone (a sample may itself hold a bad value)."""
    if spec.fmt != "genesys":
        return bases
    good = []
    for conv in bases:
        try:
            _legs(conv)
        except ValueError:
            continue
        good.append(conv)
    return good


@st.composite
def json_files(draw: st.DrawFn, spec: Spec, bases: list[dict[str, Any]]) -> Built:
    """One record per line (JSON lines, or a JSON array written one element a line)."""
    records: list[tuple[str, str | None, int]] = []  # (text, id if clean, rows it counts)
    for i in range(draw(st.integers(1, 7))):
        kinds = ["clean", "clean", "deep", "deep-field", "scalar", "latin1", *spec.breakers]
        accepted = [r for r in records if r[1] is not None]
        if accepted:
            kinds.append("repeat")  # the same record again: a duplicate, not a new one
        kind = draw(st.sampled_from(kinds))
        if kind == "repeat":
            records.append(draw(st.sampled_from(accepted)))
        elif kind == "deep":
            records.append(
                (
                    draw(
                        st.sampled_from(
                            [
                                deep(draw(st.integers(201, 1500))),
                                deep(draw(st.integers(201, 600)), "{"),
                            ]
                        )
                    ),
                    None,
                    1,
                )
            )
        elif kind == "scalar":
            # (not a list: a list on a line of its own is read as a list of records)
            records.append((draw(st.sampled_from(["7", '"x"', "null", "true", "-1.5e3"])), None, 1))
        else:
            rec = copy.deepcopy(draw(st.sampled_from(bases)))
            rid = spec.set_id(rec, i)
            if kind == "latin1":
                spec.latin1(rec)
            elif kind in spec.breakers:
                values, setters = spec.breakers[kind]
                draw(st.sampled_from(setters))(rec, draw(st.sampled_from(values)))
            text = json.dumps(rec).replace(f'"{INF400}"', "1e400")
            if kind == "deep-field":
                text = text[:-1] + ', "extra": ' + deep(draw(st.integers(201, 900))) + "}"
            records.append((text, rid, spec.legs(rec)) if kind == "clean" else (text, None, 1))
    texts = [text for text, _, _ in records]
    truncate = len(texts[-1]) > 1 and draw(st.booleans())
    if truncate:  # the file ends inside its last record: that record is one reject
        texts[-1] = texts[-1][: draw(st.integers(1, len(texts[-1]) - 1))]
        records[-1] = (texts[-1], None, 1)
    read = sum(rows for _, _, rows in records)
    clean = {rid for _, rid, _ in records if rid is not None}
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    if draw(st.booleans()):
        body = "[" + eol + ("," + eol).join(texts) + ("" if truncate else eol + "]") + eol
    else:
        body = eol.join(texts) + ("" if truncate else eol)
    data = body.encode("utf-8").replace(LATIN1.encode(), b"\xe9")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return Built(data, read, clean)


# -- the checks every hostile file must pass ----------------------------------------------------


class Boom(Exception):  # noqa: N818 -- a deliberate failure, not an error of the code
    """Raised from the progress callback: a load that fails part-way."""


def _boom(_n: int) -> None:
    raise Boom


def _snapshot(wh: Warehouse) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows = wh.sql(
        "SELECT * EXCLUDE (ingest_id) FROM interactions ORDER BY source, contact_id"
    ).to_pylist()
    rejects = wh.sql(
        "SELECT * EXCLUDE (ingest_id, rejected_at) FROM rejects ORDER BY line, field, reason, value"
    ).to_pylist()
    return rows, rejects


def _check_invariants(wh: Warehouse) -> list[dict[str, Any]]:
    rows = wh.interactions().to_pylist()  # also proves every stored timestamp reads back
    for r in rows:
        for name in ("wait_s", "talk_s", "hold_s", "acw_s"):
            v = r[name]
            assert v is None or (math.isfinite(v) and 0 <= v <= MAX_DURATION_S), (name, r)
        times = {n: r[n] for n in ("arrived_at", "queued_at", "answered_at", "ended_at")}
        for name, t in times.items():
            assert t is None or MIN_TS <= t <= MAX_TS, (name, r)
        arrived, queued = times["arrived_at"], times["queued_at"]
        answered, ended = times["answered_at"], times["ended_at"]
        assert queued is None or arrived <= queued, r
        assert answered is None or arrived <= answered, r
        assert ended is None or arrived <= ended, r
        assert answered is None or ended is None or answered <= ended, r
        assert r["priority"] is None or -(2**15) <= r["priority"] < 2**15
    return rows


def ingest_hostile(
    path: Path, fmt: str, read: int, clean: set[str], id_column: str, **options: Any
) -> None:
    """Every property of the module docstring, for one file."""
    with tempfile.TemporaryDirectory() as tmp:
        wh = Warehouse(Path(tmp) / "wh.duckdb")
        try:
            empty = _snapshot(wh)
            with pytest.raises(Boom):  # a load that fails part-way ...
                wh.ingest(path, format=fmt, progress=_boom, **options)
            assert _snapshot(wh) == empty  # ... leaves the warehouse as it was
            report = wh.ingest(path, format=fmt, **options)
            assert not isinstance(report, list)
            assert report.read == read
            assert report.read == report.loaded + report.rejected + report.duplicates
            assert wh.count("rejects") <= report.rejected
            rows = _check_invariants(wh)
            assert {r[id_column] for r in rows} == clean
            stored = _snapshot(wh)
            with pytest.raises(Boom):
                wh.ingest(path, format=fmt, progress=_boom, **options)
            assert _snapshot(wh) == stored
            again = wh.ingest(path, format=fmt, **options)
            assert not isinstance(again, list)
            assert (again.read, again.loaded, again.replaced) == (report.read, 0, 0)
            assert _snapshot(wh) == stored  # a re-ingest changes nothing
        finally:
            wh.close()


# -- the JSON adapters ---------------------------------------------------------------------------


@JSON_BLOCKS
@pytest.mark.parametrize("fmt", list(SPECS))
@HOSTILE
@given(data=st.data())
def test_hostile_json_files_from_fixtures(fmt: str, data: st.DataObject) -> None:
    spec = SPECS[fmt]
    built = data.draw(json_files(spec, _clean_bases(spec, spec.bases())))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.json"
        path.write_bytes(built.data)
        ingest_hostile(path, fmt, built.read, built.clean, spec.id_column)


@JSON_BLOCKS
@pytest.mark.parametrize("fmt", ["genesys", "freshdesk", "zendesk"])
@HOSTILE
@given(data=st.data())
def test_hostile_json_files_from_shared_samples(fmt: str, data: st.DataObject) -> None:
    spec = SPECS[fmt]
    bases = _clean_bases(spec, _shared_bases(fmt))
    assert bases, "no real sample is accepted as it is"
    built = data.draw(json_files(spec, bases))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.json"
        path.write_bytes(built.data)
        ingest_hostile(path, fmt, built.read, built.clean, spec.id_column)


@JSON_BLOCKS
def test_deeply_nested_json_is_one_reject_per_record(tmp_path: Path) -> None:
    """100,000 levels (a RecursionError in Python's parser) and 201 levels (past
    MAX_DEPTH): each is one reject; the records around them load."""
    good = _connect_bases()[:2]
    text = (
        "\n".join(
            [
                json.dumps(good[0]),
                "[" * 100_000 + "]" * 100_000,
                '{"ContactId": "x", "a": ' + "[" * 201 + "]" * 201 + "}",
                "{" * 50_000,
                json.dumps(good[1]),
            ]
        )
        + "\n"
    )
    path = tmp_path / "deep.jsonl"
    path.write_text(text, encoding="utf-8")
    wh = Warehouse(":memory:")
    report = wh.ingest(path, format="amazon-connect")
    assert not isinstance(report, list)
    assert (report.read, report.loaded, report.rejected) == (5, 2, 3)
    assert [r["line"] for r in wh.rejects().to_pylist()] == [2, 3, 4]
    assert all("nested" in r["reason"] or "JSON" in r["reason"] for r in wh.rejects().to_pylist())


@JSON_BLOCKS
def test_durations_and_dates_that_used_to_crash_or_be_stored(tmp_path: Path) -> None:
    """The issue's own examples, one per line, each a reject naming its field."""
    base = test_zendesk.ticket(1)
    cases = [
        ("reply_time_in_minutes", {"metric_set": {"reply_time_in_minutes": {"calendar": v}}})
        for v in (math.inf, 1e10, 1e300, INF400, -5)
    ]
    cases += [
        ("created_at", {"created_at": v})
        for v in ("0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", "2024-02-30T10:00:00Z")
    ]
    cases += [("priority", {"priority": 2**20})]
    lines = []
    for i, (_, change) in enumerate(cases):
        t = {**base, "id": i, **change}
        lines.append(json.dumps(t).replace(f'"{INF400}"', "1e400"))
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    wh = Warehouse(":memory:")
    report = wh.ingest(path, format="zendesk")
    assert not isinstance(report, list)
    assert (report.read, report.loaded, report.rejected) == (len(cases), 0, len(cases))
    got = [(r["line"], r["field"]) for r in wh.rejects().to_pylist()]
    assert got == [(i + 1, name) for i, (name, _) in enumerate(cases)]


# -- Zendesk CSV ------------------------------------------------------------------------------

ZENDESK_CSV_BREAKERS: dict[str, list[str]] = {
    "created_at": [
        "2020-02-30 01:54:52",
        "0000-12-31 23:00:00",
        "10000-01-01 00:00:00",
        "yesterday",
        "2020-02-19",
    ],
    "reply_time_in_minutes": ["inf", "-inf", "nan", "1e10", "1e300", "1e400", "-3", "soon"],
    "priority": ["whenever", "32768", "-1"],
    "status": ["exploded"],
}


@settings(HOSTILE, max_examples=15)
@given(data=st.data())
def test_hostile_zendesk_csv(data: st.DataObject) -> None:
    path = shared_file("data/formats/zendesk/ticket_data.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = [*(reader.fieldnames or []), "reply_time_in_minutes"]
        sample = list(reader)
    n = data.draw(st.integers(1, 8))
    rows, clean = [], set()
    for i in range(n):
        row = dict(data.draw(st.sampled_from(sample)))
        row["id"] = str(1000 + i)
        row["reply_time_in_minutes"] = data.draw(st.sampled_from(["", "12", "0.5"]))
        kind = data.draw(
            st.sampled_from(["clean", "clean", "latin1", "short", *ZENDESK_CSV_BREAKERS])
        )
        if kind in ZENDESK_CSV_BREAKERS:
            row[kind] = data.draw(st.sampled_from(ZENDESK_CSV_BREAKERS[kind]))
        elif kind == "latin1":
            row["group_id"] = "Caf" + LATIN1
        rows.append((kind, row))
        if kind == "clean":
            clean.add(row["id"])
    eol = data.draw(st.sampled_from(["\n", "\r\n", "\r"]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=eol)
    writer.writerow(header)
    for kind, row in rows:
        values = [row.get(h) or "" for h in header]
        writer.writerow(values[:5] if kind == "short" else values)
    raw = out.getvalue().encode("utf-8").replace(LATIN1.encode(), b"\xe9")
    if data.draw(st.booleans()):
        raw = b"\xef\xbb\xbf" + raw
    with tempfile.TemporaryDirectory() as tmp:
        hostile = Path(tmp) / "tickets.csv"
        hostile.write_bytes(raw)
        ingest_hostile(hostile, "zendesk", n, clean, "contact_id")


# -- the Anonymous Bank log ------------------------------------------------------------------

HEADER = "\t".join(BANK_HEADER)
COLUMNS = HEADER.split("\t")


def _clock(t: datetime) -> str:
    return f"{t.hour}:{t.minute:02d}:{t.second:02d}"


def bank_row(
    line: str,
    call_id: int,
    arrived: datetime,
    vru_s: int,
    queue_s: int | None,
    service_s: int | None,
    *,
    priority: int = 1,
) -> tuple[dict[str, str], dict[str, Any]]:
    """A log row from real instants (UTC), and the canonical times it must be stored with.

    ``queue_s`` None: never queued; ``service_s`` None: hung up (else served).
    """
    local = arrived.astimezone(JERUSALEM)
    vru_exit = arrived + timedelta(seconds=vru_s)
    q_exit = vru_exit + timedelta(seconds=queue_s or 0)
    ser_exit = q_exit + timedelta(seconds=service_s or 0)
    zero = "0:00:00"

    def clock(t: datetime) -> str:
        return _clock(t.astimezone(JERUSALEM))

    row = {
        "vru+line": line,
        "call_id": str(call_id),
        "customer_id": str(100 + call_id),
        "priority": str(priority),
        "type": "PS",
        "date": local.strftime("%y%m%d"),
        "vru_entry": clock(arrived),
        "vru_exit": clock(vru_exit),
        "vru_time": str(vru_s),
        "q_start": clock(vru_exit) if queue_s is not None else zero,
        "q_exit": clock(q_exit) if queue_s is not None else zero,
        "q_time": str(queue_s or 0),
        "outcome": "AGENT" if service_s is not None else "HANG",
        "ser_start": clock(q_exit) if service_s is not None else zero,
        "ser_exit": clock(ser_exit) if service_s is not None else zero,
        "ser_time": str(service_s or 0),
        "server": "DANA" if service_s is not None else "NO_SERVER",
    }
    truth = {
        "arrived_at": arrived,
        "queued_at": vru_exit if queue_s is not None else None,
        "answered_at": q_exit if service_s is not None else None,
        "ended_at": ser_exit
        if service_s is not None
        else (q_exit if queue_s is not None else vru_exit),
    }
    return row, truth


def _bank_text(rows: list[dict[str, str]], eol: str) -> str:
    return eol.join([HEADER, *("\t".join(r[c] for c in COLUMNS) for r in rows)]) + eol


@st.composite
def synthetic_bank_rows(draw: st.DrawFn) -> dict[str, str]:
    day = datetime(1999, 3, 15, 6, tzinfo=UTC)  # no DST change near this day
    arrived = day + timedelta(seconds=draw(st.integers(0, 14 * 3600)))
    queue = draw(st.one_of(st.none(), st.integers(0, 600)))
    service = draw(st.one_of(st.none(), st.integers(0, 900)))
    row, _ = bank_row(
        "AA0101",
        1,
        arrived,
        draw(st.integers(0, 60)),
        queue,
        service,
        priority=draw(st.integers(0, 2)),
    )
    return row


BANK_BREAKERS: dict[str, list[str]] = {
    "priority": ["99999", "-40000", "3", "x", ""],
    "q_time": ["-5", "99999999999", "1e10", "x"],
    "ser_time": ["-1", "40000000", "x"],
    "date": ["990230", "990229", "991301", "990001", "99010", "abcdef"],
    "vru_entry": ["25:61:00", "7:60:00", "x", "-1:00:00", "48:00:00"],
    "outcome": ["MAYBE", ""],
}


def _real_bank_rows() -> list[dict[str, str]]:
    rows = []
    for rel in BANK_FILES:
        with shared_file(rel).open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t")
            for i, row in enumerate(reader):
                if i >= 300:
                    break
                rows.append(row)
    return rows


@st.composite
def bank_files(draw: st.DrawFn, real: list[dict[str, str]]) -> Built:
    n = draw(st.integers(1, 8))
    rows, clean = [], set()
    source = st.sampled_from(real) if real else synthetic_bank_rows()
    kinds: list[tuple[str, dict[str, str]]] = []
    for i in range(n):
        row = dict(draw(source))
        row["call_id"] = str(90000 + i)
        kind = draw(
            st.sampled_from(
                ["clean", "clean", "clean", "latin1", "fields", "order", *BANK_BREAKERS]
            )
        )
        if kind in BANK_BREAKERS:
            row[kind] = draw(st.sampled_from(BANK_BREAKERS[kind]))
        elif kind == "latin1":
            row["server"] = "Caf" + LATIN1
        elif kind == "order":  # served, but the service ends an hour before it starts
            row.update(outcome="AGENT", ser_start="12:00:00", ser_exit="11:00:00")
        if kind == "clean" and row["outcome"].strip() != "PHANTOM":
            clean.add(f"{row['date']}-{row['vru+line']}-{row['call_id']}")
        rows.append(row)
        kinds.append((kind, row))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = [HEADER, *("\t".join(r[c] for c in COLUMNS) for r in rows)]
    for i, (kind, _) in enumerate(kinds):
        if kind == "fields":
            lines[i + 1] = (
                lines[i + 1].rsplit("\t", 1)[0] if draw(st.booleans()) else lines[i + 1] + "\tEXTRA"
            )
    truncated = draw(st.booleans())
    if truncated:  # the file ends inside its last row: fewer fields, one reject
        last = lines[-1]
        tabs = [k for k, c in enumerate(last) if c == "\t"]
        lines[-1] = last[: draw(st.integers(1, tabs[15] if len(tabs) > 15 else len(last) - 1))]
        r = rows[-1]
        clean.discard(f"{r['date']}-{r['vru+line']}-{r['call_id']}")
    text = eol.join(lines) + ("" if truncated else eol)
    data = text.encode("utf-8").replace(LATIN1.encode(), b"\xe9")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return Built(data, n, clean)


@pytest.mark.parametrize("source", ["synthetic", "shared"])
@settings(HOSTILE, max_examples=15)
@given(data=st.data())
def test_hostile_bank_files(source: str, data: st.DataObject) -> None:
    real = _real_bank_rows() if source == "shared" else []
    built = data.draw(bank_files(real))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "calls.txt"
        path.write_bytes(built.data)
        ingest_hostile(path, "anonymous-bank", built.read, built.clean, "contact_id")


@FAST
@given(data=st.data())
def test_autumn_repeated_hour_is_two_real_hours(data: st.DataObject) -> None:
    """1999-09-03, Asia/Jerusalem: 01:00-01:59 happened twice.  Calls on each VRU line
    come at most 50 minutes apart (the rule needs the previous call on the line within
    the hour); every call is stored, at its real instant, none as a duplicate."""
    start = datetime(1999, 9, 2, 21, 40, tzinfo=UTC)  # 00:40 local, summer time
    rows, truths = [], {}
    call_id = 1
    for line in ("AA0101", "AA0102", "AA0203")[: data.draw(st.integers(1, 3))]:
        at = start + timedelta(seconds=data.draw(st.integers(0, 1800)))
        end = datetime(1999, 9, 2, 23, 50, tzinfo=UTC)  # 01:50 local, winter time
        while at < end:
            queue = data.draw(st.one_of(st.none(), st.integers(0, 300)))
            service = data.draw(st.one_of(st.none(), st.integers(0, 600)))
            row, truth = bank_row(line, call_id, at, data.draw(st.integers(1, 30)), queue, service)
            rows.append(row)
            truths[f"{row['date']}-{line}-{call_id}"] = truth
            call_id += 1
            at += timedelta(seconds=data.draw(st.integers(60, 50 * 60)))
    assert {r["date"] for r in rows} == {"990903"}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fall.txt"
        path.write_text(_bank_text(rows, "\r\n"), encoding="utf-8")
        wh = Warehouse(":memory:")
        report = wh.ingest(path, format="anonymous-bank")
        assert not isinstance(report, list)
        assert (report.read, report.loaded, report.rejected, report.duplicates) == (
            len(rows),
            len(rows),
            0,
            0,
        )
        stored = {r["contact_id"]: r for r in _check_invariants(wh)}
        for cid, truth in truths.items():
            for name, value in truth.items():
                assert stored[cid][name] == value, (cid, name)


def test_autumn_repeated_hour_by_hand(tmp_path: Path) -> None:
    """Two calls at 01:30 on one line: the second is an hour after the first."""
    first_0130 = datetime(1999, 9, 2, 22, 30, tzinfo=UTC)  # 01:30 IDT (UTC+3)
    calls = [
        bank_row("AA0101", 1, first_0130, 10, 20, 60),
        bank_row("AA0101", 2, first_0130 + timedelta(minutes=40), 10, None, None),
        bank_row("AA0101", 3, first_0130 + timedelta(hours=1), 10, 20, 60),
    ]  # 01:30 IST
    assert calls[0][0]["vru_entry"] == calls[2][0]["vru_entry"] == "1:30:00"
    path = tmp_path / "fall.txt"
    path.write_text(_bank_text([row for row, _ in calls], "\n"), encoding="utf-8")
    wh = Warehouse(":memory:")
    report = wh.ingest(path, format="anonymous-bank")
    assert not isinstance(report, list)
    assert (report.loaded, report.duplicates) == (3, 0)
    got = [r["arrived_at"] for r in wh.interactions().to_pylist()]
    assert got == [truth["arrived_at"] for _, truth in calls]


@FAST
@given(data=st.data())
def test_spring_forward_gap_is_a_reject_never_shifted(data: st.DataObject) -> None:
    """1999-04-02, Asia/Jerusalem: 02:00-02:59 did not happen.  A row with a time in
    the gap is rejected with that reason; the others keep their exact instants."""
    rows, truths, in_gap = [], {}, set()
    for i in range(data.draw(st.integers(1, 8))):
        at = datetime(1999, 4, 1, 22, 30, tzinfo=UTC) + timedelta(
            seconds=data.draw(st.integers(0, 3 * 3600))
        )  # 00:30 to 04:30 local
        row, truth = bank_row(
            "AA0101",
            i + 1,
            at,
            5,
            data.draw(st.one_of(st.none(), st.integers(0, 300))),
            data.draw(st.one_of(st.none(), st.integers(0, 300))),
        )
        cid = f"{row['date']}-AA0101-{i + 1}"
        if data.draw(st.booleans()):
            row["vru_entry"] = f"2:{data.draw(st.integers(0, 59)):02d}:00"
            in_gap.add(cid)
        else:
            truths[cid] = truth
        rows.append(row)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spring.txt"
        path.write_text(_bank_text(rows, "\n"), encoding="utf-8")
        wh = Warehouse(":memory:")
        report = wh.ingest(path, format="anonymous-bank")
        assert not isinstance(report, list)
        assert (report.read, report.rejected) == (len(rows), len(in_gap))
        assert all(
            "does not exist" in r["reason"] or "exists" in r["reason"]
            for r in wh.rejects().to_pylist()
        )
        stored = {r["contact_id"]: r for r in _check_invariants(wh)}
        assert set(stored) == set(truths)
        for cid, truth in truths.items():
            for name, value in truth.items():
                assert stored[cid][name] == value, (cid, name)


def test_bank_timezone_is_declared_and_checked(tmp_path: Path) -> None:
    adapter = get_adapter("anonymous-bank")
    assert adapter.default_timezone == "Asia/Jerusalem"  # type: ignore[attr-defined]
    row, _ = bank_row("AA0101", 1, datetime(1999, 3, 15, 8, tzinfo=UTC), 5, 10, 20)
    path = tmp_path / "calls.txt"
    path.write_text(_bank_text([row], "\r"), encoding="utf-8")  # old-Mac line ends
    wh = Warehouse(":memory:")
    with pytest.raises(ValueError, match="Asia/Jerusalem"):
        wh.ingest(path, format="anonymous-bank", timezone="Jerusalem")
    report = wh.ingest(path, format="anonymous-bank")
    assert not isinstance(report, list)
    assert (report.read, report.loaded) == (1, 1)


# -- formats: sniff and format_mismatch ------------------------------------------------------


def _samples(tmp: Path) -> dict[str, Path]:
    """One small file of each row-wise format (hand-made, or from the fixtures)."""
    bank_line, _ = bank_row("AA0101", 1, datetime(1999, 3, 15, 8, tzinfo=UTC), 5, 10, 20)
    files = {
        "amazon-connect": FIXTURES / "amazon_connect_ctr.json",
        "anonymous-bank": tmp / "calls.txt",
        "genesys": tmp / "conversations.json",
        "zendesk": tmp / "tickets.json",
        "freshdesk": tmp / "fd.json",
    }
    files["anonymous-bank"].write_text(_bank_text([bank_line], "\r\n"), encoding="utf-8")
    files["genesys"].write_text(
        json.dumps({"conversations": _genesys_bases()}, indent=2), encoding="utf-8"
    )
    files["zendesk"].write_text(json.dumps({"tickets": _zendesk_bases()}), encoding="utf-8")
    files["freshdesk"].write_text(json.dumps(_freshdesk_bases(), indent=2), encoding="utf-8")
    return files


def test_each_sniff_knows_its_own_format_only(tmp_path: Path) -> None:
    files = _samples(tmp_path)
    for own, path in files.items():
        head = read_head(path)
        claims = [name for name in files if get_adapter(name).sniff(head)]  # type: ignore[attr-defined]
        assert claims == [own], (own, claims)
        bom = tmp_path / ("bom-" + path.name)
        bom.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
        assert get_adapter(own).sniff(read_head(bom))  # type: ignore[attr-defined]
    for junk in (b"", b"\x00\x01PAR1", b"hello\n", b"[1, 2, 3]", b"{}", b"id,name\n1,x\n"):
        assert not any(get_adapter(n).sniff(junk) for n in files)  # type: ignore[attr-defined]


@JSON_BLOCKS
@pytest.mark.parametrize(
    "fmt", ["amazon-connect", "anonymous-bank", "genesys", "zendesk", "freshdesk"]
)
def test_a_file_of_another_format_is_refused_before_loading(tmp_path: Path, fmt: str) -> None:
    files = _samples(tmp_path)
    wh = Warehouse(tmp_path / "wh.duckdb")
    wh.ingest(files[fmt], format=fmt)  # something stored, to see it untouched
    before = (_snapshot(wh), wh.count("ingests"))
    not_a_record = tmp_path / "plain.txt"
    not_a_record.write_text("just some text\nand more\n", encoding="utf-8")
    for name, path in [*files.items(), ("text", not_a_record)]:
        if name == fmt or {fmt, name} == {"zendesk", "freshdesk"}:
            continue  # Zendesk and Freshdesk tickets share id and created_at
        with pytest.raises(FormatMismatchError) as err:
            wh.ingest(path, format=fmt)
        assert err.value.missing, name
        if name != "text":
            assert err.value.looks_like == name, (fmt, name)
        assert (_snapshot(wh), wh.count("ingests")) == before
    wh.close()


def test_the_real_bank_log_is_not_zendesk() -> None:
    """``ingest january.txt --format zendesk`` used to succeed with 31,599 rejects."""
    path = shared_file(BANK_FILES[0])
    wh = Warehouse(":memory:")
    with pytest.raises(FormatMismatchError) as err:
        wh.ingest(path, format="zendesk")
    assert err.value.missing == ["id", "created_at"]
    assert err.value.looks_like == "anonymous-bank"
    assert wh.count() == wh.count("rejects") == wh.count("ingests") == 0


@settings(max_examples=200, deadline=None)
@given(
    head=st.one_of(
        st.binary(max_size=400),
        st.sampled_from(
            [
                b"{",
                b"[",
                b'{"ContactId"',
                b"vru+line\tcall_id",
                b'{"tickets": [{"via"',
                b"id,created_at",
            ]
        ),
    )
)
def test_sniff_never_raises(head: bytes) -> None:
    for name in ("amazon-connect", "anonymous-bank", "genesys", "zendesk", "freshdesk"):
        assert get_adapter(name).sniff(head) in (True, False)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("json_blocks")
@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ('{"a": 1}\n[', ["JsonValue", "JsonError"]),  # cut right after an array opened
        ("[", ["JsonError"]),
        ("[]", []),  # an empty array is no record
        ('[\n{"a": 1},\n{"b"', ["JsonValue", "JsonError"]),  # the cut element is the reject
    ],
)
def test_an_array_cut_before_its_first_element_is_one_broken_record(
    tmp_path: Path, text: str, kinds: list[str]
) -> None:
    """Found by hypothesis: a '[' left open at the end of a file was no record at all."""
    from contactops.data.adapters._jsonio import iter_json

    path = tmp_path / "cut.json"
    path.write_text(text, encoding="utf-8")
    assert [type(item).__name__ for item in iter_json(path)] == kinds
