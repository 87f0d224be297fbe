"""The city's analytics page in a real browser, over conversations held with the running bot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from stack.processes import Stack
from tests.conftest import ROOT
from tests.e2e.conftest import Chat
from tests.e2e.test_browser import browser as browser  # noqa: F401  (the shared chromium)
from tests.e2e.test_browser_console import PASSWORD, contexts, log_in, new_page  # noqa: F401
from tests.e2e.test_rest_conversations import file_pothole

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def account(stack: Stack, role: str) -> str:
    username = f"{role}-" + uuid.uuid4().hex[:8]
    env = {**os.environ, "CITYBOT_HANDOFF_DATABASE_URL": stack.settings.handoff_database_url}
    created = subprocess.run(
        [sys.executable, "-m", "handoff", "create-user", username, "--role", role, "--name", role.title(),
         "--password-stdin"], input=PASSWORD + "\n", cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stderr
    return username


def test_an_admin_sees_what_citizens_asked_as_charts_and_others_are_refused(
    browser: Browser, contexts: list[BrowserContext], stack: Stack  # noqa: F811
) -> None:
    reporter = Chat(stack)
    file_pothole(reporter, where="88 Analytics Avenue")
    Chat(stack).say("I want to talk to a person, my number is 555-123-9876")
    Chat(stack).say("when is bulky waste collected")
    leaving = Chat(stack)
    assert "did this conversation help you?" in leaving.texts("goodbye")
    assert "Thank you for telling us" in leaving.texts("yes")  # typed, not the button

    page, problems = new_page(browser, contexts, 1366, 900)
    page.goto(stack.settings.handoff_url() + "/console/analytics")
    expect(page.locator("#login-form")).to_be_visible()  # not logged in: the login form

    log_in(page, stack, account(stack, "admin"))
    page.goto(stack.settings.handoff_url() + "/console/analytics")
    expect(page.get_by_role("heading", name="What citizens asked: the last 30 days")).to_be_visible()
    tiles = page.locator(".analytics__tile")
    expect(tiles.first).to_contain_text("Conversations")
    conversations = int(tiles.first.locator(".analytics__value").inner_text())
    assert conversations >= 3
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(6)
    expect(page.get_by_role("img", name="Reports filed, by category")).to_contain_text("Pothole")
    expect(page.get_by_role("img", name="What citizens asked (top intents)")).to_contain_text("human_handoff")
    expect(page.get_by_role("img", name="Conversations by channel")).to_contain_text("rest")
    answered = tiles.filter(has_text="Did this help?").locator(".analytics__value").inner_text()
    assert re.fullmatch(r"\d+% of \d+", answered) and int(answered.split(" of ")[1]) >= 1, answered
    box = charts.first.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100  # drawn, not empty
    html = page.content()
    for personal in ("555-123-9876", "9876", "88 Analytics Avenue", reporter.sender):
        assert personal not in html, personal
    assert problems == []  # no script errors, no CSP violation

    page.locator("a", has_text="7 days").click()
    expect(page.get_by_role("heading", name="What citizens asked: the last 7 days")).to_be_visible()

    agent_page, _ = new_page(browser, contexts, 1366, 900)
    log_in(agent_page, stack, account(stack, "agent"))
    answer = agent_page.goto(stack.settings.handoff_url() + "/console/analytics")
    assert answer is not None and answer.status == 403
    expect(agent_page.locator("body")).to_contain_text("Only an admin")
