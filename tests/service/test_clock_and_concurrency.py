"""The SLA clock job (in the service, and `contactops cases tick`), idempotent; concurrent
updates of one case through a real server on SQLite and PostgreSQL lose nothing."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx2
from sqlalchemy import select
from typer.testing import CliRunner

from contactops.cli import app as cli_app
from contactops.service import Settings, create_app, tick_all
from contactops.service._models import CaseEventRow
from tests.service._live import live_server


def _case(world, **body):
    r = world.client.post(
        "/api/v1/cases",
        json={"title": "t", "department": "support", **body},
        headers=world.as_("support-agent"),
    )
    assert r.status_code == 201
    return r.json()["id"]


def _kinds(world, cid):
    with world.app.state.context.sessions() as s:
        return [
            (e.kind, e.data.get("action"), e.at)
            for e in s.scalars(
                select(CaseEventRow).where(CaseEventRow.case_id == cid).order_by(CaseEventRow.seq)
            )
        ]


def test_tick_is_idempotent_and_fires_each_step_once(world):
    cid = _case(world)
    context = world.app.state.context
    later = datetime.now(UTC) + timedelta(days=30)
    first = tick_all(context.sessions, context.store, later)
    history = _kinds(world, cid)
    second = tick_all(context.sessions, context.store, later)
    third = tick_all(context.sessions, context.store, later + timedelta(days=30))
    assert first["events"] > 0
    assert second == {"due": 0, "cases": 0, "events": 0}
    assert third["events"] == 0
    assert _kinds(world, cid) == history
    actions = [a for k, a, _ in history if k == "escalation"]
    assert sorted(actions) == sorted(
        ["warn", "notify_lead", "warn", "notify_lead", "raise_priority", "reassign"]
    )
    assert [k for k, _, _ in history].count("sla_breached") == 2
    case = world.client.get(f"/api/v1/cases/{cid}", headers=world.as_("support-lead")).json()
    assert case["assignee"] == "support-lead"
    assert case["priority"] == 2
    assert all(c["breached"] for c in case["clocks"])
    # the superuser endpoint runs the same job
    r = world.client.post("/api/v1/clock/tick", headers=world.as_("root"))
    assert r.json()["events"] == 0
    assert (
        world.client.post("/api/v1/clock/tick", headers=world.as_("support-lead")).status_code
        == 403
    )


def test_cli_tick_twice(world, monkeypatch):
    cid = _case(world)
    url = str(world.app.state.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("CONTACTOPS_DATABASE_URL", url)
    runner = CliRunner()
    at = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    first = runner.invoke(cli_app, ["cases", "tick", "--at", at, "--json"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(cli_app, ["cases", "tick", "--at", at, "--json"])
    assert json.loads(first.output)["events"] > 0
    assert json.loads(second.output) == {"due": 0, "cases": 0, "events": 0}
    assert ("sla_breached", None) in [(k, a) for k, a, _ in _kinds(world, cid)]
    bad = runner.invoke(cli_app, ["cases", "tick", "--at", "2026-03-01T09:00"])
    assert bad.exit_code == 2
    assert "UTC offset" in bad.output


def test_background_clock_job_records_breaches(database_url):
    settings = Settings(database_url=database_url, tick_seconds=0.2)
    app = create_app(settings)
    from tests.service.conftest import PASSWORD

    with app.state.context.sessions() as s:
        from contactops.service import create_user, issue_token

        user = create_user(s, "boss", PASSWORD, superuser=True)
        token, _ = issue_token(s, user, 1)
        s.commit()
    h = {"Authorization": f"Bearer {token}"}
    with live_server(app) as base, httpx2.Client(base_url=base, headers=h, timeout=10) as c:
        assert (
            c.post(
                "/api/v1/policies",
                json={
                    "name": "fast",
                    "targets": [{"priority": 3, "response": 1, "resolution": 600}],
                },
            ).status_code
            == 201
        )
        assert (
            c.post(
                "/api/v1/departments", json={"name": "rapid", "calendar": "24x7", "policy": "fast"}
            ).status_code
            == 201
        )
        cid = c.post("/api/v1/cases", json={"title": "quick", "department": "rapid"}).json()["id"]
        deadline = time.monotonic() + 15
        kinds: list[str] = []
        while time.monotonic() < deadline and "sla_breached" not in kinds:
            time.sleep(0.2)
            kinds = [e["kind"] for e in c.get(f"/api/v1/cases/{cid}/events").json()]
        assert "sla_breached" in kinds
        events = c.get(f"/api/v1/cases/{cid}/events").json()
        breach = next(e for e in events if e["kind"] == "sla_breached")
        assert breach["actor"] == "sla-clock"
        assert breach["data"]["kind"] == "response"
    app.state.engine.dispose()


def test_concurrent_updates_of_one_case_lose_nothing(world):
    cid = _case(world)
    start_version = world.client.get(
        f"/api/v1/cases/{cid}", headers=world.as_("support-agent")
    ).json()["version"]
    n = 8
    errors: list[str] = []
    conflicts = [0]
    with live_server(world.app) as base:
        barrier = threading.Barrier(n)

        def respond(i: int) -> None:
            with httpx2.Client(base_url=base, headers=world.as_("support-agent"), timeout=30) as c:
                barrier.wait()
                r = c.post(
                    f"/api/v1/cases/{cid}/transitions",
                    json={"action": "respond", "note": f"note {i}"},
                )
                if r.status_code != 200:
                    errors.append(r.text)

        def assign(i: int) -> None:
            with httpx2.Client(base_url=base, headers=world.as_("support-agent"), timeout=30) as c:
                barrier.wait()
                for _ in range(100):
                    version = c.get(f"/api/v1/cases/{cid}").json()["version"]
                    r = c.patch(
                        f"/api/v1/cases/{cid}",
                        json={"assignee": f"agent-{i}", "expected_version": version},
                    )
                    if r.status_code == 200:
                        return
                    if r.status_code != 409:
                        errors.append(r.text)
                        return
                    conflicts[0] += 1
                errors.append("gave up after 100 conflicts")

        for target in (respond, assign):
            threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
    assert errors == []
    with world.app.state.context.sessions() as s:
        events = s.scalars(
            select(CaseEventRow).where(CaseEventRow.case_id == cid).order_by(CaseEventRow.seq)
        ).all()
    notes = sorted(e.data["message"] for e in events if e.kind == "responded")
    assert notes == sorted(f"note {i}" for i in range(n))
    assigned = sorted(e.data["assignee_to"] for e in events if e.kind == "assigned")
    assert assigned == sorted(f"agent-{i}" for i in range(n))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    final = world.client.get(f"/api/v1/cases/{cid}", headers=world.as_("support-agent")).json()
    assert final["version"] == start_version + 2 * n
