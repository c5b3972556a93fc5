"""Whatever is typed into an option, a command answers or says why in one line.

Hypothesis feeds text of every kind (markup, formulas, control characters,
huge numbers, units, nothing) to the options that parse human input; the
command either works (exit 0) or exits 2 with one ``error:`` line on stderr,
and never shows a traceback.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from contactops.cli import app
from contactops.data import Warehouse

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

_WORDS = st.sampled_from(
    [
        "",
        " ",
        "80/20",
        "130%/20",
        "80%",
        "0.8",
        "150",
        "-5%",
        "1e400",
        "nan",
        "inf",
        "30m",
        "3 minutes",
        "1h30m",
        "7m",
        "99:99",
        "Asia/Jerusalem",
        "Jerusalem",
        "utc",
        "day,queue",
        "month,,queue",
        "[/x]",
        "[bold]x",
        "=1+1",
        "@SUM(A1)",
        "\t",
        "x" * 300,
        "9" * 400,
        "2026-11-05",
        "2026-13-01",
        "2026-11-05T25:00",
        "../../etc/passwd",
        "NULL",
        "None",
    ]
)
_TEXT = st.one_of(
    _WORDS,
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=25),
    st.builds(lambda a, b: a + b, _WORDS, _WORDS),
)


@pytest.fixture(scope="module")
def small_wh(tmp_path_factory: pytest.TempPathFactory) -> str:
    d = tmp_path_factory.mktemp("fuzz")
    t0 = dt.datetime(2026, 11, 2, 8, tzinfo=dt.UTC)
    rows = [
        {
            "contact_id": str(i),
            "queue": f"q{i % 2}",
            "channel": "voice",
            "arrived_at": t0 + dt.timedelta(minutes=13 * i),
            "outcome": "answered",
            "wait_s": 5.0,
            "talk_s": 100.0,
        }
        for i in range(40)
    ]
    pq.write_table(pa.Table.from_pylist(rows), d / "h.parquet")
    with Warehouse(d / "w.duckdb") as wh:
        wh.ingest(d / "h.parquet", format="parquet")
    return str(d / "w.duckdb")


def _check(argv: list[str]) -> None:
    res = runner.invoke(app, argv, env={"COLUMNS": "100"})
    everything = res.stdout + res.stderr
    assert "Traceback" not in everything, (argv, everything)
    assert res.exception is None or isinstance(res.exception, SystemExit), (argv, res.exception)
    assert res.exit_code in (0, 2), (argv, everything)
    if res.exit_code == 2:
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, (argv, res.stderr)
        assert lines[0].startswith("error: "), (argv, res.stderr)


@given(
    option=st.sampled_from(
        [
            "--aht",
            "--target",
            "--shrinkage",
            "--interval",
            "--patience",
            "--max-occupancy",
            "--max-abandon",
            "--asa",
            "--sl-definition",
            "--calls",
        ]
    ),
    value=_TEXT,
)
@settings(max_examples=40, deadline=None)
def test_staff_options(option: str, value: str) -> None:
    argv = ["staff", "--calls", "50", "--aht", "3m", f"{option}={value}"]
    if option == "--patience":
        argv += ["--model", "a"]
    _check(argv)


@given(
    option=st.sampled_from(
        [
            "--by",
            "--timezone",
            "--start",
            "--end",
            "--threshold",
            "--short-abandon",
            "--interval",
            "--format",
            "--from",
            "--sl-definition",
        ]
    ),
    value=_TEXT,
)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_kpi_options(small_wh: str, option: str, value: str) -> None:
    _check(["kpi", "-w", small_wh, f"{option}={value}"])


@given(option=st.sampled_from(["--format", "--limit"]), value=_TEXT)
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_rejects_options(small_wh: str, option: str, value: str) -> None:
    _check(["rejects", "-w", small_wh, f"{option}={value}"])


def test_bytes_that_are_not_utf8_in_an_option(small_wh: str) -> None:
    """An argument with bytes that are not UTF-8 (they reach Python as surrogates)."""
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "contactops",
            "kpi",
            "-w",
            small_wh.encode(),
            b"--timezone",
            b"Asia/J\xffrusalem",
        ],
        capture_output=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
        check=False,
    )
    assert res.returncode == 2, res.stderr
    assert b"Traceback" not in res.stderr
    assert res.stderr.startswith(b"error: --timezone must be an IANA time zone")
