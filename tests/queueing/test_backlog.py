"""Backlog staffing for deferred work: deadlines kept, backlog carried, least peak."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactops.queueing import backlog_staffing
from contactops.queueing._backlog import _due_curve, _taut_string


def _week(per_hour: float = 40.0) -> tuple[np.ndarray, np.ndarray]:
    day_open = np.r_[np.zeros(8), np.ones(10), np.zeros(6)].astype(bool)
    is_open = np.tile(day_open, 7)
    is_open[5 * 24 :] = False  # closed at the weekend
    rng = np.random.default_rng(7)
    arrivals = rng.poisson(per_hour, 7 * 24).astype(float)  # email arrives around the clock
    return arrivals, is_open


def test_every_deadline_is_kept_and_nothing_is_lost() -> None:
    arrivals, is_open = _week()
    plan = backlog_staffing(
        arrivals,
        240.0,
        3600.0,
        deadline=24 * 3600,
        share=0.9,
        final_deadline=36 * 3600,
        open_intervals=is_open,
        opening_backlog=150,
    )
    assert np.all(plan.overdue == 0)
    assert np.all(plan.completed >= plan.due - 1e-6)
    assert np.all(plan.agents[~is_open] == 0)
    assert np.all(plan.agents == np.round(plan.agents))
    # books balance: arrived = completed + backlog, interval by interval
    arrived = 150 + np.cumsum(arrivals)
    np.testing.assert_allclose(plan.completed + plan.backlog, arrived, atol=1e-6)


def test_backlog_is_carried_over_closed_hours() -> None:
    arrivals, is_open = _week()
    plan = backlog_staffing(arrivals, 240.0, 3600.0, deadline=24 * 3600, open_intervals=is_open)
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
    long = backlog_staffing(np.full(5000, 30.0), 360.0, 3600.0, deadline=8 * 3600, integer=False)
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
    plan = backlog_staffing(
        np.full(8, 60.0), 360.0, 3600.0, deadline="end", opening_backlog=500, integer=False
    )
    np.testing.assert_allclose(plan.agents, (500 + 480) * 6 / 480)
    assert plan.closing_backlog == pytest.approx(0.0, abs=1e-9)


def _taut_string_quadratic(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The previous implementation, O(N^2) at worst: the reference for the funnel algorithm."""
    n = lower.size - 1
    s = np.empty(n + 1)
    s[0] = 0.0
    lo = lower.copy()
    hi = upper.copy()
    lo[0] = hi[0] = 0.0
    hi[n] = lo[n]
    k0, s0 = 0, 0.0
    while k0 < n:
        slope_lo, slope_hi = -math.inf, math.inf
        arg_lo = arg_hi = k0 + 1
        bent = False
        for j in range(k0 + 1, n + 1):
            d = j - k0
            new_lo = (lo[j] - s0) / d
            new_hi = (hi[j] - s0) / d
            if new_lo > slope_hi:
                bend, slope = arg_hi, slope_hi
                bent = True
                break
            if new_hi < slope_lo:
                bend, slope = arg_lo, slope_lo
                bent = True
                break
            if new_lo >= slope_lo:
                slope_lo, arg_lo = new_lo, j
            if new_hi <= slope_hi:
                slope_hi, arg_hi = new_hi, j
        if not bent:
            bend = n
            slope = (lo[n] - s0) / (n - k0)
        for j in range(k0 + 1, bend + 1):
            s[j] = s0 + slope * (j - k0)
        k0, s0 = bend, s[bend]
    return np.clip(s, lower, upper)


# small whole numbers make ties, collinear points and closed gates common
_levels = st.lists(st.integers(min_value=-20, max_value=20), min_size=2, max_size=60)


@given(base=_levels, gaps=_levels, scale=st.sampled_from([1.0, 0.37, 1e6]), monotone=st.booleans())
def test_taut_string_matches_the_quadratic_construction(
    base: list[int], gaps: list[int], scale: float, monotone: bool
) -> None:
    size = min(len(base), len(gaps))
    b = np.asarray(base[:size], dtype=float) * scale
    gap = np.abs(np.asarray(gaps[:size], dtype=float)) * scale
    gap[np.asarray(gaps[:size]) % 3 == 0] = 0.0  # closed gates
    if monotone:  # as in backlog staffing: what is due and what has arrived both grow
        b = np.cumsum(np.abs(b))
        gap = np.cumsum(gap)
    lower, upper = b, b + gap
    new = _taut_string(lower, upper)
    old = _taut_string_quadratic(lower, upper)
    np.testing.assert_allclose(new, old, rtol=1e-12, atol=1e-12 * scale * size)
    assert np.all((new >= lower) & (new <= upper))


