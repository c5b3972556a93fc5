"""Bad input gets a ValueError naming the parameter, the value and the allowed range."""

from __future__ import annotations

import math

import numpy as np
import pytest

from contactops.errors import InvalidParameterError
from contactops.queueing import (
    Chat,
    ErlangA,
    ErlangC,
    ErlangX,
    backlog_staffing,
    erlang_b,
    required_agents,
)


@pytest.mark.parametrize(
    ("call", "name", "value"),
    [
        (lambda: ErlangC(-1.0, 180), "arrival_rate", "-1.0"),
        (lambda: ErlangC(math.nan, 180), "arrival_rate", "nan"),
        (lambda: ErlangC(1.0, 0.0), "aht", "0.0"),
        (lambda: ErlangC([1.0, math.inf], 180), "arrival_rate[1]", "inf"),
        (lambda: ErlangA(1.0, 180, -5), "patience", "-5.0"),
        (lambda: ErlangA(1.0, 180, None), "patience", "None"),
        (lambda: ErlangX(1.0, 180, 60, lines=0), "lines", "0.0"),
        (lambda: ErlangX(1.0, 180, 60, lines=2.5), "lines", "2.5"),
        (lambda: ErlangX(1.0, 180, 60, redial_probability=1.0), "redial_probability", "1.0"),
        (lambda: Chat(1.0, [180, 200], max_concurrency=3), "aht_by_concurrency", "[180.0, 200.0]"),
        (lambda: Chat(1.0, [180], max_concurrency=0), "max_concurrency", "0"),
        (lambda: erlang_b(-2, 3), "load", "-2.0"),
        (lambda: ErlangC(1.0, 180).service_level(-1, 20), "agents", "-1.0"),
        (lambda: ErlangC(1.0, 180).service_level(10, -20), "threshold", "-20.0"),
        (lambda: ErlangC(1.0, 180).service_level(10, 20, "bogus"), "definition", "'bogus'"),
        (
            lambda: required_agents(ErlangC(1.0, 180), service_level=1.2, threshold=20),
            "service_level",
            "1.2",
        ),
        (
            lambda: required_agents(ErlangC(1.0, 180), service_level=0.0, threshold=20),
            "service_level",
            "0.0",
        ),
        (lambda: required_agents(ErlangC(1.0, 180), service_level=0.8), "threshold", "None"),
        (lambda: required_agents(ErlangC(1.0, 180)), "targets", "'none'"),
        (
            lambda: required_agents(
                ErlangC(1.0, 180), service_level=0.8, threshold=20, shrinkage=1.0
            ),
            "shrinkage",
            "1.0",
        ),
        (
            lambda: required_agents(
                ErlangC(1.0, 180), service_level=0.8, threshold=20, max_agents=-1
            ),
            "max_agents",
            "-1.0",
        ),
        (
            lambda: required_agents(
                ErlangC(1.0, 180), service_level=0.8, threshold=20, max_agents=math.nan
            ),
            "max_agents",
            "nan",
        ),
        (lambda: backlog_staffing([1, -1], 300, 1800, deadline=3600), "arrivals[1]", "-1.0"),
        (
            lambda: backlog_staffing([1, 1], 300, 1800, deadline=3600, open_intervals=[True]),
            "open_intervals",
            "(1,)",
        ),
    ],
)
def test_bad_input_names_field_value_and_rule(call: object, name: str, value: str) -> None:
    with pytest.raises(ValueError, match="must be") as info:
        call()  # type: ignore[operator]
    err = info.value
    assert isinstance(err, InvalidParameterError)
    assert err.name == name
    message = str(err)
    assert message.startswith(f"{name} must be ")
    assert f"got {value}" in message


def test_shapes_that_do_not_broadcast_are_named() -> None:
    with pytest.raises(InvalidParameterError, match=r"arrival_rate\(3,\).*aht\(2,\)"):
        ErlangC(np.ones(3), np.ones(2) * 180)
    with pytest.raises(InvalidParameterError, match=r"agents\(4,\)"):
        ErlangC(np.ones(3), 180).metrics(np.ones(4), 20)


def test_range_is_in_the_message() -> None:
    with pytest.raises(InvalidParameterError, match=r"in \(0, 1\)"):
        required_agents(ErlangC(1.0, 180), service_level=1.5, threshold=20)


def test_zero_volume_needs_zero_agents_not_an_error() -> None:
    res = required_agents(ErlangA([0.0, 0.0], 180, 60), service_level=0.9, threshold=10)
    np.testing.assert_array_equal(res.agents, [0.0, 0.0])
    np.testing.assert_array_equal(res.service_level, [1.0, 1.0])
