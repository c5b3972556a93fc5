"""``contactops simulate``: the example center, JSON output, contact log, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from contactops.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "center.yaml"


@pytest.mark.slow
def test_table_with_confidence_intervals() -> None:
    result = runner.invoke(
        app, ["simulate", str(EXAMPLE), "-r", "3", "--seed", "1"], env={"COLUMNS": "140"}
    )
    assert result.exit_code == 0, result.output
    assert "billing outage" in result.output
    for queue in ("sales", "billing", "chat"):
        assert queue in result.output
    assert "±" in result.output


def test_json_and_contacts(tmp_path: Path) -> None:
    out = tmp_path / "contacts.parquet"
    result = runner.invoke(
        app, ["simulate", str(EXAMPLE), "-r", "2", "--seed", "4", "--json", "--contacts", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {r["queue"] for r in rows} == {"sales", "sales-gold", "billing", "chat"}
    table = pq.read_table(out)
    offered = sum(r["offered"] for r in rows) * 2  # means over 2 replications
    deflected = sum(r["deflected"] for r in rows) * 2
    assert table.num_rows == offered + deflected
    assert "initial_contact_id" in table.column_names


def test_interval_summary_file(tmp_path: Path) -> None:
    out = tmp_path / "intervals.csv"
    result = runner.invoke(
        app, ["simulate", str(EXAMPLE), "-r", "2", "--intervals", str(out)], env={"COLUMNS": "140"}
    )
    assert result.exit_code == 0, result.output
    assert "service level by interval" in result.output
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(out)
    assert table.num_rows == 4 * 48  # four queues, 48 half hours
    assert {"interval_start", "service_level_lo", "asa", "occupancy"} <= set(table.column_names)


def test_bad_scenario_exits_2_with_the_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace("patience: 180", "patience: -180"),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["simulate", str(bad)])
    assert result.exit_code == 2
    assert "queues[1].patience" in result.output
