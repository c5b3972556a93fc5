"""``agent-states`` and ``agent_kpis``: status logs in, every row accounted for, agent time
split exactly across intervals, occupancy/utilisation/shrinkage by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contactops.data import AGENT_STATE_CATEGORIES as STATES
from contactops.data import AGENT_STATES, FORMATS, IngestReport, Warehouse
from contactops.errors import FormatMismatchError, InvalidParameterError

FIXTURES = Path(__file__).parent / "fixtures" / "agent_states"
GENESYS = FIXTURES / "genesys_routing_status.csv"
GENESYS_PQ = FIXTURES / "genesys_routing_status.parquet"
AUDIT = FIXTURES / "amazon_connect_agent_activity_audit.csv"
EVENTS = FIXTURES / "amazon_connect_agent_events.csv"
ANA = "2b7e1c40-5d0a-4f7e-9a51-0c3e8f6d1a01"
BEN = "9c4d2e71-8b3f-4a26-b7d0-5e1f9a2c3b02"
HEADER = "agent,state,start,end\n"
MAPPING = {"agent_id": "agent", "state": "state", "started_at": "start", "ended_at": "end"}


def accounted(report: IngestReport | list[IngestReport]) -> IngestReport:
    assert isinstance(report, IngestReport)
    assert report.table == "agent_states"
    assert report.read == report.loaded + report.rejected + report.duplicates
    return report


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def at(text: str) -> datetime:
    """An ISO time in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def wall(text: str) -> datetime:
    """A local (naive) clock time, as the KPI tables give interval starts."""
    return datetime.fromisoformat(text)


def spans(wh: Warehouse, source: str | None = None) -> list[dict[str, Any]]:
    where = "WHERE source = $s" if source else ""
    return (
        wh.con.sql(
            f"SELECT * FROM agent_states {where} ORDER BY agent_id, started_at",
            params={"s": source} if source else None,
        )
        .to_arrow_table()
        .to_pylist()
    )


def rejects(wh: Warehouse) -> list[tuple[int | None, str | None, str | None, str]]:
    return [(r["line"], r["field"], r["value"], r["reason"]) for r in wh.rejects().to_pylist()]


# -- ingest ----------------------------------------------------------------------------------
def test_registered() -> None:
    assert FORMATS["agent-states"] == "_agent_states"
    assert AGENT_STATES.names == [
        "agent_id",
        "team",
        "site",
        "queue",
        "state",
        "reason",
        "started_at",
        "ended_at",
        "source",
        "source_ref",
    ]


def test_genesys_routing_status() -> None:
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(GENESYS, format="agent-states", preset="genesys"))
    # 16 data lines: Ana 7 spans, Ben 4 (+1 repeated line), 4 bad lines
    assert (report.read, report.loaded, report.rejected, report.duplicates) == (16, 11, 4, 1)
    rows = spans(wh)
    ana = [r for r in rows if r["agent_id"] == ANA]
    assert [(r["state"], r["reason"]) for r in ana] == [
        ("available", "IDLE"),
        ("busy", "INTERACTING"),
        ("available", "NOT_RESPONDING"),
        ("busy", "INTERACTING"),
        ("aux", "OFF_QUEUE"),
        ("available", "IDLE"),
        ("offline", "OFFLINE"),
    ]
    assert ana[1]["started_at"] == at("2024-03-04T08:07:30")
    assert ana[1]["ended_at"] == at("2024-03-04T08:21:10.500")
    assert {r["source"] for r in rows} == {"genesys"}
    assert ana[0]["source_ref"] == "genesys_routing_status.csv:2"
    got = rejects(wh)
    assert [(line, field, value) for line, field, value, _ in got] == [
        (14, "state", "COACHING"),
        (15, "ended_at", "2024-03-04T08:35:00.000Z"),
        (16, "agent_id", None),
        (17, "started_at", "2024-03-04T25:00:00.000Z"),
    ]
    reasons = [r for *_, r in got]
    # the unknown state's reason says how to fix the mapping
    assert "unknown state 'COACHING'" in reasons[0]
    assert "states: {'COACHING': aux}" in reasons[0]
    assert "genesys preset" in reasons[0]
    assert reasons[1] == "must not be before started_at"
    assert reasons[2] == "missing: agent_id is required"
    assert "ISO 8601" in reasons[3]


def test_idempotent() -> None:
    wh = Warehouse(":memory:")
    first = accounted(wh.ingest(GENESYS, format="agent-states", preset="genesys"))
    stored = spans(wh)
    again = accounted(wh.ingest(GENESYS, format="agent-states", preset="genesys"))
    assert (again.read, again.loaded, again.rejected) == (16, 0, 4)
    assert again.duplicates == first.loaded + first.duplicates
    assert spans(wh) == stored
    assert wh.count("rejects") == 4  # the same rejects are not stored twice
    assert wh.count("agent_states") == 11


def test_parquet_matches_csv() -> None:
    """The Parquet copy (typed timestamps) of the CSV's good lines gives the same spans."""
    wh = Warehouse(":memory:")
    accounted(wh.ingest(GENESYS, format="agent-states", preset="genesys"))
    report = accounted(
        wh.ingest(
            GENESYS_PQ,
            format="agent-states",
            preset="genesys",
            mapping={"source": {"value": "lake"}},
        )
    )
    assert (report.read, report.loaded, report.rejected) == (11, 11, 0)
    drop = ("source", "source_ref")
    from_csv = [{k: v for k, v in r.items() if k not in drop} for r in spans(wh, "genesys")]
    from_pq = [{k: v for k, v in r.items() if k not in drop} for r in spans(wh, "lake")]
    assert from_pq == from_csv
    assert spans(wh, "lake")[0]["source_ref"] == "genesys_routing_status.parquet:0"


def test_parquet_by_content(tmp_path: Path) -> None:
    src = tmp_path / "export.bin"
    pq.write_table(
        pa.table(
            {
                "agent": ["a1"],
                "state": ["Ready"],
                "start": ["2024-03-04T08:00:00"],
                "end": ["2024-03-04T08:30:00"],
            }
        ),
        src,
    )
    wh = Warehouse(":memory:")
    report = accounted(
        wh.ingest(src, format="agent-states", mapping=MAPPING, states={"ready": "available"})
    )
    assert report.loaded == 1
    assert spans(wh)[0]["state"] == "available"


