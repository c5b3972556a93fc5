"""Tokens expire and can be revoked; one rule for the Authorization scheme and the cookie."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from contactops.errors import InvalidParameterError
from contactops.service import Settings
from contactops.service._models import ApiToken, User
from contactops.service._security import hash_token
from tests.service.conftest import PASSWORD


@pytest.fixture
def world(shared_world):
    """One service per database for the module; each test that ends tokens makes its own
    user (``_new_user``), so the tests do not end each other's."""
    return shared_world


def _new_user(world) -> str:
    name = f"u{uuid.uuid4().hex[:10]}"
    r = world.client.post(
        "/api/v1/users",
        headers=world.as_("root"),
        json={
            "username": name,
            "password": PASSWORD,
            "memberships": [{"department": "billing", "role": "lead"}],
        },
    )
    assert r.status_code == 201, r.text
    return name


def _login(world, username, **extra):
    r = world.client.post(
        "/api/v1/login/access-token", json={"username": username, "password": PASSWORD, **extra}
    )
    assert r.status_code == 200, r.text
    return r


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _send(world, method, path, *, headers=None, cookies=None, json=None):
    """One request with exactly these cookies (the client keeps none between requests)."""
    world.client.cookies.clear()
    for name, value in (cookies or {}).items():
        world.client.cookies.set(name, value)
    try:
        return world.client.request(method, path, headers=headers or {}, json=json)
    finally:
        world.client.cookies.clear()


def _me(world, headers=None, cookies=None):
    return _send(world, "GET", "/api/v1/users/me", headers=headers, cookies=cookies)


def test_token_lifetime_is_a_setting(world):
    assert Settings().token_hours == 12
    before = datetime.now(UTC)
    r = _login(world, "support-agent", set_cookie=True)
    after = datetime.now(UTC)
    expires = datetime.fromisoformat(r.json()["expires_at"])
    assert before + timedelta(hours=12) <= expires <= after + timedelta(hours=12)
    assert "max-age=43200" in r.headers["set-cookie"].lower()
    world.client.cookies.clear()


def test_an_expired_token_is_401(world):
    token = _login(world, "support-agent").json()["access_token"]
    assert _me(world, _bearer(token)).status_code == 200
    with world.app.state.context.sessions() as s:
        s.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == hash_token(token))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        s.commit()
    r = _me(world, _bearer(token))
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]


def test_logout_revokes_only_that_token(world):
    one = _login(world, "support-agent").json()["access_token"]
    two = _login(world, "support-agent").json()["access_token"]
    r = world.client.post("/api/v1/logout", headers=_bearer(one))
    assert r.status_code == 204
    assert "contactops_token=" in r.headers.get("set-cookie", "")  # the cookie is cleared
    assert _me(world, _bearer(one)).status_code == 401
    assert "revoked" in _me(world, _bearer(one)).json()["detail"]
    assert _me(world, _bearer(two)).status_code == 200
    # logging out twice: the token is gone, 401
    assert world.client.post("/api/v1/logout", headers=_bearer(one)).status_code == 401


def test_a_superuser_revokes_every_token_of_a_user(world):
    name = _new_user(world)
    tokens = [_login(world, name).json()["access_token"] for _ in range(3)]
    user_id = _me(world, _bearer(tokens[0])).json()["id"]
    # another user may not; the user may (themselves, everywhere)
    r = world.client.delete(f"/api/v1/users/{user_id}/tokens", headers=world.as_("sales-lead"))
    assert r.status_code == 404
    r = world.client.delete(f"/api/v1/users/{user_id}/tokens", headers=world.as_("root"))
    assert r.status_code == 200
    assert r.json() == {"user_id": user_id, "revoked": 3}
    assert all(_me(world, _bearer(t)).status_code == 401 for t in tokens)
    assert _me(world, world.as_("sales-lead")).status_code == 200  # others keep theirs
    mine = _login(world, name).json()["access_token"]
    r = world.client.delete(f"/api/v1/users/{user_id}/tokens", headers=_bearer(mine))
    assert r.json()["revoked"] == 1
    assert _me(world, _bearer(mine)).status_code == 401
    log = world.client.get("/api/v1/audit-log?limit=1000", headers=world.as_("root")).json()
    revokes = [e for e in log if e["action"] == "token.revoke" and e["entity_id"] == str(user_id)]
    assert [(e["actor"], e["detail"]["tokens"]) for e in revokes] == [("root", 3), (name, 1)]


def test_a_new_password_ends_the_other_sessions(world):
    name = _new_user(world)
    other = _login(world, name).json()["access_token"]
    current = _login(world, name).json()["access_token"]
    user_id = _me(world, _bearer(current)).json()["id"]
    r = world.client.patch(
        f"/api/v1/users/{user_id}", headers=_bearer(current), json={"password": "a brand new one"}
    )
    assert r.status_code == 200
    assert _me(world, _bearer(current)).status_code == 200
    assert _me(world, _bearer(other)).status_code == 401
    # a superuser's reset ends all of them; deactivation too, and they stay ended
    world.client.patch(
        f"/api/v1/users/{user_id}", headers=world.as_("root"), json={"password": "reset by root!"}
    )
    assert _me(world, _bearer(current)).status_code == 401
    again = world.client.post(
        "/api/v1/login/access-token", json={"username": name, "password": "reset by root!"}
    ).json()["access_token"]
    world.client.patch(
        f"/api/v1/users/{user_id}", headers=world.as_("root"), json={"is_active": False}
    )
    world.client.patch(
        f"/api/v1/users/{user_id}", headers=world.as_("root"), json={"is_active": True}
    )
    assert _me(world, _bearer(again)).status_code == 401


