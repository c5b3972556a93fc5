"""``contactops schedule``: a plan in, shifts, roster and rules out; bad input exits 2."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from typer.testing import CliRunner

from contactops.cli import app
from contactops.queueing import ErlangC, required_agents

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()

SHIFTS = """
timezone: UTC
templates:
  - name: day
    length: 8h
    starts: {from: "07:00", to: "11:00", every: 30m}
    breaks:
      - {name: break, length: 30m, window: [2h, 3h]}
      - {name: lunch, length: 30m, window: [3h30m, 5h], paid: false}
rules: {wrap: false, break_coverage: 75%}
costs: {short: 6}
regions:
  default: {max_consecutive_days: 5, min_rest: 11h, max_weekly_hours: 40}
"""

AGENTS = """agent,skills,min_hours,max_hours,available,days_off,prefer_start,region
a1,support,0,40,,,08:00,
a2,support,0,40,Mon-Fri 07:00-19:00,,,
a3,support,0,40,,Tue,,default
a4,support,0,40,,,,
a5,support,0,40,,,,
a6,support,0,40,,,,
"""


def _plan(path: Path) -> np.ndarray:
    """Two days of a voice queue, as `contactops plan` writes it (naive local times)."""
    hour = (np.arange(96) % 48 + 0.5) / 2
    calls = np.where((hour >= 8) & (hour < 18), 40.0, 0.0)
    agents = np.asarray(
        required_agents(ErlangC(calls / 1800, 300.0), service_level=0.8, threshold=20).agents,
        dtype=float,
    )
    required = np.ceil(agents / 0.8)
    start = datetime(2026, 3, 2)  # noqa: DTZ001 - the plan writes naive local times
    pq.write_table(
        pa.table(
            {
                "queue": ["support"] * 96,
                "channel": ["voice"] * 96,
                "interval_start": pa.array(
                    [start + timedelta(minutes=30 * k) for k in range(96)], pa.timestamp("ns")
                ),
                "forecast": calls,
                "aht": np.full(96, 300.0),
                "agents": agents,
                "required": required,
                "threshold_s": np.full(96, 20.0),
            }
        ),
        path,
    )
    return required


def test_schedule_and_roster_from_a_plan(tmp_path: Path) -> None:
    plan = tmp_path / "plan.parquet"
    required = _plan(plan)
    (tmp_path / "shifts.yaml").write_text(SHIFTS)
    (tmp_path / "agents.csv").write_text(AGENTS)
    out, roster_out, cov = (tmp_path / "s.parquet", tmp_path / "r.csv", tmp_path / "cov.parquet")
    result = runner.invoke(
        app,
        [
            "schedule",
            str(plan),
            "-t",
            str(tmp_path / "shifts.yaml"),
            "-a",
            str(tmp_path / "agents.csv"),
            "-o",
            str(out),
            "--roster-out",
            str(roster_out),
            "--coverage-out",
            str(cov),
            "--time-limit",
            "6",
            "--workers",
            "1",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["schedule"]["queues"] == ["support"]
    assert payload["schedule"]["days"] == 2
    assert "Erlang C" in payload["weighting"]
    assert payload["roster"]["hard_rules_broken"] == 0
    shifts = pq.read_table(out)
    assert shifts.column("template").to_pylist()[0] == "day"
    assert sum(shifts.column("agents").to_pylist()) == payload["schedule"]["shifts"]
    rows = pacsv.read_csv(roster_out).to_pylist()
    assert {r["agent"] for r in rows} <= {f"a{i}" for i in range(1, 7)}
    rules = pacsv.read_csv(tmp_path / "r-rules.csv").to_pylist()
    assert {r["agent"] for r in rules} == {f"a{i}" for i in range(1, 7)}
    assert all(r["satisfied"] for r in rules if r["kind"] == "hard")
    tuesday = next(r for r in rules if r["agent"] == "a3" and r["rule"] == "day_off_Tue")
    worked = any(r["agent"] == "a3" and r["weekday"] == "Tue" for r in rows)
    assert tuesday["satisfied"] is not worked
    coverage = pq.read_table(cov)
    assert coverage.num_rows == 96
    np.testing.assert_array_equal(coverage.column("required").to_numpy(), required)


def test_table_output_and_bad_input(tmp_path: Path) -> None:
    plan = tmp_path / "plan.parquet"
    _plan(plan)
    (tmp_path / "shifts.yaml").write_text(SHIFTS)
    result = runner.invoke(
        app,
        [
            "schedule",
            str(plan),
            "-t",
            str(tmp_path / "shifts.yaml"),
            "-o",
            str(tmp_path / "s.csv"),
            "--time-limit",
            "4",
            "--workers",
            "1",
        ],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    assert "LP lower bound" in result.output
    assert "support" in result.output
    assert (tmp_path / "s.csv").exists()
    missing = runner.invoke(app, ["schedule", str(plan), "-t", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2
    assert "--templates" in missing.output
    (tmp_path / "bad.yaml").write_text(SHIFTS.replace("window: [2h, 3h]", "window: [2h, 4h]"))
    bad = runner.invoke(
        app, ["schedule", str(plan), "-t", str(tmp_path / "bad.yaml")], env={"COLUMNS": "200"}
    )
    assert bad.exit_code == 2
    assert "do not overlap" in bad.output
