"""The real Anonymous Bank log: every row accounted for, KPIs checked by hand."""

from __future__ import annotations

import csv
from collections import defaultdict
from typing import TYPE_CHECKING

import pytest

from contactops.data import Warehouse
from tests.conftest import shared_file

if TYPE_CHECKING:
    from pathlib import Path

FILES = {
    "january": "data/anonymous-bank-1999/january.txt",
    "february": "data/anonymous-bank-1999/data_anonymous_bank_february.txt",
}
PHANTOMS = {"january": 240, "february": 278}  # SOURCE.md's known defects


def _plain_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture(scope="module")
def warehouse() -> Warehouse:
    wh = Warehouse(":memory:")
    for rel in FILES.values():
        wh.ingest(shared_file(rel), format="anonymous-bank")
    return wh


@pytest.mark.parametrize("month", list(FILES))
def test_counts_reconcile_exactly(month: str) -> None:
    path = shared_file(FILES[month])
    rows = _plain_rows(path)
    wh = Warehouse(":memory:")
    report = wh.ingest(path, format="anonymous-bank")
    assert report.read == len(rows)
    assert report.read == report.loaded + report.rejected + report.duplicates
    assert report.rejected == PHANTOMS[month] == sum(r["outcome"] == "PHANTOM" for r in rows)
    assert report.duplicates == 0
    assert wh.count() == report.loaded
    again = wh.ingest(path, format="anonymous-bank")
    assert (again.loaded, again.duplicates, again.rejected) == (0, report.loaded, report.rejected)
    assert wh.count() == report.loaded
    assert wh.count("rejects") == report.rejected


def test_outcomes_match_the_source(warehouse: Warehouse) -> None:
    expected: dict[str, int] = defaultdict(int)
    for rel in FILES.values():
        for r in _plain_rows(shared_file(rel)):
            if r["outcome"] == "AGENT":
                expected["answered"] += 1
            elif r["outcome"] == "HANG":
                queued = r["q_start"] != "0:00:00" or int(r["q_time"]) > 0
                expected["abandoned" if queued else "deflected"] += 1
    got = {
        row["outcome"]: row["n"]
        for row in warehouse.sql(
            "SELECT outcome, count(*) AS n FROM interactions GROUP BY 1"
        ).to_pylist()
    }
    assert got == dict(expected)


def _month_type_stats() -> dict[tuple[str, str], dict[str, float]]:
    """Served share, mean service time and ASA per month and call type, by hand."""
    acc: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for rel in FILES.values():
        for r in _plain_rows(shared_file(rel)):
            if r["outcome"] == "PHANTOM":
                continue
            key = ("19" + r["date"][:2] + "-" + r["date"][2:4], r["type"])
            a = acc[key]
            queued = r["q_start"] != "0:00:00" or int(r["q_time"]) > 0
            if r["outcome"] == "AGENT":
                a["served"] += 1
                a["wait"] += int(r["q_time"]) if queued else 0
                if r["ser_start"] != "0:00:00":
                    a["service_n"] += 1
                    a["service"] += int(r["ser_time"])
            elif queued:
                a["hung_up"] += 1
    out = {}
    for key, a in acc.items():
        offered = a["served"] + a["hung_up"]
        if offered == 0:
            continue
        out[key] = {
            "served_share": a["served"] / offered,
            "mean_service": a["service"] / a["service_n"] if a["service_n"] else None,
            "asa": a["wait"] / a["served"] if a["served"] else None,
            "offered": offered,
        }
    return out


def test_monthly_kpis_by_call_type_match_plain_python(warehouse: Warehouse) -> None:
    from contactops.metrics import kpis

    table = kpis(warehouse, by=["month", "queue"], timezone="Asia/Jerusalem").to_pylist()
    got = {(row["month"].strftime("%Y-%m"), row["queue"]): row for row in table}
    expected = _month_type_stats()
    assert set(expected) <= set(got)
    for key, exp in expected.items():
        row = got[key]
        assert row["offered"] == exp["offered"], key
        assert row["answered"] / row["offered"] == pytest.approx(exp["served_share"], rel=1e-12)
        assert row["asa"] == pytest.approx(exp["asa"], rel=1e-12)
        if exp["mean_service"] is None:
            assert row["aht"] is None
        else:
            assert row["aht"] == pytest.approx(exp["mean_service"], rel=1e-12)
