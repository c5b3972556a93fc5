"""Users, roles, calendars, policies, departments, routing and audit through the API."""

from __future__ import annotations

from tests.service.conftest import PASSWORD


def test_users_and_department_roles(world):
    c, root = world.client, world.as_("root")
    r = c.post(
        "/api/v1/users",
        headers=root,
        json={
            "username": "newbie",
            "password": "long enough pw",
            "memberships": [{"department": "sales", "role": "agent"}],
        },
    )
    assert r.status_code == 201
    newbie = r.json()
    assert newbie["memberships"] == [{"department": "sales", "role": "agent"}]
    assert "password" not in str(newbie)
    assert (
        c.post(
            "/api/v1/users", headers=root, json={"username": "newbie", "password": "long enough pw"}
        ).status_code
        == 409
    )
    r = c.post("/api/v1/users", headers=root, json={"username": "x", "password": "short"})
    assert r.status_code == 422
    assert (
        c.post(
            "/api/v1/users",
            headers=world.as_("sales-lead"),
            json={"username": "other", "password": "long enough pw"},
        ).status_code
        == 403
    )
    # a lead cannot manage members; after the superuser makes them admin, they can
    put = "/api/v1/departments/sales/members/newbie"
    body = {"department": "sales", "role": "lead"}
    assert c.put(put, json=body, headers=world.as_("sales-lead")).status_code == 403
    assert (
        c.put(
            "/api/v1/departments/sales/members/sales-lead",
            headers=root,
            json={"department": "sales", "role": "admin"},
        ).status_code
        == 200
    )
    r = c.put(put, json=body, headers=world.as_("sales-lead"))
    assert r.status_code == 200
    assert r.json()["memberships"] == [{"department": "sales", "role": "lead"}]
    assert (
        c.put(
            "/api/v1/departments/billing/members/newbie",
            headers=world.as_("sales-lead"),
            json={"department": "billing", "role": "agent"},
        ).status_code
        == 403
    )
    # the sales admin sees sales members, not billing's
    names = {u["username"] for u in c.get("/api/v1/users", headers=world.as_("sales-lead")).json()}
    assert {"newbie", "sales-agent", "sales-lead"} <= names
    assert "billing-agent" not in names
    assert (
        c.get(f"/api/v1/users/{newbie['id']}", headers=world.as_("billing-lead")).status_code == 404
    )
    assert c.delete(put, headers=world.as_("sales-lead")).status_code == 204
    # self-service password change, then the new one works
    token = c.post(
        "/api/v1/login/access-token", json={"username": "newbie", "password": "long enough pw"}
    ).json()
    mine = {"Authorization": f"Bearer {token['access_token']}"}
    assert (
        c.patch(
            f"/api/v1/users/{newbie['id']}", headers=mine, json={"password": "another long pw"}
        ).status_code
        == 200
    )
    assert (
        c.post(
            "/api/v1/login/access-token", json={"username": "newbie", "password": "another long pw"}
        ).status_code
        == 200
    )
    assert (
        c.patch(
            f"/api/v1/users/{newbie['id']}", headers=mine, json={"is_active": False}
        ).status_code
        == 403
    )
    # a deactivated user's tokens stop working
    assert (
        c.patch(
            f"/api/v1/users/{newbie['id']}", headers=root, json={"is_active": False}
        ).status_code
        == 200
    )
    assert c.get("/api/v1/users/me", headers=mine).status_code == 401