def test_amazon_connect_audit_durations() -> None:
    wh = Warehouse(":memory:")
    report = accounted(
        wh.ingest(
            AUDIT, format="agent-states", preset="amazon-connect", timezone="America/New_York"
        )
    )
    assert (report.read, report.loaded, report.rejected) == (14, 12, 2)
    rows = spans(wh)
    dana = [r for r in rows if r["agent_id"] == "dana.kim"]
    # Available/Offline as named; contact states busy; Missed and custom statuses aux
    assert [r["state"] for r in dana] == [
        "available",
        "busy",
        "busy",
        "available",
        "aux",
        "available",
        "aux",
        "offline",
    ]
    assert [r["reason"] for r in dana][4:7] == ["Missed", "Available", "Lunch"]
    # 08:00 in New York on 4 March 2024 (EST, UTC-5) is 13:00 UTC; end = start + H:MM:SS
    assert dana[0]["started_at"] == at("2024-03-04T13:00:00")
    assert dana[0]["ended_at"] == at("2024-03-04T13:05:00")
    eli = [r for r in rows if r["agent_id"] == "eli.novak"]
    assert eli[1]["ended_at"] - eli[1]["started_at"] == timedelta(seconds=20)
    assert eli[3]["ended_at"] - eli[3]["started_at"] == timedelta(hours=1)
    assert {r["team"] for r in rows} == {"Billing"}  # Routing profile
    assert [(line, field, value) for line, field, value, _ in rejects(wh)] == [
        (14, "duration_s", "-0:05:00"),
        (15, "agent_id", None),
    ]


def test_event_log_chains_spans() -> None:
    wh = Warehouse(":memory:")
    report = accounted(
        wh.ingest(EVENTS, format="agent-states", preset="amazon-connect", layout="events")
    )
    assert (report.read, report.loaded, report.rejected) == (11, 8, 3)
    fay = [
        (r["state"], r["started_at"], r["ended_at"])
        for r in spans(wh)
        if r["agent_id"] == "fay.lee"
    ]
    assert fay == [
        ("offline", at("2024-03-04T13:00:00"), at("2024-03-04T13:01:00")),
        ("available", at("2024-03-04T13:01:00"), at("2024-03-04T13:11:00")),
        ("available", at("2024-03-04T13:11:00"), at("2024-03-04T13:40:00")),  # heartbeat
        ("aux", at("2024-03-04T13:40:00"), at("2024-03-04T13:55:00")),
        ("available", at("2024-03-04T13:55:00"), at("2024-03-04T14:30:00")),
        # the logout ends the shift: a zero-length offline span
        ("offline", at("2024-03-04T14:30:00"), at("2024-03-04T14:30:00")),
    ]
    got = rejects(wh)
    assert [(line, field) for line, field, _, _ in got] == [
        (9, "started_at"),
        (10, "ended_at"),
        (11, "started_at"),
    ]
    assert got[0][3] == "missing: started_at is required"
    assert "last state change of agent 'gus.berg'" in got[1][3]
    assert "until=" in got[1][3]
    assert "same instant follows on line 12" in got[2][3]


def test_event_log_a_refused_change_still_ends_the_span_before_it(tmp_path: Path) -> None:
    """An event refused for its state (agent and time known) is still a state change: the
    span before it ends there instead of absorbing the refused state's time, and an open
    last state it follows gets that end (so a fixed states map re-ingested adds the refused
    span next to it, not on top of it)."""
    src = write(
        tmp_path / "ev.csv",
        "agent,state,start\n"
        "a1,available,2024-03-04T09:00:00Z\n"  # 2
        "a1,Coaching,2024-03-04T09:30:00Z\n"  # 3 unknown state: refused
        "a1,busy,2024-03-04T10:00:00Z\n"  # 4
        "a1,,2024-03-04T10:20:00Z\n"  # 5 no state: refused
        "a2,busy,2024-03-04T09:00:00Z\n"  # 6 last of a2 but for ...
        "a2,Coaching,2024-03-04T09:45:00Z\n"  # 7 ... this refused change
        "a3,available,2024-03-04T09:00:00Z\n"  # 8 a refused line with no time
        "a3,Coaching,\n"  # 9   ends nothing
        "a3,offline,2024-03-04T09:50:00Z\n",
    )  # 10
    options: dict[str, Any] = {
        "layout": "events",
        "mapping": {"agent_id": "agent", "state": "state", "started_at": "start"},
    }
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="agent-states", **options))
    assert (report.loaded, report.rejected) == (5, 4)
    assert [(r["agent_id"], r["state"], r["started_at"], r["ended_at"]) for r in spans(wh)] == [
        ("a1", "available", at("2024-03-04T09:00:00"), at("2024-03-04T09:30:00")),
        ("a1", "busy", at("2024-03-04T10:00:00"), at("2024-03-04T10:20:00")),
        ("a2", "busy", at("2024-03-04T09:00:00"), at("2024-03-04T09:45:00")),
        ("a3", "available", at("2024-03-04T09:00:00"), at("2024-03-04T09:50:00")),
        ("a3", "offline", at("2024-03-04T09:50:00"), at("2024-03-04T09:50:00")),
    ]
    assert sorted(line for line, *_ in rejects(wh)) == [3, 5, 7, 9]
    # with until, the refused change still ends the span before it
    wh = Warehouse(":memory:")
    accounted(wh.ingest(src, format="agent-states", until="2024-03-04T12:00:00Z", **options))
    ends = {(r["agent_id"], r["state"]): r["ended_at"] for r in spans(wh)}
    assert ends[("a1", "available")] == at("2024-03-04T09:30:00")
    assert ends[("a1", "busy")] == at("2024-03-04T10:20:00")
    assert ends[("a2", "busy")] == at("2024-03-04T09:45:00")
    # the states map fixed, the same file again: the refused spans join the stored ones
    # without overlapping them
    wh = Warehouse(":memory:")
    accounted(wh.ingest(src, format="agent-states", **options))
    accounted(wh.ingest(src, format="agent-states", states={"Coaching": "aux"}, **options))
    from contactops.metrics import agent_kpis

    a1 = by_key(agent_kpis(wh, by=["agent"]), "agent")[("a1",)]
    assert (a1["available_s"], a1["aux_s"], a1["busy_s"]) == (1800, 1800, 1200)


