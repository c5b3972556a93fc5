"""``interval-csv``: Avaya/Cisco presets, mappings, SL counts by hand, every row accounted for."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from contactops.data import IngestReport, Warehouse
from contactops.errors import FormatMismatchError, InvalidParameterError

if TYPE_CHECKING:
    from pathlib import Path

AVAYA = (
    "ROW_DATE,STARTTIME,INTRVL,SPLIT,CALLSOFFERED,ACDCALLS,ABNCALLS,ACCEPTABLE,SLVLABNS,"
    "ANSTIME,ABNTIME,ACDTIME,ACWTIME,HOLDTIME,TRANSFERRED\n"
)


def accounted(report: IngestReport | list[IngestReport]) -> IngestReport:
    assert isinstance(report, IngestReport)
    assert report.read == report.loaded + report.rejected + report.duplicates
    return report


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def intervals(wh: Warehouse) -> list[dict]:
    return wh.sql("SELECT * FROM intervals ORDER BY queue, interval_start").to_pylist()


def test_avaya_preset_values_and_dst(tmp_path: Path) -> None:
    src = write(
        tmp_path / "hsplit.csv",
        AVAYA
        + "03/10/2024,0130,30,101,10,8,2,6,1,120,40,1600,400,30,1\n"
        + "03/10/2024,3:00,30,101,12,9,3,7,2,90,30,2700,300,0,0\n"
        + "03/11/2024,0,60,102,4,4,0,4,0,0,0,800,0,0,0\n",
    )
    wh = Warehouse(":memory:")
    report = accounted(
        wh.ingest(src, format="interval-csv", preset="avaya", timezone="America/New_York")
    )
    assert (report.read, report.loaded, report.rejected) == (3, 3, 0)
    a, b, c = intervals(wh)
    # 01:30 EST = 06:30 UTC; DST starts at 02:00 that day, so 03:00 EDT = 07:00 UTC
    assert a["interval_start"] == datetime(2024, 3, 10, 6, 30, tzinfo=UTC)
    assert b["interval_start"] == datetime(2024, 3, 10, 7, 0, tzinfo=UTC)
    assert c["interval_start"] == datetime(2024, 3, 11, 4, 0, tzinfo=UTC)  # 00:00 EDT
    assert (a["interval_s"], c["interval_s"]) == (1800.0, 3600.0)
    # hand-computed: handle = ACDTIME + ACWTIME, totals kept as totals
    assert a["handle_s"] == 1600 + 400
    assert a["wait_s"] / a["answered"] == 120 / 8  # ASA
    assert a["answered_within"] / a["offered"] == 6 / 10  # SL over offered
    assert (b["offered"], b["answered"], b["abandoned"], b["abandoned_within"]) == (12, 9, 3, 2)
    assert (a["abandon_wait_s"], a["transferred"], a["threshold_s"]) == (40, 1, None)
    assert a["source"] == "interval-csv"
    assert a["source_ref"] == "hsplit.csv:2"


def test_bad_rows_rejected(tmp_path: Path) -> None:
    src = write(
        tmp_path / "bad.csv",
        AVAYA
        + "03/10/2024,0900,30,101,5,7,0,5,0,10,0,100,10,0,0\n"  # 2 answered > offered
        + "13/10/2024,0930,30,101,5,4,1,4,0,10,0,100,10,0,0\n"  # 3 date
        + "03/10/2024,0930,30,101,x,4,1,4,0,10,0,100,10,0,0\n"  # 4 offered
        + "03/10/2024,2575,30,101,5,4,1,4,0,10,0,100,10,0,0\n"  # 5 time
        + "03/10/2024,1000,7,101,5,4,1,4,0,10,0,100,10,0,0\n"  # 6 interval
        + "03/10/2024,1030,30,101,5,4,1,4,0,-10,0,100,10,0,0\n"  # 7 wait
        + "03/10/2024,1100,30,101,5,4.5,0,4,0,10,0,100,10,0,0\n"  # 8 fraction
        + "03/10/2024,1130,30,,5,4,1,4,0,10,0,100,10,0,0\n"  # 9 queue
        + "03/10/2024,1200\n"  # 10 fields
        + "03/10/2024,1230,30,101,5,4,1,4,0,10,0,100,10,0,0\n",
    )  # 11 ok
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="interval-csv", preset="avaya"))
    assert (report.read, report.loaded, report.rejected) == (10, 1, 9)
    got = [(r["line"], r["field"], r["value"]) for r in wh.rejects().to_pylist()]
    assert got == [
        (2, "answered", "7"),
        (3, "date", "13/10/2024"),
        (4, "offered", "x"),
        (5, "time", "2575"),
        (6, "interval_minutes", "7"),
        (7, "wait_s", "-10"),
        (8, "answered", "4.5"),
        (9, "queue", None),
        (10, None, "03/10/2024,1200"),
    ]


def test_cisco_preset_and_yaml_mapping(tmp_path: Path) -> None:
    cisco = write(
        tmp_path / "cti.csv",
        "DateTime,CallTypeID,CallsOffered,CallsHandled,TotalCallsAband,"
        "ServiceLevelCalls,ServiceLevelAband,AnswerWaitTime,HandleTime\n"
        "2024-05-02 09:00:00,5001,20,18,2,15,1,180,5400\n"
        "2024-05-02 09:30:00,5001,22,20,2,19,2,100,6000\n",
    )
    wh = Warehouse(":memory:")
    accounted(wh.ingest(cisco, format="interval-csv", preset="cisco", timezone="Europe/Paris"))
    first, second = intervals(wh)
    assert first["interval_start"] == datetime(2024, 5, 2, 7, 0, tzinfo=UTC)  # CEST
    # Cisco SL with abandons ignored: SLCalls / (SLOffered - SLAband) = 15 / (20 - 1)
    assert first["answered_within"] / (first["offered"] - first["abandoned_within"]) == 15 / 19
    assert second["handle_s"] / second["answered"] == 300.0  # AHT
    mapping = write(
        tmp_path / "map.yaml",
        """\
