"""The case engine: clocks across handoffs, pause and resume, reassignment, escalations once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contactops.cases import (
    EXCEPTIONS,
    BusinessCalendar,
    CaseEngine,
    CasesConfig,
    Department,
    EscalationStep,
    InvalidTransitionError,
    PriorityMatrix,
    SlaPolicy,
    SlaTarget,
    audit,
)
from contactops.errors import InvalidParameterError

H = 3600.0
MON = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC


def office(tz: str = "UTC") -> BusinessCalendar:
    return BusinessCalendar(tz, "mon-fri 09:00-17:00")


def policy(ladder=None) -> SlaPolicy:
    targets = {(p, "*"): SlaTarget(1 * H * p, 8 * H * p) for p in (1, 2, 3, 4)}
    targets[(3, "gold")] = SlaTarget(0.5 * H, 4 * H)
    return SlaPolicy(
        "std",
        targets,
        ladder if ladder is not None else SlaPolicy("d", {(1, "*"): SlaTarget(1, 1)}).ladder,
    )


def engine(**kw) -> CaseEngine:
    cfg = CasesConfig(
        [
            Department("support", office(), policy(), lead="lena", stages=("diagnose", "fix")),
            Department("billing", office("America/New_York"), policy(), lead="bob"),
            Department("sales", office(), policy(), lead=None),
        ],
        routes={"invoice": "billing", "defect": "diagnose"},
        case_policy=kw.pop("case_policy", None),
        **kw,
    )
    return CaseEngine(cfg)


def clock(case, kind, department=None):
    return next(
        c
        for c in reversed(case.clocks)
        if c.kind == kind and (department is None or c.department == department)
    )


def test_priority_matrix_and_tier_targets():
    eng = engine()
    case = eng.open_case("1", at=MON, actor="a", category="defect", impact=1, urgency=2)
    assert case.priority == 2
    assert clock(case, "resolution").target_s == 16 * H
    gold = eng.open_case(
        "2",
        at=MON,
        actor="a",
        category="defect",
        impact="2 - Medium",
        urgency="2 - Medium",
        tier="gold",
    )
    assert gold.priority == 3
    assert clock(gold, "response").target_s == 0.5 * H
    with pytest.raises(InvalidParameterError, match="impact/urgency"):
        eng.open_case("3", at=MON, actor="a", impact=7, urgency=1)
    custom = PriorityMatrix.from_rows(
        [{"severity": "sev1", "tier": "gold", "priority": 1}], names=("severity", "tier")
    )
    assert custom.priority("sev1", "gold") == 1


def test_handoff_starts_new_clocks_in_the_new_departments_calendar():
    eng = engine()
    case = eng.open_case("1", at=MON, actor="ann", category="defect")
    assert (case.department, case.stage) == ("support", "diagnose")
    eng.handoff(case, at=MON + timedelta(hours=2), actor="ann", department="billing")
    old = clock(case, "resolution", "support")
    assert old.state == "stopped"
    assert old.outcome == "met"
    assert old.elapsed_s == 2 * H
    new = clock(case, "resolution", "billing")
    assert new.handoff_from == "support"
    # billing opens 09:00 New York = 14:00 UTC; 24 h business = 3 New York days
    assert new.due_at(eng.calendar(new)) == datetime(2026, 3, 4, 22, 0, tzinfo=UTC)


def test_reassignment_and_stage_change_within_the_department_keep_the_clock():
    eng = engine()
    case = eng.open_case("1", at=MON, actor="ann", category="defect")
    before = [(c.id, c.started_at) for c in case.clocks]
    eng.assign(case, at=MON + timedelta(hours=1), actor="lena", assignee="sam")
    eng.assign(case, at=MON + timedelta(hours=2), actor="lena", assignee="kim")
    eng.handoff(case, at=MON + timedelta(hours=3), actor="kim", stage="fix")
    assert [(c.id, c.started_at) for c in case.clocks] == before
    assert (
        clock(case, "resolution").elapsed(
            MON + timedelta(hours=4), eng.calendar(clock(case, "resolution"))
        )
        == 4 * H
    )
    with pytest.raises(InvalidTransitionError, match="must change the assignee"):
        eng.assign(case, at=MON + timedelta(hours=4), actor="lena", assignee="kim")


def test_pause_while_waiting_on_the_customer_and_resume():
    eng = engine()
    case = eng.open_case("1", at=MON, actor="ann", category="defect")
    res = clock(case, "resolution")
    cal = eng.calendar(res)
    eng.wait_on_customer(case, at=MON + timedelta(hours=1), actor="ann", reason="need logs")
    assert res.state == "paused"
    assert res.elapsed(MON + timedelta(days=2), cal) == 1 * H  # frozen while waiting
    assert res.due_at(cal) is None
    eng.customer_replied(case, at=MON + timedelta(days=2), actor="customer")  # Wed 09:00
    assert res.state == "running"
    assert res.elapsed(MON + timedelta(days=2, hours=3), cal) == 4 * H
    # 23 h left from Wednesday 09:00: Wednesday 8 h, Thursday 8 h, Friday 7 h -> 16:00
    assert res.due_at(cal) == datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
    with pytest.raises(InvalidTransitionError, match="waiting_customer"):
        eng.customer_replied(case, at=MON + timedelta(days=3), actor="customer")


def test_escalation_steps_fire_once_each_at_their_instant():
    eng = engine()
    case = eng.open_case("1", at=MON, actor="ann", category="defect")  # P3: 3 h / 24 h
    eng.respond(case, at=MON + timedelta(minutes=10), actor="ann")
    eng.assign(case, at=MON + timedelta(minutes=20), actor="ann", assignee="ann")
    late = MON + timedelta(days=7)
    first = eng.tick(case, late)
    again = eng.tick(case, late)
    later = eng.tick(case, late + timedelta(days=3))
    assert again == []
    assert later == []
    esc = [(e.data["action"], e.at) for e in first if e.kind == "escalation"]
    # 75% of 24 business hours = 18 h: Wednesday 11:00; breach at 24 h: Wednesday 17:00
    assert esc == [
        ("warn", datetime(2026, 3, 4, 11, 0, tzinfo=UTC)),
        ("notify_lead", datetime(2026, 3, 4, 17, 0, tzinfo=UTC)),
        ("raise_priority", datetime(2026, 3, 4, 17, 0, tzinfo=UTC)),
        ("reassign", datetime(2026, 3, 4, 17, 0, tzinfo=UTC)),
    ]
    warn = next(e for e in first if e.data.get("action") == "warn")
    assert warn.data["to"] == "ann"
    assert [e.kind for e in first].count("sla_breached") == 1
    assert case.priority == 2
    assert case.assignee == "lena"
    # ticking at every minute in between gives the same history as one late tick
    other = engine()
    c2 = other.open_case("1", at=MON, actor="ann", category="defect")
    other.respond(c2, at=MON + timedelta(minutes=10), actor="ann")
    other.assign(c2, at=MON + timedelta(minutes=20), actor="ann", assignee="ann")
    t = MON + timedelta(minutes=20)
    while t < late:
        other.tick(c2, t)
        t += timedelta(minutes=37)
    other.tick(c2, late)
    assert [(e.kind, e.at, dict(e.data)) for e in c2.events] == [
        (e.kind, e.at, dict(e.data)) for e in case.events
    ]


def test_breach_detected_when_the_action_comes_before_any_tick():
    eng = engine()
    case = eng.open_case("1", at=MON, actor="ann", category="defect")
    events = eng.resolve(case, at=MON + timedelta(days=10), actor="ann")
    kinds = [e.kind for e in events]
    assert kinds.index("sla_breached") < kinds.index("resolved")
    assert clock(case, "resolution").outcome == "breached"
    assert clock(case, "response").outcome == "breached"


def test_reassign_to_another_department_and_ladder_per_clock_kind():
    ladder = (
        EscalationStep(0.5, "warn", clocks=("response",)),
        EscalationStep(1.0, "reassign", to="department:sales", clocks=("resolution",)),
    )
    cfg = CasesConfig(
        [
            Department("support", office(), policy(ladder)),
            Department("sales", office(), policy(ladder)),
        ]
    )
    eng = CaseEngine(cfg)
    case = eng.open_case("1", at=MON, actor="a", department="support")
    eng.tick(case, MON + timedelta(days=5))
    assert case.department == "sales"
    esc = [e for e in case.events if e.kind == "escalation"]
    assert [(e.data["action"], e.data["kind"], e.data["department"]) for e in esc][:2] == [
        ("warn", "response", "support"),
        ("reassign", "resolution", "support"),
    ]
    handoff = next(e for e in case.events if e.kind == "handoff")
    assert handoff.actor == "sla-clock"
    assert handoff.at == datetime(2026, 3, 4, 17, 0, tzinfo=UTC)


def test_case_clock_keeps_counting_across_transfers():
    end_to_end = SlaPolicy("e2e", {(3, "*"): SlaTarget(None, 10 * H)}, ())
    eng = engine(case_policy=end_to_end)
    case = eng.open_case("1", at=MON, actor="a", category="defect")
    eng.handoff(case, at=MON + timedelta(hours=3), actor="a", department="billing")
    total = clock(case, "case")
    assert total.department == "billing"
    # 3 h in support (UTC office); billing (New York, EST) opens 14:00 UTC, 7 h left: 21:00 UTC
    assert total.due_at(eng.calendar(total)) == datetime(2026, 3, 2, 21, 0, tzinfo=UTC)
    eng.handoff(case, at=datetime(2026, 3, 2, 20, 0, tzinfo=UTC), actor="b", department="support")
    # 3 h support + 6 h billing (14-20 UTC) = 9 h; 1 h left from Tuesday 09:00 UTC
    assert total.elapsed_s == 9 * H
    assert total.due_at(eng.calendar(total)) == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert clock(case, "resolution", "support").started_at == datetime(
        2026, 3, 2, 20, 0, tzinfo=UTC
    )


def test_exception_queue_and_disputes():
    eng = engine()
    case = eng.open_case("1", at=MON, actor="a", category="alien abduction")
    assert case.department == EXCEPTIONS
    assert case.in_exception_queue
    assert case.exception_reason == "unknown category 'alien abduction'"
    triage = clock(case, "response")
    assert triage.target_s == 3600  # the exception queue's own SLA, 24x7
    eng.handoff(case, at=MON + timedelta(minutes=30), actor="lead", department="billing")
    assert not case.in_exception_queue
    assert clock(case, "resolution", EXCEPTIONS).outcome == "met"
    eng.dispute(
        case,
        at=MON + timedelta(hours=1),
        actor="bob",
        departments=["billing", "sales"],
        reason="not ours",
    )
    assert case.department == EXCEPTIONS
    assert case.exception_reason == "dispute between billing and sales: not ours"
    with pytest.raises(InvalidParameterError, match="department"):
        eng.dispute(
            case, at=MON + timedelta(hours=2), actor="bob", departments=["billing", "legal"]
        )


def test_invalid_transitions_are_refused_with_clear_messages():
    eng = engine()
    case = eng.open_case("1", at=MON, actor="a", category="defect")
    eng.resolve(case, at=MON + timedelta(hours=1), actor="a")
    eng.close(case, at=MON + timedelta(hours=2), actor="a")
    with pytest.raises(InvalidTransitionError) as info:
        eng.close(case, at=MON + timedelta(hours=3), actor="a")
    assert info.value.state == "closed"
    assert "cannot close while the case is closed" in str(info.value)
    with pytest.raises(InvalidTransitionError):
        eng.handoff(case, at=MON + timedelta(hours=3), actor="a", department="billing")
    open_case = eng.open_case("2", at=MON, actor="a", category="defect")
    with pytest.raises(InvalidParameterError, match="one of the departments"):
        eng.handoff(open_case, at=MON, actor="a", department="legal")
    with pytest.raises(InvalidParameterError, match="belongs to"):
        eng.handoff(open_case, at=MON, actor="a", department="billing", stage="fix")
    with pytest.raises(InvalidParameterError, match="not before"):
        eng.respond(open_case, at=MON - timedelta(hours=1), actor="a")


def test_reopen_resumes_the_resolution_clock():
    eng = engine()
    case = eng.open_case("1", at=MON, actor="a", category="defect")
    eng.resolve(case, at=MON + timedelta(hours=2), actor="a")
    res = clock(case, "resolution")
    assert res.state == "stopped"
    eng.reopen(case, at=MON + timedelta(hours=5), actor="customer")
    assert res.state == "running"
    assert res.elapsed(MON + timedelta(hours=6), eng.calendar(res)) == 3 * H
    assert clock(case, "response").state == "stopped"


def test_audit_figures():
    eng = engine()
    cases = []
    for i in range(4):
        c = eng.open_case(str(i), at=MON, actor="a", category="defect")
        eng.handoff(c, at=MON + timedelta(hours=1), actor="a", department="billing")
        if i < 2:  # a loop back to support, late
            eng.handoff(c, at=MON + timedelta(days=6), actor="b", department="support")
        eng.assign(c, at=MON + timedelta(days=6, hours=1), actor="x", assignee=f"u{i}")
        eng.resolve(c, at=MON + timedelta(days=6, hours=2), actor="x")
        cases.append(c)
    report = audit(cases, eng, MON + timedelta(days=8))
    worst = report.transitions[0]
    assert (worst.from_department, worst.to_department) == ("support", "billing")
    assert worst.handoffs == 4
    assert worst.breach_share == 1.0
    assert report.cases_with_loops == 2
    assert report.loops[0].departments == ("billing", "support")
    assert report.loops[0].returns == 2
    support = next(h for h in report.holding if h.department == "support")
    assert support.holds == 6
    assert support.reassignments == 2
    billing = next(h for h in report.holding if h.department == "billing")
    assert billing.holds == 4