def test_event_log_until_closes_open_states() -> None:
    wh = Warehouse(":memory:")
    report = accounted(
        wh.ingest(
            EVENTS,
            format="agent-states",
            preset="amazon-connect",
            layout="events",
            until="2024-03-04T10:00:00",
            timezone="America/New_York",
        )
    )  # 15:00 UTC
    assert (report.read, report.loaded, report.rejected) == (11, 9, 2)
    rows = spans(wh)
    gus = [(r["state"], r["ended_at"]) for r in rows if r["agent_id"] == "gus.berg"]
    assert gus[-1] == ("available", at("2024-03-04T15:00:00"))
    assert [r["ended_at"] for r in rows if r["agent_id"] == "fay.lee"][-1] == at(
        "2024-03-04T15:00:00"
    )


def test_event_log_until_refuses_later_events(tmp_path: Path) -> None:
    src = write(
        tmp_path / "ev.csv",
        "agent,state,start\n"
        "a1,available,2024-03-04T08:00:00\n"
        "a1,busy,2024-03-04T08:20:00\n"
        "a1,aux,2024-03-04T09:10:00\n",
    )
    wh = Warehouse(":memory:")
    report = accounted(
        wh.ingest(
            src,
            format="agent-states",
            layout="events",
            until="2024-03-04T09:00:00",
            mapping={"agent_id": "agent", "started_at": "start"},
        )
    )
    assert (report.loaded, report.rejected) == (2, 1)
    assert [(r["state"], r["ended_at"]) for r in spans(wh)] == [
        ("available", at("2024-03-04T08:20:00")),
        ("busy", at("2024-03-04T09:00:00")),
    ]
    ((line, field, _, reason),) = rejects(wh)
    assert (line, field) == (4, "started_at")
    assert reason.startswith("after until")


def test_bad_rows_each_rejected_with_reason(tmp_path: Path) -> None:
    src = write(
        tmp_path / "bad.csv",
        HEADER
        + "a1,Ready,2024-03-04T08:00:00,2024-03-04T08:30:00\n"  # 2 ok
        + "a1,On Call,2024-03-04T08:30:00,2024-03-04T08:40:00\n"  # 3 ok
        + "a1,Coaching,2024-03-04T08:40:00,2024-03-04T08:50:00\n"  # 4 unknown state
        + ",Ready,2024-03-04T08:00:00,2024-03-04T08:10:00\n"  # 5 no agent
        + "a2,Ready,yesterday,2024-03-04T08:10:00\n"  # 6 start
        + "a2,Ready,2024-03-04T08:00:00,soon\n"  # 7 end
        + "a2,Ready,2024-03-04T09:00:00,2024-03-04T08:00:00\n"  # 8 end < start
        + "a2,,2024-03-04T10:00:00,2024-03-04T10:10:00\n"  # 9 no state
        + "a2,Ready,,2024-03-04T10:10:00\n"  # 10 no start
        + "a2,Ready,2024-03-04T11:00:00,\n"  # 11 no end
        + "a1,Lunch,2024-03-04T08:35:00,2024-03-04T09:00:00\n"  # 12 overlaps 3
        + "a1,Lunch,2024-03-04T08:50:00,2024-03-04T09:20:00\n"  # 13 ok
        + "a3,Ready\n"  # 14 fields
        + "a3,ready,2024-03-04T08:00:00,2024-03-04T08:00:00\n",
    )  # 15 ok, zero length
    wh = Warehouse(":memory:")
    report = accounted(
        wh.ingest(
            src,
            format="agent-states",
            mapping=MAPPING,
            states={"Ready": "available", "on call": "busy", "LUNCH": "aux"},
        )
    )
    assert (report.read, report.loaded, report.rejected, report.duplicates) == (14, 4, 10, 0)
    got = {line: (field, value, reason) for line, field, value, reason in rejects(wh)}
    assert sorted(got) == [4, 5, 6, 7, 8, 9, 10, 11, 12, 14]
    assert got[4][:2] == ("state", "Coaching")
    assert "states: {'Coaching': aux}" in got[4][2]
    assert got[5] == ("agent_id", None, "missing: agent_id is required")
    assert got[6][:2] == ("started_at", "yesterday")
    assert got[7][:2] == ("ended_at", "soon")
    assert got[8] == ("ended_at", "2024-03-04T08:00:00", "must not be before started_at")
    assert got[9] == ("state", None, "missing: state is required")
    assert got[10] == ("started_at", None, "missing: started_at is required")
    assert got[11] == ("ended_at", None, "missing: a span needs ended_at or duration_s")
    assert got[12][0] == "started_at"
    assert "overlaps the span of agent 'a1' on line 3" in got[12][2]
    assert got[14][0] is None
    assert "4 fields" in got[14][2]
    # case-insensitive state names; the reason keeps the source's spelling
    assert [(r["agent_id"], r["state"], r["reason"]) for r in spans(wh)] == [
        ("a1", "available", "Ready"),
        ("a1", "busy", "On Call"),
        ("a1", "aux", "Lunch"),
        ("a3", "available", "ready"),
    ]


def test_states_map_from_mapping_yaml_with_default(tmp_path: Path) -> None:
    mapping = write(
        tmp_path / "m.yaml",
        "agent_id: agent\nstate: state\nstarted_at: start\n"
        "ended_at: end\nteam: {value: Sales}\n"
        "states:\n  Ready: available\n  '*': aux\n",
    )
    src = write(
        tmp_path / "s.csv",
        HEADER
        + "a1,Ready,2024-03-04T08:00:00,2024-03-04T08:30:00\n"
        + "a1,Anything Else,2024-03-04T08:30:00,2024-03-04T08:40:00\n"
        + "a1,offline,2024-03-04T08:40:00,2024-03-04T09:40:00\n",
    )
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="agent-states", mapping=str(mapping)))
    assert (report.loaded, report.rejected) == (3, 0)
    assert [(r["state"], r["team"]) for r in spans(wh)] == [
        ("available", "Sales"),
        ("aux", "Sales"),
        ("offline", "Sales"),
    ]