def test_taut_string_is_linear_time_on_the_quadratic_worst_case() -> None:
    # the upper bound is convex and only the end point is high: the old construction
    # scanned to the end from every bend (N^2 / 2 steps); the string hugs the upper bound
    n = 100_000
    x = np.arange(n + 1, dtype=float)
    upper = x**2 / n
    lower = np.zeros(n + 1)
    lower[-1] = upper[-1]
    _taut_string(lower[:3], upper[:3])  # compile (or load the compiled kernel) first
    start = time.perf_counter()
    s = _taut_string(lower, upper)
    assert time.perf_counter() - start < 1.0
    np.testing.assert_allclose(s, upper, rtol=1e-12, atol=1e-9)


def _due_curve_matrix(
    work: np.ndarray,
    opening: float,
    opening_due: float,
    deadline: float,
    final: float,
    share: float,
) -> np.ndarray:
    """The previous implementation, an (N + 1) x N matrix: the reference for ``_due_curve``."""
    n = work.size
    k = np.arange(n + 1, dtype=np.float64)[:, None]
    start = np.arange(n, dtype=np.float64)[None, :]

    def ramp(d: float) -> np.ndarray:
        frac = np.clip(k - (start + d), 0.0, 1.0)
        mid = start[0] + 0.5
        pending = frac[n] < 1.0
        pro_rata = np.clip((n - mid) / max(d, 1e-12), 0.0, 1.0)
        frac[n] = np.where(pending, np.maximum(frac[n], pro_rata), frac[n])
        out: np.ndarray = frac @ work
        return out

    due = share * ramp(deadline) + (1.0 - share) * ramp(final)
    opening_frac = (k[:, 0] >= max(opening_due, 1e-9)).astype(np.float64)
    if opening_due > n:
        opening_frac[n] = n / opening_due
    result: np.ndarray = due + opening * opening_frac
    return result


@given(
    work=st.lists(st.floats(min_value=0.0, max_value=1e6), min_size=1, max_size=80),
    opening=st.floats(min_value=0.0, max_value=1e6),
    opening_due=st.floats(min_value=0.0, max_value=100.0),
    deadline=st.floats(min_value=1e-3, max_value=100.0),
    extra=st.floats(min_value=0.0, max_value=100.0),
    share=st.floats(min_value=1e-3, max_value=1.0),
)
def test_due_curve_matches_the_matrix_construction(
    work: list[float],
    opening: float,
    opening_due: float,
    deadline: float,
    extra: float,
    share: float,
) -> None:
    w = np.asarray(work)
    args = (opening, opening_due, deadline, deadline + extra, share)
    total = w.sum() + opening
    np.testing.assert_allclose(
        _due_curve(w, *args), _due_curve_matrix(w, *args), rtol=1e-12, atol=1e-12 * total
    )


def test_long_horizons_run_quickly() -> None:
    # 100,000 hourly intervals (11 years): the due curve and the taut string are O(N)
    n = 100_000
    rng = np.random.default_rng(5)
    arrivals = rng.poisson(40.0, n).astype(float)
    is_open = np.tile(np.r_[np.zeros(8), np.ones(10), np.zeros(6)].astype(bool), n // 24 + 1)[:n]
    kwargs = {
        "deadline": 24 * 3600,
        "share": 0.9,
        "final_deadline": 36 * 3600,
        "open_intervals": is_open,
        "opening_backlog": 150,
    }
    backlog_staffing(arrivals[:48], 240.0, 3600.0, **{**kwargs, "open_intervals": is_open[:48]})
    start = time.perf_counter()
    plan = backlog_staffing(arrivals, 240.0, 3600.0, **kwargs)
    assert time.perf_counter() - start < 2.0
    assert np.all(plan.overdue == 0)
    assert np.all(plan.agents[~is_open] == 0)
    np.testing.assert_allclose(
        plan.completed + plan.backlog, 150 + np.cumsum(arrivals), rtol=1e-12, atol=1e-6
    )
