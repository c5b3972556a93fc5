"""Backlog staffing for deferred work: deadlines kept, backlog carried, least peak."""

from __future__ import annotations

import numpy as np
import pytest

from contactops.queueing import backlog_staffing


def _week(per_hour: float = 40.0) -> tuple[np.ndarray, np.ndarray]:
    day_open = np.r_[np.zeros(8), np.ones(10), np.zeros(6)].astype(bool)
    is_open = np.tile(day_open, 7)
    is_open[5 * 24:] = False  # closed at the weekend
    rng = np.random.default_rng(7)
    arrivals = rng.poisson(per_hour, 7 * 24).astype(float)  # email arrives around the clock
    return arrivals, is_open


def test_every_deadline_is_kept_and_nothing_is_lost() -> None:
    arrivals, is_open = _week()
    plan = backlog_staffing(arrivals, 240.0, 3600.0, deadline=24 * 3600, share=0.9,
                            final_deadline=36 * 3600, open_intervals=is_open,
                            opening_backlog=150)
    assert np.all(plan.overdue == 0)
    assert np.all(plan.completed >= plan.due - 1e-6)
    assert np.all(plan.agents[~is_open] == 0)
    assert np.all(plan.agents == np.round(plan.agents))
    # books balance: arrived = completed + backlog, interval by interval
    arrived = 150 + np.cumsum(arrivals)
    np.testing.assert_allclose(plan.completed + plan.backlog, arrived, atol=1e-6)


def test_backlog_is_carried_over_closed_hours() -> None:
    arrivals, is_open = _week()
    plan = backlog_staffing(arrivals, 240.0, 3600.0, deadline=24 * 3600,
                            open_intervals=is_open)
    night = np.flatnonzero(~is_open[:24])
    # overnight arrivals pile up and are worked the next morning
    assert np.all(np.diff(plan.backlog[night[night > 17]]) > 0)


def test_steady_arrivals_need_the_steady_workload() -> None:
    arrivals = np.full(200, 30.0)
    plan = backlog_staffing(arrivals, 360.0, 3600.0, deadline=8 * 3600, integer=False)
    # level staffing; the work arriving in the last 8 hours is required pro rata,
    # so half a deadline window of arrivals (30 x 8 / 2 = 120 items) is carried out
    assert np.ptp(plan.agents) < 1e-9
    np.testing.assert_allclose(plan.agents, (6000 - 120) * 360 / 3600 / 200, rtol=1e-9)
    assert plan.closing_backlog == pytest.approx(120.0)
    # over a long horizon that tends to the steady workload, 30/h x 6 min = 3 agents
    long = backlog_staffing(np.full(5000, 30.0), 360.0, 3600.0, deadline=8 * 3600,
                            integer=False)
    assert long.agents.mean() == pytest.approx(3.0, rel=1e-3)


def test_taut_string_has_the_least_peak() -> None:
    rng = np.random.default_rng(3)
    arrivals = rng.gamma(2.0, 20.0, 96)
    plan = backlog_staffing(arrivals, 300.0, 1800.0, deadline=4 * 3600, integer=False)
    # "as late as possible": do each item exactly at its deadline
    lazy = np.diff(np.concatenate(([0.0], plan.due))) * 300.0 / 1800.0
    assert plan.agents.max() <= lazy.max() + 1e-9
    # and the plan does exactly the work that is due, no more
    assert plan.workload.sum() == pytest.approx(plan.due[-1] * 300.0, rel=1e-9)


def test_everything_by_the_end_matches_the_fluid_formula() -> None:
    plan = backlog_staffing(np.full(8, 60.0), 360.0, 3600.0, deadline="end",
                            opening_backlog=500, integer=False)
    np.testing.assert_allclose(plan.agents, (500 + 480) * 6 / 480)
    assert plan.closing_backlog == pytest.approx(0.0, abs=1e-9)
