"""The compiled Erlang C staffing path gives exactly what the generic search gives."""

from __future__ import annotations

import numpy as np
import pytest

from contactops.queueing import ErlangC, required_agents


@pytest.mark.parametrize("targets", [
    {"service_level": 0.8, "threshold": 20.0},
    {"service_level": 0.95, "threshold": 0.0},
    {"service_level": 0.9, "threshold": 10.0, "asa": 15.0, "max_occupancy": 0.85},
    {"max_wait_probability": 0.1},
    {"asa": 5.0},
])
def test_fast_erlang_c_equals_generic_search(targets: dict[str, float]) -> None:
    rng = np.random.default_rng(11)
    load = np.r_[rng.uniform(0.01, 2000.0, 3000), rng.lognormal(1.0, 2.0, 3000).clip(0.01, 2e4),
                 0.0, 1e-6, 20_000.0]
    aht = rng.uniform(30.0, 900.0, load.size)
    model = ErlangC(load / aht, aht)
    fast = required_agents(model, **targets)  # compiled upward recursion
    generic = required_agents(model, max_agents=999_999.0, **targets)  # galloping + bisection
    np.testing.assert_array_equal(fast.agents, generic.agents)
    assert fast.feasible.all()