def test_duration_column_with_scale(tmp_path: Path) -> None:
    src = write(tmp_path / "d.csv", "agent,state,start,ms\na1,busy,2024-03-04T08:00:00Z,90500\n")
    wh = Warehouse(":memory:")
    accounted(
        wh.ingest(
            src,
            format="agent-states",
            mapping={
                "agent_id": "agent",
                "started_at": "start",
                "duration_s": {"column": "ms", "scale": 0.001},
            },
        )
    )
    (row,) = spans(wh)
    assert row["ended_at"] - row["started_at"] == timedelta(seconds=90.5)


def test_durations_past_the_timestamp_range_are_rejected_not_crashed(tmp_path: Path) -> None:
    """A duration whose end cannot be a timestamp is a bad row, not a failed ingest."""
    src = write(
        tmp_path / "d.csv",
        "agent,state,start,dur\n"
        "a1,busy,2024-03-04T08:00:00Z,1e300\n"  # 2: past int64 microseconds
        "a2,busy,2024-03-04T08:00:00Z,1e12\n"  # 3: ends in the year 33,700
        "a3,busy,2024-03-04T08:00:00Z,60\n"  # 4: fine
        "a4,busy,9999-12-31T23:00:00Z,7200\n",
    )  # 5: ends in the year 10000
    wh = Warehouse(":memory:")
    report = accounted(
        wh.ingest(
            src,
            format="agent-states",
            mapping={"agent_id": "agent", "started_at": "start", "duration_s": "dur"},
        )
    )
    assert (report.loaded, report.rejected) == (1, 3)
    got = {line: (field, reason) for line, field, _, reason in rejects(wh)}
    assert sorted(got) == [2, 3, 5]
    assert got[2][0] == got[3][0] == got[5][0] == "duration_s"
    assert "366 days" in got[2][1]  # longer than any span: a unit mistake
    assert "9999-12-31" in got[5][1]
    assert [r["agent_id"] for r in spans(wh)] == ["a3"]


def test_whole_file_refused_without_required_columns(tmp_path: Path) -> None:
    # issue 13: a header without what the format needs refuses the file before loading
    src = write(tmp_path / "x.csv", "who,what,when\na1,Ready,2024-03-04T08:00:00\n")
    wh = Warehouse(":memory:")
    with pytest.raises(FormatMismatchError) as info:
        wh.ingest(src, format="agent-states", preset="genesys")
    assert info.value.missing == ["agent_id", "state", "started_at", "ended_at or duration_s"]
    assert info.value.found == ["who", "what", "when"]
    src = write(tmp_path / "y.csv", "agent,state,start\na1,available,2024-03-04T08:00:00\n")
    with pytest.raises(FormatMismatchError) as info:
        wh.ingest(src, format="agent-states", mapping={"agent_id": "agent", "started_at": "start"})
    assert info.value.missing == ["ended_at or duration_s"]
    # the same file as state changes needs no end
    report = accounted(
        wh.ingest(
            src,
            format="agent-states",
            layout="events",
            mapping={"agent_id": "agent", "started_at": "start"},
        )
    )
    assert report.read == 1
    assert wh.count("agent_states") + wh.count("rejects") == 1


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"preset": "avaya"}, "preset"),
        ({"layout": "rows"}, "layout"),
        ({"until": "2024-03-04"}, "until"),
        ({"layout": "events", "until": "someday"}, "until"),
        ({"states": {"Lunch": "break"}}, "states.Lunch"),
        ({"mapping": {"agent": "x"}}, "mapping"),
        ({"layout": "events", "mapping": {"ended_at": "End"}}, "mapping.ended_at"),
        ({"file_format": "xlsx"}, "file_format"),
    ],
)
def test_bad_options(tmp_path: Path, options: dict[str, Any], name: str) -> None:
    src = write(tmp_path / "s.csv", HEADER)
    with pytest.raises(InvalidParameterError) as err:
        Warehouse(":memory:").ingest(src, format="agent-states", **options)
    assert err.value.name == name


def test_overlaps_refused_against_kept_spans_only(tmp_path: Path) -> None:
    src = write(
        tmp_path / "o.csv",
        HEADER
        + "a1,busy,2024-03-04T08:00:00,2024-03-04T09:00:00\n"  # 2 A kept
        + "a1,aux,2024-03-04T08:30:00,2024-03-04T10:00:00\n"  # 3 B overlaps A
        + "a1,available,2024-03-04T09:00:00,2024-03-04T09:30:00\n"  # 4 C: only B
        + "a1,aux,2024-03-04T09:10:00,2024-03-04T09:20:00\n"  # 5 D overlaps C
        + "a1,busy,2024-03-04T08:00:00,2024-03-04T09:00:00\n"  # 6 A again
        + "a1,aux,2024-03-04T08:30:00,2024-03-04T10:00:00\n"  # 7 B again
        + "a2,aux,2024-03-04T08:30:00,2024-03-04T10:00:00\n",
    )  # 8 other agent
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="agent-states", mapping=MAPPING))
    assert (report.loaded, report.rejected, report.duplicates) == (3, 3, 1)
    got = {line: reason for line, _, _, reason in rejects(wh)}
    assert sorted(got) == [3, 5, 7]
    assert "on line 2 (until 2024-03-04T09:00:00+00:00)" in got[3]
    assert "on line 4 (until 2024-03-04T09:30:00+00:00)" in got[5]
    assert "on line 2" in got[7]
    assert [(r["agent_id"], r["source_ref"]) for r in spans(wh)] == [
        ("a1", "o.csv:2"),
        ("a1", "o.csv:4"),
        ("a2", "o.csv:8"),
    ]


# -- KPIs ------------------------------------------------------------------------------------
GENESYS_STATES = {
    "IDLE": "available",
    "NOT_RESPONDING": "available",
    "INTERACTING": "busy",
    "COMMUNICATING": "busy",
    "OFF_QUEUE": "aux",
    "OFFLINE": "offline",
}
QUARTER = timedelta(minutes=15)


def quarter_seconds(
    rows: list[tuple[str, str, datetime, datetime]],
) -> dict[tuple[datetime, str, str], float]:
    """Seconds per (UTC quarter hour, agent, state), walking each span in plain Python."""
    out: dict[tuple[datetime, str, str], float] = {}
    for agent, state, start, end in rows:
        if state == "offline":
            continue
        k = start.replace(minute=start.minute - start.minute % 15, second=0, microsecond=0)
        while k < end:
            piece = (min(end, k + QUARTER) - max(start, k)).total_seconds()
            out[(k, agent, state)] = out.get((k, agent, state), 0.0) + piece
            k += QUARTER
    return out


