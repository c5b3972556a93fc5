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

FILES = {"january": "data/anonymous-bank-1999/january.txt",
         "february": "data/anonymous-bank-1999/data_anonymous_bank_february.txt"}
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
    got = {row["outcome"]: row["n"] for row in warehouse.sql(
        "SELECT outcome, count(*) AS n FROM interactions GROUP BY 1").to_pylist()}
    assert got == dict(expected)
