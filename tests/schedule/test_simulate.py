"""A scheduled week, breaks included, handed to the simulator as its staffing."""

from __future__ import annotations

import numpy as np
import pytest

from contactops.errors import InvalidParameterError
from contactops.queueing import ErlangC, required_agents
from contactops.schedule import (
    Agent,
    Break,
    Costs,
    LaborRules,
    ShiftRules,
    ShiftTemplate,
    roster,
    schedule_shifts,
    to_center,
)
from contactops.simulate import Queue, simulate

H = 3600.0
AHT = 240.0


def _week() -> tuple[np.ndarray, np.ndarray]:
    """Calls per 30-minute interval over a week and the Erlang C requirement (80/20)."""
    hour = (np.arange(48) + 0.5) / 2
    shape = np.exp(-0.5 * ((hour - 12.0) / 3.0) ** 2)
    calls = np.tile(np.where((hour >= 7) & (hour < 21), 60.0 * shape, 0.0), 7)
    calls[5 * 48 :] *= 0.6  # a quieter weekend
    need = required_agents(ErlangC(calls / 1800.0, AHT), service_level=0.8, threshold=20).agents
    return calls, np.asarray(need, dtype=float).reshape(7, 48)


TEMPLATES = [
    ShiftTemplate(
        "8h",
        8 * H,
        [k * 1800.0 for k in range(12, 27)],
        breaks=(
            Break(1800, 2 * H, 3.5 * H, name="break"),
            Break(1800, 4 * H, 6 * H, paid=False, name="lunch"),
        ),
    )
]


def test_simulated_week_runs_on_the_schedule_breaks_included() -> None:
    calls, need = _week()
    s = schedule_shifts(
        {"voice": need},
        TEMPLATES,
        ShiftRules(wrap=True),
        costs=Costs(short=40),
        time_limit=8,
        gap_limit=0.02,
        workers=1,
    )
    queue = Queue("voice", volume=calls, handle_time=AHT, patience=None)
    center = to_center(s, [queue])
    assert center.interval == 1800
    assert center.groups[0].skills == ["voice"]
    staffing = np.asarray(center.groups[0].staffing)
    assert staffing.size == 7 * 48
    np.testing.assert_array_equal(staffing, s.coverage.ravel())
    # breaks really are out of the staffing: fewer than on shift where a break is taken
    on_shift = s.program.on @ s.x.astype(float)
    assert np.any(staffing < on_shift)
    assert np.all(staffing <= on_shift)
    result = simulate(center, seed=3, replications=1)
    groups = result.group_summary().to_pylist()
    # staffed time follows the schedule (agents finish the call in hand when their
    # interval ends, hence a little more)
    assert groups[0]["agent_hours"] == pytest.approx(staffing.sum() * 0.5, rel=0.01)
    assert groups[0]["agent_hours"] >= staffing.sum() * 0.5
    week = result.queue_summary().to_pylist()[0]
    # the schedule covers the Erlang C requirement: the simulated week is near 80/20 or better
    assert s.short_total <= 0.02 * need.sum()
    assert week["service_level"] > 0.75
    assert week["offered"] == pytest.approx(calls.sum(), rel=0.05)


def test_roster_to_center_groups_agents_by_skill_set() -> None:
    need = np.zeros((2, 48))
    need[:, 18:34] = 2
    calls = np.where(need.ravel() > 0, 20.0, 0.0)
    tpl = [ShiftTemplate("8h", 8 * H, [9 * H], breaks=(Break(1800, 3 * H, 4 * H),))]
    agents = [Agent("ann", ["a", "b"]), Agent("bob", ["a"]), Agent("cy", ["a", "b"])]
    r = roster(
        {"a": need, "b": np.zeros((2, 48))},
        agents,
        LaborRules(),
        templates=tpl,
        time_limit=10,
        workers=1,
    )
    center = to_center(
        r,
        [
            Queue("a", volume=calls, handle_time=AHT),
            Queue("b", volume=np.zeros(96), handle_time=AHT),
        ],
    )
    by_skills = {tuple(g.skills): np.asarray(g.staffing) for g in center.groups}
    assert set(by_skills) <= {("a",), ("a", "b")}
    total = sum(by_skills.values())
    np.testing.assert_array_equal(total, r.coverage[0].ravel() + r.coverage[1].ravel())
    with pytest.raises(InvalidParameterError, match="every scheduled queue"):
        to_center(r, [Queue("a", volume=calls, handle_time=AHT)])