def by_key(table: pa.Table, *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(r[k] for k in keys): r for r in table.to_pylist()}


def test_quarter_hours_match_plain_python() -> None:
    from contactops.metrics import agent_kpis

    wh = Warehouse(":memory:")
    accounted(wh.ingest(GENESYS, format="agent-states", preset="genesys"))
    # the reference reads the Parquet copy of the good lines, not the warehouse
    ref_rows = [
        (r["userId"], GENESYS_STATES[r["routingStatus"]], r["startTime"], r["endTime"])
        for r in pq.read_table(GENESYS_PQ).to_pylist()
    ]
    expected = quarter_seconds(ref_rows)
    got = by_key(agent_kpis(wh, by=["interval15", "agent"]), "interval_start", "agent")
    keys = {(k.replace(tzinfo=None), a) for k, a, _ in expected}
    assert set(got) == keys
    for (k, agent), row in got.items():
        for state in ("available", "busy", "aux"):
            want = expected.get((k.replace(tzinfo=UTC), agent, state), 0.0)
            assert row[f"{state}_s"] == pytest.approx(want, abs=1e-6), (k, agent, state)
        assert row["staffed_s"] == pytest.approx(
            row["available_s"] + row["busy_s"] + row["aux_s"], abs=1e-6
        )
    # Ana's INTERACTING 08:07:30-08:21:10.5 puts 450 s in 08:00 and 370.5 s in 08:15
    ana_8 = got[(wall("2024-03-04T08:00"), ANA)]
    assert ana_8["busy_s"] == pytest.approx(450.0)
    assert ana_8["available_s"] == pytest.approx(450.0)
    ana_815 = got[(wall("2024-03-04T08:15"), ANA)]
    assert ana_815["busy_s"] == pytest.approx(370.5 + (15 * 60 - 370.5 - 30))
    assert ana_815["available_s"] == pytest.approx(30.0)  # NOT_RESPONDING
    # per agent, the pieces add back to the spans: Ana 08:00-09:20, Ben 07:55-09:40
    totals = by_key(agent_kpis(wh, by=["agent"]), "agent")
    assert totals[(ANA,)]["staffed_s"] == pytest.approx(80 * 60)
    assert totals[(BEN,)]["staffed_s"] == pytest.approx(105 * 60)


def hand_example(tmp_path: Path) -> Warehouse:
    """A: 09:00 available, 09:30 busy, 10:15 aux, 10:30-11:00 offline; B: 09:00 busy,
    10:00-10:30 aux."""
    src = write(
        tmp_path / "hand.csv",
        "agent,team,state,start,end\n"
        "A,T1,available,2024-03-04T09:00:00Z,2024-03-04T09:30:00Z\n"
        "A,T1,busy,2024-03-04T09:30:00Z,2024-03-04T10:15:00Z\n"
        "A,T1,aux,2024-03-04T10:15:00Z,2024-03-04T10:30:00Z\n"
        "A,T1,offline,2024-03-04T10:30:00Z,2024-03-04T11:00:00Z\n"
        "B,T2,busy,2024-03-04T09:00:00Z,2024-03-04T10:00:00Z\n"
        "B,T2,aux,2024-03-04T10:00:00Z,2024-03-04T10:30:00Z\n",
    )
    wh = Warehouse(":memory:")
    accounted(wh.ingest(src, format="agent-states", mapping=MAPPING))
    return wh


def test_occupancy_utilisation_shrinkage_by_hand(tmp_path: Path) -> None:
    from contactops.metrics import agent_kpis

    wh = hand_example(tmp_path)
    agents = by_key(agent_kpis(wh, by=["agent"]), "agent")
    a, b = agents[("A",)], agents[("B",)]
    assert (a["staffed_s"], a["available_s"], a["busy_s"], a["aux_s"]) == (5400, 1800, 2700, 900)
    assert a["occupancy"] == pytest.approx(2700 / 4500)
    assert a["utilisation"] == pytest.approx(4500 / 5400)
    assert a["shrinkage"] == pytest.approx(900 / 5400)
    assert (b["staffed_s"], b["available_s"], b["busy_s"], b["aux_s"]) == (5400, 0, 3600, 1800)
    assert b["occupancy"] == pytest.approx(1.0)
    assert b["utilisation"] == pytest.approx(3600 / 5400)
    assert b["shrinkage"] == pytest.approx(1800 / 5400)
    hours = by_key(agent_kpis(wh, by=["interval60"]), "interval_start")
    assert sorted(hours) == [(wall("2024-03-04T09:00"),), (wall("2024-03-04T10:00"),)]
    nine, ten = hours[(wall("2024-03-04T09:00"),)], hours[(wall("2024-03-04T10:00"),)]
    assert nine["staffed_s"] == 7200
    assert nine["occupancy"] == pytest.approx(5400 / 7200)
    assert (nine["utilisation"], nine["shrinkage"]) == (pytest.approx(1.0), pytest.approx(0.0))
    assert ten["staffed_s"] == 3600
    assert ten["occupancy"] == pytest.approx(1.0)  # 900 busy, nobody available
    assert ten["utilisation"] == pytest.approx(900 / 3600)
    assert ten["shrinkage"] == pytest.approx(2700 / 3600)
    (everyone,) = agent_kpis(wh, by=[]).to_pylist()
    assert everyone["occupancy"] == pytest.approx(6300 / 8100)
    assert everyone["utilisation"] == pytest.approx(8100 / 10800)
    assert everyone["shrinkage"] == pytest.approx(2700 / 10800)
    teams = by_key(agent_kpis(wh, by=["team"]), "team")
    assert teams[("T1",)]["occupancy"] == pytest.approx(a["occupancy"])
    # clipped to [09:45, 10:20): A busy 1800 + aux 300, B busy 900 + aux 1200
    (window,) = agent_kpis(
        wh, by=[], start="2024-03-04T09:45:00", end="2024-03-04T10:20:00"
    ).to_pylist()
    assert (window["staffed_s"], window["busy_s"], window["aux_s"]) == (4200, 2700, 1500)
    # the same window in New York time (EST, UTC-5)
    (ny,) = agent_kpis(
        wh,
        by=[],
        start="2024-03-04T04:45:00",
        end="2024-03-04T05:20:00",
        timezone="America/New_York",
    ).to_pylist()
    assert ny["staffed_s"] == 4200


