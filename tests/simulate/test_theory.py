"""The simulator against the analytic models, within its 95% confidence intervals.

Each case runs one long replication; the interval comes from 20 batch means.
A 95% interval misses the true value 1 time in 20 by construction, so every
case checks one metric family against the model at a fixed seed; the seeds
were not chosen to pass (they are 1, 2, 3 in order) and a miss would show as
the analytic value just outside, not far away.
"""

from __future__ import annotations

import pytest

from contactops.queueing import Chat, ErlangA, ErlangC
from contactops.simulate import simulate_queue

N = 200_000


def _inside(estimate: tuple[float, float, float], truth: float, name: str) -> None:
    value, lo, hi = estimate
    assert lo <= truth <= hi, (
        f"{name}: analytic {truth:.5f} outside simulated [{lo:.5f}, {hi:.5f}] (point {value:.5f})"
    )


@pytest.mark.parametrize(
    ("agents", "load", "seed"),
    [
        (10, 7.0, 1),  # light
        (50, 45.0, 2),  # the benchmark case
        (20, 19.0, 3),  # heavy: 95% occupancy
    ],
)
def test_mmn_matches_erlang_c(agents: int, load: float, seed: int) -> None:
    aht = 300.0
    rate = load / aht
    sim = simulate_queue(rate, aht, agents, n_contacts=N, seed=seed)
    m = ErlangC(rate, aht).metrics(agents, 20.0)
    _inside(sim.service_level(20, ci=True), float(m.service_level), "service level")
    _inside(sim.asa(ci=True), float(m.asa), "ASA")
    _inside(sim.occupancy(ci=True), float(m.occupancy), "occupancy")
    assert sim.abandon_rate() == 0.0


@pytest.mark.parametrize(
    ("agents", "load", "patience", "seed"),
    [
        (10, 8.0, 120.0, 1),
        (50, 45.0, 120.0, 2),
        (20, 24.0, 60.0, 3),  # overloaded: only abandonment keeps it stable
    ],
)
def test_mmn_plus_m_matches_erlang_a(agents: int, load: float, patience: float, seed: int) -> None:
    aht = 300.0
    rate = load / aht
    sim = simulate_queue(rate, aht, agents, patience=patience, n_contacts=N, seed=seed)
    m = ErlangA(rate, aht, patience).metrics(agents, 20.0)
    _inside(sim.service_level(20, ci=True), float(m.service_level), "service level")
    _inside(sim.asa(ci=True), float(m.asa), "ASA")
    _inside(sim.abandon_rate(ci=True), float(m.abandon_rate), "abandonment")
    _inside(sim.occupancy(ci=True), float(m.occupancy), "occupancy")


@pytest.mark.parametrize(
    "definition", ["answered_within_t_over_answered", "excl_abandon_before_t", "wait_le_t"]
)
def test_other_service_level_definitions_match_erlang_a(definition: str) -> None:
    aht, patience, agents, load = 240.0, 90.0, 15, 15.0
    rate = load / aht
    sim = simulate_queue(rate, aht, agents, patience=patience, n_contacts=N, seed=4)
    expected = float(ErlangA(rate, aht, patience).service_level(agents, 30.0, definition))
    _inside(sim.service_level(30, definition, ci=True), expected, definition)


def test_chat_concurrency_matches_chat_model() -> None:
    # handle time the same at every level: total service rate k/aht whatever the balance
    aht, m, agents = 600.0, 3, 6
    rate = 15.5 / aht
    sim = simulate_queue(rate, aht, agents, patience=300.0, concurrency=m, n_contacts=N, seed=5)
    ref = Chat(rate, [aht] * m, patience=300.0).metrics(agents, 60.0)
    _inside(sim.service_level(60, ci=True), float(ref.service_level), "service level")
    _inside(sim.asa(ci=True), float(ref.asa), "ASA")
    _inside(sim.abandon_rate(ci=True), float(ref.abandon_rate), "abandonment")
    _inside(sim.occupancy(ci=True), float(ref.occupancy), "slot occupancy")


def test_chat_stretch_close_to_balanced_chat_model() -> None:
    """With stretched handle times the analytic model assumes chats spread evenly.

    The simulator routes to the least-loaded agent but cannot move chats once
    assigned, so it is compared at a tolerance, not an interval.
    """
    stretch = [1.0, 1.2, 1.45]
    aht1, m, agents = 400.0, 3, 8
    rate = 14.0 / aht1
    sim = simulate_queue(
        rate, aht1, agents, patience=240.0, concurrency=m, stretch=stretch, n_contacts=N, seed=6
    )
    ref = Chat(rate, [aht1 * s for s in stretch], patience=240.0).metrics(agents, 60.0)
    assert sim.service_level(60) == pytest.approx(float(ref.service_level), abs=0.03)
    assert sim.abandon_rate() == pytest.approx(float(ref.abandon_rate), abs=0.01)
    # the handle time a chat actually took lies between its alone and fully-loaded values
    assert aht1 < sim.aht() < aht1 * stretch[-1]
