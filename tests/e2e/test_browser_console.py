"""The agent console in a real browser, next to a citizen in the web chat (Debian's chromium, Playwright).

A citizen asks for a person; an agent sees it arrive in the console, claims it, talks with the
citizen while the bot stays quiet, and resolves it; the bot then takes over again.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from stack.processes import Stack
from tests.conftest import ROOT
from tests.e2e.test_browser import browser as browser  # noqa: F401  (the shared chromium)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "console-e2e-" + uuid.uuid4().hex[:12]
AGENT_NAME = "Ana Console"
BOT_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def agent(stack: Stack) -> str:
    """An agent account, made the way the city makes one: `python -m handoff create-user`."""
    username = "agent-" + uuid.uuid4().hex[:8]
    env = {**os.environ, "CITYBOT_HANDOFF_DATABASE_URL": stack.settings.handoff_database_url}
    created = subprocess.run(
        [sys.executable, "-m", "handoff", "create-user", username, "--role", "agent", "--name", AGENT_NAME,
         "--password-stdin"],
        input=PASSWORD + "\n", cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert created.returncode == 0, created.stderr
    return username


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    """Browser contexts (separate cookies and storage) the test opens, closed afterwards."""
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def new_page(browser: Browser, contexts: list[BrowserContext], width: int, height: int) -> tuple[Page, list[str]]:
    """A page in a context of its own, and the script errors and CSP violations it reports."""
    context = browser.new_context(viewport={"width": width, "height": height})
    contexts.append(context)
    page = context.new_page()
    problems: list[str] = []
    # The console's CSP allows no inline script or style: a violation shows up as a console message.
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page, problems


def log_in(page: Page, stack: Stack, username: str) -> None:
    page.goto(stack.settings.handoff_url() + "/console/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#queue")).to_be_visible(timeout=15_000)
    expect(page.locator("#live-status")).to_contain_text("Live", timeout=15_000)


def say(chat: Page, text: str) -> None:
    chat.get_by_label("Your message").fill(text)
    chat.keyboard.press("Enter")


def test_agent_takes_over_a_conversation_and_hands_it_back_to_the_bot(
    browser: Browser, contexts: list[BrowserContext], stack: Stack, agent: str, tmp_path: Path
) -> None:
    chat, _ = new_page(browser, contexts, 390, 800)  # the citizen, on a phone
    chat.goto(stack.settings.web_url() + "/")
    bot = chat.locator("li.msg--bot")
    expect(bot.first).to_contain_text("Hello", timeout=BOT_TIMEOUT_MS)

    console, problems = new_page(browser, contexts, 1366, 800)  # the agent, on a laptop
    log_in(console, stack, agent)
    expect(console.locator("#user-display-name")).to_have_text(AGENT_NAME)

    say(chat, "I want to talk to a person")
    expect(bot.last).to_contain_text("city's team", timeout=BOT_TIMEOUT_MS)
    found = re.search(r"reference (H-[0-9A-Z]+)", bot.last.inner_text())
    assert found, bot.last.inner_text()
    reference = found.group(1)

    # It arrives in the open console without a reload.
    row = console.locator(f'.queue-item[data-reference="{reference}"]')
    expect(row).to_be_visible(timeout=15_000)
    expect(row).to_contain_text("Waiting")
    row.click()
    expect(console.locator("#summary")).to_contain_text("Asked for a person")
    expect(console.locator("#transcript")).to_contain_text("I want to talk to a person")
    expect(console.locator("#reply")).to_be_disabled()

    console.locator("#claim").click()
    expect(console.locator("#reply")).to_be_enabled()
    expect(console.locator("#reply")).to_be_focused()
    console.keyboard.type("Hello, this is Ana from the city. How can I help?")
    console.keyboard.press("Enter")
    expect(console.locator(".message--agent")).to_have_count(1)
    expect(console.locator(".message--agent")).to_contain_text("How can I help?")
    expect(console.locator(".message--agent")).not_to_contain_text("Not delivered")
    expect(bot.last).to_contain_text("Hello, this is Ana from the city", timeout=30_000)
    expect(bot.last).to_contain_text(AGENT_NAME)
    expect(console.locator(".message--agent")).to_have_count(1)  # the live event did not add it twice

    bot_count = bot.count()
    say(chat, "The street light on Elm Street has been out for a week")
    citizen = console.locator(".message--citizen:not(.message--earlier)")
    expect(citizen.last).to_contain_text("Elm Street", timeout=30_000)
    chat.wait_for_timeout(2_000)  # time enough for a bot answer, if it wrongly gave one
    expect(bot).to_have_count(bot_count)
    console.screenshot(path=str(tmp_path / "console.png"))
    chat.screenshot(path=str(tmp_path / "chat.png"), full_page=True)

    console.locator("#resolve-note").fill("Street light reported to public works.")
    console.locator("#resolve").click()
    expect(console.locator("#action-status")).to_contain_text("Resolved")
    expect(console.locator("#reply")).to_be_disabled()
    expect(console.locator("#notes")).to_contain_text("Street light reported to public works.")
    expect(bot.last).to_contain_text("closed this conversation", timeout=30_000)

    say(chat, "hello")
    expect(bot.last).to_contain_text("What do you need?", timeout=BOT_TIMEOUT_MS)

    assert problems == []


def test_console_login_refuses_a_wrong_password_with_a_visible_error(
    browser: Browser, contexts: list[BrowserContext], stack: Stack
) -> None:
    page, problems = new_page(browser, contexts, 1280, 800)
    page.goto(stack.settings.handoff_url() + "/console/login")
    page.locator("#username").fill("nobody-" + uuid.uuid4().hex[:6])
    page.locator("#password").fill("not the password")
    page.keyboard.press("Enter")
    expect(page.locator("#login-error")).to_have_text("Wrong username or password")
    expect(page.locator("#password")).to_be_focused()
    expect(page.locator("#queue")).to_have_count(0)
    assert problems == []


def test_console_without_login_shows_the_login_page(
    browser: Browser, contexts: list[BrowserContext], stack: Stack, agent: str
) -> None:
    page, _ = new_page(browser, contexts, 1280, 800)
    page.goto(stack.settings.handoff_url() + "/console/")
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#queue")).to_have_count(0)
    # Logging in right there leads into the console.
    page.locator("#username").fill(agent)
    page.locator("#password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#queue")).to_be_visible(timeout=15_000)