def test_local_intervals_dst_and_half_hour_zones(tmp_path: Path) -> None:
    from contactops.metrics import agent_kpis

    src = write(
        tmp_path / "tz.csv",
        HEADER
        # New York, 10 March 2024: 01:30 EST -> 03:30 EDT is one hour of real time
        + "ny,busy,2024-03-10T06:30:00Z,2024-03-10T07:30:00Z\n"
        # Kolkata (UTC+5:30): 08:30-09:30 local
        + "in,busy,2024-03-04T03:00:00Z,2024-03-04T04:00:00Z\n",
    )
    wh = Warehouse(":memory:")
    accounted(wh.ingest(src, format="agent-states", mapping=MAPPING))
    ny = by_key(
        agent_kpis(wh, by=["interval60", "agent"], timezone="America/New_York"),
        "interval_start",
        "agent",
    )
    assert {k: r["busy_s"] for k, r in ny.items() if k[1] == "ny"} == {
        (wall("2024-03-10T01:00"), "ny"): 1800,
        (wall("2024-03-10T03:00"), "ny"): 1800,
    }
    kolkata = by_key(
        agent_kpis(wh, by=["interval60", "agent"], timezone="Asia/Kolkata"),
        "interval_start",
        "agent",
    )
    assert {k: r["busy_s"] for k, r in kolkata.items() if k[1] == "in"} == {
        (wall("2024-03-04T08:00"), "in"): 1800,
        (wall("2024-03-04T09:00"), "in"): 1800,
    }
    days = by_key(agent_kpis(wh, by=["day"], timezone="Asia/Kolkata"), "day")
    assert sum(r["busy_s"] for r in days.values()) == 7200


CONTACTS = (
    "contact_id,channel,outcome,arrived_at,answered_at,talk_s,hold_s,acw_s,agent_id\n"
    "c1,voice,answered,2024-03-04T13:05:00Z,2024-03-04T13:05:10Z,300,30,60,fay.lee\n"
    "c2,voice,answered,2024-03-04T14:00:00Z,2024-03-04T14:00:05Z,600,,90,fay.lee\n"
    "c3,voice,abandoned,2024-03-04T14:10:00Z,,,,,\n"
    "c4,chat,answered,2024-03-04T13:25:00Z,2024-03-04T13:25:30Z,240,0,60,gus.berg\n"
    "c5,voice,answered,2024-03-04T13:30:00Z,2024-03-04T13:30:01Z,999,0,0,zed\n"
    "c6,voice,answered,2024-03-05T09:00:00Z,2024-03-05T09:00:01Z,100,0,0,fay.lee\n"
    "c7,voice,answered,2024-03-04T13:40:00Z,2024-03-04T13:40:01Z,,,,fay.lee\n"
)


def status_log_and_contacts(tmp_path: Path) -> Warehouse:
    """Amazon Connect's agent event stream (no busy state) closed at 15:00 UTC, and legs."""
    wh = Warehouse(":memory:")
    accounted(
        wh.ingest(
            EVENTS,
            format="agent-states",
            preset="amazon-connect",
            layout="events",
            until="2024-03-04T15:00:00Z",
        )
    )
    legs = wh.ingest(write(tmp_path / "legs.csv", CONTACTS), format="csv")
    assert isinstance(legs, IngestReport)
    assert (legs.read, legs.loaded) == (7, 7)
    return wh


def test_handle_from_contacts_by_hand(tmp_path: Path) -> None:
    from contactops.metrics import agent_kpis

    wh = status_log_and_contacts(tmp_path)
    # fay: available 13:01-13:40 and 13:55-14:30 (4440 s), break 13:40-13:55 (900 s);
    # gus: available 13:20-13:50 and 14:20-15:00 (4200 s), meeting 13:50-14:20 (1800 s)
    rows = by_key(
        agent_kpis(wh, by=["agent"], end="2024-03-04T15:00:00", handle_from="contacts"), "agent"
    )
    fay, gus = rows[("fay.lee",)], rows[("gus.berg",)]
    assert (fay["available_s"], fay["busy_s"], fay["aux_s"]) == (4440, 0, 900)
    # c1 (300+30+60) and c2 (600+90); not c3 (abandoned), c6 (after end), c7 (no talk time)
    assert (fay["handled"], fay["handle_s"]) == (2, 1080)
    assert fay["occupancy"] == pytest.approx(1080 / 4440)
    assert fay["utilisation"] == pytest.approx(4440 / 5340)
    assert fay["shrinkage"] == pytest.approx(900 / 5340)
    assert (gus["handled"], gus["handle_s"]) == (1, 300)
    assert gus["occupancy"] == pytest.approx(300 / 4200)
    assert ("zed",) not in rows  # not in the status log: no denominator, not counted
    # from the states, the same log says nothing is busy
    states = by_key(agent_kpis(wh, by=["agent"], end="2024-03-04T15:00:00"), "agent")
    assert states[("fay.lee",)]["occupancy"] == 0.0
    assert states[("fay.lee",)]["handled"] == 2  # reported either way
    # a group with contacts but no state time is kept, with no ratio
    days = by_key(agent_kpis(wh, by=["day", "agent"], handle_from="contacts"), "day", "agent")
    late = days[(date(2024, 3, 5), "fay.lee")]
    assert (late["staffed_s"], late["handled"], late["handle_s"]) == (0, 1, 100)
    assert late["occupancy"] is None
    assert late["utilisation"] is None
    assert list(days)[-1] == (date(2024, 3, 5), "fay.lee")


