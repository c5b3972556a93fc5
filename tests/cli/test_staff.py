"""`contactops staff` end to end through Typer's runner."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
from typer.testing import CliRunner

from contactops.cli import app
from contactops.queueing import ErlangA, required_agents

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()


def test_worked_example_table() -> None:
    res = runner.invoke(
        app, ["staff", "--calls", "100", "--interval", "30m", "--aht", "180s", "--target", "80/20"]
    )
    assert res.exit_code == 0, res.output
    assert "14" in res.output
    assert "88.8%" in res.output  # achieved service level


def test_json_with_patience_uses_erlang_a() -> None:
    res = runner.invoke(
        app,
        [
            "staff",
            "--calls",
            "100",
            "--interval",
            "30m",
            "--aht",
            "180s",
            "--target",
            "80/20",
            "--patience",
            "120s",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    expected = required_agents(ErlangA(100 / 1800, 180, 120), service_level=0.8, threshold=20)
    assert data["agents"] == float(expected.agents)
    assert data["service_level"] >= 0.8
    assert 0 < data["abandon_rate"] < 0.1


def test_erlang_x_with_lines_and_shrinkage() -> None:
    res = runner.invoke(
        app,
        [
            "staff",
            "--calls",
            "100",
            "--aht",
            "3m",
            "--model",
            "x",
            "--patience",
            "60s",
            "--lines",
            "16",
            "--redial",
            "0.3",
            "--shrinkage",
            "30%",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["scheduled"] >= data["agents"] / 0.7
    assert data["blocking"] > 0


def test_file_to_parquet(tmp_path: Path) -> None:
    src = tmp_path / "intervals.csv"
    src.write_text(
        "queue,start,calls,aht\nsales,09:00,100,180\nsales,09:30,0,180\ncare,09:00,250,4m\n"
    )
    out = tmp_path / "out.parquet"
    res = runner.invoke(app, ["staff", "--file", str(src), "--out", str(out), "--target", "80/20"])
    assert res.exit_code == 0, res.output
    table = pq.read_table(out).to_pydict()
    assert table["queue"] == ["sales", "sales", "care"]
    assert table["agents"] == [14.0, 0.0, 39.0]
    assert all(s >= 0.8 for s in table["service_level"])


def test_file_to_csv_with_patience_column(tmp_path: Path) -> None:
    src = tmp_path / "intervals.csv"
    src.write_text("calls,aht,patience\n100,180,120\n200,180,60\n")
    out = tmp_path / "out.csv"
    res = runner.invoke(app, ["staff", "--file", str(src), "--out", str(out), "--model", "a"])
    assert res.exit_code == 0, res.output
    lines = out.read_text().splitlines()
    assert len(lines) == 3
    assert '"agents"' in lines[0]


def test_bad_input_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["staff", "--calls", "-5", "--aht", "180s"])
    assert res.exit_code == 2
    assert "calls must be >= 0; got -5.0" in res.output
    res = runner.invoke(app, ["staff", "--calls", "100", "--aht", "3 parsecs"])
    assert res.exit_code == 2
    assert "--aht must be" in res.output
    res = runner.invoke(app, ["staff", "--calls", "100", "--aht", "180s", "--model", "a"])
    assert res.exit_code == 2
    assert "--patience" in res.output
    bad = tmp_path / "bad.csv"
    bad.write_text("queue,volume_x\nq,1\n")
    res = runner.invoke(app, ["staff", "--file", str(bad), "--aht", "3m"])
    assert res.exit_code == 2
    assert "calls" in res.output