def test_calendars_policies_departments_and_routing(world):
    c, root = world.client, world.as_("root")
    r = c.post(
        "/api/v1/calendars",
        headers=root,
        json={
            "name": "nyc",
            "timezone": "America/New_York",
            "hours": "mon-fri 08:00-18:00",
            "country": "US",
            "subdivision": "NY",
            "holidays": ["2026-12-24"],
        },
    )
    assert r.status_code == 201
    cal = r.json()
    assert cal["open_hours_per_week"] == 50
    assert cal["hours"]["mon"] == "08:00-18:00"
    bad = c.post("/api/v1/calendars", headers=root, json={"name": "x", "timezone": "Moon/Base"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "timezone"
    assert "IANA" in bad.json()["rule"]
    bad = c.post("/api/v1/calendars", headers=root, json={"name": "y", "hours": "mon 9-5"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "hours"
    r = c.post(
        "/api/v1/policies",
        headers=root,
        json={
            "name": "vip",
            "targets": [
                {"priority": 1, "tier": "gold", "response": "10m", "resolution": "2h"},
                {"priority": 3, "resolution": "1d"},
            ],
        },
    )
    assert r.status_code == 201
    targets = r.json()["targets"]
    assert {"priority": 1, "tier": "gold", "response": 600.0, "resolution": 7200.0} in targets
    assert len(r.json()["ladder"]) == 4  # the default ladder
    bad = c.post(
        "/api/v1/policies",
        headers=root,
        json={"name": "z", "targets": [{"priority": 1, "response": "soon"}]},
    )
    assert bad.status_code == 422
    assert "duration" in bad.json()["detail"]
    r = c.post(
        "/api/v1/departments",
        headers=root,
        json={"name": "legal", "calendar": "nyc", "policy": "vip", "stages": ["review", "sign"]},
    )
    assert r.status_code == 201
    bad = c.post(
        "/api/v1/departments",
        headers=root,
        json={"name": "other", "calendar": "nope", "policy": "vip"},
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "calendar"
    clash = c.post(
        "/api/v1/departments",
        headers=root,
        json={"name": "other", "calendar": "nyc", "policy": "vip", "stages": ["fix"]},
    )
    assert clash.status_code == 422
    assert "support" in clash.json()["rule"]
    assert (
        c.post(
            "/api/v1/departments",
            headers=root,
            json={"name": "exceptions", "calendar": "nyc", "policy": "vip"},
        ).status_code
        == 422
    )
    # a case routed by category to the new department's stage, on its calendar and policy
    r = c.put("/api/v1/routing", headers=root, json={"routes": {"contract": "review"}})
    assert r.status_code == 200
    case = c.post(
        "/api/v1/cases",
        headers=root,
        json={
            "title": "NDA",
            "category": "contract",
            "tier": "gold",
            "impact": "1",
            "urgency": "1",
        },
    ).json()
    assert (case["department"], case["stage"], case["priority"]) == ("legal", "review", 1)
    response_clock = next(k for k in case["clocks"] if k["kind"] == "response")
    assert response_clock["target_s"] == 600
    assert (
        c.put("/api/v1/routing", headers=root, json={"routes": {"x": "nowhere"}}).status_code == 422
    )
    assert (
        c.put("/api/v1/routing", headers=world.as_("support-lead"), json={"routes": {}}).status_code
        == 403
    )


def test_audit_figures_and_log(world):
    c = world.client
    h = world.as_("dual")  # member of support and billing
    for _ in range(3):
        cid = c.post(
            "/api/v1/cases", headers=h, json={"title": "t", "department": "support"}
        ).json()["id"]
        c.post(f"/api/v1/cases/{cid}/handoffs", headers=h, json={"to_department": "billing"})
        c.post(f"/api/v1/cases/{cid}/handoffs", headers=h, json={"to_department": "support"})
    figures = c.get("/api/v1/audit/figures", headers=h).json()
    assert figures["cases"] == 3
    assert figures["cases_with_loops"] == 3
    routes = {
        (t["from_department"], t["to_department"]): t["handoffs"] for t in figures["transitions"]
    }
    assert routes == {("(new)", "support"): 3, ("support", "billing"): 3, ("billing", "support"): 3}
    assert figures["loops"] == [{"departments": ["billing", "support"], "returns": 3, "cases": 3}]
    log = c.get("/api/v1/audit-log?limit=1000", headers=world.as_("root")).json()
    assert sum(e["action"] == "case.handoff" and e["actor"] == "dual" for e in log) == 6
    assert any(e["action"] == "seed.demo" for e in log)
    assert PASSWORD not in str(log)