def test_contacts_count_in_their_agents_team_site_and_queue(tmp_path: Path) -> None:
    """By team (site, queue), a leg counts in the group its agent's state log puts the agent
    in at the leg's arrival, not under the leg's own (often empty) team column."""
    from contactops.metrics import agent_kpis

    src = write(
        tmp_path / "s.csv",
        "agent,team,site,queue,state,start,end\n"
        "A,T1,S1,Q1,available,2024-03-04T09:00:00Z,2024-03-04T10:00:00Z\n"
        "A,T2,S1,Q1,available,2024-03-04T10:00:00Z,2024-03-04T11:00:00Z\n"
        "B,T2,S2,Q2,available,2024-03-04T09:00:00Z,2024-03-04T10:00:00Z\n",
    )
    wh = Warehouse(":memory:")
    accounted(
        wh.ingest(
            src,
            format="agent-states",
            mapping={
                "agent_id": "agent",
                "team": "team",
                "site": "site",
                "queue": "queue",
                "state": "state",
                "started_at": "start",
                "ended_at": "end",
            },
        )
    )
    # the legs carry no team or site, and a queue of their own
    legs = write(
        tmp_path / "legs.csv",
        "contact_id,channel,outcome,arrived_at,talk_s,agent_id,"
        "queue\n"
        "c1,voice,answered,2024-03-04T09:05:00Z,600,A,sales\n"
        "c2,voice,answered,2024-03-04T10:05:00Z,300,A,sales\n"
        "c3,voice,answered,2024-03-04T09:10:00Z,900,B,sales\n",
    )
    wh.ingest(legs, format="csv")
    teams = by_key(agent_kpis(wh, by=["team"], handle_from="contacts"), "team")
    assert sorted(teams) == [("T1",), ("T2",)]
    assert (teams[("T1",)]["handled"], teams[("T1",)]["handle_s"]) == (1, 600)
    assert (teams[("T2",)]["handled"], teams[("T2",)]["handle_s"]) == (2, 1200)
    assert teams[("T2",)]["occupancy"] == pytest.approx(1200 / 7200)
    sites = by_key(agent_kpis(wh, by=["site"], handle_from="contacts"), "site")
    assert {k: r["handle_s"] for k, r in sites.items()} == {("S1",): 900, ("S2",): 900}
    queues = by_key(agent_kpis(wh, by=["queue", "agent"]), "queue", "agent")
    assert {k: r["handled"] for k, r in queues.items()} == {("Q1", "A"): 2, ("Q2", "B"): 1}


def test_date_bounds_are_local_midnights(tmp_path: Path) -> None:
    """start/end given as dates mean midnight in ``timezone``, as the same text does."""
    from contactops.metrics import agent_kpis

    src = write(
        tmp_path / "s.csv",
        HEADER  # 01:00-02:00 on 4 March in Tokyo (UTC+9)
        + "a1,available,2024-03-03T16:00:00Z,2024-03-03T17:00:00Z\n",
    )
    wh = Warehouse(":memory:")
    accounted(wh.ingest(src, format="agent-states", mapping=MAPPING))
    for start, end in ((date(2024, 3, 4), date(2024, 3, 5)), ("2024-03-04", "2024-03-05")):
        (row,) = agent_kpis(wh, by=[], start=start, end=end, timezone="Asia/Tokyo").to_pylist()
        assert row["staffed_s"] == 3600, start
    (row,) = agent_kpis(wh, by=[], end=date(2024, 3, 4), timezone="Asia/Tokyo").to_pylist()
    assert row["staffed_s"] == 0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"by": ["channel"]}, "by"),
        ({"by": ["day", "interval15"]}, "by"),
        ({"handle_from": "wfm"}, "handle_from"),
        ({"interval_minutes": 20}, "interval_minutes"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"start": "2024-03-05", "end": "2024-03-04"}, "end"),
        ({"start": "March"}, "start/end"),
    ],
)
def test_agent_kpis_bad_arguments(kwargs: dict[str, Any], name: str) -> None:
    from contactops.metrics import agent_kpis

    with pytest.raises(InvalidParameterError) as err:
        agent_kpis(Warehouse(":memory:"), **kwargs)
    assert err.value.name == name


def test_kpis_declared_once() -> None:
    from contactops.metrics import AGENT_GRAINS, AGENT_KPIS, agent_kpis

    names = [k.name for k in AGENT_KPIS]
    assert names == [
        "staffed_s",
        "available_s",
        "busy_s",
        "aux_s",
        "handled",
        "handle_s",
        "occupancy",
        "utilisation",
        "shrinkage",
    ]
    assert {k.name: k.better for k in AGENT_KPIS}["shrinkage"] == "lower"
    table = agent_kpis(Warehouse(":memory:"), by=["interval15", "team"])
    assert table.column_names == ["interval_start", "team", *names]
    assert table.num_rows == 0
    assert "queue" in AGENT_GRAINS


# -- property: the pieces of every span add back to its clipped length -----------------------
_BASE = datetime(2024, 3, 9, 12, tzinfo=UTC)  # 36 h cover New York's and Europe's DST gaps
_ZONES = ("UTC", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "Asia/Kolkata")
_span = st.tuples(
    st.sampled_from(["a", "b", "c"]),
    st.sampled_from(list(STATES)),
    st.integers(0, 36 * 3600 * 1_000_000),  # start, microseconds after _BASE
    st.integers(0, 5 * 3600 * 1_000_000),
)  # length


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(_span, max_size=25),
    zone=st.sampled_from(_ZONES),
    grain=st.sampled_from(["interval15", "interval30", "interval60", "day", "week", "month"]),
    window=st.none() | st.tuples(st.integers(0, 20 * 3600), st.integers(1, 30 * 3600)),
)
def test_pieces_sum_to_clipped_spans(
    rows: list[tuple[str, str, int, int]], zone: str, grain: str, window: tuple[int, int] | None
) -> None:
    from contactops.metrics import agent_kpis

    wh = Warehouse(":memory:")
    table = pa.Table.from_pylist(
        [
            {
                "agent_id": agent,
                "state": state,
                "started_at": _BASE + timedelta(microseconds=s),
                "ended_at": _BASE + timedelta(microseconds=s + n),
                "source": "h",
                "source_ref": f"h:{i}",
            }
            for i, (agent, state, s, n) in enumerate(rows)
        ],
        schema=AGENT_STATES,
    )
    wh.con.register("spans", table)
    wh.con.execute("INSERT INTO agent_states SELECT * FROM spans")
    lo = hi = None
    if window is not None:
        lo = _BASE + timedelta(seconds=window[0])
        hi = lo + timedelta(seconds=window[1])
    expected: dict[tuple[str, str], float] = {}
    for agent, state, s, n in rows:
        if state == "offline":
            continue
        start, end = _BASE + timedelta(microseconds=s), _BASE + timedelta(microseconds=s + n)
        if lo is not None and hi is not None:
            start, end = max(start, lo), min(end, hi)
        seconds = max((end - start).total_seconds(), 0.0)
        expected[(agent, state)] = expected.get((agent, state), 0.0) + seconds
    result = agent_kpis(wh, by=[grain, "agent"], timezone=zone, start=lo, end=hi)
    got: dict[tuple[str, str], float] = {}
    for r in result.to_pylist():
        for state in ("available", "busy", "aux"):
            got[(r["agent"], state)] = got.get((r["agent"], state), 0.0) + r[f"{state}_s"]
        assert r["staffed_s"] == pytest.approx(
            r["available_s"] + r["busy_s"] + r["aux_s"], abs=1e-6
        )
    for key in set(expected) | set(got):
        assert got.get(key, 0.0) == pytest.approx(expected.get(key, 0.0), abs=1e-5), key


