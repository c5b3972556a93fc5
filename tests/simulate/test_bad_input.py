"""Scenario errors name the path, the value and the rule; nothing starts."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest

from contactops.errors import InvalidParameterError
from contactops.simulate import AgentGroup, Center, Queue, load_center, simulate, simulate_queue

if TYPE_CHECKING:
    from pathlib import Path

GOOD: dict[str, Any] = {
    "interval": "30m",
    "queues": [
        {"name": "sales", "arrival_rate": 0.05, "handle_time": 300, "patience": 120},
        {
            "name": "billing",
            "volume": [30] * 48,
            "handle_time": {"dist": "lognormal", "mean": 300, "sd": 200},
        },
        {"name": "chat", "arrival_rate": 0.02, "handle_time": 600, "channel": "chat"},
    ],
    "groups": [
        {"name": "a", "staffing": 20, "skills": ["sales", "billing"]},
        {"name": "c", "staffing": [5] * 48, "skills": {"chat": 1}, "concurrency": 2},
    ],
}


def _with(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(GOOD)
    node: Any = data
    keys = path.replace("]", "").replace("[", ".").split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node[key]
    last = keys[-1]
    if value is KeyError:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return data


def test_good_scenario_loads() -> None:
    center = load_center(GOOD)
    assert [q.name for q in center.queues] == ["sales", "billing", "chat"]


@pytest.mark.parametrize(
    ("path", "value", "named", "rule"),
    [
        (
            "queues.2.patience",
            {"dist": "lognormal", "mean": -5, "sd": 10},
            "queues[2].patience.mean",
            "> 0",
        ),
        ("queues.0.arrival_rate", -0.1, "queues[0].arrival_rate", ">= 0"),
        ("queues.1.volume", [30] * 47, "queues[1].volume", "one per interval"),
        ("groups.1.staffing", [5] * 47, "groups[1].staffing", "one per interval"),
        ("groups.0.skills", ["sales", "support"], "groups[0].skills[1]", "the name of a queue"),
        ("groups.1.skills", {"chatt": 1}, "groups[1].skills.chatt", "the name of a queue"),
        (
            "queues.1.handle_time",
            {"dist": "weibull", "mean": 3},
            "queues[1].handle_time.dist",
            "one of",
        ),
        ("queues.0.redial_probability", 1.5, "queues[0].redial_probability", "probability"),
        (
            "queues.0.transfers",
            {"nowhere": 0.1},
            "queues[0].transfers.nowhere",
            "the name of a queue",
        ),
        (
            "queues.0.transfers",
            {"billing": 0.7, "chat": 0.6},
            "queues[0].transfers",
            "summing to at most 1",
        ),
        ("groups.1.concurrency", 0, "groups[1].concurrency", "from 1 to 64"),
        ("groups.0.staffing", 2.5, "groups[0].staffing", "whole numbers"),
        ("queues.0.handle_tme", 300, "queues[0].handle_tme", "a known field"),
        (
            "queues.0.bot",
            {"share": 0.5, "escalate_to": "nobody"},
            "queues[0].bot.escalate_to",
            "the name of a queue",
        ),
        (
            "queues.0.bot",
            {"share": 0.5, "confidence": {"dist": "exponential", "mean": 1}},
            "queues[0].bot.confidence.dist",
            "beta, uniform",
        ),
        ("groups.1.stretch", [1.0], "groups[1].stretch", "2 positive multipliers"),
        ("queues.2.channel", "fax", "queues[2].channel", "one of"),
        (
            "groups.0.shifts",
            [{"start": "10:00", "end": "09:00", "agents": 3}],
            "groups[0].shifts[0].end",
            "after start",
        ),
        (
            "groups.0.shifts",
            [{"start": "10:00", "end": "12:00", "agents": -3}],
            "groups[0].shifts[0].agents",
            "a whole number",
        ),
        ("groups.0.shifts", [{"start": "10:00", "agents": 3}], "groups[0].shifts[0].end", "given"),
    ],
)
def test_errors_name_the_yaml_path(path: str, value: Any, named: str, rule: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        load_center(_with(path, value))
    assert info.value.name == named
    assert rule in str(info.value)


@pytest.mark.parametrize(
    ("scenario", "named"),
    [
        (
            {"volume": [{"queue": "nope", "start": 0, "end": 3600, "factor": 2}]},
            "scenario.volume[0].queue",
        ),
        (
            {"volume": [{"queue": "sales", "start": "10:10", "end": "11:00", "factor": 2}]},
            "scenario.volume[0].start",
        ),
        ({"outages": [{"group": "zz", "start": 0, "end": 60}]}, "scenario.outages[0].group"),
        ({"outages": [{"group": "a", "start": 600, "end": 60}]}, "scenario.outages[0].end"),
        ({"reassign": [{"from": "a", "to": "c", "agents": -1}]}, "scenario.reassign[0].agents"),
        ({"absenteeism": [{"group": "a", "share": 2}]}, "scenario.absenteeism[0].share"),
    ],
)
def test_scenario_errors(scenario: dict[str, Any], named: str) -> None:
    data = copy.deepcopy(GOOD)
    data["scenario"] = scenario
    with pytest.raises(InvalidParameterError) as info:
        load_center(data)
    assert info.value.name == named


def test_yaml_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("queues: [\n", encoding="utf-8")
    with pytest.raises(InvalidParameterError, match="valid YAML"):
        load_center(bad)
    with pytest.raises(InvalidParameterError, match="an existing file"):
        load_center(tmp_path / "missing.yaml")


def test_unserved_queue_is_an_error() -> None:
    center = Center(
        queues=[Queue("a", arrival_rate=0.1), Queue("b", arrival_rate=0.1)],
        groups=[AgentGroup("g", 5, ["a"])],
    )
    with pytest.raises(InvalidParameterError, match="served by at least one group"):
        simulate(center, days=1)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"seed": -1}, "seed"),
        ({"replications": 0}, "replications"),
        ({"warmup": -5.0}, "warmup"),
        ({"days": 0}, "days"),
    ],
)
def test_run_arguments(kwargs: dict[str, Any], name: str) -> None:
    center = load_center(GOOD)
    with pytest.raises(InvalidParameterError) as info:
        simulate(center, **kwargs)
    assert info.value.name == name


def test_simulate_queue_arguments() -> None:
    with pytest.raises(InvalidParameterError, match="arrival_rate"):
        simulate_queue(0.0, 300, 10)
    with pytest.raises(InvalidParameterError, match="service"):
        simulate_queue(0.1, 300, 10, service="weibull")
    sim = simulate_queue(0.01, 300, 10, n_contacts=2000, seed=1)
    with pytest.raises(InvalidParameterError, match="whole number of seconds"):
        sim.service_level(20.5)
    with pytest.raises(InvalidParameterError, match="observable in a simulation"):
        sim.service_level(20, "virtual")
