"""The plan end to end: simulated history -> warehouse -> forecast -> staffing -> check."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy.stats import beta
from typer.testing import CliRunner

from contactops.cli import app
from contactops.data import Warehouse
from contactops.errors import InvalidParameterError
from contactops.plan import estimate_queue_params, plan
from contactops.simulate import AgentGroup, Bot, Center, LogNormal, Queue, simulate

if TYPE_CHECKING:
    from pathlib import Path

PATIENCE, AHT = 200.0, 180.0


@pytest.fixture(scope="module")
def stationary(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """Three weeks of a stationary voice queue (and a bot in front of a second one)."""
    center = Center(
        queues=[
            Queue("calls", arrival_rate=0.05, handle_time=LogNormal(AHT, AHT), patience=PATIENCE),
            Queue(
                "assisted",
                arrival_rate=0.01,
                handle_time=240.0,
                patience=300.0,
                bot=Bot(share=1.0, threshold=0.8),
            ),
        ],
        groups=[
            AgentGroup("team", staffing=11, skills=["calls"]),
            AgentGroup("bot team", staffing=4, skills=["assisted"]),
        ],
        interval=3600.0,
        start="2026-11-02T00:00:00+00:00",
    )
    contacts = simulate(center, days=21, seed=11, contacts=True).contacts
    path = tmp_path_factory.mktemp("plan") / "history.parquet"
    pq.write_table(contacts, path)
    wh = Warehouse(":memory:")
    wh.ingest(path, format="parquet")
    return wh


def test_queue_parameters_are_estimated_from_the_history(stationary: Warehouse) -> None:
    params = estimate_queue_params(stationary)
    calls = params["calls"]
    assert calls.channel == "voice"
    assert calls.aht == pytest.approx(AHT, rel=0.03)
    assert calls.aht_cv == pytest.approx(1.0, rel=0.1)
    assert calls.patience == pytest.approx(PATIENCE, rel=0.15)
    assert calls.containment is None
    # the bot keeps what it is confident about: P(Beta(6, 1.5) >= 0.8)
    assert params["assisted"].containment == pytest.approx(beta.sf(0.8, 6, 1.5), abs=0.02)


def test_stationary_plan_meets_its_target_within_the_band(stationary: Warehouse) -> None:
    result = plan(
        stationary,
        days=7,
        target="80/20",
        interval="60min",
        shrinkage=0.25,
        methods=("seasonal_naive", "wfm"),
        replications=8,
        seed=3,
    )
    t = result.table[result.table["queue"] == "calls"]
    assert str(result.start) == "2026-11-23"
    assert len(t) == 7 * 24
    # every interval forecast near the true 180 calls an hour
    assert t["forecast"].mean() == pytest.approx(180.0, rel=0.05)
    assert (t["model_sl"] >= 0.8 - 1e-9).all()
    np.testing.assert_allclose(t["required"], np.ceil(t["agents"] / 0.75 - 1e-9))
    # the simulated service level reaches the target: pooled, and interval by interval
    pooled = np.average(t["sim_sl"], weights=t["forecast"])
    assert pooled >= 0.8
    assert (t["sim_sl_hi"] >= 0.8).mean() >= 0.97
    assert t["at_risk"].sum() == (t["sim_sl_hi"] < 0.8).sum()
    summary = result.summary().set_index("queue")
    assert summary.loc["calls", "sim_sl"] == pytest.approx(pooled)


def test_understaffing_is_flagged(stationary: Warehouse) -> None:
    # a target the staffing is computed for, and a simulation of half of it: all at risk
    result = plan(
        stationary,
        days=1,
        target="80/20",
        interval="60min",
        shrinkage=0,
        methods=("seasonal_naive",),
        check=False,
    )
    t = result.table
    assert "sim_sl" not in t.columns
    assert not result.simulated
    from contactops.plan._plan import _check

    halved = t.assign(agents=np.floor(t["agents"] / 2))
    params = estimate_queue_params(stationary)
    checked = _check(halved, params, ["assisted", "calls"], 1, 3600.0, 2, 4, 1)
    calls = checked[checked["queue"] == "calls"]
    assert calls["at_risk"].all()


def test_plan_bad_input(stationary: Warehouse) -> None:
    with pytest.raises(InvalidParameterError, match="days"):
        plan(stationary, days=0)
    with pytest.raises(InvalidParameterError, match="target"):
        plan(stationary, target="80-20")
    with pytest.raises(InvalidParameterError, match=r"queues\.calls\.speed"):
        plan(stationary, queues={"calls": {"speed": 3}}, check=False)
    with pytest.raises(InvalidParameterError, match="history"):
        plan(stationary, start="2026-10-01", check=False)  # nothing before it


@pytest.mark.slow
def test_demo_and_plan_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "demo"
    res = runner.invoke(app, ["demo", "--out", str(out)])
    assert res.exit_code == 0, res.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 4 * 1  # one figure per queue
    # readable offline: no script, stylesheet or image is fetched from anywhere
    for fetch in ('src="http', "src='http", 'href="http', "href='http", "<script", "<link"):
        assert fetch not in page
    table = pq.read_table(out / "plan.parquet").to_pandas()
    assert set(table["queue"]) == {"sales", "support", "chat", "email"}
    assert set(table["channel"]) == {"voice", "chat", "email"}
    assert len(table) == 4 * 7 * 48
    # sales is closed on Sundays: nobody required then
    sunday = table[(table["queue"] == "sales") & (table["interval_start"].dt.dayofweek == 6)]
    assert (sunday["required"] == 0).all()
    assert (table.groupby("queue")["required"].sum() > 0).all()
    # the plan command on the demo's warehouse
    res = runner.invoke(
        app,
        [
            "plan",
            "-w",
            str(out / "contactops.duckdb"),
            "--start",
            "2026-12-07",
            "--days",
            "2",
            "--no-check",
            "--methods",
            "seasonal_naive",
            "--out",
            str(tmp_path / "p2"),
        ],
    )
    assert res.exit_code == 0, res.output
    p2 = pq.read_table(tmp_path / "p2" / "plan.parquet").to_pandas()
    assert len(p2) == 4 * 2 * 48
    res = runner.invoke(app, ["plan", "-w", str(tmp_path / "none.duckdb")])
    assert res.exit_code == 2
    assert "an existing warehouse" in res.output


def test_schedule_coverage_in_the_plan_and_its_report(
    stationary: Warehouse, tmp_path: Path
) -> None:
    from contactops.schedule import ShiftTemplate, schedule_shifts

    result = plan(
        stationary,
        days=2,
        target="80/20",
        interval="60min",
        shrinkage=0.2,
        methods=("seasonal_naive",),
        check=False,
    )
    need = result.table[result.table["queue"] == "calls"][["queue", "interval_start", "required"]]
    day = ShiftTemplate("eight", length=8 * 3600, starts=[h * 3600 for h in range(24)])
    sched = schedule_shifts(need, [day], time_limit=10, workers=1)
    result.attach_schedule(sched)
    calls = result.table[result.table["queue"] == "calls"]
    cov = sched.coverage_table().to_pandas()
    np.testing.assert_allclose(calls["scheduled"].to_numpy(), cov["scheduled"].to_numpy())
    np.testing.assert_allclose(
        calls["short"], np.maximum(calls["required"] - calls["scheduled"], 0), atol=1e-9
    )
    other = result.table[result.table["queue"] == "assisted"]
    assert (other["scheduled"] == 0).all()  # not scheduled: no coverage
    summary = result.summary().set_index("queue")
    assert summary.loc["calls", "scheduled_hours"] == pytest.approx(calls["scheduled"].sum())
    page = result.write(tmp_path)["report"].read_text(encoding="utf-8")
    assert "<h2>Schedule</h2>" in page
    assert f"{sched.shift_count:,} shifts" in page
