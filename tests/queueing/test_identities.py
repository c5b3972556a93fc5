"""Limits and identities between the models, and exactness of the staffing search."""

from __future__ import annotations

import math

import numpy as np
import pytest

from contactops.queueing import (
    SL_DEFINITIONS,
    Chat,
    ErlangA,
    ErlangC,
    ErlangX,
    erlang_b,
    max_arrival_rate,
    required_agents,
)

METRICS = (
    "service_level",
    "prob_wait",
    "asa",
    "mean_wait",
    "abandon_rate",
    "blocking",
    "occupancy",
    "mean_virtual_wait",
    "queue_length",
)


def _recursion_b(load: float, n: int) -> float:
    b = 1.0
    for k in range(1, n + 1):
        b = load * b / (k + load * b)
    return b


@pytest.mark.parametrize(("load", "n"), [(0.5, 1), (10.0, 17), (95.0, 100), (1000.0, 950)])
def test_erlang_b_matches_recursion_at_whole_numbers(load: float, n: int) -> None:
    assert float(erlang_b(load, n)) == pytest.approx(_recursion_b(load, n), rel=1e-12)


def test_erlang_b_continuous_is_smooth_and_monotone() -> None:
    x = np.linspace(5.0, 15.0, 1001)
    b = erlang_b(10.0, x)
    assert np.all(np.diff(b) < 0)
    # no kinks at the whole numbers: second differences stay small
    assert np.abs(np.diff(b, 2)).max() < 1e-4


def test_erlang_a_tends_to_erlang_c_as_patience_grows() -> None:
    lam, aht, n, t = 100 / 1800, 180.0, 14, 20.0
    c = ErlangC(lam, aht).metrics(n, t)
    errors = []
    for patience in (1e3, 1e5, 1e7):
        a = ErlangA(lam, aht, patience).metrics(n, t)
        errors.append(abs(float(a.service_level) - float(c.service_level)))
        assert float(a.abandon_rate) < 100.0 / patience
    # the gap closes like 1/patience (the abandonment rate), not by luck
    assert errors[1] / errors[2] == pytest.approx(100.0, rel=0.05)
    assert errors[0] > errors[1]
    assert errors[2] < 1e-5


@pytest.mark.parametrize("lines", [None, 12, 30])
@pytest.mark.parametrize("patience", [None, 45.0, 600.0])
def test_chat_with_concurrency_one_equals_erlang_x(
    lines: int | None, patience: float | None
) -> None:
    lam, aht = 4 / 60, 180.0
    agents = np.array([8.0, 12.0, 14.0, 20.0])
    if patience is None and lines is None:
        agents = agents[agents > lam * aht]
    chat = Chat(lam, [aht], patience=patience, lines=lines).metrics(agents, 20.0, "virtual")
    x = ErlangX(lam, aht, patience, lines=lines).metrics(agents, 20.0, "virtual")
    for name in METRICS:
        np.testing.assert_allclose(
            getattr(chat, name), getattr(x, name), rtol=1e-10, atol=1e-14, err_msg=name
        )


@pytest.mark.parametrize("definition", SL_DEFINITIONS)
def test_erlang_x_unlimited_lines_no_redials_equals_erlang_a(definition: str) -> None:
    lam = np.array([0.01, 0.5, 3.0])
    agents = np.array([[2.0], [40.0], [600.0], [1000.0]])
    a = ErlangA(lam, 300.0, 90.0).metrics(agents, 30.0, definition)
    x = ErlangX(lam, 300.0, 90.0, lines=None, redial_probability=0.0).metrics(
        agents, 30.0, definition
    )
    for name in METRICS:
        np.testing.assert_array_equal(getattr(a, name), getattr(x, name), err_msg=name)


def test_erlang_c_definitions_coincide() -> None:
    m = ErlangC(0.2, 240.0)
    values = [m.service_level(55, 15.0, d) for d in SL_DEFINITIONS]
    np.testing.assert_allclose(values, values[0], rtol=1e-14)


def test_erlang_x_many_lines_equals_erlang_a() -> None:
    a = ErlangA(4 / 60, 180.0, 60.0).metrics(14, 20.0)
    x = ErlangX(4 / 60, 180.0, 60.0, lines=1000).metrics(14, 20.0)
    for name in METRICS:
        assert getattr(x, name) == pytest.approx(getattr(a, name), rel=1e-12, abs=1e-15)


