"""The compiled staffing searches give exactly what the generic search gives.

``_staff(..., compiled=False)`` forces the generic search (galloping and
bisection over numpy arrays); ``compiled=True`` (what ``required_agents``
uses) takes the compiled Erlang C recursion or the compiled M/M/n+M secant
search where they apply.  Same agent counts, same feasibility, cap included.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactops.queueing import (
    SL_DEFINITIONS,
    ErlangA,
    ErlangC,
    ErlangX,
    StaffingResult,
    Targets,
    required_agents,
)
from contactops.queueing._staffing import _plain_erlang_a, _staff

if TYPE_CHECKING:
    from contactops.queueing._base import QueueModel


def _solve(
    model: QueueModel,
    *,
    compiled: bool,
    integer: bool = True,
    max_agents: float = 1_000_000.0,
    **targets: Any,
) -> StaffingResult:
    return _staff(
        model,
        Targets.build(**targets),
        np.zeros(()),
        integer=integer,
        max_agents=max_agents,
        compiled=compiled,
    )


def _assert_same(fast: StaffingResult, generic: StaffingResult) -> None:
    np.testing.assert_array_equal(fast.feasible, generic.feasible)
    np.testing.assert_array_equal(fast.agents, generic.agents)  # NaN where infeasible


def _loads(rng: np.random.Generator, size: int) -> np.ndarray:
    """Uniform and lognormal loads, and the edges: none, almost none, 20,000 Erlangs."""
    return np.r_[
        rng.uniform(0.01, 2000.0, size),
        rng.lognormal(1.0, 2.0, size).clip(0.01, 2e4),
        0.0,
        1e-6,
        20_000.0,
    ]


ERLANG_C_TARGETS = [
    {"service_level": 0.8, "threshold": 20.0},
    {"service_level": 0.95, "threshold": 0.0},
    {"service_level": 0.9, "threshold": 10.0, "asa": 15.0, "max_occupancy": 0.85},
    {"max_wait_probability": 0.1},
    {"asa": 5.0},
]


@pytest.mark.parametrize("targets", ERLANG_C_TARGETS)
def test_fast_erlang_c_equals_generic_search(targets: dict[str, float]) -> None:
    rng = np.random.default_rng(11)
    load = _loads(rng, 3000)
    aht = rng.uniform(30.0, 900.0, load.size)
    model = ErlangC(load / aht, aht)
    fast = _solve(model, compiled=True, **targets)  # compiled upward recursion
    generic = _solve(model, compiled=False, **targets)  # galloping + bisection
    _assert_same(fast, generic)
    assert fast.feasible.all()
    np.testing.assert_array_equal(required_agents(model, **targets).agents, fast.agents)


ERLANG_A_TARGETS = [
    {"service_level": 0.8, "threshold": 20.0},
    {"service_level": 0.95, "threshold": 0.0},
    {"service_level": 0.99, "threshold": 300.0},
    {"asa": 15.0},
    {"max_abandon": 0.05},
    {"max_abandon": 0.001, "service_level": 0.5, "threshold": 5.0},
    {"max_wait_probability": 0.2},
    {"max_occupancy": 0.85},
    {
        "service_level": 0.9,
        "threshold": 10.0,
        "asa": 30.0,
        "max_occupancy": 0.85,
        "max_blocking": 0.01,
    },
    *({"service_level": 0.8, "threshold": 60.0, "definition": d} for d in SL_DEFINITIONS),
]


@pytest.mark.parametrize("targets", ERLANG_A_TARGETS)
def test_fast_erlang_a_equals_generic_search(targets: dict[str, Any]) -> None:
    rng = np.random.default_rng(12)
    load = _loads(rng, 1500)
    aht = rng.uniform(30.0, 900.0, load.size)
    # patience from 1/20 to 20 handle times, and a few fixed extremes
    patience = aht * np.exp(rng.uniform(math.log(0.05), math.log(20.0), load.size))
    patience[:4] = [1.0, 120.0, 1e4, 1e5]
    model = ErlangA(load / aht, aht, patience)
    fast = _solve(model, compiled=True, **targets)  # compiled secant search
    generic = _solve(model, compiled=False, **targets)  # galloping + bisection
    _assert_same(fast, generic)
    assert fast.feasible.all()
    np.testing.assert_array_equal(required_agents(model, **targets).agents, fast.agents)


@pytest.mark.parametrize("patience", [30.0, 300.0, None])
def test_fast_erlang_x_without_lines_or_redials_equals_generic(patience: float | None) -> None:
    rng = np.random.default_rng(13)
    load = _loads(rng, 500)
    aht = rng.uniform(30.0, 900.0, load.size)
    model = ErlangX(load / aht, aht, patience)  # patience None: M/M/n by the A/X kernel
    targets = {"service_level": 0.8, "threshold": 20.0, "max_occupancy": 0.9}
    _assert_same(_solve(model, compiled=True, **targets), _solve(model, compiled=False, **targets))


@pytest.mark.parametrize(
    "targets",
    [
        {"service_level": 0.8, "threshold": 20.0},
        {"max_abandon": 0.03, "asa": 20.0},
        {"max_occupancy": 0.9, "definition": "virtual", "service_level": 0.7, "threshold": 30.0},
    ],
)
def test_fast_erlang_a_real_valued_staff_equals_generic(targets: dict[str, Any]) -> None:
    rng = np.random.default_rng(14)
    load = _loads(rng, 300)
    aht = rng.uniform(30.0, 900.0, load.size)
    patience = aht * np.exp(rng.uniform(math.log(0.05), math.log(20.0), load.size))
    model = ErlangA(load / aht, aht, patience)
    fast = _solve(model, compiled=True, integer=False, **targets)
    generic = _solve(model, compiled=False, integer=False, **targets)
    _assert_same(fast, generic)
    assert np.any(fast.agents != np.round(fast.agents))


@pytest.mark.parametrize("max_agents", [0.0, 0.5, 1.0, 3.0, 17.0, 17.5, 250.0])
@pytest.mark.parametrize("integer", [True, False])
def test_compiled_searches_respect_max_agents_like_the_generic(
    max_agents: float, integer: bool
) -> None:
    rng = np.random.default_rng(15)
    load = np.r_[rng.lognormal(2.0, 1.5, 400).clip(0.01, 2e4), 0.0, 1e-6, 20_000.0]
    aht = rng.uniform(30.0, 900.0, load.size)
    patience = aht * np.exp(rng.uniform(math.log(0.05), math.log(20.0), load.size))
    models: list[tuple[QueueModel, dict[str, Any]]] = [
        (
            ErlangA(load / aht, aht, patience),
            {"service_level": 0.8, "threshold": 20.0, "max_abandon": 0.05},
        ),
        (ErlangX(load / aht, aht), {"service_level": 0.8, "threshold": 20.0}),
    ]
    if integer:  # the compiled Erlang C path is for whole agents
        models.append(
            (
                ErlangC(load / aht, aht),
                {"service_level": 0.8, "threshold": 20.0, "max_occupancy": 0.85},
            )
        )
    for model, targets in models:
        fast = _solve(model, compiled=True, integer=integer, max_agents=max_agents, **targets)
        generic = _solve(model, compiled=False, integer=integer, max_agents=max_agents, **targets)
        _assert_same(fast, generic)
        cap = math.floor(max_agents) if integer else max_agents
        assert np.all(fast.agents[fast.feasible] <= cap)
        if max_agents < 250.0:
            assert not fast.feasible.all()  # the cap binds somewhere
        # zero demand needs zero agents whatever the cap
        assert fast.agents[-3] == 0.0


# caps below 1e-16 agents are left out: there the generic search's ``hi - (-1)`` rounds to 1
@given(
    load=st.floats(min_value=0.0, max_value=20_000.0),
    aht=st.floats(min_value=10.0, max_value=3600.0),
    ratio=st.floats(min_value=0.05, max_value=20.0),
    sl=st.floats(min_value=0.05, max_value=0.999),
    t=st.floats(min_value=0.0, max_value=600.0),
    d=st.sampled_from(SL_DEFINITIONS),
    abandon=st.one_of(st.none(), st.floats(min_value=1e-4, max_value=0.5)),
    cap=st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=30_000.0)),
    integer=st.booleans(),
)
def test_fast_erlang_a_equals_generic_anywhere(
    load: float,
    aht: float,
    ratio: float,
    sl: float,
    t: float,
    d: str,
    abandon: float | None,
    cap: float,
    integer: bool,
) -> None:
    model = ErlangA(load / aht, aht, ratio * aht)
    targets = {"service_level": sl, "threshold": t, "definition": d, "max_abandon": abandon}
    _assert_same(
        _solve(model, compiled=True, integer=integer, max_agents=cap, **targets),
        _solve(model, compiled=False, integer=integer, max_agents=cap, **targets),
    )


def test_plain_erlang_a_is_recognised() -> None:
    def flat(model: QueueModel) -> dict[str, np.ndarray]:
        return {name: np.atleast_1d(v) for name, v in model._params().items()}

    assert _plain_erlang_a(ErlangA(1.0, 180.0, 60.0), flat(ErlangA(1.0, 180.0, 60.0)))
    assert _plain_erlang_a(ErlangX(1.0, 180.0), flat(ErlangX(1.0, 180.0)))
    lines = ErlangX(1.0, 180.0, 60.0, lines=[20, np.inf])
    assert not _plain_erlang_a(lines, flat(lines))
    redials = ErlangX(1.0, 180.0, 60.0, redial_probability=[0.0, 0.2])
    assert not _plain_erlang_a(redials, flat(redials))
    assert not _plain_erlang_a(ErlangC(1.0, 180.0), flat(ErlangC(1.0, 180.0)))
