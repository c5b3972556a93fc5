"""KPIs from ACD interval reports: sums over intervals, checked by hand."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from contactops.data import Warehouse
from contactops.errors import InvalidParameterError
from contactops.metrics import interval_kpis

if TYPE_CHECKING:
    from pathlib import Path

AVAYA = (
    "ROW_DATE,STARTTIME,INTRVL,SPLIT,CALLSOFFERED,ACDCALLS,ABNCALLS,ACCEPTABLE,SLVLABNS,"
    "ANSTIME,ABNTIME,ACDTIME,ACWTIME,HOLDTIME,TRANSFERRED\n"
)
ROWS = (
    "03/04/2024,0800,30,101,10,8,2,6,1,120,40,1600,400,30,1\n"
    "03/04/2024,0830,30,101,20,18,2,12,1,300,30,3600,600,0,2\n"
    "03/04/2024,0800,30,102,5,5,0,5,0,10,0,1000,0,0,0\n"
    "03/05/2024,0800,30,101,30,27,3,20,2,270,30,5400,900,0,3\n"
)


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    src = tmp_path / "hsplit.csv"
    src.write_text(AVAYA + ROWS, encoding="utf-8")
    w = Warehouse(":memory:")
    w.ingest(
        src, format="interval-csv", preset="avaya", threshold_s=20, timezone="America/New_York"
    )
    return w


def test_totals_and_ratios_by_queue(wh: Warehouse) -> None:
    rows = {r["queue"]: r for r in interval_kpis(wh, by=["queue"]).to_pylist()}
    q = rows["101"]
    assert (q["offered"], q["answered"], q["abandoned"]) == (60, 53, 7)
    assert q["service_level"] == pytest.approx((6 + 12 + 20) / 60)
    assert q["asa"] == pytest.approx((120 + 300 + 270) / 53)
    assert q["aht"] == pytest.approx((2000 + 4200 + 6300) / 53)
    assert q["abandon_rate"] == pytest.approx(7 / 60)
    assert q["transfer_rate"] == pytest.approx(6 / 53)
    assert rows["102"]["service_level"] == 1.0


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ("answered_within_t_over_answered", 38 / 53),
        ("excl_abandon_before_t", 38 / (60 - 4)),
        ("wait_le_t", (38 + 4) / 60),
    ],
)
def test_definitions(wh: Warehouse, definition: str, expected: float) -> None:
    rows = {
        r["queue"]: r for r in interval_kpis(wh, by=["queue"], sl_definition=definition).to_pylist()
    }
    assert rows["101"]["service_level"] == pytest.approx(expected)


def test_grains_and_window(wh: Warehouse) -> None:
    days = interval_kpis(wh, by=["day"], timezone="America/New_York").to_pylist()
    assert [d["offered"] for d in days] == [35, 30]
    hourly = interval_kpis(wh, by=["interval60", "queue"], timezone="America/New_York").to_pylist()
    assert hourly[0]["offered"] == 30  # 08:00 and 08:30 of queue 101 on the 4th
    one = interval_kpis(wh, by=[], start="2024-03-05", timezone="America/New_York").to_pylist()
    assert one[0]["offered"] == 30


def test_refusals(wh: Warehouse) -> None:
    with pytest.raises(InvalidParameterError, match="reports' own threshold"):
        interval_kpis(wh, threshold=30)
    assert interval_kpis(wh, threshold=20, by=[]).to_pylist()[0]["offered"] == 65
    with pytest.raises(InvalidParameterError, match="no shorter than the reports'"):
        interval_kpis(wh, by=["interval15"])
    with pytest.raises(InvalidParameterError, match="sl_definition"):
        interval_kpis(wh, sl_definition="virtual")
    with pytest.raises(InvalidParameterError, match="by must be"):
        interval_kpis(wh, by=["agent"])


def test_occupancy_where_agent_time_is_reported(tmp_path: Path) -> None:
    src = tmp_path / "hsplit_staffed.csv"
    src.write_text(
        AVAYA.rstrip("\n")
        + ",STAFFTIME\n"
        + "03/04/2024,0800,30,101,10,8,2,6,1,120,40,1600,400,30,1,9000\n"
        + "03/04/2024,0830,30,101,20,18,2,12,1,300,30,3600,600,0,2,9000\n"
        + "03/04/2024,0800,30,102,5,5,0,5,0,10,0,1000,0,0,0,\n",
        encoding="utf-8",
    )
    w = Warehouse(":memory:")
    report = w.ingest(
        src,
        format="interval-csv",
        preset="avaya",
        threshold_s=20,
        mapping={"staffed_s": "STAFFTIME"},
    )
    assert (report.loaded, report.rejected) == (3, 0)
    rows = {r["queue"]: r for r in interval_kpis(w, by=["queue"]).to_pylist()}
    # handle = ACDTIME + ACWTIME over the agents' available time
    assert rows["101"]["occupancy"] == pytest.approx((2000 + 4200) / 18000)
    assert rows["102"]["occupancy"] is None  # no agent time reported
    total = interval_kpis(w, by=[]).to_pylist()[0]
    assert total["occupancy"] == pytest.approx((2000 + 4200) / 18000)  # only where reported


def test_old_warehouse_files_gain_the_new_column(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    with Warehouse(db) as w:
        w.con.execute("ALTER TABLE intervals DROP COLUMN staffed_s")  # as created before
    src = tmp_path / "h.csv"
    src.write_text(AVAYA + ROWS, encoding="utf-8")
    with Warehouse(db) as w:
        w.ingest(src, format="interval-csv", preset="avaya", threshold_s=20)
        row = {r["queue"]: r for r in interval_kpis(w, by=["queue"]).to_pylist()}["101"]
        assert (row["offered"], row["answered"]) == (60, 53)
        assert row["asa"] == pytest.approx((120 + 300 + 270) / 53)