def test_redials_raise_total_traffic_to_the_fixed_point() -> None:
    x = ErlangX(4 / 60, 180.0, 60.0, lines=14, redial_probability=0.6)
    total = float(x.total_arrival_rate(10))
    m = x.metrics(10)
    lost = float(m.abandon_rate + m.blocking)
    assert total > 4 / 60
    assert total == pytest.approx(4 / 60 + 0.6 * total * lost, rel=1e-9)


def test_overloaded_erlang_c_is_documented_not_a_crash() -> None:
    m = ErlangC(10.0, 1.0).metrics([5, 10], 20.0)
    np.testing.assert_array_equal(m.service_level, [0.0, 0.0])
    np.testing.assert_array_equal(m.prob_wait, [1.0, 1.0])
    assert np.all(np.isinf(m.asa))
    np.testing.assert_array_equal(m.occupancy, [1.0, 1.0])


def test_overloaded_erlang_a_is_fine() -> None:
    m = ErlangA(10.0, 1.0, 2.0).metrics(5, 1.0)
    assert 0.0 < float(m.service_level) < 1.0
    assert float(m.abandon_rate) == pytest.approx(1 - float(m.answered_rate), rel=1e-12)
    assert float(m.abandon_rate) > 0.45  # at least the excess load abandons


@pytest.mark.parametrize(
    "model",
    [
        ErlangC(np.array([0.0, 0.05, 0.5, 5.0]), 300.0),
        ErlangA(np.array([0.0, 0.05, 0.5, 5.0]), 300.0, 120.0),
        ErlangX(np.array([0.0, 0.05, 0.5, 5.0]), 300.0, 120.0, lines=3000, redial_probability=0.2),
        Chat(np.array([0.0, 0.05, 0.5, 5.0]), [300.0, 360.0], patience=120.0),
    ],
    ids=["C", "A", "X", "chat"],
)
def test_required_agents_is_the_smallest_that_meets_the_targets(model: object) -> None:
    res = required_agents(model, service_level=0.8, threshold=20.0, asa=15.0)  # type: ignore[arg-type]
    assert res.feasible.all()
    assert res.agents[0] == 0  # zero volume needs zero agents
    n = res.agents
    ok = model.metrics(n, 20.0)  # type: ignore[attr-defined]
    assert np.all(ok.service_level >= 0.8 - 1e-12)
    assert np.all(ok.asa <= 15.0 + 1e-9)
    below = model.metrics(np.maximum(n - 1, 0), 20.0)  # type: ignore[attr-defined]
    fails = (below.service_level < 0.8) | (below.asa > 15.0)
    assert np.all(fails[1:])


def test_fractional_requirement_lies_between_whole_numbers() -> None:
    m = ErlangA(np.linspace(0.05, 3.0, 25), 240.0, 90.0)
    whole = required_agents(m, service_level=0.85, threshold=15.0).agents
    real = required_agents(m, service_level=0.85, threshold=15.0, integer=False)
    assert np.all(real.agents <= whole)
    assert np.all(real.agents > whole - 1)
    np.testing.assert_allclose(real.service_level, 0.85, atol=1e-7)
    assert np.all(np.diff(real.agents) > 0)  # smooth and increasing in volume


def test_occupancy_cap_and_shrinkage() -> None:
    m = ErlangC(100 / 1800, 180.0)
    res = required_agents(m, service_level=0.5, threshold=20.0, max_occupancy=0.6, shrinkage=0.35)
    assert float(res.agents) == math.ceil(10 / 0.6)
    assert float(res.occupancy) <= 0.6
    assert float(res.scheduled) == math.ceil(float(res.agents) / 0.65)


def test_unreachable_target_is_reported_infeasible() -> None:
    # two lines: blocking can never fall below the loss of a 2-line system
    m = ErlangX(1.0, 10.0, 30.0, lines=2)
    res = required_agents(m, max_blocking=0.01, max_agents=1000)
    assert not res.feasible.any()
    assert np.isnan(res.agents).all()


def test_max_arrival_rate_is_the_reverse_of_required_agents() -> None:
    m = ErlangA(1.0, 180.0, 120.0)
    agents = np.array([5.0, 14.0, 100.0])
    rate = max_arrival_rate(m, agents, service_level=0.8, threshold=20.0)
    at = ErlangA(rate, 180.0, 120.0).service_level(agents, 20.0)
    np.testing.assert_allclose(at, 0.8, atol=1e-7)
    need = required_agents(
        ErlangA(rate * 1.001, 180.0, 120.0), service_level=0.8, threshold=20.0
    ).agents
    np.testing.assert_array_equal(need, agents + 1)
