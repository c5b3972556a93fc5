"""Every case of ../shared/reference/queueing_cases.json, at its stated tolerance.

The file holds published values (CRAN ErlangC, CCmath, Wolfram, TU Clausthal,
GNU Octave queueing, pyworkforce) and high-precision mpmath values.  Published
values are checked at the file's tolerance; the mpmath values, which carry
full precision, are also checked at a tight 1e-9 relative tolerance.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from contactops.queueing import (
    Chat,
    ErlangA,
    ErlangC,
    ErlangX,
    backlog_staffing,
    erlang_b,
    erlang_b_servers,
    required_agents,
)
from tests.conftest import SHARED, shared_file

if TYPE_CHECKING:
    from collections.abc import Callable

UNIT = {"second": 1.0, "any": 1.0, "minute": 60.0, "hour": 3600.0}


def _cases() -> list[dict[str, Any]]:
    path = SHARED / "reference" / "queueing_cases.json"
    if not path.exists():
        return [{"id": "reference-file-missing", "model": "missing"}]
    return list(json.loads(path.read_text()))


CASES = _cases()


def _close(name: str, ours: float, expected: float, tol: dict[str, Any]) -> None:
    abs_tol = float(tol.get(f"{name}_abs", tol.get("abs", 0.0)))
    rel_tol = float(tol.get("rel", 0.0))
    assert math.isfinite(ours), f"{name}: got {ours}"
    assert abs(ours - expected) <= abs_tol + rel_tol * abs(expected), (
        f"{name}: ours {ours!r}, expected {expected!r} (abs {abs_tol}, rel {rel_tol})"
    )


def _erlang_inputs(inp: dict[str, Any]) -> tuple[float, float, float, float]:
    """(arrival rate /s, aht s, unit factor, threshold s) from a case's inputs."""
    f = UNIT[inp.get("time_unit", "any")]
    if "offered_load_erlangs" in inp:
        return float(inp["offered_load_erlangs"]), 1.0, 1.0, 0.0
    lam = float(inp["arrival_rate"]) / f
    aht = float(inp.get("aht", inp.get("aht_by_concurrency", [1.0])[-1])) * f
    thr = float(inp.get("threshold") or 0.0) * f
    return lam, aht, f, thr


def _erlang_b_values(case: dict[str, Any]) -> dict[str, Callable[[], float]]:
    inp = case["inputs"]
    load = float(inp["offered_load_erlangs"])
    out: dict[str, Callable[[], float]] = {}
    if "servers" in inp:
        out["blocking_probability"] = lambda: float(erlang_b(load, inp["servers"]))
    if "max_blocking" in inp:
        out["required_servers"] = lambda: float(erlang_b_servers(load, inp["max_blocking"]))
        out["blocking_at_16"] = lambda: float(erlang_b(load, 16))
        out["blocking_at_17"] = lambda: float(erlang_b(load, 17))
    return out