queue: Skill
date: Day
time: Start
interval_minutes: 15
offered: In
answered: Ans
abandoned: Abn
answered_within: In20
threshold_s: 20
handle_s: [Talk, Hold, Wrap]
""",
    )
    own = write(
        tmp_path / "own.csv",
        "Day,Start,Skill,In,Ans,Abn,In20,Talk,Hold,Wrap\n"
        "2024-05-02,08:15,billing,9,8,1,7,900,60,\n",
    )
    accounted(wh.ingest(own, format="interval-csv", mapping=str(mapping)))
    (row,) = wh.sql("SELECT * FROM intervals WHERE queue = 'billing'").to_pylist()
    assert row["interval_start"] == datetime(2024, 5, 2, 8, 15, tzinfo=UTC)
    assert (row["interval_s"], row["threshold_s"], row["handle_s"]) == (900.0, 20.0, 960.0)


def test_duplicates_empty_wrong_format_missing_columns(tmp_path: Path) -> None:
    row = "03/10/2024,0900,30,101,5,4,1,4,0,10,0,100,10,0,0\n"
    src = write(tmp_path / "dup.csv", AVAYA + row + row)
    wh = Warehouse(":memory:")
    first = accounted(wh.ingest(src, format="interval-csv", preset="avaya"))
    assert (first.loaded, first.duplicates) == (1, 1)
    again = accounted(wh.ingest(src, format="interval-csv", preset="avaya"))
    assert (again.loaded, again.duplicates) == (0, 2)
    assert wh.count("intervals") == 1
    empty = accounted(
        wh.ingest(write(tmp_path / "e.csv", ""), format="interval-csv", preset="avaya")
    )
    assert empty.read == 0
    # a Cisco export read with the Avaya preset: refused before loading, saying what lacks
    cisco = write(tmp_path / "c.csv", "DateTime,CallTypeID,CallsOffered\n2024-01-01,1,3\n")
    with pytest.raises(FormatMismatchError) as info:
        wh.ingest(cisco, format="interval-csv", preset="avaya")
    assert set(info.value.missing) == {"SPLIT", "ROW_DATE", "STARTTIME", "INTRVL", "CALLSOFFERED"}
    assert accounted(wh.ingest(cisco, format="interval-csv", preset="cisco")).loaded == 1
    latin = accounted(
        wh.ingest(
            write(
                tmp_path / "l.csv",
                AVAYA.encode() + b"03/10/2024,0900,30,Caf\xe9,5,4,1,4,0,10,0,100,10,0,0\n",
            ),
            format="interval-csv",
            preset="avaya",
        )
    )
    assert (latin.read, latin.rejected) == (1, 1)


def test_option_errors(tmp_path: Path) -> None:
    src = write(tmp_path / "x.csv", AVAYA)
    wh = Warehouse(":memory:")
    with pytest.raises(InvalidParameterError, match="preset"):
        wh.ingest(src, format="interval-csv", preset="nortel")
    with pytest.raises(InvalidParameterError, match="offered"):
        wh.ingest(src, format="interval-csv", mapping={"queue": "SPLIT"})
    with pytest.raises(InvalidParameterError, match="one of"):
        wh.ingest(src, format="interval-csv", preset="avaya", mapping={"calls": "X"})


def test_a_later_export_restating_an_interval_replaces_it(tmp_path: Path) -> None:
    # the first export was cut in the middle of the 09:30 interval; the next one restates it
    early = write(
        tmp_path / "early.csv",
        AVAYA
        + "03/04/2024,0900,30,101,10,8,2,6,1,120,40,1600,400,30,1\n"
        + "03/04/2024,0930,30,101,3,3,0,3,0,20,0,500,100,0,0\n",
    )
    late = write(
        tmp_path / "late.csv",
        AVAYA
        + "03/04/2024,0930,30,101,11,10,1,9,1,90,20,2100,300,0,0\n"
        + "03/04/2024,1000,30,101,7,7,0,7,0,10,0,1200,200,0,0\n",
    )
    wh = Warehouse(":memory:")
    # the exports' times given (as_of), not left to the files' modification times, which
    # two files written back to back may share
    accounted(wh.ingest(early, format="interval-csv", preset="avaya", as_of="2024-03-04T09:45:00Z"))
    report = accounted(
        wh.ingest(late, format="interval-csv", preset="avaya", as_of="2024-03-04T10:15:00Z")
    )
    assert (report.loaded, report.replaced, report.duplicates) == (2, 1, 0)
    assert [
        (r["interval_start"].hour, r["interval_start"].minute, r["offered"]) for r in intervals(wh)
    ] == [(9, 0, 10), (9, 30, 11), (10, 0, 7)]
    again = accounted(
        wh.ingest(late, format="interval-csv", preset="avaya", as_of="2024-03-04T10:15:00Z")
    )
    assert (again.loaded, again.replaced, again.duplicates) == (0, 0, 2)


def test_the_source_option_names_the_system(tmp_path: Path) -> None:
    """The documented ``source`` setting, from the API and the command line (it clashed
    with ``Warehouse.ingest``'s own first parameter, now positional-only)."""
    from typer.testing import CliRunner

    from contactops.cli import app

    src = write(
        tmp_path / "hsplit.csv", AVAYA + "03/04/2024,0900,30,101,10,8,2,6,1,120,40,1600,400,30,1\n"
    )
    wh = Warehouse(":memory:")
    accounted(wh.ingest(src, format="interval-csv", preset="avaya", source="avaya-cms"))
    assert [r["source"] for r in intervals(wh)] == ["avaya-cms"]
    path = str(tmp_path / "w.duckdb")
    res = CliRunner().invoke(
        app,
        [
            "ingest",
            str(src),
            "-f",
            "interval-csv",
            "-o",
            "preset=avaya",
            "-o",
            "source=cms-east",
            "-w",
            path,
        ],
    )
    assert res.exit_code == 0, res.output
    with Warehouse(path, create=False) as stored:
        assert [r["source"] for r in intervals(stored)] == ["cms-east"]


def test_as_of_on_the_command_line_keeps_the_newer_export(tmp_path: Path) -> None:
    """--as-of dates an export: loading an older one after a newer one undoes nothing."""
    from typer.testing import CliRunner

    from contactops.cli import app

    newer = write(
        tmp_path / "newer.csv", AVAYA + "03/04/2024,0930,30,101,11,10,1,9,1,90,20,2100,300,0,0\n"
    )
    older = write(
        tmp_path / "older.csv", AVAYA + "03/04/2024,0930,30,101,3,3,0,3,0,20,0,500,100,0,0\n"
    )
    path = str(tmp_path / "w.duckdb")
    for f, when in ((newer, "2024-03-04T10:15:00Z"), (older, "2024-03-04T09:45:00Z")):
        res = CliRunner().invoke(
            app,
            [
                "ingest",
                str(f),
                "-f",
                "interval-csv",
                "-o",
                "preset=avaya",
                "--as-of",
                when,
                "-w",
                path,
            ],
        )
        assert res.exit_code == 0, res.output
    with Warehouse(path, create=False) as wh:
        assert [r["offered"] for r in intervals(wh)] == [11]
    res = CliRunner().invoke(
        app,
        [
            "ingest",
            str(older),
            "-f",
            "interval-csv",
            "-o",
            "preset=avaya",
            "--as-of",
            "yesterday",
            "-w",
            path,
        ],
    )
    assert res.exit_code == 2
    assert "--as-of" in res.output
    assert "yesterday" in res.output