def test_expired_tokens_are_purged_at_the_next_login(world):
    name = _new_user(world)
    for _ in range(3):
        _login(world, name)
    with world.app.state.context.sessions() as s:
        user = s.scalar(select(User).where(User.username == name))
        s.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id)
            .values(expires_at=datetime.now(UTC) - timedelta(days=1))
        )
        s.commit()
        user_id = user.id
    _login(world, name)
    with world.app.state.context.sessions() as s:
        left = s.scalars(select(ApiToken).where(ApiToken.user_id == user_id)).all()
    assert len(left) == 1
    assert left[0].expires_at > datetime.now(UTC)


@pytest.mark.parametrize("hours", [0, -1, math.nan, math.inf, 366 * 24 + 1])
def test_token_hours_is_checked(hours):
    with pytest.raises(InvalidParameterError, match="token_hours"):
        Settings(token_hours=hours)


def test_token_hours_from_the_environment():
    assert Settings.from_env({"CONTACTOPS_TOKEN_HOURS": "1.5"}).token_hours == 1.5
    # the setting's old name, in days, still counts when the new one is not set
    assert Settings.from_env({"CONTACTOPS_TOKEN_DAYS": "2"}).token_hours == 48
    assert (
        Settings.from_env({"CONTACTOPS_TOKEN_DAYS": "2", "CONTACTOPS_TOKEN_HOURS": "3"}).token_hours
        == 3
    )
    assert Settings(token_hours=36).token_days == 1.5
    with pytest.raises(InvalidParameterError, match="CONTACTOPS_TOKEN_HOURS"):
        Settings.from_env({"CONTACTOPS_TOKEN_HOURS": "soon"})


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_scheme_name_is_case_insensitive(world, scheme):
    token = world.tokens["support-agent"]
    assert _me(world, {"Authorization": f"{scheme} {token}"}).status_code == 200
    assert _me(world, {"Authorization": f"  {scheme}   {token}  "}).status_code == 200
    r = world.client.post(
        "/api/v1/cases",
        json={"title": "t", "department": "support"},
        headers={"Authorization": f"{scheme} {token}"},
    )
    assert r.status_code == 201


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwYXNz", "Token abc", "Bearer", "Bearer ", "Bearertoken", ""]
)
def test_other_schemes_are_401(world, header):
    r = _me(world, {"Authorization": header})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["detail"]


def test_the_cookie_authenticates_reads_never_writes(world):
    token = _login(world, "support-agent", set_cookie=True).json()["access_token"]
    cookie = {"contactops_token": token}
    assert _me(world, cookies=cookie).status_code == 200
    assert _send(world, "GET", "/api/v1/board", cookies=cookie).status_code == 200
    assert _send(world, "GET", "/board", cookies=cookie).status_code == 200
    writes = [
        ("POST", "/api/v1/cases", {"title": "t", "department": "support"}),
        ("PATCH", "/api/v1/users/1", {"full_name": "x"}),
        (
            "PUT",
            "/api/v1/departments/support/members/support-agent",
            {"department": "support", "role": "agent"},
        ),
        ("DELETE", "/api/v1/departments/support/members/support-agent", None),
        ("POST", "/api/v1/logout", None),
    ]
    for method, path, body in writes:
        r = _send(world, method, path, json=body, cookies=cookie)
        assert r.status_code == 401, (method, path, r.status_code)
        assert "GET requests only" in r.json()["detail"]
    # with the header, the same write works (the cookie is not needed, nor harmful)
    r = _send(
        world,
        "POST",
        "/api/v1/cases",
        json={"title": "t", "department": "support"},
        headers=_bearer(token),
        cookies=cookie,
    )
    assert r.status_code == 201
    # a wrong header is not rescued by a good cookie
    assert _me(world, {"Authorization": "Bearer nope"}, cookies=cookie).status_code == 401


def test_the_spec_declares_the_bearer_scheme_and_links(world):
    spec = world.client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    ops = [
        (path, method, op) for path, item in spec["paths"].items() for method, op in item.items()
    ]
    for path, _method, op in ops:
        protected = path.startswith("/api/v1") and path != "/api/v1/login/access-token"
        assert (op.get("security") == [{"bearer": []}]) == protected, path
    links = spec["paths"]["/api/v1/cases"]["post"]["responses"]["201"]["links"]
    assert links["ReadCase"] == {
        "operationId": "read_case_api_v1_cases__case_id__get",
        "parameters": {"case_id": "$response.body#/id"},
    }
    ids = {op["operationId"] for _p, _m, op in ops}
    for path, item in spec["paths"].items():
        for op in item.values():
            for code, response in op["responses"].items():
                for name, link in response.get("links", {}).items():
                    assert link["operationId"] in ids, (path, code, name)
