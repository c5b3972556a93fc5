"""``contactops ingest``, ``kpi`` and ``rejects`` end to end."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from typer.testing import CliRunner

from contactops.cli import app
from contactops.data import Warehouse
from tests.conftest import shared_file

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()
JAN = "data/anonymous-bank-1999/january.txt"


def test_ingest_kpi_rejects(tmp_path: Path) -> None:
    wh = str(tmp_path / "w.duckdb")
    path = str(shared_file(JAN))
    res = runner.invoke(
        app, ["ingest", path, "-f", "anonymous-bank", "-w", wh], env={"COLUMNS": "150"}
    )
    assert res.exit_code == 0, res.output
    assert "31,599" in res.output and "31,359" in res.output  # noqa: PT018
    res = runner.invoke(app, ["ingest", path, "-f", "anonymous-bank", "-w", wh, "--strict"])
    assert res.exit_code == 1  # the 240 PHANTOM rows are rejected again
    res = runner.invoke(
        app,
        [
            "kpi",
            "--by",
            "month,queue",
            "--timezone",
            "Asia/Jerusalem",
            "--format",
            "json",
            "-w",
            wh,
        ],
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert {r["month"] for r in rows} == {"1999-01-01"}
    assert sum(r["answered"] for r in rows) > 25_000
    res = runner.invoke(app, ["kpi", "--by", "", "--format", "csv", "-w", wh])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0].startswith('"offered"')
    res = runner.invoke(app, ["rejects", "-w", wh, "--summary"], env={"COLUMNS": "150"})
    assert res.exit_code == 0
    assert "PHANTOM" in res.output and "240" in res.output  # noqa: PT018


def test_bad_format_and_definition_exit_2(tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("hello\n", encoding="utf-8")
    res = runner.invoke(app, ["ingest", str(f), "-f", "nosuch", "-w", str(tmp_path / "w")])
    assert res.exit_code == 2
    assert "format must be one of" in res.output
    # a read never creates a warehouse: this one is made empty first
    Warehouse(tmp_path / "w").close()
    res = runner.invoke(app, ["kpi", "--sl-definition", "virtual", "-w", str(tmp_path / "w")])
    assert res.exit_code == 2
    assert "observable from contact records" in res.output


def test_kpi_from_interval_reports(tmp_path: Path) -> None:
    src = tmp_path / "hsplit.csv"
    src.write_text(
        "ROW_DATE,STARTTIME,INTRVL,SPLIT,CALLSOFFERED,ACDCALLS,ABNCALLS,ACCEPTABLE,"
        "SLVLABNS,ANSTIME,ABNTIME,ACDTIME,ACWTIME,HOLDTIME,TRANSFERRED\n"
        "03/04/2024,0800,30,101,10,8,2,6,1,120,40,1600,400,30,1\n",
        encoding="utf-8",
    )
    wh = str(tmp_path / "w.duckdb")
    res = runner.invoke(
        app,
        [
            "ingest",
            str(src),
            "-f",
            "interval-csv",
            "-w",
            wh,
            "-o",
            "preset=avaya",
            "-o",
            "threshold_s=20",
        ],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app, ["kpi", "--from", "intervals", "--by", "queue", "--format", "json", "-w", wh]
    )
    assert res.exit_code == 0, res.output
    row = json.loads(res.output)[0]
    assert (row["offered"], row["service_level"], row["asa"]) == (10, 0.6, 15.0)


def test_wide_tables_split_instead_of_squeezing() -> None:
    import io

    from rich.console import Console

    from contactops.cli._app import print_columns

    out = io.StringIO()
    con = Console(file=out, width=80, force_terminal=False)
    header = ["interval start", "agent", *(f"kpi number {k}" for k in range(8))]
    rows = [
        ["2024-03-04 08:00", f"agent-{i:04d}", *(f"{1000 * i + k:,}.5h" for k in range(8))]
        for i in range(3)
    ]
    print_columns("KPIs", header, rows, keys=2, out=con)
    text = out.getvalue()
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    parts = text.count("KPIs (")
    assert parts >= 2
    assert text.count("agent-0002") == parts  # the key columns repeat in every part
    for cell in [*header, *(c for r in rows for c in r)]:
        assert cell in text


def test_kpi_sql_prints_the_query_for_another_engine(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "kpi",
            "--by",
            "day,queue",
            "--sql",
            "postgres",
            "--timezone",
            "Europe/Berlin",
            "-w",
            str(tmp_path / "w.duckdb"),
        ],
    )
    assert res.exit_code == 0, res.output
    first, *rest = res.output.splitlines()
    params = json.loads(first.removeprefix("-- parameters: "))
    assert params["tz"] == "Europe/Berlin"
    sql = "\n".join(rest)
    assert "%(tz)s" in sql and "time_bucket" not in sql.lower()  # noqa: PT018
    res = runner.invoke(app, ["kpi", "--sql", "cobol", "-w", str(tmp_path / "w.duckdb")])
    assert res.exit_code == 2
    assert "dialect" in res.output
