"""``agent-states`` and ``agent_kpis``: status logs in, every row accounted for, agent time
split exactly across intervals, occupancy/utilisation/shrinkage by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from contactops.data import AGENT_STATES, FORMATS, IngestReport, Warehouse
from contactops.errors import InvalidParameterError

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


def spans(wh: Warehouse, source: str | None = None) -> list[dict[str, Any]]:
    where = "WHERE source = $s" if source else ""
    return wh.con.sql(f"SELECT * FROM agent_states {where} ORDER BY agent_id, started_at",
                      params={"s": source} if source else None).to_arrow_table().to_pylist()


def rejects(wh: Warehouse) -> list[tuple[int | None, str | None, str | None, str]]:
    return [(r["line"], r["field"], r["value"], r["reason"]) for r in wh.rejects().to_pylist()]


# -- ingest ----------------------------------------------------------------------------------
def test_registered() -> None:
    assert FORMATS["agent-states"] == "_agent_states"
    assert AGENT_STATES.names == ["agent_id", "team", "site", "queue", "state", "reason",
                                  "started_at", "ended_at", "source", "source_ref"]


def test_genesys_routing_status() -> None:
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(GENESYS, format="agent-states", preset="genesys"))
    # 16 data lines: Ana 7 spans, Ben 4 (+1 repeated line), 4 bad lines
    assert (report.read, report.loaded, report.rejected, report.duplicates) == (16, 11, 4, 1)
    rows = spans(wh)
    ana = [r for r in rows if r["agent_id"] == ANA]
    assert [(r["state"], r["reason"]) for r in ana] == [
        ("available", "IDLE"), ("busy", "INTERACTING"), ("available", "NOT_RESPONDING"),
        ("busy", "INTERACTING"), ("aux", "OFF_QUEUE"), ("available", "IDLE"),
        ("offline", "OFFLINE")]
    assert ana[1]["started_at"] == at("2024-03-04T08:07:30")
    assert ana[1]["ended_at"] == at("2024-03-04T08:21:10.500")
    assert {r["source"] for r in rows} == {"genesys"}
    assert ana[0]["source_ref"] == "genesys_routing_status.csv:2"
    got = rejects(wh)
    assert [(line, field, value) for line, field, value, _ in got] == [
        (14, "state", "COACHING"), (15, "ended_at", "2024-03-04T08:35:00.000Z"),
        (16, "agent_id", None), (17, "started_at", "2024-03-04T25:00:00.000Z")]
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
    report = accounted(wh.ingest(GENESYS_PQ, format="agent-states", preset="genesys",
                                 mapping={"source": {"value": "lake"}}))
    assert (report.read, report.loaded, report.rejected) == (11, 11, 0)
    drop = ("source", "source_ref")
    from_csv = [{k: v for k, v in r.items() if k not in drop} for r in spans(wh, "genesys")]
    from_pq = [{k: v for k, v in r.items() if k not in drop} for r in spans(wh, "lake")]
    assert from_pq == from_csv
    assert spans(wh, "lake")[0]["source_ref"] == "genesys_routing_status.parquet:0"


def test_parquet_by_content(tmp_path: Path) -> None:
    src = tmp_path / "export.bin"
    pq.write_table(pa.table({"agent": ["a1"], "state": ["Ready"],
                             "start": ["2024-03-04T08:00:00"], "end": ["2024-03-04T08:30:00"]}),
                   src)
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="agent-states", mapping=MAPPING,
                                 states={"ready": "available"}))
    assert report.loaded == 1
    assert spans(wh)[0]["state"] == "available"


def test_amazon_connect_audit_durations() -> None:
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(AUDIT, format="agent-states", preset="amazon-connect",
                                 timezone="America/New_York"))
    assert (report.read, report.loaded, report.rejected) == (14, 12, 2)
    rows = spans(wh)
    dana = [r for r in rows if r["agent_id"] == "dana.kim"]
    # Available/Offline as named; contact states busy; Missed and custom statuses aux
    assert [r["state"] for r in dana] == ["available", "busy", "busy", "available", "aux",
                                          "available", "aux", "offline"]
    assert [r["reason"] for r in dana][4:7] == ["Missed", "Available", "Lunch"]
    # 08:00 in New York on 4 March 2024 (EST, UTC-5) is 13:00 UTC; end = start + H:MM:SS
    assert dana[0]["started_at"] == at("2024-03-04T13:00:00")
    assert dana[0]["ended_at"] == at("2024-03-04T13:05:00")
    eli = [r for r in rows if r["agent_id"] == "eli.novak"]
    assert eli[1]["ended_at"] - eli[1]["started_at"] == timedelta(seconds=20)
    assert eli[3]["ended_at"] - eli[3]["started_at"] == timedelta(hours=1)
    assert {r["team"] for r in rows} == {"Billing"}  # Routing profile
    assert [(line, field, value) for line, field, value, _ in rejects(wh)] == [
        (14, "duration_s", "-0:05:00"), (15, "agent_id", None)]


def test_event_log_chains_spans() -> None:
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(EVENTS, format="agent-states", preset="amazon-connect",
                                 layout="events"))
    assert (report.read, report.loaded, report.rejected) == (11, 8, 3)
    fay = [(r["state"], r["started_at"], r["ended_at"]) for r in spans(wh)
           if r["agent_id"] == "fay.lee"]
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
        (9, "started_at"), (10, "ended_at"), (11, "started_at")]
    assert got[0][3] == "missing: started_at is required"
    assert "last state change of agent 'gus.berg'" in got[1][3]
    assert "until=" in got[1][3]
    assert "same instant follows on line 12" in got[2][3]


def test_event_log_until_closes_open_states() -> None:
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(EVENTS, format="agent-states", preset="amazon-connect",
                                 layout="events", until="2024-03-04T10:00:00",
                                 timezone="America/New_York"))  # 15:00 UTC
    assert (report.read, report.loaded, report.rejected) == (11, 9, 2)
    rows = spans(wh)
    gus = [(r["state"], r["ended_at"]) for r in rows if r["agent_id"] == "gus.berg"]
    assert gus[-1] == ("available", at("2024-03-04T15:00:00"))
    assert [r["ended_at"] for r in rows if r["agent_id"] == "fay.lee"][-1] \
        == at("2024-03-04T15:00:00")


def test_event_log_until_refuses_later_events(tmp_path: Path) -> None:
    src = write(tmp_path / "ev.csv", "agent,state,start\n"
                "a1,available,2024-03-04T08:00:00\n"
                "a1,busy,2024-03-04T08:20:00\n"
                "a1,aux,2024-03-04T09:10:00\n")
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="agent-states", layout="events",
                                 until="2024-03-04T09:00:00",
                                 mapping={"agent_id": "agent", "started_at": "start"}))
    assert (report.loaded, report.rejected) == (2, 1)
    assert [(r["state"], r["ended_at"]) for r in spans(wh)] == [
        ("available", at("2024-03-04T08:20:00")), ("busy", at("2024-03-04T09:00:00"))]
    (line, field, _, reason), = rejects(wh)
    assert (line, field) == (4, "started_at")
    assert reason.startswith("after until")


def test_bad_rows_each_rejected_with_reason(tmp_path: Path) -> None:
    src = write(tmp_path / "bad.csv", HEADER
                + "a1,Ready,2024-03-04T08:00:00,2024-03-04T08:30:00\n"   # 2 ok
                + "a1,On Call,2024-03-04T08:30:00,2024-03-04T08:40:00\n"  # 3 ok
                + "a1,Coaching,2024-03-04T08:40:00,2024-03-04T08:50:00\n"  # 4 unknown state
                + ",Ready,2024-03-04T08:00:00,2024-03-04T08:10:00\n"     # 5 no agent
                + "a2,Ready,yesterday,2024-03-04T08:10:00\n"             # 6 start
                + "a2,Ready,2024-03-04T08:00:00,soon\n"                  # 7 end
                + "a2,Ready,2024-03-04T09:00:00,2024-03-04T08:00:00\n"   # 8 end < start
                + "a2,,2024-03-04T10:00:00,2024-03-04T10:10:00\n"        # 9 no state
                + "a2,Ready,,2024-03-04T10:10:00\n"                      # 10 no start
                + "a2,Ready,2024-03-04T11:00:00,\n"                      # 11 no end
                + "a1,Lunch,2024-03-04T08:35:00,2024-03-04T09:00:00\n"   # 12 overlaps 3
                + "a1,Lunch,2024-03-04T08:50:00,2024-03-04T09:20:00\n"   # 13 ok
                + "a3,Ready\n"                                           # 14 fields
                + "a3,ready,2024-03-04T08:00:00,2024-03-04T08:00:00\n")  # 15 ok, zero length
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="agent-states", mapping=MAPPING,
                                 states={"Ready": "available", "on call": "busy",
                                         "LUNCH": "aux"}))
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
        ("a1", "available", "Ready"), ("a1", "busy", "On Call"), ("a1", "aux", "Lunch"),
        ("a3", "available", "ready")]


def test_states_map_from_mapping_yaml_with_default(tmp_path: Path) -> None:
    mapping = write(tmp_path / "m.yaml", "agent_id: agent\nstate: state\nstarted_at: start\n"
                    "ended_at: end\nteam: {value: Sales}\n"
                    "states:\n  Ready: available\n  '*': aux\n")
    src = write(tmp_path / "s.csv", HEADER
                + "a1,Ready,2024-03-04T08:00:00,2024-03-04T08:30:00\n"
                + "a1,Anything Else,2024-03-04T08:30:00,2024-03-04T08:40:00\n"
                + "a1,offline,2024-03-04T08:40:00,2024-03-04T09:40:00\n")
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="agent-states", mapping=str(mapping)))
    assert (report.loaded, report.rejected) == (3, 0)
    assert [(r["state"], r["team"]) for r in spans(wh)] == [
        ("available", "Sales"), ("aux", "Sales"), ("offline", "Sales")]


def test_duration_column_with_scale(tmp_path: Path) -> None:
    src = write(tmp_path / "d.csv", "agent,state,start,ms\n"
                "a1,busy,2024-03-04T08:00:00Z,90500\n")
    wh = Warehouse(":memory:")
    accounted(wh.ingest(src, format="agent-states", mapping={
        "agent_id": "agent", "started_at": "start",
        "duration_s": {"column": "ms", "scale": 0.001}}))
    (row,) = spans(wh)
    assert row["ended_at"] - row["started_at"] == timedelta(seconds=90.5)


def test_whole_file_refused_without_required_columns(tmp_path: Path) -> None:
    src = write(tmp_path / "x.csv", "who,what,when\na1,Ready,2024-03-04T08:00:00\n")
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="agent-states", preset="genesys"))
    assert (report.loaded, report.rejected) == (0, 1)
    ((line, field, _, reason),) = rejects(wh)
    assert (line, field) == (2, "agent_id")
    assert "'userId'" in reason
    assert "mapping={agent_id: <column>}" in reason
    src = write(tmp_path / "y.csv", "agent,state,start\na1,available,2024-03-04T08:00:00\n")
    report = accounted(wh.ingest(src, format="agent-states", mapping={
        "agent_id": "agent", "started_at": "start"}))
    assert report.rejected == 1
    assert "layout=events" in rejects(wh)[-1][3]


@pytest.mark.parametrize(("options", "name"), [
    ({"preset": "avaya"}, "preset"),
    ({"layout": "rows"}, "layout"),
    ({"until": "2024-03-04"}, "until"),
    ({"layout": "events", "until": "someday"}, "until"),
    ({"states": {"Lunch": "break"}}, "states.Lunch"),
    ({"mapping": {"agent": "x"}}, "mapping"),
    ({"layout": "events", "mapping": {"ended_at": "End"}}, "mapping.ended_at"),
    ({"file_format": "xlsx"}, "file_format"),
])
def test_bad_options(tmp_path: Path, options: dict[str, Any], name: str) -> None:
    src = write(tmp_path / "s.csv", HEADER)
    with pytest.raises(InvalidParameterError) as err:
        Warehouse(":memory:").ingest(src, format="agent-states", **options)
    assert err.value.name == name


def test_overlaps_refused_against_kept_spans_only(tmp_path: Path) -> None:
    src = write(tmp_path / "o.csv", HEADER
                + "a1,busy,2024-03-04T08:00:00,2024-03-04T09:00:00\n"   # 2 A kept
                + "a1,aux,2024-03-04T08:30:00,2024-03-04T10:00:00\n"    # 3 B overlaps A
                + "a1,available,2024-03-04T09:00:00,2024-03-04T09:30:00\n"  # 4 C: only B
                + "a1,aux,2024-03-04T09:10:00,2024-03-04T09:20:00\n"    # 5 D overlaps C
                + "a1,busy,2024-03-04T08:00:00,2024-03-04T09:00:00\n"   # 6 A again
                + "a1,aux,2024-03-04T08:30:00,2024-03-04T10:00:00\n"    # 7 B again
                + "a2,aux,2024-03-04T08:30:00,2024-03-04T10:00:00\n")   # 8 other agent
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="agent-states", mapping=MAPPING))
    assert (report.loaded, report.rejected, report.duplicates) == (3, 3, 1)
    got = {line: reason for line, _, _, reason in rejects(wh)}
    assert sorted(got) == [3, 5, 7]
    assert "on line 2 (until 2024-03-04T09:00:00+00:00)" in got[3]
    assert "on line 4 (until 2024-03-04T09:30:00+00:00)" in got[5]
    assert "on line 2" in got[7]
    assert [(r["agent_id"], r["source_ref"]) for r in spans(wh)] == [
        ("a1", "o.csv:2"), ("a1", "o.csv:4"), ("a2", "o.csv:8")]
