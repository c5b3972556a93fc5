"""roster: named agents under labor rules, checked by an independent checker."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from contactops.errors import InvalidParameterError
from contactops.schedule import (
    WEEKDAYS,
    Agent,
    Break,
    LaborRules,
    Roster,
    ScheduleWarning,
    ShiftRules,
    ShiftTemplate,
    roster,
    schedule_shifts,
)

H = 3600.0
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


def check_hard_rules(
    r: Roster,
    agents: list[Agent],
    labor: dict[str, LaborRules],
    templates: list[ShiftTemplate],
    *,
    wrap: bool,
    days: int,
) -> None:
    """Every hard rule, from the output tables alone (not from the solver's model)."""
    by_name = {a.name: a for a in agents}
    tpl = {t.name: t for t in templates}
    shifts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in r.assignments.to_pylist():
        shifts[row["agent"]].append(row)
    breaks: dict[tuple[str, datetime], list[dict[str, Any]]] = defaultdict(list)
    for b in r.breaks.to_pylist():
        breaks[(b["agent"], b["day"])].append(b)
    horizon = timedelta(days=days)
    for name, rows in shifts.items():
        a, rules = by_name[name], labor[by_name[name].region]
        rows.sort(key=lambda x: x["start"])
        worked = [row["day"] for row in rows]
        assert len(worked) == len(set(worked)), f"{name}: two shifts on one day"
        for row in rows:
            t = tpl[row["template"]]
            assert row["queue"] in a.skills, f"{name}: not skilled for {row['queue']}"
            assert row["end"] - row["start"] == timedelta(seconds=t.length)
            local = row["start"] - (START + timedelta(days=row["day"]))
            assert timedelta(0) <= local < timedelta(days=1)
            if a.available is not None:
                wins = a.available.get((START + timedelta(days=row["day"])).weekday(), [])
                s0 = local.total_seconds()
                assert any(w0 <= s0 and s0 + t.length <= w1 for w0, w1 in wins), (
                    f"{name}: outside availability {row}"
                )
            # breaks: each of the template's, inside its window
            got = {b["break"]: b for b in breaks[(name, row["day"])]}
            want = {b.name for b in t.breaks}
            assert set(got) == want
            for b in t.breaks:
                off = (got[b.name]["start"] - row["start"]).total_seconds()
                assert b.earliest <= off <= b.latest
                assert (got[b.name]["end"] - got[b.name]["start"]).total_seconds() == b.length
        hours = sum(row["paid_hours"] for row in rows)
        assert hours <= a.max_hours + 1e-9, f"{name}: {hours} h over the contract"
        if not rules.is_soft("max_weekly_hours"):
            for w0 in range(0, days, 7):
                week = sum(row["paid_hours"] for row in rows if w0 <= row["day"] < w0 + 7)
                assert week <= rules.max_weekly_hours + 1e-9
        if not rules.is_soft("min_rest"):
            ends = [(row["start"], row["end"]) for row in rows]
            pairs = list(itertools.pairwise(ends))
            if wrap and len(ends) > 1:
                pairs.append((ends[-1], (ends[0][0] + horizon, ends[0][1] + horizon)))
            for (_, e1), (s2, _) in pairs:
                assert (s2 - e1).total_seconds() >= rules.min_rest - 1e-6, (
                    f"{name}: rest {(s2 - e1)} < {rules.min_rest / 3600} h"
                )
        if not rules.is_soft("max_consecutive_days"):
            on = [d in worked for d in range(days)]
            seq = on + on if wrap else on
            run = best = 0
            for w in seq:
                run = run + 1 if w else 0
                best = max(best, run)
            assert min(best, days) <= rules.max_consecutive_days, f"{name}: {best} days in a row"
        if rules.paired_days_off and not rules.is_soft("paired_days_off"):
            off = [d for d in range(days) if d not in worked]
            nxt = [(d + 1) % days if wrap else d + 1 for d in off]
            assert any(n in off for n in nxt), f"{name}: no two consecutive days off"
        if rules.stable_start is not None and not rules.is_soft("stable_start") and rows:
            clock = [
                (row["start"] - (START + timedelta(days=row["day"]))).total_seconds()
                for row in rows
            ]
            assert max(clock) - min(clock) <= rules.stable_start + 1e-6
    # coverage recomputed from the tables
    iv = r.interval
    cov = np.zeros((len(r.queues), days * round(86400 / iv)))
    n = cov.shape[1]
    for name, rows in shifts.items():
        for row in rows:
            q = r.queues.index(row["queue"])
            k0 = int((row["start"] - START).total_seconds() // iv)
            k1 = int((row["end"] - START).total_seconds() // iv)
            idx = np.arange(k0, k1)
            idx = idx % n if wrap else idx[idx < n]
            cov[q, idx] += 1
            for b in breaks[(name, row["day"])]:
                b0 = int((b["start"] - START).total_seconds() // iv)
                b1 = int((b["end"] - START).total_seconds() // iv)
                idx = np.arange(b0, b1)
                idx = idx % n if wrap else idx[idx < n]
                cov[q, idx] -= 1
    np.testing.assert_array_equal(cov, r._coverage)


def week_need(per_day: int = 24, days: int = 7) -> np.ndarray:
    need = np.zeros((days, per_day))
    need[:, 8:16] = 2
    need[:, 12:20] += 1
    need[5:, :] = np.minimum(need[5:, :], 1)
    return need


TEMPLATES = [
    ShiftTemplate(
        "early",
        8 * H,
        [7 * H, 8 * H, 9 * H],
        breaks=(Break(H, 3 * H, 5 * H, paid=False, name="lunch"),),
    ),
    ShiftTemplate(
        "late",
        8 * H,
        [11 * H, 12 * H, 13 * H],
        breaks=(Break(H, 3 * H, 5 * H, paid=False, name="lunch"),),
    ),
]


@pytest.mark.slow
def test_every_hard_rule_holds_on_a_week() -> None:
    labor = {
        "default": LaborRules(
            max_consecutive_days=4,
            min_rest=14 * H,
            max_weekly_hours=35,
            paired_days_off=True,
            stable_start=2 * H,
        ),
        "strict": LaborRules(
            max_consecutive_days=3,
            min_rest=16 * H,
            max_weekly_hours=28,
            paired_days_off=True,
            stable_start=H,
        ),
    }
    agents = [
        Agent(
            f"a{i}",
            ["q"],
            min_hours=21,
            max_hours=35,
            region="strict" if i % 3 == 0 else "default",
            available=None if i % 4 else {d: [(6 * H, 20 * H)] for d in range(5)},
        )
        for i in range(9)
    ]
    need = week_need()
    sched = schedule_shifts({"q": need}, TEMPLATES, ShiftRules(wrap=True), time_limit=10, workers=1)
    r = roster(sched, agents, labor, time_limit=20, workers=1, seed=2)
    assert r.status in ("optimal", "feasible")
    check_hard_rules(r, agents, labor, TEMPLATES, wrap=True, days=7)
    table = r.rules.to_pylist()
    assert {row["rule"] for row in table} >= {
        "max_consecutive_days",
        "min_rest",
        "max_weekly_hours",
        "paired_days_off",
        "stable_start",
        "availability",
        "skills",
    }
    assert all(row["satisfied"] for row in table if row["kind"] == "hard")
    assert r.summary()["hard_rules_broken"] == 0
    assert r.lower_bound <= r.objective + 1e-6
    # it really covers: most of the requirement is met
    assert r.short_total <= 0.2 * need.sum()


def test_small_roster_with_a_known_optimum() -> None:
    need = np.zeros((3, 24))
    need[:, 8:16] = 2
    tpl = [ShiftTemplate("d", 8 * H, [8 * H])]
    agents = [Agent(n, ["queue"], max_hours=40) for n in ("ann", "bob", "cat")]
    r = roster(
        need,
        agents,
        LaborRules(max_consecutive_days=2, min_rest=11 * H),
        templates=tpl,
        time_limit=20,
        workers=1,
    )
    # six shifts are needed; three agents at most two days in a row (3 days): six is possible
    assert r.short_total == 0
    assert r.over_total == 0
    assert r.paid_hours == 48
    assert r.status == "optimal"
    assert sorted(r.agent_summary().column("days").to_pylist()) == [2, 2, 2]
    check_hard_rules(
        r, agents, {"default": LaborRules(max_consecutive_days=2)}, tpl, wrap=False, days=3
    )


def test_infeasible_demand_leaves_short_and_soft_rules_report_reasons() -> None:
    need = np.zeros((2, 24))
    need[:, 9:17] = 2
    tpl = [ShiftTemplate("d", 8 * H, [9 * H])]
    agents = [
        Agent("ann", ["queue"], max_hours=40, days_off=[0]),  # Monday wanted off
        Agent("bob", ["queue"], min_hours=40, max_hours=40),
    ]
    r = roster(need, agents, LaborRules(), templates=tpl, time_limit=10, workers=1)
    # two agents, two per day: Ann must work Monday, and nothing more is possible
    assert r.short_total == 0
    rows = {(row["agent"], row["rule"]): row for row in r.rules.to_pylist()}
    monday = rows[("ann", "day_off_Mon")]
    assert not monday["satisfied"]
    assert monday["kind"] == "preference"
    assert "would be short" in monday["reason"]
    contract = rows[("bob", "contract_min_hours")]
    assert contract["satisfied"]  # 16 h is the pro-rata 40 h * 2/7 = 11.4 h met
    # three agents wanted, two available: the roster is partial, not "infeasible"
    need[:, 9:17] = 3
    r2 = roster(need, agents, LaborRules(), templates=tpl, time_limit=10, workers=1)
    assert r2.short_total == 2 * 8
    assert len(r2.short_intervals()) == 16


def test_soft_rule_broken_with_a_reason() -> None:
    need = np.zeros((4, 24))
    need[:, 8:16] = 1
    tpl = [ShiftTemplate("d", 8 * H, [8 * H])]
    agents = [Agent("solo", ["queue"], max_hours=40)]
    labor = LaborRules(max_consecutive_days=2, soft=("max_consecutive_days",), soft_weight=1)
    r = roster(need, agents, labor, templates=tpl, time_limit=10, workers=1)
    assert r.short_total == 0  # breaking the soft rule is cheaper than being short
    row = next(x for x in r.rules.to_pylist() if x["rule"] == "max_consecutive_days")
    assert row["kind"] == "soft"
    assert not row["satisfied"]
    assert row["detail"].startswith("longest run 4 day(s)")
    assert row["reason"]
    hard = LaborRules(max_consecutive_days=2)
    r2 = roster(need, agents, hard, templates=tpl, time_limit=10, workers=1)
    assert r2.short_total == 8  # the hard rule holds: work, work, off, work
    check_hard_rules(r2, agents, {"default": hard}, tpl, wrap=False, days=4)


def test_warnings_and_errors_name_the_agent_and_rule() -> None:
    need = np.zeros((1, 24))
    need[0, 8:16] = 1
    tpl = [ShiftTemplate("d", 8 * H, [8 * H])]
    with pytest.warns(ScheduleWarning, match="agent 'x'.*none of their skills"):
        roster(
            need,
            [Agent("a", ["queue"]), Agent("x", ["billing"])],
            templates=tpl,
            time_limit=5,
            workers=1,
        )
    with pytest.warns(ScheduleWarning, match=r"agent 'c'.*contracted hours 37\.5-37\.5"):
        roster(
            need,
            [Agent("c", ["queue"], min_hours=37.5, max_hours=37.5)],
            templates=tpl,
            time_limit=5,
            workers=1,
        )
    with (
        pytest.warns(ScheduleWarning, match="queue 'queue': no agent has this skill"),
        pytest.warns(ScheduleWarning, match="none of their skills"),
    ):
        roster(need, [Agent("b", ["billing"])], templates=tpl, time_limit=5, workers=1)
    with pytest.raises(InvalidParameterError, match=r"agent 'a'\.region"):
        roster(
            need,
            [Agent("a", ["queue"], region="fr")],
            {"de": LaborRules()},
            templates=tpl,
            time_limit=5,
            workers=1,
        )
    with pytest.raises(InvalidParameterError, match="unique names"):
        roster(need, [Agent("a", ["queue"])] * 2, templates=tpl, time_limit=5, workers=1)
    with pytest.raises(InvalidParameterError, match="templates"):
        roster(need, [Agent("a", ["queue"])])
    with pytest.raises(InvalidParameterError, match="max_hours"):
        Agent("z", ["q"], min_hours=40, max_hours=30)
    assert WEEKDAYS[0] == "Mon"
