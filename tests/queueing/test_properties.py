"""hypothesis properties over the whole domain: 1..20,000 agents, loads up to 20,000 Erlangs."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from contactops.queueing import SL_DEFINITIONS, Chat, ErlangA, ErlangC, ErlangX, erlang_b

loads = st.floats(min_value=1e-3, max_value=20_000.0, allow_nan=False)
ahts = st.floats(min_value=10.0, max_value=3_600.0)
patience_ratio = st.floats(min_value=0.05, max_value=20.0)  # patience / aht
agent_factor = st.floats(min_value=0.3, max_value=2.0)  # agents / load
thresholds = st.floats(min_value=0.0, max_value=600.0)
definitions = st.sampled_from(SL_DEFINITIONS)
ABS_ACCURACY = 1e-10


def _agents(load: float, factor: float) -> float:
    return float(np.clip(np.round(load * factor), 1, 20_000))


def _probabilities_ok(m: object) -> None:
    for name in (
        "service_level",
        "prob_wait",
        "prob_immediate",
        "abandon_rate",
        "blocking",
        "occupancy",
        "answered_rate",
    ):
        v = np.asarray(getattr(m, name))
        assert np.all(np.isfinite(v)), name
        assert np.all((v >= 0.0) & (v <= 1.0)), (name, v)


@given(load=loads, servers=st.floats(min_value=0.0, max_value=20_000.0))
def test_erlang_b_is_a_probability(load: float, servers: float) -> None:
    b = float(erlang_b(load, servers))
    assert 0.0 <= b <= 1.0
    assert float(erlang_b(load, servers + 1.0)) <= b


@given(load=loads, aht=ahts, factor=agent_factor, t=thresholds, d=definitions)
def test_erlang_c_monotone_in_agents(
    load: float, aht: float, factor: float, t: float, d: str
) -> None:
    n = _agents(load, factor)
    m = ErlangC(load / aht, aht)
    lo, hi = m.metrics(n, t, d), m.metrics(n + 1, t, d)
    _probabilities_ok(lo)
    _probabilities_ok(hi)
    assert hi.service_level >= lo.service_level
    assert hi.asa <= lo.asa
    assert hi.prob_wait <= lo.prob_wait
    if n > load:
        assert np.isfinite(lo.asa)


@given(load=loads, aht=ahts, ratio=patience_ratio, factor=agent_factor, t=thresholds, d=definitions)
def test_erlang_a_monotone_and_finite(
    load: float, aht: float, ratio: float, factor: float, t: float, d: str
) -> None:
    n = _agents(load, factor)
    m = ErlangA(load / aht, aht, ratio * aht)
    lo, hi = m.metrics(n, t, d), m.metrics(n + 1, t, d)
    _probabilities_ok(lo)
    _probabilities_ok(hi)
    # probabilities are exact to ~1e-12 absolute; deep in overload a service level of
    # 1e-12 can come out as 0, so monotonicity is checked to that absolute accuracy
    tol = ABS_ACCURACY
    assert hi.service_level >= lo.service_level - tol
    assert hi.mean_wait <= lo.mean_wait * (1 + 1e-12)
    assert hi.asa <= lo.asa * (1 + 1e-12)
    assert hi.abandon_rate <= lo.abandon_rate + tol
    for name in ("asa", "mean_wait", "mean_virtual_wait", "queue_length"):
        assert np.isfinite(getattr(lo, name)), name
    # the books balance: every contact is answered or abandons
    assert abs(float(lo.answered_rate + lo.abandon_rate) - 1.0) < 1e-9


@given(
    load=loads,
    aht=ahts,
    ratio=patience_ratio,
    factor=agent_factor,
    t1=thresholds,
    t2=thresholds,
    d=definitions,
)
def test_service_level_monotone_in_threshold(
    load: float, aht: float, ratio: float, factor: float, t1: float, t2: float, d: str
) -> None:
    n = _agents(load, factor)
    lo_t, hi_t = sorted((t1, t2))
    m = ErlangA(load / aht, aht, ratio * aht)
    assert m.service_level(n, hi_t, d) >= m.service_level(n, lo_t, d) - ABS_ACCURACY


@given(
    lam=st.floats(min_value=1e-3, max_value=2.0),
    aht=ahts,
    ratio=patience_ratio,
    n=st.integers(min_value=1, max_value=400),
    extra=st.integers(min_value=0, max_value=200),
    d=definitions,
)
def test_erlang_x_probabilities_and_more_lines_less_blocking(
    lam: float, aht: float, ratio: float, n: int, extra: int, d: str
) -> None:
    lines = n + extra
    m = ErlangX(lam, aht, ratio * aht, lines=lines)
    more = ErlangX(lam, aht, ratio * aht, lines=lines + 5)
    a, b = m.metrics(n, 20.0, d), more.metrics(n, 20.0, d)
    _probabilities_ok(a)
    assert b.blocking <= a.blocking + 1e-15
    total = float(a.answered_rate + a.abandon_rate + a.blocking)
    assert abs(total - 1.0) < 1e-9


@given(
    lam=st.floats(min_value=1e-3, max_value=1.0),
    ahts_=st.lists(st.floats(min_value=30.0, max_value=900.0), min_size=1, max_size=4),
    ratio=patience_ratio,
    n=st.integers(min_value=1, max_value=60),
    d=definitions,
)
def test_chat_probabilities_and_monotone(
    lam: float, ahts_: list[float], ratio: float, n: int, d: str
) -> None:
    ahts_sorted = sorted(ahts_)  # handle time stretches with concurrency
    m = Chat(lam, ahts_sorted, patience=ratio * ahts_sorted[0])
    lo, hi = m.metrics(n, 30.0, d), m.metrics(n + 1, 30.0, d)
    _probabilities_ok(lo)
    assert hi.service_level >= lo.service_level - 1e-12
    assert hi.abandon_rate <= lo.abandon_rate + 1e-12
