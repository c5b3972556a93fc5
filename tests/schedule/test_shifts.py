"""schedule_shifts: known optima, midnight and the week boundary, breaks, partial coverage."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from contactops.errors import InvalidParameterError
from contactops.queueing import ErlangC, required_agents
from contactops.schedule import (
    Break,
    Costs,
    ScheduleWarning,
    ShiftRules,
    ShiftTemplate,
    schedule_shifts,
)
from contactops.schedule import _shifts as shifts_module

H = 3600.0


def day(values: dict[tuple[int, int], float], per_day: int = 24, days: int = 1) -> np.ndarray:
    """``(days, per_day)`` requirement with ``values[(start, end)] = agents`` on every day."""
    need = np.zeros((days, per_day))
    for (a, b), v in values.items():
        need[:, a:b] = v
    return need


def brute_force(
    need: np.ndarray,
    lengths: list[int],
    starts: list[int],
    costs: Costs,
    interval_h: float,
    top: int,
) -> float:
    """The cheapest schedule by enumerating every count 0..top of every (length, start).

    Written apart from the package: coverage by plain loops, no breaks, no wrap.
    """
    kinds = [(ln, s) for ln in lengths for s in starts]
    best = math.inf
    for counts in itertools.product(range(top + 1), repeat=len(kinds)):
        cov = np.zeros(need.size)
        paid = 0.0
        for (ln, s), n in zip(kinds, counts, strict=True):
            cov[s : s + ln] += n
            paid += n * ln * interval_h
        short = np.maximum(need.ravel() - cov, 0).sum()
        over = np.maximum(cov - need.ravel(), 0).sum()
        best = min(
            best,
            paid * costs.paid_hour
            + short * costs.short * interval_h
            + over * costs.over * interval_h,
        )
    return best


def test_exact_cover_one_day() -> None:
    need = day({(8, 16): 3})
    s = schedule_shifts(need, [ShiftTemplate("day", 8 * H, [8 * H])], time_limit=10, workers=1)
    assert s.shift_count == 3
    assert s.paid_hours == 24.0
    assert s.short_total == 0
    assert s.over_total == 0
    assert s.gap == pytest.approx(0.0, abs=1e-9)
    assert s.coverage.shape == need.shape
    np.testing.assert_array_equal(s.coverage, need)
    table = s.shifts
    assert table.column("agents").to_pylist() == [3]
    assert table.column("start_time").to_pylist() == ["08:00"]
    assert table.column("end_time").to_pylist() == ["16:00"]


@pytest.mark.parametrize("costs", [Costs(short=4.0, over=0.1), Costs(short=0.6, over=0.3)])
def test_known_optimum_by_enumeration(costs: Costs) -> None:
    # 12 two-hour intervals; shifts of 4 or 6 intervals at four starts
    need = np.array([[0, 1, 2, 3, 3, 2, 2, 3, 1, 1, 0, 0]], dtype=float)
    starts = [0, 1, 3, 6]
    templates = [ShiftTemplate(f"{n}x2h", n * 2 * H, [s * 2 * H for s in starts]) for n in (4, 6)]
    expected = brute_force(need, [4, 6], starts, costs, 2.0, top=3)
    s = schedule_shifts(need, templates, costs=costs, time_limit=20, workers=1)
    assert s.status == "optimal"
    assert s.objective == pytest.approx(expected, rel=1e-9)
    assert s.lower_bound <= s.objective + 1e-9
    # the reported parts add up and match the coverage
    assert s.cost["paid_cost"] + s.cost["short_cost"] + s.cost["over_cost"] == pytest.approx(
        s.objective
    )
    assert s.cost["short_cost"] == pytest.approx(s.short_total * costs.short * 2.0)


def test_night_shift_crosses_midnight_and_the_week_boundary() -> None:
    per_day = 24
    need = np.zeros((7, per_day))
    need[6, 22:] = 2  # Sunday 22-24
    need[0, :6] = 2  # Monday 00-06: covered by Sunday's night shift only if the week wraps
    need[1, 22:] = 1  # Tuesday 22-24 and Wednesday 00-06: a night inside the week
    need[2, :6] = 1
    night = ShiftTemplate("night", 8 * H, [22 * H], days=[1, 6])
    wrapped = schedule_shifts(need, [night], ShiftRules(wrap=True), time_limit=10, workers=1)
    assert wrapped.short_total == 0
    assert wrapped.over_total == 0
    assert wrapped.shift_count == 3
    rows = sorted(wrapped.shifts.to_pylist(), key=lambda r: r["day"])
    assert [(r["weekday"], r["start_time"], r["end_time"], r["agents"]) for r in rows] == [
        ("Tue", "22:00", "06:00", 1),
        ("Sun", "22:00", "06:00", 2),
    ]
    # the Sunday shift ends on the next Monday (UTC timestamps, past the horizon)
    sunday = rows[1]
    assert sunday["end"] - sunday["start"] == timedelta(hours=8)
    assert sunday["end"].date() == datetime(2026, 1, 12, tzinfo=UTC).date()

    with pytest.warns(ScheduleWarning, match=r"6 interval\(s\) with demand are covered by no"):
        # (short dear enough that covering Sunday's two hours pays for whole shifts)
        straight = schedule_shifts(
            need, [night], ShiftRules(wrap=False), costs=Costs(short=20), time_limit=10, workers=1
        )
    # without wrap nothing in the horizon starts before Monday 00:00: Monday morning is short
    assert straight.short[0, :6].tolist() == [2.0] * 6
    assert straight.short_total == 12
    assert straight.coverage[6, 22:].tolist() == [2.0, 2.0]  # Sunday still covered, and paid
    assert straight.paid_hours == 24.0


def test_breaks_inside_their_windows_with_coverage_kept() -> None:
    per_day = 96  # 15-minute grid
    need = np.zeros((1, per_day))
    need[0, 32:72] = 6  # 08:00-18:00
    need[0, 44:56] = 8  # a late-morning peak
    tpl = ShiftTemplate(
        "8h",
        8 * H,
        [k * 900.0 for k in range(28, 42)],
        breaks=(
            Break(900, 1.5 * H, 3 * H, name="break 1"),
            Break(1800, 3.5 * H, 5 * H, paid=False, name="lunch"),
            Break(900, 5.5 * H, 7 * H, name="break 2"),
        ),
    )
    s = schedule_shifts(
        need,
        [tpl],
        ShiftRules(break_coverage=0.75),
        costs=Costs(short=50),
        time_limit=20,
        workers=1,
        seed=3,
    )
    windows = {
        "break 1": (1.5 * H, 3 * H, 900),
        "lunch": (3.5 * H, 5 * H, 1800),
        "break 2": (5.5 * H, 7 * H, 900),
    }
    shifts = {r["shift"]: r for r in s.shifts.to_pylist()}
    on = np.zeros(per_day)
    off = np.zeros(per_day)
    base = datetime(2026, 1, 5, tzinfo=UTC)
    for r in shifts.values():
        a = int((r["start"] - base).total_seconds() // 900)
        on[a : a + 32] += r["agents"]
        assert r["paid_hours"] == 7.5  # lunch unpaid
    seen: dict[int, set[str]] = {}
    for b in s.breaks.to_pylist():
        line = shifts[b["shift"]]
        after = (b["start"] - line["start"]).total_seconds()
        lo, hi, length = windows[b["break"]]
        assert lo <= after <= hi, b
        assert (b["end"] - b["start"]).total_seconds() == length
        k = int((b["start"] - base).total_seconds() // 900)
        off[k : k + length // 900] += line["agents"]
        seen.setdefault(b["shift"], set()).add(b["break"])
    assert all(v == set(windows) for v in seen.values())  # every agent takes every break
    np.testing.assert_array_equal(s.coverage[0], on - off)
    # breaks keep at least 75% of those on shift available (one agent may always be off)
    assert np.all(off <= 0.25 * on + 1 + 1e-9)
    # short dear: the requirement is kept through every break
    assert s.short_total == 0
    assert 0 <= s.gap < 0.05


def test_over_constrained_week_returns_the_best_partial_schedule() -> None:
    need = day({(8, 16): 5}, days=2)
    tpl = ShiftTemplate("day", 8 * H, [8 * H])
    s = schedule_shifts(need, [tpl], ShiftRules(max_agents_per_day=3), time_limit=10, workers=1)
    assert s.status != "infeasible"
    assert s.shift_count == 6
    assert s.short_total == 2 * 8 * 2
    short = s.short_intervals().to_pylist()
    assert len(short) == 16
    assert {r["short"] for r in short} == {2.0}
    assert {r["scheduled"] for r in short} == {3.0}
    # demand no template reaches is reported, and left short
    need[0, 20:22] = 1
    with pytest.warns(ScheduleWarning, match="covered by no template start"):
        s2 = schedule_shifts(
            need, [tpl], ShiftRules(max_agents_per_day=3), time_limit=10, workers=1
        )
    assert s2.short[0, 20:22].tolist() == [1.0, 1.0]


def test_budget_short_goes_where_service_suffers_least() -> None:
    need = day({(9, 10): 10, (15, 16): 10})
    busy = np.zeros(24)
    busy[9], busy[15] = 9.0, 2.0  # Erlangs: 10 agents are tight at 09, slack at 15
    model = ErlangC(busy / 300.0 + 1e-9, 300.0)
    tpl = ShiftTemplate("1h", H, [9 * H, 15 * H])
    s = schedule_shifts(
        need, [tpl], ShiftRules(max_paid_hours=15), queue_model=model, time_limit=10, workers=1
    )
    assert s.paid_hours == 15
    assert s.short[0, 9] == 0
    assert s.short[0, 15] == 5
    # flat costs have no reason to prefer either hour; the weighted ones do
    weights = s.program.seg.weight.reshape(1, 24)
    assert weights[0, 9] > 5 * weights[0, 15]


def test_service_weights_are_convex_and_normalised() -> None:
    from contactops.schedule._grid import as_requirement
    from contactops.schedule._weights import short_segments

    load = np.tile(np.linspace(0.5, 40, 24), 2)
    model = ErlangC(load / 300.0, 300.0)
    need = np.asarray(required_agents(model, service_level=0.8, threshold=20).agents, float)
    req = as_requirement(need.reshape(2, 24))
    seg = short_segments(req, Costs(short=2.0, min_short_weight=0.0), models=model)
    assert np.all(np.diff(seg.slopes, axis=1) >= -1e-12)  # each further agent costs more
    assert seg.widths.sum(axis=1) == pytest.approx(need)
    assert seg.weight.mean() == pytest.approx(1.0)  # relative to the average interval
    assert seg.weight[23] > seg.weight[0]  # a missing agent hurts more when busy
    # the cost of being short by the whole requirement is the piecewise sum
    assert seg.cost(need)[5] == pytest.approx((seg.widths[5] * seg.slopes[5]).sum())


def test_frame_input_and_coverage_table() -> None:
    start = datetime(2026, 3, 2, tzinfo=UTC)
    rows = [
        {
            "queue": q,
            "interval_start": start + timedelta(minutes=30 * k),
            "required": peak if 16 <= k < 32 else 0.0,
        }
        for q, peak in (("sales", 2.0), ("support", 3.0))
        for k in range(48)
    ]
    table = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("queue", pa.string()),
                ("interval_start", pa.timestamp("us", tz="UTC")),
                ("required", pa.float64()),
            ]
        ),
    )
    tpl = ShiftTemplate("8h", 8 * H, [8 * H])
    s = schedule_shifts(table, [tpl], time_limit=10, workers=1)
    assert s.queues == ("sales", "support")
    assert s.interval == 1800
    assert s.coverage.shape == (2, 1, 48)
    cov = s.coverage_table()
    assert cov.column_names == ["queue", "interval_start", "required", "scheduled", "short", "over"]
    assert cov.num_rows == 96
    back = {(r["queue"], r["interval_start"]): r for r in cov.to_pylist()}
    for r in rows:
        got = back[(r["queue"], r["interval_start"])]
        assert got["required"] == r["required"]
        assert got["scheduled"] == r["required"]  # exact cover
    assert s.staffing("support").tolist() == [3 if 16 <= k < 32 else 0 for k in range(48)]
    with pytest.raises(InvalidParameterError, match="queue"):
        s.staffing()


def test_reproducible_with_one_worker_and_time_limit_kept() -> None:
    rng = np.random.default_rng(5)
    need = np.round(rng.uniform(0, 6, (2, 48)) * np.sin(np.linspace(0, np.pi, 48)) ** 2)
    tpl = ShiftTemplate(
        "4h", 4 * H, [k * 1800.0 for k in range(0, 48, 2)], breaks=(Break(1800, H, 2.5 * H),)
    )
    runs = [
        schedule_shifts(need, [tpl], ShiftRules(wrap=True), time_limit=8, workers=1, seed=11)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0].x, runs[1].x)
    np.testing.assert_array_equal(runs[0].y, runs[1].y)
    assert all(r.wall_time < 8 + 3 for r in runs)
    assert runs[0].lower_bound <= runs[0].objective + 1e-9


@pytest.mark.slow
def test_large_programs_go_through_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the size limit CP-SAT works window by window; the result stays consistent."""
    monkeypatch.setattr(shifts_module, "FULL_MODEL_LIMIT", 50)
    need = np.zeros((2, 24))
    need[:, 7:21] = [2, 3, 4, 4, 5, 5, 4, 4, 5, 5, 4, 3, 2, 2]
    tpl = ShiftTemplate(
        "6h", 6 * H, [k * H for k in range(5, 16)], breaks=(Break(H, 2 * H, 4 * H),)
    )
    s = schedule_shifts(need, [tpl], time_limit=6, workers=1)
    assert s.stats["lns_windows"] > 0
    assert s.lower_bound <= s.objective + 1e-9
    assert s.objective == pytest.approx(
        s.program.objective(s.x.astype(float), s.y.astype(float))["objective"]
    )