# -- command line ----------------------------------------------------------------------------
def test_cli_ingest_preset_and_kpi_from_agents(tmp_path: Path) -> None:
    import csv
    import io
    import json

    from typer.testing import CliRunner

    from contactops.cli import app

    runner = CliRunner()
    wh = str(tmp_path / "w.duckdb")
    res = runner.invoke(
        app,
        ["ingest", str(GENESYS), "--format", "agent-states", "-o", "preset=genesys", "-w", wh],
        env={"COLUMNS": "150"},
    )
    assert res.exit_code == 0, res.output
    assert "4 row(s) rejected" in res.output
    res = runner.invoke(
        app, ["kpi", "--from", "agents", "--by", "interval15,agent", "--format", "csv", "-w", wh]
    )
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.output)))
    assert list(rows[0])[:3] == ["interval_start", "agent", "staffed_s"]
    staffed: dict[str, float] = {}
    for r in rows:
        staffed[r["agent"]] = staffed.get(r["agent"], 0.0) + float(r["staffed_s"])
    assert staffed == {ANA: pytest.approx(80 * 60), BEN: pytest.approx(105 * 60)}
    # Ben: busy 08:30-09:10, available 07:55-08:30, aux 09:10-09:40
    res = runner.invoke(
        app, ["kpi", "--from", "agents", "--by", "agent", "--format", "json", "-w", wh]
    )
    assert res.exit_code == 0, res.output
    ben = next(r for r in json.loads(res.output) if r["agent"] == BEN)
    assert ben["occupancy"] == pytest.approx(40 / 75)
    assert ben["shrinkage"] == pytest.approx(30 / 105)
    res = runner.invoke(
        app, ["kpi", "--from", "agents", "--by", "agent", "-w", wh], env={"COLUMNS": "200"}
    )
    assert res.exit_code == 0, res.output
    assert "53.3%" in res.output  # Ben's occupancy, as a table
    res = runner.invoke(app, ["kpi", "--from", "agents", "--handle-from", "acd", "-w", wh])
    assert res.exit_code == 2
    assert "--handle-from must be states or contacts" in res.output
    res = runner.invoke(app, ["kpi", "--from", "agents", "--by", "channel", "-w", wh])
    assert res.exit_code == 2
    assert "by must be one of" in res.output


def test_a_later_export_restating_an_open_span_replaces_it(tmp_path: Path) -> None:
    wh = Warehouse(":memory:")
    states = {"states": {"Ready": "available", "Call": "busy"}}
    # the 09:00 export cut Ana's call at the export time; the 10:00 one has its end
    early = write(
        tmp_path / "0900.csv",
        HEADER
        + f"{ANA},Ready,2024-03-04T08:00:00,2024-03-04T08:40:00\n"
        + f"{ANA},Call,2024-03-04T08:40:00,2024-03-04T09:00:00\n",
    )
    late = write(
        tmp_path / "1000.csv",
        HEADER
        + f"{ANA},Call,2024-03-04T08:40:00,2024-03-04T09:20:00\n"
        + f"{ANA},Ready,2024-03-04T09:20:00,2024-03-04T10:00:00\n",
    )
    opts = {"mapping": MAPPING, **states}
    # the exports' times given, not left to two files' modification times (may be equal)
    accounted(wh.ingest(early, format="agent-states", as_of="2024-03-04T09:00:00Z", **opts))
    report = accounted(wh.ingest(late, format="agent-states", as_of="2024-03-04T10:00:00Z", **opts))
    assert (report.loaded, report.replaced, report.duplicates) == (2, 1, 0)
    got = [(r["state"], r["started_at"], r["ended_at"]) for r in spans(wh)]
    assert got == [
        ("available", at("2024-03-04T08:00:00"), at("2024-03-04T08:40:00")),
        ("busy", at("2024-03-04T08:40:00"), at("2024-03-04T09:20:00")),
        ("available", at("2024-03-04T09:20:00"), at("2024-03-04T10:00:00")),
    ]
    # the same export again restates nothing
    again = accounted(wh.ingest(late, format="agent-states", **opts))
    assert (again.loaded, again.replaced, again.duplicates) == (0, 0, 2)


def test_a_zero_length_span_does_not_hide_the_span_that_starts_with_it(tmp_path: Path) -> None:
    wh = Warehouse(":memory:")
    src = write(
        tmp_path / "spans.csv",
        HEADER
        + f"{ANA},Ready,2024-03-04T08:00:00,2024-03-04T09:00:00\n"
        + f"{ANA},Logout,2024-03-04T09:00:00,2024-03-04T09:00:00\n"
        + f"{ANA},Ready,2024-03-04T09:00:00,2024-03-04T10:00:00\n",
    )
    report = accounted(
        wh.ingest(
            src,
            format="agent-states",
            mapping=MAPPING,
            states={"Ready": "available", "Logout": "offline"},
        )
    )
    assert (report.loaded, report.duplicates) == (2, 1)
    got = [(r["state"], r["started_at"], r["ended_at"]) for r in spans(wh)]
    assert got == [
        ("available", at("2024-03-04T08:00:00"), at("2024-03-04T09:00:00")),
        ("available", at("2024-03-04T09:00:00"), at("2024-03-04T10:00:00")),
    ]
