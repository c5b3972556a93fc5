"""``freshdesk``: API v2 tickets, channels, the ticket outcome rule, every row accounted for."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from contactops.data import IngestReport, Warehouse
from contactops.data._schema import MAX_DURATION_S
from contactops.errors import FormatMismatchError
from tests.conftest import shared_file

pytestmark = pytest.mark.usefixtures("json_blocks")

if TYPE_CHECKING:
    from pathlib import Path


def accounted(report: IngestReport | list[IngestReport]) -> IngestReport:
    assert isinstance(report, IngestReport)
    assert report.read == report.loaded + report.rejected + report.duplicates
    return report


def ticket(tid: int, status: int = 4, source: int = 1, **extra: object) -> dict[str, object]:
    t: dict[str, object] = {
        "id": tid,
        "status": status,
        "priority": 2,
        "source": source,
        "group_id": 42,
        "requester_id": 100 + tid,
        "responder_id": 200 + tid,
        "created_at": "2024-06-03T09:00:00Z",
        "updated_at": "2024-06-04T09:00:00Z",
        "stats": {
            "first_responded_at": "2024-06-03T09:20:00Z",
            "resolved_at": "2024-06-03T11:00:00Z",
            "closed_at": None,
        },
    }
    t.update(extra)
    return t


def write(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value, indent=2), encoding="utf-8")
    return path


def test_values_channels_and_outcomes_by_hand(tmp_path: Path) -> None:
    no_reply = {"first_responded_at": None, "resolved_at": None, "closed_at": None}
    tickets = [
        ticket(1),  # email, replied
        ticket(2, source=3),  # phone
        ticket(3, source=7, status=2, stats=no_reply),  # chat, open: waiting
        ticket(
            4,
            source=2,
            status=5,
            stats={
                "first_responded_at": None,
                "resolved_at": None,
                "closed_at": "2024-06-05T09:00:00Z",
            },
        ),  # closed, no reply
        ticket(5, source=6),  # facebook
        ticket(6, source=99, priority=None),  # unknown source
        ticket(7, priority=9),  # bad priority
        ticket(8, status="resolved"),  # bad status
        ticket(9, stats={"first_responded_at": "2024-06-03T08:00:00Z"}),  # reply before
        ticket(10, created_at=None),  # no created_at
    ]
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(write(tmp_path / "t.json", tickets), format="freshdesk"))
    assert (report.read, report.loaded, report.rejected) == (10, 6, 4)
    rows = {r["contact_id"]: r for r in wh.interactions().to_pylist()}
    one = rows["1"]
    assert (one["channel"], one["queue"], one["priority"]) == ("email", "42", 2)
    assert one["wait_s"] == 20 * 60
    assert one["ended_at"] == datetime(2024, 6, 3, 11, 0, tzinfo=UTC)
    assert (one["outcome"], one["agent_id"], one["customer_id"]) == ("answered", "201", "101")
    assert [rows[k]["channel"] for k in ("2", "3", "4", "5", "6")] == [
        "voice",
        "chat",
        "ticket",
        "message",
        "ticket",
    ]
    assert (rows["3"]["outcome"], rows["3"]["wait_s"]) == ("callback_requested", None)
    assert (rows["4"]["outcome"], rows["4"]["wait_s"]) == ("answered", None)
    assert rows["4"]["ended_at"] == datetime(2024, 6, 5, 9, 0, tzinfo=UTC)
    assert rows["6"]["priority"] is None
    got = sorted((r["field"], r["value"]) for r in wh.rejects().to_pylist())
    assert got == [
        ("created_at", None),
        ("priority", "9"),
        ("stats.first_responded_at", "2024-06-03T08:00:00+00:00"),
        ("status", '"resolved"'),
    ]


def test_wrapped_list_duplicates_and_reingest(tmp_path: Path) -> None:
    src = write(tmp_path / "w.json", {"tickets": [ticket(1), ticket(1), ticket(2)]})
    wh = Warehouse(":memory:")
    first = accounted(wh.ingest(src, format="freshdesk"))
    assert (first.read, first.loaded, first.duplicates) == (3, 2, 1)
    again = accounted(wh.ingest(src, format="freshdesk"))
    assert (again.loaded, again.duplicates) == (0, 3)
    assert wh.count() == 2


def test_empty_wrong_format_encoding(tmp_path: Path) -> None:
    wh = Warehouse(":memory:")
    empty = tmp_path / "e.json"
    empty.write_bytes(b"")
    assert accounted(wh.ingest(empty, format="freshdesk")).read == 0
    csv_file = tmp_path / "t.csv"  # not JSON: refused before anything is loaded
    csv_file.write_text("id,status\n1,2\n", encoding="utf-8")
    with pytest.raises(FormatMismatchError) as err:
        wh.ingest(csv_file, format="freshdesk")
    assert (err.value.missing, err.value.found) == (["id", "created_at"], ["id", "status"])
    assert wh.count("ingests") == 1
    latin = tmp_path / "latin.json"
    text = json.dumps([ticket(1, group_id="Caf__")]).encode().replace(b"Caf__", b"Caf\xe9")
    latin.write_bytes(text)
    report = accounted(wh.ingest(latin, format="freshdesk"))
    assert (report.loaded, report.rejected) == (0, 1)
    (bad,) = [r for r in wh.rejects().to_pylist() if r["source_file"] == str(latin)]
    assert (bad["field"], bad["value"]) == ("group_id", "Caf\\xe9")
    scalars = write(tmp_path / "s.json", [1, "two"])
    report = accounted(wh.ingest(scalars, format="freshdesk"))
    assert (report.read, report.rejected) == (2, 2)


def test_real_sample_ticket(tmp_path: Path) -> None:
    path = shared_file("data/formats/freshdesk/ticket_1.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    created = datetime.fromisoformat(raw["created_at"])
    first = datetime.fromisoformat(raw["stats"]["first_responded_at"])
    # Freshdesk's demo ticket was first answered four years after it was created: longer
    # than the record's longest duration (MAX_DURATION_S, 366 days), so it is a reject
    # naming wait_s (issue 13: a duration out of range is never stored)
    assert (first - created).total_seconds() > MAX_DURATION_S
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(path, format="freshdesk"))
    assert (report.read, report.loaded, report.rejected) == (1, 0, 1)
    (bad,) = wh.rejects().to_pylist()
    assert (bad["field"], bad["value"]) == ("wait_s", str((first - created).total_seconds()))
    # the same ticket created a day before its first reply maps field by field
    raw["created_at"] = (first - timedelta(days=1)).isoformat()
    moved = write(tmp_path / "ticket_1.json", raw)
    report = accounted(wh.ingest(moved, format="freshdesk"))
    assert (report.read, report.loaded) == (1, 1)
    (row,) = wh.interactions().to_pylist()
    assert row["wait_s"] == 86_400.0
    assert row["channel"] == "ticket"  # source 2: portal
    assert row["outcome"] == "answered"
    assert row["ended_at"] == datetime.fromisoformat(raw["stats"]["resolved_at"])
    assert (row["priority"], row["queue"]) == (raw["priority"], None)
    assert row["agent_id"] == str(raw["responder_id"])
    assert row["customer_id"] == str(raw["requester_id"])
