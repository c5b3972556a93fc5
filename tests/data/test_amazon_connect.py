"""Amazon Connect contact records: layouts, repeats, bad input, KPIs checked by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contactops.data import IngestReport, Warehouse
from contactops.errors import FormatMismatchError

pytestmark = pytest.mark.usefixtures("json_blocks")

FIXTURE = Path(__file__).parent / "fixtures" / "amazon_connect_ctr.json"
FMT = "amazon-connect"


def _ingest(wh: Warehouse, path: Path) -> IngestReport:
    report = wh.ingest(path, format=FMT)
    assert isinstance(report, IngestReport)
    assert report.read == report.loaded + report.rejected + report.duplicates
    return report


def _rows(wh: Warehouse) -> dict[str, dict[str, Any]]:
    return {
        r["contact_id"]: r
        for r in wh.sql("SELECT * FROM interactions ORDER BY contact_id").to_pylist()
    }


def _ctr(cid: str, updated: str = "2024-05-06T10:00:00Z", **extra: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "ContactId": cid,
        "Channel": "VOICE",
        "InitiationMethod": "INBOUND",
        "InitiationTimestamp": "2024-05-06T09:00:00Z",
        "LastUpdateTimestamp": updated,
    }
    rec.update(extra)
    return rec


def _write(path: Path, records: list[Any], layout: str = "lines") -> Path:
    if layout == "array":
        path.write_text(json.dumps(records, indent=2), encoding="utf-8")
    elif layout == "lines":
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    elif layout == "firehose":  # back to back, no separator
        path.write_text("".join(json.dumps(r) for r in records), encoding="utf-8")
    elif layout == "pretty":  # concatenated pretty-printed objects
        path.write_text("\n".join(json.dumps(r, indent=4) for r in records), encoding="utf-8")
    return path


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# -- a hand-checked day ----------------------------------------------------------------------


@pytest.fixture
def day() -> tuple[Warehouse, IngestReport]:
    wh = Warehouse(":memory:")
    return wh, _ingest(wh, FIXTURE)


def test_every_record_is_loaded(day: tuple[Warehouse, IngestReport]) -> None:
    wh, report = day
    assert (report.read, report.loaded, report.rejected, report.duplicates) == (8, 8, 0, 0)
    rows = _rows(wh)
    assert {cid: r["outcome"] for cid, r in rows.items()} == {
        "c-001": "answered",
        "c-002": "answered",
        "c-003": "abandoned",
        "c-004": "deflected",
        "c-005": "answered",
        "c-006": "callback_requested",
        "c-007": "answered",
        "c-008": "answered",
    }
    assert {cid: r["channel"] for cid, r in rows.items()} == {
        "c-001": "voice",
        "c-002": "voice",
        "c-003": "voice",
        "c-004": "voice",
        "c-005": "chat",
        "c-006": "voice",
        "c-007": "callback",
        "c-008": "ticket",
    }
    assert rows["c-001"]["source_ref"] == "amazon_connect_ctr.json:2"
    assert rows["c-001"]["source"] == FMT


def test_kpi_values_by_hand(day: tuple[Warehouse, IngestReport]) -> None:
    wh, _ = day
    rows = _rows(wh)
    # wait = Queue.Duration; c-008 has none, so DequeueTimestamp - EnqueueTimestamp = 1 h
    assert {cid: r["wait_s"] for cid, r in rows.items()} == {
        "c-001": 30.0,
        "c-002": 15.0,
        "c-003": 75.0,
        "c-004": None,
        "c-005": 5.0,
        "c-006": 40.0,
        "c-007": 720.0,
        "c-008": 3600.0,
    }
    # ASA over answered only: (30 + 15 + 5 + 720 + 3600) / 5
    asa = wh.sql("SELECT avg(wait_s) AS v FROM interactions WHERE outcome = 'answered'")
    assert asa.to_pylist()[0]["v"] == pytest.approx(874.0)
    # handle = talk + hold + after-contact work, a missing part counting as none:
    # 240+30+45, 120+0+20, 600+60, 180+0+30, 1500+300
    handle = {
        cid: (r["talk_s"] or 0) + (r["hold_s"] or 0) + (r["acw_s"] or 0)
        for cid, r in rows.items()
        if r["outcome"] == "answered"
    }
    assert handle == {
        "c-001": 315.0,
        "c-002": 140.0,
        "c-005": 660.0,
        "c-007": 210.0,
        "c-008": 1800.0,
    }
    assert rows["c-005"]["hold_s"] is None  # absent in the record, not invented
    assert rows["c-003"]["talk_s"] is None
    # timestamps: an offset is converted to UTC
    assert rows["c-003"]["arrived_at"] == _ts("2024-05-06T09:10:00Z")
    assert rows["c-003"]["queued_at"] == _ts("2024-05-06T09:10:10Z")
    assert rows["c-001"]["answered_at"] == _ts("2024-05-06T09:00:50Z")
    assert rows["c-001"]["ended_at"] == _ts("2024-05-06T09:05:20Z")


def test_transfers_and_callbacks_chain(day: tuple[Warehouse, IngestReport]) -> None:
    rows = _rows(day[0])
    first, second = rows["c-001"], rows["c-002"]
    assert (first["initial_contact_id"], first["previous_contact_id"]) == ("c-001", None)
    assert (second["initial_contact_id"], second["previous_contact_id"]) == ("c-001", "c-001")
    assert first["transferred_to"] == "Support"  # the next leg's queue
    assert second["transferred_to"] is None
    assert rows["c-006"]["transferred_to"] == "Sales"  # queued for a callback
    assert rows["c-007"]["previous_contact_id"] == "c-006"
    assert first["customer_id"] == second["customer_id"] == "+15550000001"
    assert rows["c-005"]["customer_id"] is None
    assert (first["agent_id"], first["team"]) == ("alice", "EMEA")
    assert rows["c-005"]["team"] is None


def test_external_transfer_endpoint_wins(tmp_path: Path) -> None:
    wh = Warehouse(":memory:")
    _ingest(
        wh,
        _write(
            tmp_path / "x.jsonl",
            [
                _ctr(
                    "t-1",
                    TransferredToEndpoint={"Address": "+15557770000"},
                    Agent={
                        "ConnectedToAgentTimestamp": "2024-05-06T09:01:00Z",
                        "ARN": "arn:agent/9",
                    },
                )
            ],
        ),
    )
    row = _rows(wh)["t-1"]
    assert (row["transferred_to"], row["agent_id"]) == ("+15557770000", "arn:agent/9")


# -- layouts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["array", "lines", "firehose", "pretty"])
def test_layouts_give_the_same_rows(tmp_path: Path, layout: str) -> None:
    records = json.loads(FIXTURE.read_text(encoding="utf-8"))
    wh = Warehouse(":memory:")
    report = _ingest(wh, _write(tmp_path / f"ctr.{layout}", records, layout))
    assert (report.read, report.loaded) == (8, 8)
    reference = Warehouse(":memory:")
    _ingest(reference, FIXTURE)
    strip = "SELECT * EXCLUDE (source_ref, ingest_id) FROM interactions ORDER BY contact_id"
    assert wh.sql(strip).to_pylist() == reference.sql(strip).to_pylist()
    refs = wh.sql("SELECT source_ref FROM interactions ORDER BY contact_id").column(0)
    if layout == "lines":
        assert refs.to_pylist()[:2] == ["ctr.lines:1", "ctr.lines:2"]
    if layout == "firehose":  # all on one line
        assert refs.to_pylist()[:2] == ["ctr.firehose:1#1", "ctr.firehose:1#2"]


# -- repeats ---------------------------------------------------------------------------------


def test_repeats_in_one_file_keep_the_latest_update(tmp_path: Path) -> None:
    agent = {
        "Username": "erin",
        "ConnectedToAgentTimestamp": "2024-05-06T09:02:00Z",
        "AgentInteractionDuration": 100,
    }
    queue = {"Name": "Sales", "EnqueueTimestamp": "2024-05-06T09:00:30Z", "Duration": 90}
    records = [
        _ctr("d-1", "2024-05-06T09:01:00Z", Queue=queue),
        _ctr("d-1", "2024-05-06T09:10:00Z", Queue=queue, Agent=agent),  # the newest
        _ctr("d-1", "2024-05-06T09:05:00Z", Queue=queue),
        _ctr("d-1", "2024-05-06T09:10:00Z", Queue=queue, Agent=agent),  # re-delivered
        _ctr("d-2", None),
    ]
    wh = Warehouse(":memory:")
    report = _ingest(wh, _write(tmp_path / "dup.jsonl", records))
    assert (report.read, report.loaded, report.rejected, report.duplicates) == (5, 2, 0, 3)
    rows = _rows(wh)
    assert rows["d-1"]["outcome"] == "answered"
    assert rows["d-1"]["talk_s"] == 100.0
    assert rows["d-1"]["source_ref"] == "dup.jsonl:2"  # a tie goes to the first delivery
    assert rows["d-2"]["outcome"] == "deflected"


def test_repeats_across_files_keep_the_newest(tmp_path: Path) -> None:
    queue = {"Name": "Sales", "EnqueueTimestamp": "2024-05-06T09:00:30Z", "Duration": 60}
    answered = {
        "Username": "erin",
        "ConnectedToAgentTimestamp": "2024-05-06T09:01:30Z",
        "AgentInteractionDuration": 200,
        "AfterContactWorkDuration": 10,
    }
    older = _write(
        tmp_path / "a.jsonl",
        [_ctr("x-1", "2024-05-06T09:01:00Z", Queue=queue), _ctr("x-2", "2024-05-06T09:01:00Z")],
    )
    newer = _write(
        tmp_path / "b.json",
        [
            _ctr("x-1", "2024-05-06T09:20:00Z", Queue=queue, Agent=answered),
            _ctr("x-1", "2024-05-06T09:00:59Z", Queue=queue),  # a stale copy in the same file
        ],
        "array",
    )
    wh = Warehouse(":memory:")
    a = _ingest(wh, older)
    assert (a.read, a.loaded, a.duplicates) == (2, 2, 0)
    assert _rows(wh)["x-1"]["outcome"] == "abandoned"
    b = _ingest(wh, newer)
    assert (b.read, b.loaded, b.replaced, b.rejected, b.duplicates) == (2, 1, 1, 0, 1)
    again = _ingest(wh, older)  # the old version arrives late: it changes nothing
    assert (again.read, again.loaded, again.duplicates) == (2, 0, 2)
    rows = _rows(wh)
    assert wh.count() == 2
    assert rows["x-1"]["outcome"] == "answered"
    assert rows["x-1"]["talk_s"] + rows["x-1"]["acw_s"] == 210.0
    assert rows["x-1"]["version"] == _ts("2024-05-06T09:20:00Z")


# -- bad input -------------------------------------------------------------------------------


def test_missing_keys_are_tolerated(tmp_path: Path) -> None:
    records = [
        {"ContactId": "m-1", "InitiationTimestamp": "2024-05-06T09:00:00Z"},
        _ctr("m-2", Queue=None, Agent=None, CustomerEndpoint=None, InitialContactId=None),
        _ctr("m-3", Queue={"Name": "Sales"}, Agent={}),
        _ctr(
            "m-4",
            Queue={"EnqueueTimestamp": "2024-05-06T09:00:10Z"},
            Agent={"HierarchyGroups": {"Level1": None, "Level2": {"GroupName": "Blue"}}},
        ),
    ]
    wh = Warehouse(":memory:")
    report = _ingest(wh, _write(tmp_path / "sparse.jsonl", records))
    assert (report.read, report.loaded, report.rejected) == (4, 4, 0)
    rows = _rows(wh)
    assert rows["m-1"]["channel"] == "voice"
    assert rows["m-1"]["version"] is None
    assert {cid: r["outcome"] for cid, r in rows.items()} == {
        "m-1": "deflected",
        "m-2": "deflected",
        "m-3": "deflected",
        "m-4": "abandoned",
    }
    assert rows["m-4"]["wait_s"] is None  # queued, but no duration to report
    assert rows["m-4"]["team"] == "Blue"
    assert rows["m-2"]["initial_contact_id"] == "m-2"


def test_bad_records_are_rejected_with_field_value_reason(tmp_path: Path) -> None:
    records: list[Any] = [
        _ctr("ok-1"),
        {"InitiationTimestamp": "2024-05-06T09:00:00Z"},
        {"ContactId": "r-2"},
        _ctr("r-3", InitiationTimestamp="2024-05-06 25:00"),
        _ctr("r-4", Agent={"ConnectedToAgentTimestamp": "yesterday"}),
        _ctr("r-5", LastUpdateTimestamp="2024-05-06"),
        _ctr("r-6", Queue={"Name": "Sales", "Duration": "thirty"}),
        _ctr("r-7", Queue={"Name": "Sales", "Duration": -4}),
        _ctr("r-8", Channel="FAX"),
        _ctr("r-9", Queue=["Sales"]),
        42,
    ]
    wh = Warehouse(":memory:")
    report = _ingest(wh, _write(tmp_path / "bad.jsonl", records))
    assert (report.read, report.loaded, report.rejected) == (11, 1, 10)
    got = {(r["line"], r["field"], r["value"]) for r in wh.rejects().to_pylist()}
    assert got == {
        (2, "ContactId", None),
        (3, "InitiationTimestamp", None),
        (4, "InitiationTimestamp", "2024-05-06 25:00"),
        (5, "Agent.ConnectedToAgentTimestamp", "yesterday"),
        (6, "LastUpdateTimestamp", "2024-05-06"),
        (7, "Queue.Duration", '"thirty"'),
        (8, "Queue.Duration", "-4"),
        (9, "Channel", "FAX"),
        (10, "Queue", '["Sales"]'),
        (11, None, "42"),
    }
    assert all(r["reason"] for r in wh.rejects().to_pylist())


def test_malformed_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text(
        json.dumps(_ctr("j-1"))
        + "\n"
        + '{"ContactId": "j-2", "InitiationTimestamp": \n'
        + json.dumps(_ctr("j-3"))
        + "\n"
        + "not json at all\n"
        + json.dumps(_ctr("j-4"))
        + "\n",
        encoding="utf-8",
    )
    wh = Warehouse(":memory:")
    report = _ingest(wh, path)
    assert (report.read, report.loaded, report.rejected) == (5, 3, 2)
    assert set(_rows(wh)) == {"j-1", "j-3", "j-4"}
    rejects = wh.rejects().to_pylist()
    assert [r["line"] for r in rejects] == [2, 4]
    assert all(r["reason"].startswith("must be JSON") for r in rejects)


def test_broken_element_of_a_pretty_array_costs_only_itself(tmp_path: Path) -> None:
    text = json.dumps([_ctr("p-1"), _ctr("p-2"), _ctr("p-3")], indent=2)
    text = text.replace('"ContactId": "p-2",', '"ContactId": "p-2"')  # a missing comma
    path = tmp_path / "array.json"
    path.write_text(text, encoding="utf-8")
    wh = Warehouse(":memory:")
    report = _ingest(wh, path)
    assert (report.read, report.loaded, report.rejected) == (3, 2, 1)
    assert set(_rows(wh)) == {"p-1", "p-3"}


def test_broken_firehose_object_costs_only_itself(tmp_path: Path) -> None:
    glued = [json.dumps(_ctr(f"f-{k}")) for k in range(1, 5)]
    glued[1] = glued[1][:40]  # truncated mid-record, the next one glued on
    path = tmp_path / "firehose"
    path.write_text("".join(glued), encoding="utf-8")
    wh = Warehouse(":memory:")
    report = _ingest(wh, path)
    assert (report.read, report.loaded, report.rejected) == (4, 3, 1)
    assert set(_rows(wh)) == {"f-1", "f-3", "f-4"}


def test_latin1_bytes_reject_the_record_that_holds_them(tmp_path: Path) -> None:
    good = json.dumps(_ctr("e-1", Queue={"Name": "Ventes"})).encode()
    bad = json.dumps(_ctr("e-2", Queue={"Name": "\u00c9quipe"}), ensure_ascii=False).encode(
        "latin-1"
    )
    harmless = json.dumps(_ctr("e-3", Attributes={"note": "caf\u00e9"}), ensure_ascii=False).encode(
        "latin-1"
    )
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(good + b"\n" + bad + b"\n" + harmless + b"\n")
    wh = Warehouse(":memory:")
    report = _ingest(wh, path)
    # the byte in an attribute the adapter does not read harms nothing
    assert (report.read, report.loaded, report.rejected) == (3, 2, 1)
    (reject,) = wh.rejects().to_pylist()
    assert (reject["line"], reject["field"], reject["value"]) == (2, "Queue.Name", "\\xc9quipe")
    assert "UTF-8" in reject["reason"]


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"[]", b"\xef\xbb\xbf[]"])
def test_empty_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(content)
    wh = Warehouse(":memory:")
    report = _ingest(wh, path)
    assert (report.read, report.loaded, report.rejected, report.duplicates) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (
            "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\nAA0101\t33116\t9664491\t2\tPS\t990101\n",
            ["vru+line", "call_id", "customer_id", "priority", "type", "date"],
        ),
        (
            "ContactId,InitiationTimestamp\nc-1,2024-05-06T09:00:00Z\nc-2,2024-05-06T09:01:00Z\n",
            ["ContactId", "InitiationTimestamp"],
        ),
        ('{"conversationId": "g-1", "participants": []}\n', ["conversationId", "participants"]),
    ],
)
def test_a_file_of_another_format_is_refused(
    tmp_path: Path, content: str, found: list[str]
) -> None:
    """Issue 13: a file that is not contact records stops the ingest (it used to be one
    reject and exit 0), naming what is missing and what was found."""
    path = tmp_path / "wrong.txt"
    path.write_text(content, encoding="utf-8")
    wh = Warehouse(":memory:")
    with pytest.raises(FormatMismatchError) as err:
        _ingest(wh, path)
    assert err.value.missing[:1] == ["ContactId"]
    assert err.value.found == found
    assert wh.count() == wh.count("rejects") == wh.count("ingests") == 0


def test_ingesting_again_adds_nothing(tmp_path: Path) -> None:
    wh = Warehouse(":memory:")
    first = _ingest(wh, FIXTURE)
    again = _ingest(wh, FIXTURE)
    assert (again.read, again.loaded, again.duplicates) == (first.read, 0, first.loaded)
    assert wh.count() == 8