def _queue_values(case: dict[str, Any]) -> dict[str, Callable[[], float]]:
    inp = case["inputs"]
    lam, aht, f, thr = _erlang_inputs(inp)
    kind = case["model"]
    patience = inp.get("patience")
    pat_s = None if patience is None else float(patience) * f
    lines = inp.get("lines")
    if kind == "erlang_c":
        model: Any = ErlangC(lam, aht)
    elif kind == "erlang_a":
        model = ErlangA(lam, aht, pat_s)
    elif kind == "erlang_x":
        model = ErlangX(
            lam, aht, pat_s, lines=lines, redial_probability=float(inp.get("retrials") or 0.0)
        )
    else:
        model = Chat(
            lam,
            [float(a) * f for a in inp["aht_by_concurrency"]],
            max_concurrency=int(inp["max_concurrency"]),
            patience=pat_s,
            lines=lines,
        )
    n = inp.get("agents")

    def metric(attr: str, scale: float = 1.0, definition: str | None = None) -> Callable[[], float]:
        def get() -> float:
            kwargs = {"definition": definition} if definition else {}
            return float(getattr(model.metrics(n, thr, **kwargs), attr)) / scale

        return get

    def p0() -> float:
        load = lam * aht
        below = sum(load**k / math.factorial(k) for k in range(int(n)))
        return float(model.metrics(n, thr).prob_immediate) / below

    def staffed(attr: str) -> Callable[[], float]:
        def get() -> float:
            targets: dict[str, Any] = {}
            if "target_service_level" in inp:
                targets.update(service_level=inp["target_service_level"], threshold=thr)
            if "max_occupancy" in inp:
                targets["max_occupancy"] = inp["max_occupancy"]
            if "max_wait_probability" in inp:
                targets["max_wait_probability"] = inp["max_wait_probability"]
            res = required_agents(model, shrinkage=inp.get("shrinkage", 0.0), **targets)
            return float(getattr(res, attr))

        return get

    admitted_w = metric("mean_wait", f)
    values: dict[str, Callable[[], float]] = {
        "traffic_intensity": lambda: lam * aht,
        "wait_probability": metric("prob_wait"),
        "immediate_answer_probability": metric("prob_immediate"),
        "service_level": metric(
            "service_level", definition="virtual" if kind == "erlang_x" else None
        ),
        "service_level(=P(V<=t))": metric("service_level", definition="virtual"),
        "asa_seconds": metric("asa"),
        "asa": metric("mean_virtual_wait" if kind == "erlang_x" else "asa", f),
        "asa(=E[V])": metric("mean_virtual_wait", f),
        "asa_virtual": metric("mean_virtual_wait", f),
        "mean_virtual_wait": metric("mean_virtual_wait", f),
        "asa_answered": metric("asa", f),
        "occupancy": metric("occupancy"),
        "occupancy(busy slots/(n*m))": metric("occupancy"),
        "abandon_probability": metric("abandon_rate"),
        "blocking_probability": metric("blocking"),
        "mean_queue_length": metric("queue_length"),
        "mean_wait_all": metric("mean_wait", f),
        "mean_wait_all_seconds": metric("mean_wait"),
        "mean_wait_admitted": admitted_w,
        "mean_response_time": lambda: admitted_w() + aht / f,
        "mean_in_system": lambda: lam * (1 - metric("blocking")()) * (admitted_w() * f + aht),
        "p0": p0,
        "required_agents": staffed("agents"),
        "scheduled_positions_with_shrinkage": staffed("scheduled"),
        "service_level_at_required": staffed("service_level"),
        "occupancy_at_required": staffed("occupancy"),
        "wait_probability_at_5": lambda: float(model.prob_wait(5)),
        "wait_probability_at_6": lambda: float(model.prob_wait(6)),
    }
    for d in (
        "answered_within_t_over_offered",
        "answered_within_t_over_answered",
        "excl_abandon_before_t",
        "wait_le_t",
        "virtual",
    ):
        values[f"sl_{d}"] = metric("service_level", definition=d)
    return values


def _backlog_values(case: dict[str, Any]) -> dict[str, Callable[[], float]]:
    inp = case["inputs"]
    hours = int(inp["window_hours"])
    arrivals = np.full(hours, float(inp["arrival_rate_per_hour"]))
    aht = float(inp["aht_minutes"]) * 60.0
    kwargs = {"deadline": "end", "opening_backlog": float(inp["opening_backlog"])}
    raw = backlog_staffing(arrivals, aht, 3600.0, integer=False, **kwargs)
    whole = backlog_staffing(arrivals, aht, 3600.0, integer=True, **kwargs)
    assert np.ptp(raw.agents) < 1e-9, "constant staffing expected for a constant corridor"
    assert np.all(whole.overdue == 0)
    return {
        "workload_minutes": lambda: float(raw.workload.sum()) / 60.0,
        "agents_raw": lambda: float(raw.agents.max()),
        "agents_rounded_up": lambda: float(whole.agents.max()),
    }


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_reference_case(case: dict[str, Any]) -> None:
    shared_file("reference/queueing_cases.json")
    kind = case["model"]
    if kind == "erlang_b":
        values = _erlang_b_values(case)
    elif kind == "backlog":
        values = _backlog_values(case)
    else:
        values = _queue_values(case)
    tol = case["tolerance"]
    for name, expected in case["expected"].items():
        _close(name, values[name](), float(expected), tol)
    tight = {"rel": 1e-9, "abs": 1e-12}
    for name, expected in case.get("mpmath", {}).items():
        _close(name, values[name](), float(expected), tight)
