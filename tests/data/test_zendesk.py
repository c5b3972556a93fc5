"""``zendesk``: API JSON and CSV tickets, the ticket outcome rule, every row accounted for."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from contactops.data import IngestReport, Warehouse
from contactops.errors import FormatMismatchError
from tests.conftest import shared_file

pytestmark = pytest.mark.usefixtures("json_blocks")

if TYPE_CHECKING:
    from pathlib import Path

T0 = "2024-04-02T08:00:00Z"


def accounted(report: IngestReport | list[IngestReport]) -> IngestReport:
    assert isinstance(report, IngestReport)
    assert report.read == report.loaded + report.rejected + report.duplicates
    return report


def ticket(tid: int, status: str = "solved", **extra: object) -> dict[str, object]:
    t: dict[str, object] = {
        "id": tid,
        "created_at": T0,
        "updated_at": "2024-04-03T10:00:00Z",
        "status": status,
        "priority": "high",
        "group_id": 77,
        "assignee_id": 900 + tid,
        "requester_id": 500 + tid,
        "via": {"channel": "web"},
    }
    t.update(extra)
    return t


def api_file(tmp_path: Path) -> Path:
    doc = {
        "tickets": [
            ticket(1, via={"channel": "email"}),  # replied, solved
            ticket(2, status="closed"),  # solved without reply
            ticket(3, status="open", priority="urgent"),  # waiting
            ticket(4, status="deleted", priority=None),  # spam
            ticket(5, priority="whenever"),  # bad priority
            ticket(6, created_at="last tuesday"),  # bad created_at
            ticket(
                7,
                metric_set={
                    "reply_time_in_minutes": {"calendar": 90},
                    "solved_at": "2024-04-02T12:00:00Z",
                },
            ),  # inline metrics
            {"status": "open"},  # no id
        ],
        "ticket_metrics": [
            {
                "ticket_id": 1,
                "reply_time_in_minutes": {"calendar": 45, "business": 30},
                "solved_at": "2024-04-02T10:30:00Z",
            },
            {
                "ticket_id": 2,
                "reply_time_in_minutes": {"calendar": None},
                "solved_at": "2024-04-03T09:00:00Z",
            },
        ],
    }
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def test_api_json_values_by_hand(tmp_path: Path) -> None:
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(api_file(tmp_path), format="zendesk"))
    assert (report.read, report.loaded, report.rejected) == (8, 5, 3)
    rows = {r["contact_id"]: r for r in wh.interactions().to_pylist()}
    t0 = datetime(2024, 4, 2, 8, 0, tzinfo=UTC)
    one = rows["1"]
    assert (one["channel"], one["queue"], one["priority"]) == ("email", "77", 3)
    assert one["wait_s"] == 45 * 60
    assert one["answered_at"] == datetime(2024, 4, 2, 8, 45, tzinfo=UTC)
    assert one["ended_at"] == datetime(2024, 4, 2, 10, 30, tzinfo=UTC)
    assert (one["outcome"], one["agent_id"], one["customer_id"]) == ("answered", "901", "501")
    two = rows["2"]
    assert (two["outcome"], two["wait_s"], two["answered_at"], two["channel"]) == (
        "answered",
        None,
        None,
        "ticket",
    )
    assert two["ended_at"] == datetime(2024, 4, 3, 9, 0, tzinfo=UTC)
    assert (rows["3"]["outcome"], rows["3"]["priority"]) == ("callback_requested", 4)
    assert (rows["4"]["outcome"], rows["4"]["priority"]) == ("blocked", None)
    assert rows["7"]["wait_s"] == 5400.0
    assert rows["7"]["arrived_at"] == t0
    assert rows["7"]["source_ref"].endswith("#tickets[6]")
    fields = sorted((r["field"], r["value"]) for r in wh.rejects().to_pylist())
    assert fields == [("created_at", "last tuesday"), ("id", None), ("priority", "whenever")]


def test_newer_export_replaces_provisional_outcome(tmp_path: Path) -> None:
    wh = Warehouse(":memory:")
    old = tmp_path / "old.json"
    old.write_text(json.dumps([ticket(3, status="open")]), encoding="utf-8")
    new = tmp_path / "new.json"
    new.write_text(
        json.dumps(
            [
                ticket(
                    3,
                    status="solved",
                    updated_at="2024-04-05T00:00:00Z",
                    metrics={"reply_time_in_minutes": {"calendar": 10}},
                )
            ]
        ),
        encoding="utf-8",
    )
    accounted(wh.ingest(old, format="zendesk"))
    report = accounted(wh.ingest(new, format="zendesk"))
    assert report.replaced == 1
    (row,) = wh.interactions().to_pylist()
    assert (row["outcome"], row["wait_s"]) == ("answered", 600.0)
    again = accounted(wh.ingest(old, format="zendesk"))  # older version: not loaded
    assert (again.loaded, again.duplicates) == (0, 1)


def test_csv_export_duplicates_encoding_and_broken_rows(tmp_path: Path) -> None:
    header = (
        "id,created_at,updated_at,status,priority,group_id,assignee_id,requester_id,"
        "via_channel,solved_at,reply_time_in_minutes\n"
    )
    body = (
        header + "10,2024-04-02 08:00:00,2024-04-02 09:00:00,solved,low,5,1,2,email,"
        "2024-04-02 09:00:00,15\n"
        + "10,2024-04-02 08:00:00,2024-04-02 09:00:00,solved,low,5,1,2,email,"
        "2024-04-02 09:00:00,15\n"
        + "11,2024-04-02 08:00:00,,open,normal,5,,3,web,,\n"
        + "12,2024-04-02 08:00:00\n"
        + "13,2024-04-02 08:00:00,,solved,normal,5,,3,web,2024-04-01 08:00:00,\n"
    ).encode()
    body += b"14,2024-04-02 08:00:00,,open,normal,Caf\xe9,,3,web,,\n"
    src = tmp_path / "export.csv"
    src.write_bytes(body)
    wh = Warehouse(":memory:")
    first = accounted(wh.ingest(src, format="zendesk"))
    assert (first.read, first.loaded, first.duplicates, first.rejected) == (6, 2, 1, 3)
    rows = {r["contact_id"]: r for r in wh.interactions().to_pylist()}
    assert (rows["10"]["wait_s"], rows["10"]["priority"], rows["10"]["channel"]) == (
        900.0,
        1,
        "email",
    )
    assert rows["11"]["outcome"] == "callback_requested"
    assert [(r["line"], r["field"]) for r in wh.rejects().to_pylist()] == [
        (5, None),
        (6, "solved_at"),
        (7, "group_id"),
    ]
    again = accounted(wh.ingest(src, format="zendesk"))
    assert (again.loaded, again.duplicates, again.rejected) == (0, 3, 3)


def test_empty_wrong_format_and_broken_json(tmp_path: Path) -> None:
    wh = Warehouse(":memory:")
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    assert accounted(wh.ingest(empty, format="zendesk")).read == 0
    tsv = tmp_path / "calls.txt"  # another format: refused before anything is loaded
    tsv.write_text("vru+line\tcall_id\tq_start\nAA0101\t33116\t0:00:00\n", encoding="utf-8")
    with pytest.raises(FormatMismatchError) as err:
        wh.ingest(tsv, format="zendesk")
    assert (err.value.missing, err.value.looks_like) == (["id", "created_at"], "anonymous-bank")
    assert (wh.count(), wh.count("rejects"), wh.count("ingests")) == (0, 0, 1)  # the empty one
    broken = tmp_path / "broken.json"
    broken.write_text(
        '[\n  {"id": 1, "created_at": "2024-04-02T08:00:00Z"},\n  {"id": 2, "created_at": \n]\n',
        encoding="utf-8",
    )
    report = accounted(wh.ingest(broken, format="zendesk"))
    assert (report.loaded, report.rejected) == (1, 1)


def test_real_fivetran_sample() -> None:
    path = shared_file("data/formats/zendesk/ticket_data.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        source = list(csv.DictReader(fh))
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(path, format="zendesk"))
    assert (report.read, report.loaded, report.rejected) == (len(source), len(source), 0)
    rows = {r["contact_id"]: r for r in wh.interactions().to_pylist()}
    for s in source:
        r = rows[s["id"]]
        assert r["arrived_at"] == datetime.fromisoformat(s["created_at"]).replace(tzinfo=UTC)
        assert r["channel"] == ("email" if s["via_channel"] == "email" else "ticket")
        expected = "blocked" if s["status"] == "deleted" else "answered"  # no replies in seeds
        assert r["outcome"] == expected
        assert r["queue"] == s["group_id"]
        assert r["agent_id"] == (s["assignee_id"] or None)
    assert rows["11071"]["priority"] == 4  # the one "urgent" ticket
