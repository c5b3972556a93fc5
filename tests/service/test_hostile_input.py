"""Hostile requests on SQLite and PostgreSQL: each is a 4xx with the usual error body,
never a 500 (issue 13: lone surrogates, NaN, ids past the columns, null calendar hours,
malformed JSON, invalid UTF-8, deep nesting, NUL)."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import DataError

from contactops.service._guard import MAX_ID, MAX_JSON_DEPTH, BodyRefused, strict_json

KEYS = {"detail", "field", "value", "rule", "fix"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def world(shared_world):
    """One seeded service per database for the whole module: these requests are refused
    and change nothing (the few that succeed add records no other test looks at)."""
    return shared_world


def _refused(r, status=422, field=None):
    """The response is ``status`` with the usual error body (parsed strictly)."""
    assert r.status_code == status, r.text
    body = json.loads(r.content.decode("utf-8"), parse_constant=pytest.fail)
    assert set(body) >= KEYS, body
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if field is not None:
        assert body["field"] == field, body
    return body


def _raw(world, method, path, raw: bytes, user="root"):
    return world.client.request(method, path, content=raw, headers={**world.as_(user), **JSON})


# every body that takes text, with the text field to poison (the login needs no token)
TEXT_FIELDS = [
    ("POST", "/api/v1/login/access-token", {"password": "x"}, "username"),
    ("POST", "/api/v1/login/access-token", {"username": "root"}, "password"),
    ("POST", "/api/v1/cases", {}, "title"),
    ("POST", "/api/v1/cases", {"title": "t"}, "category"),
    ("POST", "/api/v1/cases", {"title": "t"}, "tier"),
    ("POST", "/api/v1/cases", {"title": "t"}, "department"),
    ("PATCH", "/api/v1/cases/1", {}, "title"),
    ("PATCH", "/api/v1/cases/1", {}, "assignee"),
    ("POST", "/api/v1/cases/1/transitions", {"action": "respond"}, "note"),
    ("POST", "/api/v1/cases/1/handoffs", {}, "to_department"),
    ("POST", "/api/v1/cases/1/handoffs", {"stage": "fix"}, "reason"),
    ("POST", "/api/v1/users", {"password": "long enough"}, "username"),
    ("POST", "/api/v1/users", {"username": "zed", "password": "long enough"}, "full_name"),
    ("PATCH", "/api/v1/users/1", {}, "full_name"),
    ("POST", "/api/v1/calendars", {"name": "c"}, "timezone"),
    ("PATCH", "/api/v1/calendars/24x7", {}, "hours"),
    ("POST", "/api/v1/departments", {"calendar": "24x7", "policy": "standard"}, "name"),
    ("PATCH", "/api/v1/departments/support", {}, "lead"),
]


@pytest.mark.parametrize("poison", ["\\ud800", "x\\udfff", "a\\u0000b"])
def test_bad_text_in_any_field_is_422(world, poison):
    for method, path, base, name in TEXT_FIELDS:
        raw = json.dumps(base)[:-1].encode()
        raw += (b", " if base else b"") + f'"{name}": "{poison}"}}'.encode()
        r = _raw(world, method, path, raw)
        body = _refused(r, field=f"body.{name}")
        assert "surrogate" in body["rule"] or "NUL" in body["rule"]
    # a surrogate pair is a real character (an emoji), not refused
    r = world.client.post(
        "/api/v1/cases",
        content=b'{"title": "fire \\ud83d\\udd25"}',
        headers={**world.as_("root"), **JSON},
    )
    assert r.status_code == 201
    assert r.json()["title"] == "fire \U0001f525"


def test_a_surrogate_in_a_key_is_422(world):
    r = _raw(world, "PUT", "/api/v1/routing", b'{"routes": {"\\ud800": "support"}}')
    _refused(r, field="body.routes.\\ud800")


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"9" * 5000])
def test_non_finite_and_huge_numbers_are_422(world, number):
    created = world.client.post(
        "/api/v1/cases", json={"title": "t", "department": "support"}, headers=world.as_("root")
    ).json()
    cid = created["id"]
    for method, path, field in (
        ("POST", "/api/v1/cases", b'"title": "t", "priority"'),
        ("PATCH", f"/api/v1/cases/{cid}", b'"expected_version"'),
        ("POST", f"/api/v1/cases/{cid}/transitions", b'"action": "respond", "expected_version"'),
    ):
        r = _raw(world, method, path, b"{" + field + b": " + number + b"}")
        body = _refused(r, field="body")
        assert "number" in body["rule"] or "integer" in body["rule"]
    # nothing changed
    case = world.client.get(f"/api/v1/cases/{cid}", headers=world.as_("root")).json()
    assert (case["version"], case["status"]) == (created["version"], "open")


@pytest.mark.parametrize("big", [2**31, 2**63 - 1, 2**63, 2**64, 10**30])
def test_ids_past_the_columns_are_422(world, big):
    for path, field in (
        (f"/api/v1/cases/{big}", "path.case_id"),
        (f"/api/v1/cases/{big}/events", "path.case_id"),
        (f"/api/v1/users/{big}", "path.user_id"),
        (f"/api/v1/cases?after_id={big}", "query.after_id"),
        (f"/api/v1/events?after_id={big}", "query.after_id"),
        (f"/api/v1/handoffs?after_id={big}", "query.after_id"),
        (f"/api/v1/audit-log?after_id={big}", "query.after_id"),
    ):
        body = _refused(world.client.get(path, headers=world.as_("root")), field=field)
        assert str(MAX_ID) in body["rule"]
    r = world.client.patch(
        "/api/v1/cases/1", json={"title": "x", "expected_version": big}, headers=world.as_("root")
    )
    _refused(r, field="body.expected_version")


def test_the_largest_id_is_a_plain_404(world):
    r = world.client.get(f"/api/v1/cases/{MAX_ID}", headers=world.as_("root"))
    _refused(r, 404, field="case_id")
    r = world.client.get(f"/api/v1/users/{MAX_ID}", headers=world.as_("root"))
    _refused(r, 404)
    assert (
        world.client.get(f"/api/v1/cases?after_id={MAX_ID}", headers=world.as_("root")).json() == []
    )


@pytest.mark.parametrize("name", ["timezone", "hours", "holidays"])
def test_calendar_fields_cannot_be_nulled(world, name):
    before = world.client.get("/api/v1/calendars/24x7", headers=world.as_("root")).json()
    r = world.client.patch("/api/v1/calendars/24x7", json={name: None}, headers=world.as_("root"))
    body = _refused(r, field=f"body.{name}")
    assert "not null" in body["rule"]
    after = world.client.get("/api/v1/calendars/24x7", headers=world.as_("root")).json()
    assert after == before
    # country may be cleared
    r = world.client.patch(
        "/api/v1/calendars/24x7", json={"country": None}, headers=world.as_("root")
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        pytest.param(b'{"title": ', "not valid JSON", id="truncated"),
        pytest.param(b'{"title": "t",}', "not valid JSON", id="trailing-comma"),
        pytest.param(b'{"title": "\xff\xfe"}', "UTF-8", id="invalid-utf8"),
        pytest.param(b'\xef\xbb\xbf{"title": "t"}', "not valid JSON", id="bom"),
        pytest.param(b"[" * 1000 + b"]" * 1000, "nested deeper", id="1000-arrays"),
        pytest.param(
            b'{"title": "t", "x": ' + b'{"a": ' * 1000 + b"1" + b"}" * 1000 + b"}",
            "nested deeper",
            id="1000-objects",
        ),
        pytest.param(b"", None, id="empty"),
    ],
)
def test_malformed_bodies_are_422(world, raw, words):
    for method, path in (
        ("POST", "/api/v1/cases"),
        ("POST", "/api/v1/login/access-token"),
        ("PUT", "/api/v1/routing"),
    ):
        body = _refused(_raw(world, method, path, raw))
        if words is not None:
            assert words in body["detail"], body
            assert body["field"] == "body"


def test_nul_in_path_and_query_is_422(world):
    h = world.as_("root")
    _refused(world.client.get("/api/v1/departments/sup%00port", headers=h), field="path.name")
    _refused(world.client.get("/api/v1/cases?department=a%00", headers=h), field="query.department")
    _refused(
        world.client.delete("/api/v1/departments/support/members/a%00b", headers=h),
        field="path.username",
    )


def test_nesting_at_the_limit_is_parsed():
    deep = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert strict_json(deep.encode()) == json.loads(deep)
    with pytest.raises(BodyRefused, match="nested deeper"):
        strict_json(b"[" + deep.encode() + b"]")
    # brackets inside strings do not count
    assert strict_json(json.dumps({"a": "[" * 100}).encode()) == {"a": "[" * 100}


HOSTILE = st.sampled_from(
    [
        '"\\ud800"',
        '"\\udc00x"',
        '"\\u0000"',
        "NaN",
        "-Infinity",
        "1e999",
        "9" * 4500,
        str(2**63),
        "-" + str(2**64),
        "null",
        "[]",
        "{}",
        '"' + "x" * 3000 + '"',
        "true",
        "1.5",
        "[" * 40 + "]" * 40,
    ]
)
FIELDS = st.sampled_from(
    [
        "title",
        "priority",
        "expected_version",
        "department",
        "stage",
        "impact",
        "hours",
        "timezone",
        "holidays",
        "routes",
        "username",
        "password",
        "action",
        "note",
        "targets",
        "memberships",
        "x",
    ]
)
WRITES = [
    ("POST", "/api/v1/cases"),
    ("PATCH", "/api/v1/cases/1"),
    ("POST", "/api/v1/cases/1/transitions"),
    ("POST", "/api/v1/cases/1/handoffs"),
    ("POST", "/api/v1/login/access-token"),
    ("PATCH", "/api/v1/calendars/24x7"),
    ("POST", "/api/v1/calendars"),
    ("PUT", "/api/v1/routing"),
    ("POST", "/api/v1/users"),
    ("PATCH", "/api/v1/departments/support"),
    ("POST", "/api/v1/policies"),
]


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    target=st.sampled_from(WRITES),
    pairs=st.lists(st.tuples(FIELDS, HOSTILE), min_size=1, max_size=4),
    cut=st.integers(min_value=0, max_value=400),
)
def test_hostile_bodies_never_500(world, target, pairs, cut):
    """Hostile values in any field, whole or cut short: a 4xx with the usual body."""
    raw = "{" + ", ".join(f'"{k}": {v}' for k, v in pairs) + "}"
    if cut:
        raw = raw[:cut]  # truncated: usually not JSON any more
    r = _raw(world, *target, raw.encode())
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        _refused(r, r.status_code)


def test_a_crash_is_a_500_with_the_usual_body_and_logged(world, monkeypatch, caplog):
    def boom(*_a, **_k):
        raise RuntimeError("a bug in the service")

    monkeypatch.setattr(world.app.state.context.store, "engine", boom)
    client = TestClient(world.app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="contactops.service"):
        r = client.get("/api/v1/cases", headers=world.as_("root"))
    body = _refused(r, 500)
    assert "incident" in body["detail"]
    incident = body["detail"].split("incident ")[1].split(")")[0]
    assert any(incident in rec.getMessage() and rec.exc_info for rec in caplog.records)


def test_a_value_the_database_refuses_is_422_and_logged(world, monkeypatch, caplog):
    from contactops.service import _api_admin

    def refuse(*_a, **_k):
        raise DataError("INSERT ...", {}, ValueError("value too long for type varchar(64)"))

    monkeypatch.setattr(_api_admin, "audit", refuse)
    with caplog.at_level(logging.ERROR, logger="contactops.service"):
        r = world.client.post("/api/v1/calendars", json={"name": "nyc"}, headers=world.as_("root"))
    body = _refused(r, 422)
    assert "too long" in body["rule"]
    assert any("schemas should have" in rec.getMessage() for rec in caplog.records)
    # nothing of the refused request was stored
    assert world.client.get("/api/v1/calendars/nyc", headers=world.as_("root")).status_code == 404


def test_a_wrong_method_is_405_naming_every_allowed_one(world):
    for path, allowed in (
        ("/api/v1/cases", "GET, POST"),
        ("/api/v1/cases/1", "GET, PATCH"),
        ("/api/v1/logout", "POST"),
        ("/api/v1/users/1/tokens", "DELETE"),
    ):
        r = world.client.request("PUT", path, headers=world.as_("root"))
        _refused(r, 405)
        assert r.headers["allow"] == allowed


def test_values_the_columns_cannot_hold_are_refused_up_front(world):
    """A priority past INTEGER, or a stage past 64 characters, used to be stored as JSON
    and fail later, when a case was opened with it (SQLite: OverflowError, a 500;
    PostgreSQL: a DataError)."""
    h = world.as_("root")
    before = world.client.get("/api/v1/routing", headers=h).json()
    for row in (
        {"impact": "1", "urgency": "1", "priority": 2**70},
        {"impact": "1", "urgency": "1", "priority": 10},
        {"impact": 1, "urgency": [], "priority": 1},
        {"impact": "x" * 33, "urgency": "1", "priority": 1},
    ):
        r = world.client.put(
            "/api/v1/routing", json={"routes": {}, "priority_matrix": [row]}, headers=h
        )
        assert _refused(r)["field"].startswith("body.priority_matrix.0.")
    assert world.client.get("/api/v1/routing", headers=h).json() == before
    for path, body, field in (
        (
            "/api/v1/departments",
            {"name": "long", "calendar": "24x7", "policy": "standard", "stages": ["s" * 65]},
            "body.stages.0",
        ),
        (
            "/api/v1/policies",
            {
                "name": "far",
                "targets": [{"priority": 1, "response": 60}],
                "ladder": [{"share": 1, "action": "reassign", "to": "d" * 65}],
            },
            "body.ladder.0.to",
        ),
    ):
        _refused(world.client.post(path, json=body, headers=h), field=field)


def test_unknown_query_parameters_are_422_naming_the_known_ones(world):
    h = world.as_("root")
    body = _refused(world.client.get("/api/v1/cases?afterid=3", headers=h), field="query.afterid")
    assert "after_id, department, limit, status" in body["rule"]
    _refused(world.client.get("/api/v1/users/me?x=1", headers=h), field="query.x")
    _refused(world.client.get("/api/v1/handoffs?=null", headers=h), field="query.")
    r = world.client.get("/api/v1/cases?status=open&limit=3&after_id=0&department=x", headers=h)
    assert r.status_code == 200