def test_bad_input_names_the_item_and_rule() -> None:
    need = day({(8, 16): 1}, per_day=48)
    with pytest.raises(InvalidParameterError, match=r"template 'odd'\.length.*multiple"):
        schedule_shifts(need, [ShiftTemplate("odd", 8 * H + 600, [8 * H])])
    with pytest.raises(InvalidParameterError, match="break windows that do not overlap"):
        ShiftTemplate(
            "x",
            8 * H,
            [8 * H],
            breaks=(Break(1800, H, 3 * H, name="a"), Break(1800, 2 * H, 4 * H, name="b")),
        )
    with pytest.raises(InvalidParameterError, match="inside the shift"):
        ShiftTemplate("x", 4 * H, [8 * H], breaks=(Break(1800, H, 4 * H),))
    with pytest.raises(InvalidParameterError, match=r"requirement\[0, 3\]"):
        schedule_shifts(
            np.where(np.arange(48) == 3, -1.0, 0.0)[None, :], [ShiftTemplate("d", 8 * H, [8 * H])]
        )
    with pytest.raises(InvalidParameterError, match="unique names"):
        schedule_shifts(need, [ShiftTemplate("d", 8 * H, [8 * H])] * 2)
    with pytest.raises(InvalidParameterError, match="workers"):
        schedule_shifts(need, [ShiftTemplate("d", 8 * H, [8 * H])], workers=0)
    with pytest.warns(ScheduleWarning, match="'weekend'.*cannot cover any interval"):
        schedule_shifts(
            day({(8, 16): 1}, days=2),
            [
                ShiftTemplate("d", 8 * H, [8 * H]),
                ShiftTemplate("weekend", 8 * H, [8 * H], days=[5, 6]),
            ],
            time_limit=5,
            workers=1,
        )
    with pytest.warns(ScheduleWarning, match="'late'.*cannot cover any interval with demand"):
        schedule_shifts(
            day({(8, 16): 1}),
            [ShiftTemplate("d", 8 * H, [8 * H]), ShiftTemplate("late", 2 * H, [20 * H])],
            time_limit=5,
            workers=1,
        )
