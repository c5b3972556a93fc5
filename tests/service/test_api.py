"""The case API on SQLite and PostgreSQL: authentication, access rules, transitions,
bad input, one transaction per handoff, concurrent updates."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from contactops.service._models import CaseEventRow, CaseRow, HandoffRow


def _open(world, user="support-agent", **body):
    payload = {"title": "printer on fire", "department": "support", **body}
    r = world.client.post("/api/v1/cases", json=payload, headers=world.as_(user))
    assert r.status_code == 201, r.text
    return r.json()


def _path_with_ids(path: str) -> str:
    return (
        path.replace("{case_id}", "1")
        .replace("{user_id}", "1")
        .replace("{name}", "support")
        .replace("{username}", "support-agent")
    )


def test_every_api_operation_needs_a_token(world):
    spec = world.client.get("/openapi.json").json()
    checked = 0
    for path, ops in spec["paths"].items():
        if not path.startswith("/api/v1") or path == "/api/v1/login/access-token":
            continue
        for method in ops:
            r = world.client.request(method.upper(), _path_with_ids(path), json={})
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers["www-authenticate"] == "Bearer"
            assert "token" in r.json()["detail"].lower()
            checked += 1
    assert checked >= 25


def test_bad_tokens_are_401(world):
    for header in ("Bearer nope", "Basic dXNlcjpwYXNz", "Bearer "):
        r = world.client.get("/api/v1/cases", headers={"Authorization": header})
        assert r.status_code == 401


def test_login_gives_a_working_token_and_passwords_are_argon2(world):
    from tests.service.conftest import PASSWORD

    r = world.client.post(
        "/api/v1/login/access-token", json={"username": "billing-lead", "password": PASSWORD}
    )
    assert r.status_code == 200
    token = r.json()["access_token"]
    me = world.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["memberships"] == [{"department": "billing", "role": "lead"}]
    bad = world.client.post(
        "/api/v1/login/access-token", json={"username": "billing-lead", "password": "wrong-one"}
    )
    assert bad.status_code == 401
    with world.app.state.context.sessions() as s:
        hashes = s.execute(text("select password_hash from users")).scalars().all()
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert PASSWORD not in " ".join(hashes)


def test_other_departments_get_404_and_roles_403(world):
    case = _open(world)
    cid = case["id"]
    assert case["department"] == "support"
    assert case["stage"] == "diagnose"
    # billing cannot read, change, hand off or see the history of a support case
    for user in ("billing-agent", "billing-lead"):
        h = world.as_(user)
        assert world.client.get(f"/api/v1/cases/{cid}", headers=h).status_code == 404
        assert (
            world.client.patch(f"/api/v1/cases/{cid}", json={"title": "x"}, headers=h).status_code
            == 404
        )
        assert (
            world.client.post(
                f"/api/v1/cases/{cid}/handoffs", json={"to_department": "billing"}, headers=h
            ).status_code
            == 404
        )
        assert world.client.get(f"/api/v1/cases/{cid}/events", headers=h).status_code == 404
        assert (
            world.client.post(
                f"/api/v1/cases/{cid}/transitions", json={"action": "close"}, headers=h
            ).status_code
            == 404
        )
        listed = world.client.get("/api/v1/cases", headers=h).json()
        assert cid not in [c["id"] for c in listed]
    # an agent may not change the priority; the lead may
    r = world.client.patch(
        f"/api/v1/cases/{cid}", json={"priority": 1}, headers=world.as_("support-agent")
    )
    assert r.status_code == 403
    assert "lead" in r.json()["detail"]
    r = world.client.patch(
        f"/api/v1/cases/{cid}", json={"priority": 1}, headers=world.as_("support-lead")
    )
    assert r.status_code == 200
    assert r.json()["priority"] == 1
    # creating a case in a department you do not belong to
    r = world.client.post(
        "/api/v1/cases",
        json={"title": "t", "department": "billing"},
        headers=world.as_("support-agent"),
    )
    assert r.status_code == 403
    # superusers see everything; a member of two departments sees both
    assert world.client.get(f"/api/v1/cases/{cid}", headers=world.as_("root")).status_code == 200
    assert world.client.get(f"/api/v1/cases/{cid}", headers=world.as_("dual")).status_code == 200
    # non-superusers cannot create departments or read the audit log
    r = world.client.post(
        "/api/v1/departments",
        headers=world.as_("support-lead"),
        json={"name": "legal", "calendar": "24x7", "policy": "standard"},
    )
    assert r.status_code == 403
    assert (
        world.client.get("/api/v1/audit-log", headers=world.as_("support-lead")).status_code == 403
    )


def test_transitions_and_handoff(world):
    cid = _open(world)["id"]
    h = world.as_("support-agent")

    def act(action, user_headers=h, **extra):
        return world.client.post(
            f"/api/v1/cases/{cid}/transitions",
            json={"action": action, **extra},
            headers=user_headers,
        )

    assert act("respond").status_code == 200
    r = act("wait_on_customer")
    assert r.json()["status"] == "waiting_customer"
    assert {c["state"] for c in r.json()["clocks"]} == {"paused", "stopped"}
    # a case waiting on the customer cannot be handed off
    r = world.client.post(
        f"/api/v1/cases/{cid}/handoffs", json={"to_department": "billing"}, headers=h
    )
    assert r.status_code == 409
    assert "waiting_customer" in r.json()["detail"]
    assert act("customer_replied").json()["status"] == "open"
    # unknown department: 422 naming the field and the known departments
    r = world.client.post(
        f"/api/v1/cases/{cid}/handoffs", json={"to_department": "legal"}, headers=h
    )
    assert r.status_code == 422
    body = r.json()
    assert body["field"] == "department"
    assert body["value"] == "legal"
    assert "billing" in body["rule"]
    # same place again
    r = world.client.post(f"/api/v1/cases/{cid}/handoffs", json={"stage": "diagnose"}, headers=h)
    assert r.status_code == 409
    # a stage change inside the department keeps the clocks
    before = world.client.get(f"/api/v1/cases/{cid}", headers=h).json()["clocks"]
    r = world.client.post(f"/api/v1/cases/{cid}/handoffs", json={"stage": "fix"}, headers=h)
    assert r.status_code == 201
    assert r.json()["stage"] == "fix"
    assert [c["id"] for c in r.json()["clocks"]] == [c["id"] for c in before]
    # to billing: new clocks there; support loses sight of it, billing gains it
    r = world.client.post(
        f"/api/v1/cases/{cid}/handoffs",
        json={"to_department": "billing", "reason": "refund needed"},
        headers=h,
    )
    assert r.status_code == 201
    case = r.json()
    assert case["department"] == "billing"
    assert case["stage"] == "invoice"
    billing_clocks = [c for c in case["clocks"] if c["department"] == "billing"]
    assert {c["kind"] for c in billing_clocks} == {"response", "resolution"}
    assert all(c["state"] == "running" for c in billing_clocks)
    assert world.client.get(f"/api/v1/cases/{cid}", headers=h).status_code == 404
    hb = world.as_("billing-agent")
    handoffs = world.client.get(f"/api/v1/cases/{cid}/handoffs", headers=hb).json()
    assert [(x["from_department"], x["to_department"]) for x in handoffs] == [
        ("support", "support"),
        ("support", "billing"),
    ]
    assert act("resolve", hb).status_code == 200
    assert act("close", hb).json()["status"] == "closed"
    r = act("close", hb)
    assert r.status_code == 409
    assert "closed" in r.json()["detail"]
    assert r.json()["fix"]
    kinds = [e["kind"] for e in world.client.get(f"/api/v1/cases/{cid}/events", headers=hb).json()]
    assert kinds[0] == "opened"
    assert kinds[-1] == "closed"
    assert kinds.count("handoff") == 1
    assert kinds.count("stage_changed") == 1
    log = world.client.get("/api/v1/audit-log", headers=world.as_("root")).json()
    actions = [e["action"] for e in log if e["entity"] == "case" and e["entity_id"] == str(cid)]
    assert actions == [
        "case.open",
        "case.respond",
        "case.wait_on_customer",
        "case.customer_replied",
        "case.handoff",
        "case.handoff",
        "case.resolve",
        "case.close",
    ]


def test_exception_queue_for_unknown_categories_and_disputes(world):
    r = world.client.post(
        "/api/v1/cases", json={"title": "??", "category": "alien"}, headers=world.as_("sales-agent")
    )
    assert r.status_code == 201
    case = r.json()
    assert case["department"] == "exceptions"
    assert "alien" in case["exception_reason"]
    # agents do not see the exception queue; leads do, on the board too
    assert (
        world.client.get(
            f"/api/v1/cases/{case['id']}", headers=world.as_("sales-agent")
        ).status_code
        == 404
    )
    board = world.client.get("/api/v1/board", headers=world.as_("sales-agent")).json()
    assert board["exceptions"] is None
    board = world.client.get("/api/v1/board", headers=world.as_("billing-lead")).json()
    assert [c["id"] for c in board["exceptions"]] == [case["id"]]
    assert [d["name"] for d in board["departments"]] == ["billing"]
    r = world.client.post(
        f"/api/v1/cases/{case['id']}/handoffs",
        json={"to_department": "billing"},
        headers=world.as_("billing-lead"),
    )
    assert r.status_code == 201
    assert r.json()["department"] == "billing"
    # routed category and a dispute
    routed = world.client.post(
        "/api/v1/cases",
        json={"title": "bill", "category": "invoice"},
        headers=world.as_("sales-agent"),
    ).json()
    assert routed["department"] == "billing"
    r = world.client.post(
        f"/api/v1/cases/{routed['id']}/disputes",
        json={"departments": ["billing", "fulfilment"], "reason": "whose?"},
        headers=world.as_("billing-agent"),
    )
    assert r.status_code == 201
    assert r.json()["department"] == "exceptions"
    assert "dispute between billing and fulfilment" in r.json()["exception_reason"]


def test_malformed_and_oversized_bodies(world):
    h = {**world.as_("support-agent"), "Content-Type": "application/json"}
    r = world.client.post("/api/v1/cases", content=b'{"title": ', headers=h)
    assert r.status_code == 422
    assert "JSON" in r.json()["detail"]
    r = world.client.post("/api/v1/cases", json={"title": "t", "colour": "red"}, headers=h)
    assert r.status_code == 422
    assert r.json()["field"] == "body.colour"
    r = world.client.post("/api/v1/cases", json={"title": ""}, headers=h)
    assert r.status_code == 422
    assert r.json()["field"] == "body.title"
    r = world.client.post("/api/v1/cases", json={"title": "t", "impact": "9"}, headers=h)
    assert r.status_code == 422
    assert "impact" in r.json()["field"]
    r = world.client.post(
        "/api/v1/cases", content=b'{"title": "' + b"x" * 20_000 + b'"}', headers=h
    )
    assert r.status_code == 413
    assert "larger than" in r.json()["detail"]
    r = world.client.post("/api/v1/cases/1/transitions", json={"action": "explode"}, headers=h)
    assert r.status_code == 422


def test_stale_expected_version_is_409_and_both_changes_survive(world):
    cid = _open(world)["id"]
    h = world.as_("support-agent")
    v = world.client.get(f"/api/v1/cases/{cid}", headers=h).json()["version"]
    first = world.client.patch(
        f"/api/v1/cases/{cid}", json={"title": "new title", "expected_version": v}, headers=h
    )
    assert first.status_code == 200
    second = world.client.patch(
        f"/api/v1/cases/{cid}", json={"assignee": "support-agent", "expected_version": v}, headers=h
    )
    assert second.status_code == 409
    assert "expected_version" in second.json()["detail"]
    fresh = world.client.get(f"/api/v1/cases/{cid}", headers=h).json()
    retry = world.client.patch(
        f"/api/v1/cases/{cid}",
        json={"assignee": "support-agent", "expected_version": fresh["version"]},
        headers=h,
    )
    assert retry.status_code == 200
    final = retry.json()
    assert final["title"] == "new title"
    assert final["assignee"] == "support-agent"
    assert final["version"] == v + 2


def test_a_failed_handoff_leaves_nothing_behind(world, monkeypatch):
    cid = _open(world)["id"]
    context = world.app.state.context
    with context.sessions() as s:
        before = (
            s.get(CaseRow, cid).version,
            len(s.scalars(select(CaseEventRow).where(CaseEventRow.case_id == cid)).all()),
        )

    def boom(*_a, **_k):
        raise RuntimeError("crash between two writes")

    # the case row and clocks are written first; the handoff record then fails
    monkeypatch.setattr(HandoffRow, "__init__", boom)
    from datetime import UTC, datetime

    def handoff_then_commit() -> None:
        with context.sessions() as s:
            context.store.apply(
                s,
                cid,
                "support-agent",
                "case.handoff",
                lambda e, c: e.handoff(c, at=datetime.now(UTC), actor="x", department="billing"),
            )
            s.commit()

    with pytest.raises(RuntimeError, match="crash between two writes"):
        handoff_then_commit()
    monkeypatch.undo()
    with context.sessions() as s:
        row = s.get(CaseRow, cid)
        events = s.scalars(select(CaseEventRow).where(CaseEventRow.case_id == cid)).all()
        assert (row.version, len(events)) == before
        assert row.department == "support"
        assert {c.department for c in row.clocks} == {"support"}
        assert s.scalars(select(HandoffRow)).all() == []


def test_history_and_audit_log_cannot_be_edited(world):
    _open(world)
    engine = world.app.state.engine
    for statement in (
        "UPDATE case_events SET actor = 'mallory'",
        "DELETE FROM case_events",
        "UPDATE audit_log SET actor = 'mallory'",
        "DELETE FROM audit_log",
    ):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert (
            conn.execute(text("select count(*) from case_events where actor='mallory'")).scalar()
            == 0
        )
