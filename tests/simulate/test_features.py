"""Routing, priority, bots, transfers, redials, scenarios, and reproducibility."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pytest

from contactops.simulate import (
    AgentGroup,
    Beta,
    Bot,
    Center,
    Fixed,
    LogNormal,
    Queue,
    Scenario,
    simulate,
    simulate_queue,
)
from contactops.simulate import _run as run_module

DAY = 86400.0


def _one_day(staff: int = 20, rate: float = 0.05, **queue: object) -> Center:
    return Center(
        queues=[Queue("q", arrival_rate=rate, handle_time=300.0, **queue)],
        groups=[AgentGroup("g", staff, ["q"])],
        interval=1800.0,
    )


def _row(result: object, queue: str) -> dict[str, float]:
    rows = result.queue_summary().to_pylist()  # type: ignore[attr-defined]
    return next(r for r in rows if r["queue"] == queue)


def test_priority_tier_gets_strictly_better_service() -> None:
    # two segments with the same demand on the same agents; gold has priority
    center = Center(
        queues=[
            Queue("standard", arrival_rate=0.045, handle_time=300.0, patience=120.0),
            Queue(
                "gold",
                arrival_rate=0.045,
                handle_time=300.0,
                patience=120.0,
                segment="gold",
                priority=10,
            ),
        ],
        groups=[AgentGroup("agents", 28, ["standard", "gold"])],
    )
    r = simulate(center, days=1, seed=1, replications=6, warmup=3600.0)
    gold, std = _row(r, "gold"), _row(r, "standard")
    assert gold["service_level_lo"] > std["service_level_hi"]
    assert gold["asa_hi"] < std["asa_lo"]
    assert gold["abandon_rate"] < std["abandon_rate"]
    assert gold["segment"] == "gold"


def test_preferred_skill_takes_the_contact_first() -> None:
    # plenty of agents in both groups: every contact goes to the preferred group
    center = Center(
        queues=[Queue("q", arrival_rate=0.01, handle_time=100.0)],
        groups=[AgentGroup("backup", 10, {"q": 2}), AgentGroup("primary", 10, {"q": 1})],
    )
    r = simulate(center, days=1, seed=2, contacts=True)
    teams = r.contacts.column("team").to_pylist()
    assert set(teams) == {"primary"}


def test_bot_contains_escalates_and_shortens_human_handle_time() -> None:
    bot = Bot(
        share=1.0,
        confidence=Beta(5.0, 2.0),
        threshold=0.85,
        handle_time=Fixed(60.0),
        context_factor=0.5,
    )
    center = _one_day(staff=30, rate=0.05, bot=bot)
    r = simulate(center, days=1, seed=3, replications=4, contacts=True)
    row = _row(r, "q")
    from scipy import stats

    p_escalate = stats.beta(5.0, 2.0).cdf(0.85)
    assert row["escalated"] / row["arrived"] == pytest.approx(p_escalate, rel=0.05)
    assert row["deflected"] / row["arrived"] == pytest.approx(1 - p_escalate, rel=0.05)
    # escalated contacts take half the handle time, with their confidence on record
    assert row["aht"] == pytest.approx(150.0, rel=0.06)
    c = r.contacts
    answered = c.filter(pc.equal(c.column("outcome"), "answered"))
    assert pc.all(answered.column("escalated_from_bot")).as_py()
    assert pc.max(answered.column("bot_confidence")).as_py() < 0.85
    deflected = c.filter(pc.equal(c.column("outcome"), "deflected"))
    assert pc.min(deflected.column("bot_confidence")).as_py() >= 0.85
    assert deflected.column("queued_at").null_count == deflected.num_rows


def test_contained_contacts_come_back_as_repeats_from_the_same_customer() -> None:
    bot = Bot(
        share=1.0,
        confidence=Beta(50.0, 1.0),
        threshold=0.5,
        repeat_share=0.3,
        repeat_delay=Fixed(600.0),
    )
    r = simulate(_one_day(bot=bot), days=1, seed=4, contacts=True)
    c = r.contacts
    customers = c.column("customer_id")
    repeats = c.num_rows - pc.count_distinct(customers).as_py()
    first = pc.count_distinct(customers).as_py()
    assert repeats / first == pytest.approx(0.3 / 0.7, rel=0.1)  # geometric repeats
    assert pc.count_distinct(c.column("contact_id")).as_py() == c.num_rows


def test_transfers_keep_the_initial_contact_id() -> None:
    center = Center(
        queues=[
            Queue("sales", arrival_rate=0.03, handle_time=200.0, transfers={"billing": 0.25}),
            Queue("billing", arrival_rate=0.01, handle_time=200.0),
        ],
        groups=[AgentGroup("s", 15, ["sales"]), AgentGroup("b", 10, ["billing"])],
    )
    r = simulate(center, days=1, seed=5, contacts=True)
    c = r.contacts
    sales = c.filter(pc.equal(c.column("queue"), "sales"))
    moved = sales.filter(pc.equal(sales.column("transferred_to"), "billing"))
    assert moved.num_rows / sales.num_rows == pytest.approx(0.25, abs=0.02)
    legs = c.filter(pc.is_valid(c.column("previous_contact_id")))
    assert legs.num_rows == moved.num_rows
    assert set(legs.column("queue").to_pylist()) == {"billing"}
    by_id = dict(
        zip(
            moved.column("contact_id").to_pylist(),
            moved.column("initial_contact_id").to_pylist(),
            strict=True,
        )
    )
    for prev, initial in zip(
        legs.column("previous_contact_id").to_pylist(),
        legs.column("initial_contact_id").to_pylist(),
        strict=True,
    ):
        assert by_id[prev] == initial
    assert _row(r, "sales")["transferred"] == moved.num_rows


def test_redials_come_back_after_abandoning() -> None:
    center = _one_day(
        staff=19, rate=0.06, patience=30.0, redial_probability=1.0, redial_delay=Fixed(45.0)
    )
    r = simulate(center, days=1, seed=6, contacts=True)
    c = r.contacts.sort_by([("customer_id", "ascending"), ("arrived_at", "ascending")])
    abandoned = pc.equal(c.column("outcome"), "abandoned").to_numpy(zero_copy_only=False)
    assert abandoned.sum() > 100
    # each abandoner calls again 45 s later as a new contact of the same customer
    cust = np.asarray(c.column("customer_id").to_pylist(), dtype=object)
    arrived = pc.cast(c.column("arrived_at"), "int64").to_numpy() / 1e6
    ended = pc.cast(pc.fill_null(c.column("ended_at"), 0), "int64").to_numpy() / 1e6
    nxt = np.flatnonzero(abandoned[:-1] & (cust[:-1] == cust[1:]))
    start = arrived.min() - (arrived.min() % 86400.0)
    before_close = abandoned & (ended - start < DAY - 45.0)  # redials after close: next day
    assert nxt.size >= before_close.sum()
    np.testing.assert_allclose(arrived[nxt + 1] - ended[nxt], 45.0, atol=1e-5)
    # nobody gives up for good: almost every customer is answered in the end
    customers = pc.count_distinct(c.column("customer_id")).as_py()
    answered = pc.sum(pc.equal(c.column("outcome"), "answered")).as_py()
    assert answered >= customers - (abandoned.sum() - before_close.sum()) - 5


def test_outage_and_volume_spike() -> None:
    base = Center(
        queues=[Queue("q", arrival_rate=0.05, handle_time=300.0, patience=200.0)],
        groups=[AgentGroup("a", 10, ["q"]), AgentGroup("b", 10, ["q"])],
        interval=1800.0,
    )
    spiky = Center(
        base.queues,
        base.groups,
        scenario=Scenario(
            volume=[{"queue": "q", "start": 36000.0, "end": 43200.0, "factor": 3.0}],
            outages=[{"group": "b", "start": 50000.0, "end": 53000.0}],
        ),
    )
    r0 = simulate(base, days=1, seed=7, replications=4)
    r1 = simulate(spiky, days=1, seed=7, replications=4, contacts=True)
    extra = _row(r1, "q")["offered"] - _row(r0, "q")["offered"]
    assert extra == pytest.approx(0.05 * 2 * 7200.0, rel=0.1)
    c = r1.contacts
    start_us = int(np.datetime64("2026-01-05T00:00:00").astype("datetime64[us]").astype(int))
    ans = pc.cast(pc.cast(c.column("answered_at"), "timestamp[us]"), "int64").to_numpy(
        zero_copy_only=False
    )
    team = np.asarray(c.column("team").to_pylist(), dtype=object)
    secs = (ans - start_us) / 1e6
    in_outage = (secs >= 50000.0) & (secs < 53000.0)
    assert not np.any(in_outage & (team == "b"))
    assert np.any(in_outage & (team == "a"))
    hours = {row["group"]: row["agent_hours"] for row in r1.group_summary().to_pylist()}
    assert hours["b"] < 240.0 - 3000.0 * 10 / 3600 + 1.0


def test_staffing_vector_and_absenteeism_set_agent_hours() -> None:
    staff = [0] * 16 + [10] * 20 + [0] * 12  # 08:00-18:00, 10 agents
    center = Center(
        queues=[Queue("q", arrival_rate=[0.0] * 16 + [0.02] * 20 + [0.0] * 12, handle_time=120.0)],
        groups=[AgentGroup("g", staff, ["q"])],
    )
    r = simulate(center, seed=8)
    hours = r.group_summary().column("agent_hours").to_pylist()[0]
    assert hours == pytest.approx(100.0, abs=0.5)  # late finishers only add minutes
    absent = Center(
        center.queues, center.groups, scenario=Scenario(absenteeism=[{"group": "g", "share": 0.2}])
    )
    hours = simulate(absent, seed=8).group_summary().column("agent_hours").to_pylist()[0]
    assert hours == pytest.approx(80.0, abs=0.5)


def test_reassignment_moves_agents_between_groups() -> None:
    center = Center(
        queues=[Queue("q", arrival_rate=0.01, handle_time=60.0)],
        groups=[AgentGroup("a", 10, ["q"]), AgentGroup("b", 2, ["q"])],
        scenario=Scenario(
            reassign=[{"from": "a", "to": "b", "agents": 4, "start": 0.0, "end": 43200.0}]
        ),
    )
    hours = {
        r["group"]: r["agent_hours"]
        for r in simulate(center, days=1, seed=9).group_summary().to_pylist()
    }
    assert hours["a"] == pytest.approx(240.0 - 4 * 12, abs=0.2)
    assert hours["b"] == pytest.approx(48.0 + 4 * 12, abs=0.2)


def test_trace_replay_and_queue_limit() -> None:
    times = np.sort(np.random.default_rng(0).uniform(0, 3600.0, 500))
    center = Center(
        queues=[Queue("q", trace=times, handle_time=Fixed(600.0), max_queue=5)],
        groups=[AgentGroup("g", 3, ["q"])],
    )
    r = simulate(center, days=1, seed=10, contacts=True)
    row = _row(r, "q")
    assert row["offered"] == 500
    assert row["blocked"] > 400  # 3 agents, 10-minute calls, 5 places to wait
    assert row["answered"] + row["blocked"] == 500


def test_lognormal_handle_time_mean() -> None:
    sim = simulate_queue(
        0.02, 300.0, 20, service=LogNormal(300.0, 400.0), n_contacts=50_000, seed=11
    )
    _value, lo, hi = sim.aht(ci=True)
    assert lo <= 300.0 <= hi


def test_same_seed_same_contacts_any_number_of_workers() -> None:
    center = _one_day(staff=18, rate=0.06, patience=90.0, redial_probability=0.5)
    a = simulate(center, days=1, seed=12, replications=3, contacts=True, workers=1)
    b = simulate(center, days=1, seed=12, replications=3, contacts=True, workers=2)
    assert a.contacts.equals(b.contacts)
    np.testing.assert_equal(a.queue_summary().to_pydict(), b.queue_summary().to_pydict())
    c = simulate(center, days=1, seed=13, replications=3, contacts=True)
    assert not a.contacts.equals(c.contacts)


def test_simulate_queue_is_reproducible() -> None:
    x = simulate_queue(0.1, 200.0, 22, patience=100.0, n_contacts=20_000, seed=14)
    y = simulate_queue(0.1, 200.0, 22, patience=100.0, n_contacts=20_000, seed=14)
    assert x.service_level(20) == y.service_level(20)
    assert x.offered == 20_000


def test_running_out_of_room_reruns_to_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    center = _one_day(staff=10, rate=0.05, patience=600.0)  # overloaded: long queues
    normal = simulate(center, days=1, seed=15, contacts=True)
    small = {"pool": 8, "heap": 8, "ring": 4, "records": 16}
    monkeypatch.setattr(run_module, "_initial_capacities", lambda *_a: dict(small))
    tight = simulate(center, days=1, seed=15, contacts=True)
    assert tight.contacts.equals(normal.contacts)


def test_summaries_only_keep_no_contacts() -> None:
    r = simulate(_one_day(), days=1, seed=16)
    assert all(rep.rec_f.shape[0] == 0 for rep in r.replications)
    assert r.contacts.num_rows == 0


def test_contact_log_follows_the_canonical_record() -> None:
    r = simulate(_one_day(patience=100.0), days=1, seed=17, contacts=True)
    c = r.contacts
    expected = [
        "contact_id",
        "initial_contact_id",
        "previous_contact_id",
        "customer_id",
        "channel",
        "queue",
        "segment",
        "priority",
        "arrived_at",
        "queued_at",
        "answered_at",
        "ended_at",
        "wait_s",
        "talk_s",
        "hold_s",
        "acw_s",
        "outcome",
        "agent_id",
        "team",
        "site",
        "bot_confidence",
        "escalated_from_bot",
        "transferred_to",
        "source",
        "source_ref",
    ]
    assert c.column_names == expected
    assert str(c.schema.field("arrived_at").type) == "timestamp[us, tz=UTC]"
    answered = c.filter(pc.equal(c.column("outcome"), "answered"))
    wait = pc.subtract(answered.column("answered_at"), answered.column("queued_at"))
    assert np.allclose(
        pc.cast(wait, "int64").to_numpy() / 1e6, answered.column("wait_s").to_numpy(), atol=2e-6
    )
    row = _row(r, "q")
    assert answered.num_rows == row["answered"]
    assert c.num_rows == row["offered"]


def test_shift_schedule_sets_agents_at_exact_times() -> None:
    center = Center(
        queues=[Queue("q", arrival_rate=0.001, handle_time=60.0)],
        groups=[
            AgentGroup(
                "day",
                skills=["q"],
                shifts=[(8 * 3600.0, 16.5 * 3600.0, 10), (12.25 * 3600.0, 12.75 * 3600.0, 2)],
            ),
            AgentGroup("night", skills=["q"], staffing=1, shifts=[(22 * 3600.0, 30 * 3600.0, 2)]),
        ],
    )
    r = simulate(center, days=2, seed=18)
    hours = {row["group"]: row["agent_hours"] for row in r.group_summary().to_pylist()}
    assert hours["day"] == pytest.approx(2 * (8.5 * 10 + 0.5 * 2), abs=0.1)
    # 1 agent all day plus 2 agents 22:00-06:00: day 1 gets yesterday's 00:00-06:00 too
    assert hours["night"] == pytest.approx(2 * 24 + 2 * 2 * 8, abs=0.1)


def test_shifts_from_yaml() -> None:
    from contactops.simulate import load_center

    center = load_center(
        {
            "queues": [{"name": "q", "arrival_rate": 0.001}],
            "groups": [
                {
                    "name": "g",
                    "skills": ["q"],
                    "shifts": [{"start": "08:00", "end": "16:30", "agents": 4}],
                }
            ],
        }
    )
    assert center.groups[0].shifts == [(28800.0, 59400.0, 4)]
    hours = simulate(center, days=1, seed=1).group_summary().column("agent_hours")
    assert hours.to_pylist()[0] == pytest.approx(34.0, abs=0.05)


def test_contact_log_in_a_fresh_interpreter() -> None:
    """The contact log needs nothing the caller happened to import (pyarrow.compute)."""
    import subprocess
    import sys

    code = (
        "from contactops.simulate import *\n"
        "c = Center([Queue('q', arrival_rate=0.01)], [AgentGroup('g', 5, ['q'])])\n"
        "print(simulate(c, days=1, seed=1, contacts=True).contacts.num_rows)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) > 700


def test_trace_sets_the_number_of_days() -> None:
    times = np.sort(np.random.default_rng(1).uniform(0, 3 * DAY, 300))
    center = Center(
        queues=[Queue("q", trace=times, handle_time=Fixed(60.0))],
        groups=[AgentGroup("g", 2, ["q"])],
    )
    r = simulate(center, seed=1)
    assert _row(r, "q")["offered"] == 300
    assert r.interval_summary().num_rows == 3 * 48
