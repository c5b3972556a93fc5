"""The case board in a real browser (headless Debian chromium through Playwright)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import httpx2
import pytest

from contactops.service import Settings, create_app, create_user, issue_token, seed_demo, tick_all
from tests.service._live import live_server
from tests.service.conftest import PASSWORD

CHROMIUM = os.environ.get("CONTACTOPS_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def chromium() -> str:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        message = f"chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI needs it")
        pytest.skip(message)
    pytest.importorskip("playwright.sync_api")
    return CHROMIUM


def test_board_in_headless_chromium(chromium, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    app = create_app(
        Settings(
            database_url=f"sqlite:///{tmp_path / 'board.db'}",
            tick_seconds=0,
            board_refresh_seconds=0.5,
        )
    )
    context = app.state.context
    with context.sessions() as s:
        seed_demo(s, PASSWORD)
        root = create_user(s, "root", PASSWORD, superuser=True)
        token, _ = issue_token(s, root, 1)
        s.commit()
    api = {"Authorization": f"Bearer {token}"}
    with live_server(app) as base, httpx2.Client(base_url=base, headers=api) as client:
        # one case under a one-second response target, so it really breaches
        assert (
            client.post(
                "/api/v1/policies",
                json={
                    "name": "fast",
                    "targets": [{"priority": 3, "response": 1, "resolution": 600}],
                },
            ).status_code
            == 201
        )
        assert (
            client.patch("/api/v1/departments/support", json={"policy": "fast"}).status_code == 200
        )
        late = client.post(
            "/api/v1/cases", json={"title": "Late refund", "department": "support"}
        ).json()
        assert (
            client.patch("/api/v1/departments/support", json={"policy": "standard"}).status_code
            == 200
        )
        time.sleep(1.2)
        assert tick_all(context.sessions, context.store)["events"] >= 2
        client.post(
            "/api/v1/cases",
            json={"title": "Fresh question", "department": "support", "stage": "fix"},
        )
        client.post("/api/v1/cases", json={"title": "Nobody's problem", "category": "alien"})
        client.post("/api/v1/cases", json={"title": "Billing only", "department": "billing"})
        requested: list[str] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=ARGS)
            page = browser.new_page()
            page.on("request", lambda r: requested.append(r.url))
            page.goto(f"{base}/board")
            assert page.url == f"{base}/login"
            page.fill("#username", "support-lead")
            page.fill("#password", PASSWORD)
            page.click("#signin")
            page.wait_for_url(f"{base}/board")
            support = page.locator('section.department[data-department="support"]')
            expect(support).to_be_visible()
            assert page.locator('section.department[data-department="billing"]').count() == 0
            assert page.locator("text=Billing only").count() == 0
            expect(support.locator('.stage[data-stage="diagnose"] .card')).to_have_count(1)
            breached = support.locator(f'.card[data-case="{late["id"]}"]')
            expect(breached).to_have_class("card breached")
            expect(breached).to_contain_text("breached")
            fresh = support.locator('.stage[data-stage="fix"] .card')
            expect(fresh).to_contain_text("Fresh question")
            expect(fresh).to_contain_text("left")
            assert "breached" not in (fresh.get_attribute("class") or "")
            exceptions = page.locator("#exceptions")
            expect(exceptions).to_be_visible()
            expect(exceptions).to_contain_text("Nobody's problem")
            expect(exceptions).to_contain_text("unknown category 'alien'")
            expect(page.locator("#summary")).to_have_text("3 open, 1 breached")
            # a new case shows up without a reload
            page.evaluate("window.__sameDocument = true")
            client.post("/api/v1/cases", json={"title": "Arrived later", "department": "support"})
            expect(support.locator("text=Arrived later")).to_be_visible(timeout=10_000)
            assert page.evaluate("window.__sameDocument") is True
            expect(page.locator("#summary")).to_have_text("4 open, 1 breached")
            page.screenshot(path=str(tmp_path / "board.png"), full_page=True)
            browser.close()
        # everything the page loaded came from the service itself
        assert requested
        assert all(url.startswith(base) for url in requested), requested
    app.state.engine.dispose()
