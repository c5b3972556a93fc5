"""Mistakes a new user makes at the command line, and what each one gets back.

Every row is a mistake (a wrong path, a typo in an option, a format or a
grain, a wrong unit, the wrong kind of file, an empty file, a directory where a
file goes, a missing argument, a value out of range) and every one must end
the same way: exit code 2, no traceback, and one line on stderr that names the
option, the value, the rule and the fix, in a bounded time.

Most rows run in process (typer's CliRunner) under an alarm; the ones that
could hang (a failing forecasting worker: ``plan --holidays XX``) run in a
subprocess with a timeout.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from contactops.cli import app
from contactops.data import Warehouse

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
SHIFTS = ROOT / "examples" / "shifts.yaml"
runner = CliRunner()
SECONDS = 60  # a mistake is answered well within this, or the row fails


def _history(
    path: Path, queues: tuple[str, ...] = ("q0", "q1", "q2", "q3"), days: int = 15
) -> None:
    """Two contacts per queue and hour, 08:00-18:00 UTC, for ``days`` days."""
    t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    rows = []
    for d in range(days):
        for h in range(8, 18):
            for q, name in enumerate(queues):
                for k in range(2):
                    t = t0 + dt.timedelta(days=d, hours=h, minutes=7 * k + q)
                    rows.append(
                        {
                            "contact_id": f"{d}-{h}-{q}-{k}",
                            "queue": name,
                            "channel": "voice",
                            "arrived_at": t,
                            "answered_at": t + dt.timedelta(seconds=10),
                            "ended_at": t + dt.timedelta(seconds=200),
                            "wait_s": 10.0,
                            "talk_s": 190.0,
                            "outcome": "answered",
                        }
                    )
    pq.write_table(pa.Table.from_pylist(rows), path)


@pytest.fixture(scope="module")
def where(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The small files and warehouses the mistakes are made with."""
    d = tmp_path_factory.mktemp("mistakes")
    _history(d / "history.parquet")
    with Warehouse(d / "w.duckdb") as wh:
        wh.ingest(d / "history.parquet", format="parquet")
    (d / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (d / "image.csv").write_bytes((d / "image.png").read_bytes())
    (d / "empty.csv").write_bytes(b"")
    (d / "empty.yaml").write_bytes(b"")
    (d / "folder").mkdir()
    (d / "corrupt.parquet").write_bytes((d / "history.parquet").read_bytes()[:300])
    (d / "nocalls.csv").write_text("when,how_many\n08:00,10\n", encoding="utf-8")
    (d / "canonical.csv").write_text(
        "contact_id,queue,arrived_at,outcome\n1,a,2026-01-01T00:00:00Z,answered\n", encoding="utf-8"
    )
    (d / "plan.csv").write_text(
        "queue,interval_start,required\nq0,2026-12-07 08:00:00,3\n", encoding="utf-8"
    )
    return {
        "dir": str(d),
        "wh": str(d / "w.duckdb"),
        "png": str(d / "image.png"),
        "png_csv": str(d / "image.csv"),
        "empty": str(d / "empty.csv"),
        "empty_yaml": str(d / "empty.yaml"),
        "folder": str(d / "folder"),
        "corrupt": str(d / "corrupt.parquet"),
        "nocalls": str(d / "nocalls.csv"),
        "canonical": str(d / "canonical.csv"),
        "plan": str(d / "plan.csv"),
        "typo": str(d / "typo.duckdb"),
        "missing": str(d / "nothere.csv"),
        "shifts": str(SHIFTS),
        "nostore": f"sqlite:///{d / 'nostore.db'}",
    }


def row(*args: str, says: tuple[str, ...], slow: bool = False, marks: Any = ()) -> Any:
    """A mistake: the command line and what its one error line must contain (the option,
    the value, a piece of the rule, a piece of the fix)."""
    return pytest.param(list(args), says, slow, marks=marks, id=" ".join(args)[:70])


MISTAKES = [
    # -- ingest: wrong paths, typos, wrong files ---------------------------------------------
    row(
        "ingest",
        "{missing}",
        "-f",
        "csv",
        "-w",
        "{dir}/new.duckdb",
        says=("FILES", "nothere.csv", "an existing file", "Check the path"),
    ),
    row(
        "ingest",
        "{folder}",
        "-f",
        "csv",
        "-w",
        "{dir}/new.duckdb",
        says=("FILES", "folder", "not a directory", "Name the file"),
    ),
    row(
        "ingest",
        "{empty}",
        "-f",
        "csv",
        "-w",
        "{dir}/new.duckdb",
        says=("FILES", "empty.csv", "with content", "The file is empty"),
    ),
    row(
        "ingest",
        "{canonical}",
        "-f",
        "zendesc",
        "-w",
        "{dir}/new.duckdb",
        says=("--format", "'zendesc'", "one of", "Did you mean --format zendesk"),
    ),
    row(
        "ingest",
        "{canonical}",
        "-f",
        "csv",
        "--timezone",
        "Jerusalem",
        "-w",
        "{dir}/new.duckdb",
        says=("--timezone", "'Jerusalem'", "IANA time zone", "Asia/Jerusalem"),
    ),
    row(
        "ingest",
        "{canonical}",
        "-f",
        "csv",
        "-o",
        "preset",
        "-w",
        "{dir}/new.duckdb",
        says=("--option", "'preset'", "KEY=VALUE", "--option preset=avaya"),
    ),
    row(
        "ingest",
        "{canonical}",
        "-f",
        "csv",
        "--mapping",
        "{missing}",
        "-w",
        "{dir}/new.duckdb",
        says=("--mapping", "nothere.csv", "an existing file", "Check the path"),
    ),
    row(
        "ingest",
        "{canonical}",
        "-w",
        "{dir}/new.duckdb",
        says=("--format", "Missing option", "", "--help"),
    ),
    row(
        "ingest",
        "-f",
        "csv",
        "-w",
        "{dir}/new.duckdb",
        says=("'files'", "Missing argument", "", "--help"),
    ),
    row(
        "ingest",
        "{canonical}",
        "-f",
        "zendesk",
        "-w",
        "{dir}/new.duckdb",
        says=("--format", "'zendesk'", "its header lacks", "--format csv"),
    ),
    row(
        "ingest",
        "{png}",
        "-f",
        "csv",
        "-w",
        "{dir}/new.duckdb",
        says=("FILES", "image.png", "(text)", "binary"),
    ),
    # -- kpi ---------------------------------------------------------------------------------
    row(
        "kpi",
        "-w",
        "{typo}",
        says=("--warehouse", "typo.duckdb", "an existing warehouse file", "contactops ingest"),
    ),
    row(
        "kpi",
        "-w",
        "{wh}",
        "--timezone",
        "Jerusalem",
        says=("--timezone", "'Jerusalem'", "IANA time zone", "Did you mean Asia/Jerusalem"),
    ),
    row(
        "kpi",
        "-w",
        "{wh}",
        "--start",
        "2026-11-10",
        "--end",
        "2026-11-05",
        says=("--end", "'2026-11-05'", "after --start (2026-11-10)", "swap them"),
    ),
    row(
        "kpi",
        "-w",
        "{wh}",
        "--from",
        "intervals",
        says=("--from", "'intervals'", "no interval reports", "-f interval-csv"),
    ),
    row(
        "kpi",
        "-w",
        "{wh}",
        "--by",
        "month,quarterr",
        says=("--by", "'quarterr'", "one of", "--by month,queue"),
    ),
    row(
        "kpi",
        "-w",
        "{wh}",
        "--from",
        "agents",
        "--by",
        "day,week",
        says=("--by", "'day,week'", "at most one time grain", "--by day,team"),
    ),
    row(
        "kpi",
        "-w",
        "{wh}",
        "--format",
        "cvs",
        says=("--format", "'cvs'", "table, csv or json", "Did you mean --format csv"),
    ),
    row(
        "kpi",
        "-w",
        "{wh}",
        "--from",
        "contact",
        says=("--from", "'contact'", "contacts, intervals or agents", "--from contacts"),
    ),
    row(
        "kpi",
        "-w",
        "{wh}",
        "--interval",
        "7",
        says=("--interval", "7", "15, 30 or 60", "Intervals are"),
    ),
    row(
        "kpi",
        "-w",
        "{wh}",
        "--threshold",
        "20parsecs",
        says=("--threshold", "'20parsecs'", "known unit", 'such as "180s"'),
    ),
    row(
        "kpi",
        "-w",
        "{wh}",
        "--start",
        "2026-13-01",
        says=("--start", "'2026-13-01'", "ISO date", "e.g. 2026-03-01"),
    ),
    row(
        "kpi",
        "-w",
        "{wh}",
        "--sl-definition",
        "virtual",
        says=("--sl-definition", "virtual", "observable", "wait_le_t"),
    ),
    row(
        "kpi",
        "-w",
        "{wh}",
        "--sl-definition",
        "wait_le",
        says=("--sl-definition", "'wait_le'", "one of", "Did you mean --sl-definition wait_le_t"),
    ),
    row("kpi", "-w", "{wh}", "--sql", "cobol", says=("--sql", "'cobol'", "SQL dialect", "")),
    row("kpi", "-w", "{wh}", "--bye", "day", says=("--bye", "No such option", "", "--by")),
    row(
        "kpi",
        "-w",
        "{wh}",
        "--fcr-days",
        "a week",
        says=("--fcr-days", "'a week'", "valid number", "--help"),
    ),
    row(
        "kpi",
        "-w",
        "{wh}",
        "--from",
        "agents",
        "--handle-from",
        "acd",
        says=("--handle-from", "'acd'", "states or contacts", "status logs"),
    ),
    # -- rejects -----------------------------------------------------------------------------
    row(
        "rejects",
        "-w",
        "{typo}",
        says=("--warehouse", "typo.duckdb", "an existing warehouse file", "contactops ingest"),
    ),
    row(
        "rejects",
        "-w",
        "{wh}",
        "--format",
        "xml",
        says=("--format", "'xml'", "table, csv or json", "--format csv"),
    ),
    row(
        "rejects",
        "-w",
        "{wh}",
        "--limit",
        "-1",
        says=("--limit", "-1", "0 (all) or more", "--limit 100"),
    ),
    # -- plan --------------------------------------------------------------------------------
    row(
        "plan",
        "-w",
        "{wh}",
        "--holidays",
        "XX",
        "--methods",
        "seasonal_naive",
        "--no-check",
        "-o",
        "{dir}/plan",
        says=("--holidays", "'XX'", "ISO country code", "US-CA"),
        slow=True,
    ),
    row(
        "plan",
        "-w",
        "{wh}",
        "--target",
        "130%/20",
        says=("--target", "'130%/20'", "strictly between 0% and 100%", "80/20"),
    ),
    row(
        "plan",
        "-w",
        "{wh}",
        "--shrinkage",
        "130%",
        says=("--shrinkage", "'130%'", "strictly between 0% and 100%", "30%"),
    ),
    row(
        "plan",
        "-w",
        "{wh}",
        "--shrinkage",
        "150",
        says=("--shrinkage", "'150'", "strictly between 0% and 100%", "30%"),
    ),
    row(
        "plan",
        "-w",
        "{wh}",
        "--shrinkage",
        "100%",
        says=("--shrinkage", "'100%'", "strictly between 0% and 100%", "30%"),
    ),
    row(
        "plan",
        "-w",
        "{wh}",
        "--email-target",
        "90/24x",
        says=("--email-target", "'90/24x'", "threshold a duration", "80/20"),
    ),
    row(
        "plan",
        "-w",
        "{wh}",
        "--timezone",
        "Jerusalem",
        says=("--timezone", "'Jerusalem'", "IANA time zone", "Did you mean Asia/Jerusalem"),
    ),
    row(
        "plan",
        "-w",
        "{typo}",
        says=("--warehouse", "typo.duckdb", "an existing warehouse file", "contactops ingest"),
    ),
    row(
        "plan",
        "-w",
        "{wh}",
        "--interval",
        "7m",
        says=("--interval", "'7m'", "15, 30 or 60 minutes", '"30min"'),
    ),
    row(
        "plan",
        "-w",
        "{wh}",
        "--start",
        "2026-99-01",
        says=("--start", "'2026-99-01'", "YYYY-MM-DD", "--start 2026-12-07"),
    ),
    row(
        "plan",
        "-w",
        "{wh}",
        "--methods",
        "seasonal_naiv",
        says=("--methods", "'seasonal_naiv'", "one or more of", "Choose among"),
    ),
    row(
        "plan",
        "-w",
        "{wh}",
        "--templates",
        "{png}",
        says=("--templates", "image.png", "(text)", "binary"),
    ),
    row(
        "plan",
        "-w",
        "{wh}",
        "--out",
        "{plan}",
        says=("--out", "plan.csv", "a directory", "--out plan"),
    ),
    row("plan", "-w", "{wh}", "--days", "0", says=("--days", "0", "from 1 to 62", "a week")),
    row(
        "plan",
        "-w",
        "{wh}",
        "--days",
        "seven",
        says=("--days", "'seven'", "valid integer", "--help"),
    ),
    # -- staff: wrong units, wrong files ------------------------------------------------------
    row(
        "staff",
        "--calls",
        "100",
        "--aht",
        "3",
        "minutes",
        says=("argument", "minutes", "unexpected extra", "--help"),
    ),
    row(
        "staff",
        "--calls",
        "100",
        "--aht",
        "3parsecs",
        says=("--aht", "'3parsecs'", "known unit", '"3m"'),
    ),
    row("staff", "--calls", "100", "--aht", "-3m", says=("--aht", "'-3m'", "a duration", '"3m"')),
    row("staff", "--aht", "3m", says=("--calls", "nothing", "given (or --file)", "--calls 100")),
    row("staff", "--calls", "100", says=("--aht", "nothing", "given", "--aht 180s")),
    row(
        "staff",
        "--calls",
        "100",
        "--aht",
        "3m",
        "--target",
        "130%/20",
        says=("--target", "'130%/20'", "strictly between 0% and 100%", "80/20"),
    ),
    row(
        "staff",
        "--calls",
        "100",
        "--aht",
        "3m",
        "--max-occupancy",
        "130%",
        says=("--max-occupancy", "'130%'", "strictly between 0% and 100%", "30%"),
    ),
    row("staff", "--calls", "-5", "--aht", "3m", says=("--calls", "-5", ">= 0", "--calls 100")),
    row("staff", "--calls", "nan", "--aht", "3m", says=("--calls", "nan", ">= 0", "--calls 100")),
    row(
        "staff",
        "--calls",
        "100",
        "--aht",
        "3m",
        "--sl-definition",
        "wait_le",
        says=("--sl-definition", "'wait_le'", "one of", "Did you mean --sl-definition wait_le_t"),
    ),
    row(
        "staff",
        "--calls",
        "100",
        "--aht",
        "3m",
        "--model",
        "x",
        "--lines",
        "0",
        says=("--lines", "0", "[1, inf)", "number of lines"),
    ),
    row(
        "staff",
        "--calls",
        "100",
        "--aht",
        "3m",
        "--patience",
        "0s",
        says=("--patience", "0", "(0, inf)", "mean patience"),
    ),
    row(
        "staff",
        "--calls",
        "100",
        "--aht",
        "3m",
        "--interval",
        "0m",
        says=("--interval", "'0m'", "positive duration", "30m"),
    ),
    row(
        "staff",
        "--calls",
        "100",
        "--aht",
        "3m",
        "--model",
        "z",
        says=("--model", "'z'", "one of", "--help"),
    ),
    row(
        "staff",
        "--file",
        "{png_csv}",
        "--aht",
        "3m",
        says=("--file", "image.csv", "(text)", "binary"),
    ),
    row(
        "staff",
        "--file",
        "{empty}",
        "--aht",
        "3m",
        says=("--file", "empty.csv", "with content", "empty"),
    ),
    row(
        "staff",
        "--file",
        "{corrupt}",
        "--aht",
        "3m",
        says=("--file", "corrupt.parquet", "readable Parquet", "truncated"),
    ),
    row(
        "staff",
        "--file",
        "{nocalls}",
        "--aht",
        "3m",
        says=(
            "--file",
            "nocalls.csv",
            "a calls (or contacts, offered or volume) column",
            "when, how_many",
        ),
    ),
    row(
        "staff",
        "--file",
        "{folder}",
        "--aht",
        "3m",
        says=("--file", "folder", "not a directory", "Name the file"),
    ),
    # -- schedule ----------------------------------------------------------------------------
    row(
        "schedule",
        "{corrupt}",
        "-t",
        "{shifts}",
        "-o",
        "{dir}/s.csv",
        says=("PLAN", "corrupt.parquet", "readable Parquet", "truncated"),
    ),
    row(
        "schedule",
        "{plan}",
        "-t",
        "{png}",
        "-o",
        "{dir}/s.csv",
        says=("--templates", "image.png", "(text)", "binary"),
    ),
    row(
        "schedule",
        "{plan}",
        "-t",
        "{empty_yaml}",
        "-o",
        "{dir}/s.csv",
        says=("--templates", "empty.yaml", "with content", "empty"),
    ),
    row(
        "schedule",
        "{plan}",
        "-t",
        "{dir}/nothere.yaml",
        "-o",
        "{dir}/s.csv",
        says=("--templates", "nothere.yaml", "an existing file", "Check the path"),
    ),
    row(
        "schedule",
        "{plan}",
        "-t",
        "{shifts}",
        "-o",
        "{dir}/schedule.txt",
        says=("--out", "schedule.txt", ".csv or .parquet", "--out schedule.csv"),
    ),
    row(
        "schedule",
        "{plan}",
        "-t",
        "{shifts}",
        "-o",
        "{dir}/s.csv",
        "--timezone",
        "Jerusalem",
        says=("--timezone", "'Jerusalem'", "IANA time zone", "Asia/Jerusalem"),
    ),
    row(
        "schedule",
        "{plan}",
        "-t",
        "{shifts}",
        "-o",
        "{dir}/s.csv",
        "-a",
        "{png_csv}",
        says=("--agents", "image.csv", "(text)", "binary"),
    ),
    # -- simulate ----------------------------------------------------------------------------
    row(
        "simulate",
        "{shifts}",
        "--replications",
        "0",
        says=("--replications", "0", ">= 1", "--replications 10"),
    ),
    row(
        "schedule",
        "{plan}",
        "-t",
        "{shifts}",
        "-o",
        "{dir}/s.csv",
        "--workers",
        "0",
        says=("--workers", "0", ">= 1", "--workers 2"),
    ),
    row("simulate", "{png}", says=("SCENARIO", "image.png", "(text)", "binary")),
    row(
        "simulate",
        "{dir}/nothere.yaml",
        says=("SCENARIO", "nothere.yaml", "an existing file", "Check the path"),
    ),
    row("simulate", "{folder}", says=("SCENARIO", "folder", "not a directory", "Name the file")),
    row(
        "simulate",
        "{shifts}",
        "--contacts",
        "{dir}/contacts.csv",
        says=("--contacts", "contacts.csv", "a .parquet path", "--contacts contacts.parquet"),
    ),
    # -- cases -------------------------------------------------------------------------------
    row(
        "cases",
        "tick",
        "--database-url",
        "{nostore}",
        says=("--database-url", "nostore.db", "an existing case store", "contactops serve"),
    ),
    row(
        "cases",
        "tick",
        "--database-url",
        "{nostore}",
        "--at",
        "yesterday",
        says=("--at", "'yesterday'", "ISO 8601 instant", "2026-03-02T09:00:00+00:00"),
    ),
    row(
        "cases",
        "tick",
        "--database-url",
        "nonsense",
        says=("--database-url", "'nonsense'", "SQLAlchemy URL", "sqlite:///"),
    ),
    row("cases", "replay-servicenow", "{png}", says=("PATH", "image.png", "(text)", "binary")),
    # -- commands ----------------------------------------------------------------------------
    row("kpii", says=("kpii", "No such command", "", "Did you mean 'kpi'")),
    row("ingest", "--help-me", says=("--help-me", "No such option", "", "--help")),
]


@contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging: SIGALRM after ``seconds``."""

    def expired(_signum: int, _frame: Any) -> None:
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _fill(args: list[str], where: dict[str, str]) -> list[str]:
    return [a.format(**where) for a in args]


@pytest.mark.parametrize(("args", "says", "slow"), MISTAKES)
def test_a_mistake_gets_one_clear_line_and_exit_2(
    args: list[str], says: tuple[str, ...], slow: bool, where: dict[str, str]
) -> None:
    argv = _fill(args, where)
    if slow:  # may involve worker processes: a separate interpreter, killed if it hangs
        res = subprocess.run(
            [sys.executable, "-m", "contactops", *argv],
            capture_output=True,
            text=True,
            timeout=SECONDS * 3,
            cwd=where["dir"],
            check=False,
            env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "COLUMNS": "100"},
        )
        code, out, err = res.returncode, res.stdout, res.stderr
    else:
        with _deadline(SECONDS):
            res = runner.invoke(app, argv, env={"COLUMNS": "80"})
        code, out, err = res.exit_code, res.stdout, res.stderr
    everything = out + err
    assert "Traceback" not in everything, everything
    assert code == 2, everything
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err  # one line, however narrow the terminal (COLUMNS=80)
    line = lines[0]
    assert line.startswith("error: "), line
    for piece in says:
        assert piece in line, f"{piece!r} not in {line!r}"
    assert "[/" not in line.replace("[/x]", "")  # no rich markup leaked into the text


def test_there_are_at_least_forty_mistakes() -> None:
    assert len(MISTAKES) >= 40


def test_reading_never_creates_a_warehouse_or_a_store(tmp_path: Path) -> None:
    """kpi, rejects and plan on a typo, and cases tick in an empty directory, leave no file."""
    typo = tmp_path / "typo.duckdb"
    for argv in (["kpi", "-w", str(typo)], ["rejects", "-w", str(typo)], ["plan", "-w", str(typo)]):
        assert runner.invoke(app, argv).exit_code == 2
    store = tmp_path / "contactops-service.db"
    res = runner.invoke(app, ["cases", "tick", "--database-url", f"sqlite:///{store}"])
    assert res.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_busy_warehouse_is_one_line(where: dict[str, str], tmp_path: Path) -> None:
    """Another process holding the warehouse: one line naming it, exit 2."""
    code = (
        "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
        "print('held', flush=True); time.sleep(60)"
    )
    wh = tmp_path / "busy.duckdb"
    Warehouse(wh).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(wh)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with _deadline(SECONDS):
            res = runner.invoke(app, ["kpi", "-w", str(wh)])
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert "in use by another process" in lines[0]
    assert "Traceback" not in res.output
