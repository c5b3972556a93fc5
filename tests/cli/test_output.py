"""What the commands print is the data, whatever the data holds.

Rich markup in a value (``[/x]``) is shown as text instead of breaking the
table; a CSV export makes spreadsheet formulas inert (OWASP's CSV injection
rule) without changing a number; error messages speak in options; the time
zone used is said.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from contactops.cli import app
from contactops.cli._app import neutralise_csv, render_error, resolve_timezone
from contactops.data import Warehouse
from contactops.data.adapters._anonymous_bank import HEADER as BANK_HEADER
from contactops.errors import FormatMismatchError, InvalidParameterError

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()
QUEUES = [
    "[/x]",
    "[bold]q[/bold]",
    '=HYPERLINK("http://e.example")',
    "-5",
    "+x",
    "@SUM(A1)",
    "plain",
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A warehouse whose queue names and rejected values are markup and formulas."""
    d = tmp_path_factory.mktemp("hostile")
    lines = ["contact_id,queue,channel,arrived_at,outcome,talk_s"]
    for i, q in enumerate(QUEUES):
        quoted = '"' + q.replace('"', '""') + '"'
        lines.append(f"{i},{quoted},voice,2026-01-01T08:0{i}:00Z,answered,{100 + i}")
    lines.append("90,plain,voice,[/x],answered,100")  # rejected: the value is markup
    lines.append("91,plain,voice,2026-01-01T08:00:00Z,answered,=1+1")  # rejected: a formula
    (d / "hostile.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    wh = str(d / "w.duckdb")
    res = runner.invoke(app, ["ingest", str(d / "hostile.csv"), "-f", "csv", "-w", wh])
    assert res.exit_code == 0, res.output
    return wh


def test_markup_in_data_is_shown_as_text(hostile: str) -> None:
    res = runner.invoke(app, ["kpi", "--by", "queue", "-w", hostile], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    for q in ("[/x]", "[bold]q[/bold]", "=HYPERLINK"):
        assert q in res.stdout
    res = runner.invoke(app, ["rejects", "-w", hostile], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "[/x]" in res.stdout
    assert "=1+1" in res.stdout
    res = runner.invoke(app, ["rejects", "--summary", "-w", hostile], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_kpi_csv_neutralises_formulas_and_keeps_numbers(hostile: str) -> None:
    res = runner.invoke(app, ["kpi", "--by", "queue", "--format", "csv", "-w", hostile])
    assert res.exit_code == 0, res.output
    rows = {r["queue"]: r for r in _csv(res.stdout)}
    assert set(rows) == {
        "[/x]",
        "[bold]q[/bold]",
        '\'=HYPERLINK("http://e.example")',
        "-5",
        "'+x",
        "'@SUM(A1)",
        "plain",
    }
    as_json = runner.invoke(app, ["kpi", "--by", "queue", "--format", "json", "-w", hostile])
    by_queue = {r["queue"]: r for r in json.loads(as_json.stdout)}
    for q, r in by_queue.items():  # the numbers are the numbers
        shown = rows[q if q in rows else "'" + q]
        assert float(shown["aht"]) == pytest.approx(r["aht"])
        assert int(shown["offered"]) == r["offered"]


def test_rejects_csv_neutralises_formulas(hostile: str) -> None:
    res = runner.invoke(app, ["rejects", "--format", "csv", "-w", hostile])
    assert res.exit_code == 0, res.output
    values = sorted(r["value"] for r in _csv(res.stdout))
    assert values == ["'=1+1", "[/x]"]
    assert all(r["line"].isdigit() for r in _csv(res.stdout))
    res = runner.invoke(app, ["rejects", "--format", "json", "-w", hostile])
    assert sorted(r["value"] for r in json.loads(res.stdout)) == ["=1+1", "[/x]"]


_RISKY = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(max_size=12),
            st.sampled_from(
                ["=1+1", "-5", "+3.5", "-1e3", "@x", "\tx", "\r", "-", "+", "=", "'=x"]
            ),
        ),
        min_size=1,
        max_size=20,
    )
)
@settings(max_examples=60, deadline=None)
def test_neutralise_csv_rule(cells: list[str | None]) -> None:
    """A formula-looking text cell gains a leading quote; nothing else changes."""
    n = len(cells)
    table = pa.table(
        {
            "text": pa.array(cells, pa.string()),
            "number": pa.array([float(-i) for i in range(n)]),
            "dict": pa.array(cells, pa.string()).dictionary_encode(),
        }
    )
    out = neutralise_csv(table)
    assert out.column_names == table.column_names
    assert out.column("number").equals(table.column("number"))
    for column in ("text", "dict"):
        for before, after in zip(cells, out.column(column).to_pylist(), strict=True):
            if before is None or not _RISKY.match(before) or _NUMBER.match(before):
                assert after == before
            else:
                assert after == "'" + before


def test_errors_speak_in_options() -> None:
    exc = InvalidParameterError(
        "by", "quarter", "one of day, week, month", "e.g. by=['month', 'queue']."
    )
    line = render_error(exc, {"by": "--by"})
    assert line == ("--by must be one of day, week, month; got 'quarter'. e.g. --by month,queue.")
    assert "by=" not in line
    exc = InvalidParameterError("by", ["day", "week"], "at most one time grain", "")
    assert render_error(exc, {"by": "--by"}) == (
        "--by must be at most one time grain; got 'day,week'."
    )
    exc = InvalidParameterError("interval_minutes", 7, "15, 30 or 60", "interval_minutes=30")
    assert render_error(exc, {"interval_minutes": "--interval"}) == (
        "--interval must be 15, 30 or 60; got 7. --interval 30"
    )
    mismatch = FormatMismatchError("jan.txt", "zendesk", ["id", "created_at"], "anonymous-bank")
    line = render_error(mismatch, {"format": "--format"})
    assert line.startswith(
        "--format must be the format jan.txt is in (its header lacks id, "
        "created_at, which a 'zendesk' export has); got 'zendesk'."
    )
    assert line.endswith("use --format anonymous-bank.")


def test_the_time_zone_is_resolved_in_one_place() -> None:
    assert resolve_timezone(None, None) == ("UTC", "default")
    assert resolve_timezone(None, "Asia/Jerusalem") == ("Asia/Jerusalem", "given with --timezone")
    with pytest.raises(InvalidParameterError, match="Did you mean Asia/Jerusalem"):
        resolve_timezone(None, "Jerusalem")


def test_kpi_says_which_zone_it_used(hostile: str) -> None:
    res = runner.invoke(app, ["kpi", "--by", "day", "-w", hostile], env={"COLUMNS": "200"})
    assert "times in UTC (default)" in res.stdout
    res = runner.invoke(
        app,
        ["kpi", "--by", "day", "--timezone", "Asia/Jerusalem", "-w", hostile],
        env={"COLUMNS": "200"},
    )
    assert "times in Asia/Jerusalem (given with --timezone)" in res.stdout
    res = runner.invoke(app, ["kpi", "--by", "day", "--format", "json", "-w", hostile])
    assert json.loads(res.stdout)[0]["day"] == "2026-01-01"  # csv/json: the data alone


def test_an_empty_window_says_so(hostile: str) -> None:
    res = runner.invoke(app, ["kpi", "--start", "2030-01-01", "-w", hostile])
    assert res.exit_code == 0
    assert "no contacts between --start 2030-01-01" in res.stderr


def test_ingest_warns_when_nothing_of_a_file_was_loaded(tmp_path: Path) -> None:
    """Every row accounted for, none loaded: not silent (a warning), and --strict fails."""
    f = tmp_path / "notes.csv"
    f.write_text(
        "contact_id,channel,queue,arrived_at,outcome\n1,voice,a,yesterday,answered\n",
        encoding="utf-8",
    )
    wh = str(tmp_path / "w.duckdb")
    res = runner.invoke(app, ["ingest", str(f), "-f", "csv", "-w", wh])
    assert res.exit_code == 0
    assert "nothing was loaded from notes.csv: all 1 row(s) were rejected" in res.stderr
    res = runner.invoke(app, ["ingest", str(f), "-f", "csv", "-w", wh, "--strict"])
    assert res.exit_code == 1


@pytest.mark.parametrize(
    ("head", "binary"),
    [
        (b"\x89PNG\r\n\x1a\n", True),
        (b"PK\x03\x04xlsx", True),
        (b"\x1f\x8b\x08gz", True),
        (b"%PDF-1.7", True),
        (b"a,b\n1,\x002\n", True),
        (b"\xff\xfea\x00,\x00b\x00", False),  # UTF-16 with its mark: text
        ("caf\u00e9,na\u00efve\n".encode("latin-1"), False),  # Latin-1: text, the adapter decides
        (b"\xef\xbb\xbfa,b\n", False),
        (b"a,b\n1,2\n", False),
    ],
)
def test_binary_files_are_told_from_text(tmp_path: Path, head: bytes, binary: bool) -> None:
    from contactops.cli._app import check_file

    f = tmp_path / "f.csv"
    f.write_bytes(head)
    if binary:
        with pytest.raises(InvalidParameterError, match="It looks binary"):
            check_file(f, "FILES", text=True)
    else:
        check_file(f, "FILES", text=True)


def test_commands_default_to_the_zone_the_data_was_loaded_in(tmp_path: Path) -> None:
    """The anonymous-bank log is Israel time: kpi shows its intervals at the local clock
    it was read in (not two hours early in UTC) and says so; --timezone still wins."""
    header = "\t".join(BANK_HEADER)
    call = (
        "AA0101\t1\t0\t1\tPS\t990104\t7:00:00\t7:00:05\t5\t7:00:05\t7:00:20\t15\t"
        "AGENT\t7:00:20\t7:03:00\t160\tDANI"
    )
    log = tmp_path / "bank.txt"
    log.write_text(header + "\n" + call + "\n", encoding="utf-8")
    wh = str(tmp_path / "w.duckdb")
    assert runner.invoke(app, ["ingest", str(log), "-f", "anonymous-bank", "-w", wh]).exit_code == 0
    assert resolve_timezone(wh, None) == (
        "Asia/Jerusalem",
        "the zone the data was loaded in; --timezone to change",
    )
    res = runner.invoke(app, ["kpi", "--by", "interval", "--format", "json", "-w", wh])
    assert res.exit_code == 0, res.output
    assert [r["interval_start"][11:16] for r in json.loads(res.stdout)] == ["07:00"]
    res = runner.invoke(
        app, ["kpi", "--by", "interval", "--format", "json", "--timezone", "UTC", "-w", wh]
    )
    assert [r["interval_start"][11:16] for r in json.loads(res.stdout)] == ["05:00"]
    res = runner.invoke(app, ["kpi", "--by", "day", "-w", wh], env={"COLUMNS": "200"})
    assert "times in Asia/Jerusalem (the zone the data was loaded in" in res.stdout


def test_a_refused_file_leaves_no_empty_warehouse(tmp_path: Path) -> None:
    """A file refused before loading (not the format named) creates no warehouse file;
    an existing warehouse is kept as it was."""
    notes = tmp_path / "notes.txt"
    notes.write_text("vru+line\tcall_id\n", encoding="utf-8")
    wh = tmp_path / "new.duckdb"
    res = runner.invoke(app, ["ingest", str(notes), "-f", "zendesk", "-w", str(wh)])
    assert res.exit_code == 2
    assert not wh.exists()
    Warehouse(wh).close()
    res = runner.invoke(app, ["ingest", str(notes), "-f", "zendesk", "-w", str(wh)])
    assert res.exit_code == 2
    assert wh.exists()
