"""The web chat page in a real browser (Debian's chromium through Playwright)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu",
    "--disable-background-networking", "--disable-component-update",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is needed: `make test` installs it (scripts/install-browser.sh)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, stack) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 800})  # a phone
    opened = context.new_page()
    opened.goto(stack.settings.web_url() + "/")
    yield opened
    context.close()


def bot_messages(page: Page):
    return page.locator("li.msg--bot")


def test_chat_in_the_browser_buttons_and_history_after_reload(page: Page, tmp_path):
    expect(bot_messages(page).first).to_contain_text("Hello", timeout=60_000)
    page.get_by_role("button", name="Power outage status").click()
    expect(bot_messages(page).last).to_contain_text("Which neighbourhood", timeout=30_000)

    page.get_by_label("Your message").fill("94110")
    page.keyboard.press("Enter")
    expect(bot_messages(page).last).to_contain_text("Riverside", timeout=30_000)
    expect(page.locator("li.msg--user").last).to_have_text("You said: 94110")

    page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)
    page.reload()
    expect(page.locator("li.msg--user")).to_have_count(2, timeout=10_000)  # button title + typed text
    expect(bot_messages(page).last).to_contain_text("Riverside")

    # After the reload the same conversation goes on.
    page.get_by_label("Your message").fill("thank you")
    page.keyboard.press("Enter")
    expect(bot_messages(page).last).to_contain_text("welcome", timeout=30_000)


def test_page_is_usable_by_keyboard_and_fits_a_phone(page: Page):
    expect(bot_messages(page).first).to_contain_text("Hello", timeout=60_000)
    page.get_by_label("Your message").focus()
    page.keyboard.type("I want to report a pothole")
    page.keyboard.press("Enter")
    expect(bot_messages(page).last).to_contain_text("Where is it?", timeout=30_000)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    # Buttons are reachable with Tab and pressed with Enter.
    page.get_by_role("button", name="New conversation").focus()
    expect(page.get_by_role("button", name="New conversation")).to_be_focused()


def test_links_in_bot_messages_are_clickable_and_text_is_never_html(page: Page):
    expect(bot_messages(page).first).to_contain_text("Hello", timeout=60_000)
    page.get_by_label("Your message").fill("<b>how do I renew my business licence</b>")
    page.keyboard.press("Enter")
    expect(page.locator("li.msg--user b")).to_have_count(0)
    expect(bot_messages(page).last).to_contain_text("expire", timeout=30_000)
    page.get_by_role("button", name="Skip").last.click()
    link = bot_messages(page).last.get_by_role("link")
    expect(link.first).to_have_attribute("href", "https://city.example.gov/renew/business-licence", timeout=30_000)


def test_a_general_question_gets_the_faq_answer_with_a_working_link(page: Page):
    expect(bot_messages(page).first).to_contain_text("Hello", timeout=60_000)
    page.get_by_label("Your message").fill("how do i get a library card")
    page.keyboard.press("Enter")
    link = bot_messages(page).last.get_by_role("link")
    expect(link).to_have_attribute("href", "https://city.example.gov/library/card", timeout=30_000)
    expect(bot_messages(page).nth(-2)).to_contain_text("card")
