"""The web chat page in Spanish and French, in a real browser against the real stack."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_browser import bot_messages
from tests.e2e.test_browser import browser as browser  # noqa: F401  (the shared chromium)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

REQUEST_ID = re.compile(r"SR-[0-9A-Z]{8}")
PHONE = {"width": 390, "height": 800}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def open_page(browser: Browser, stack) -> Iterator[Callable[[str], Page]]:  # noqa: F811
    """Opens the chat page on a phone whose browser prefers the given locale."""
    contexts = []

    def opened(locale: str) -> Page:
        context = browser.new_context(viewport=PHONE, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.goto(stack.settings.web_url() + "/")
        return page

    yield opened
    for context in contexts:
        context.close()


def say(page: Page, label: str, text: str) -> None:
    page.get_by_label(label, exact=True).fill(text)
    page.keyboard.press("Enter")


def test_a_whole_street_report_in_spanish_after_choosing_espanol(open_page, tmp_path):
    page = open_page("en-US")
    expect(bot_messages(page).first).to_contain_text("Hello", timeout=60_000)

    page.get_by_role("combobox", name="Language").select_option(label="Español")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page).to_have_title(re.compile("Chat de atención ciudadana"))
    expect(page.get_by_role("heading", level=1)).to_have_text("City of Example – Atención ciudadana")
    expect(page.get_by_role("button", name="Nueva conversación")).to_be_visible()
    expect(page.get_by_role("button", name="Enviar")).to_be_visible()
    expect(page.get_by_label("Su mensaje", exact=True)).to_have_attribute("placeholder", "Escriba su mensaje…")
    expect(page.locator(".chat__emergency")).to_have_text("En caso de emergencia, llame al 911.")
    expect(page.get_by_role("list", name="Conversación")).to_be_visible()
    expect(page.get_by_role("combobox", name="Idioma")).to_have_value("es")

    # The bot is told, in its own words; the payload never shows as something the citizen said.
    expect(bot_messages(page).filter(has_text="seguimos en español")).to_have_count(1, timeout=30_000)
    expect(bot_messages(page).last).to_contain_text("Esto es lo que puedo hacer", timeout=30_000)
    expect(page.locator("li.msg--note")).to_have_text("Idioma cambiado a Español.")
    expect(page.locator("li.msg--user")).to_have_count(0)
    expect(bot_messages(page).first.locator(".msg__who")).to_have_text("El asistente dice:")

    say(page, "Su mensaje", "hay un bache enorme en la calle")
    expect(bot_messages(page).last).to_contain_text("¿Dónde está el problema?", timeout=30_000)
    say(page, "Su mensaje", "calle Olmo 45")
    expect(bot_messages(page).last).to_contain_text("Describa el problema", timeout=30_000)
    say(page, "Su mensaje", "es muy hondo y ya se poncharon dos llantas")
    expect(bot_messages(page).last).to_contain_text("¿De qué tamaño es?", timeout=30_000)
    page.get_by_role("button", name="Como una llanta de auto").click()
    expect(bot_messages(page).last).to_contain_text("¿Está en un carril", timeout=30_000)
    page.get_by_role("button", name="Sí").click()
    expect(bot_messages(page).last).to_contain_text("foto", timeout=30_000)
    say(page, "Su mensaje", "omitir")
    expect(bot_messages(page).last).to_contain_text("Revise su reporte", timeout=30_000)
    expect(bot_messages(page).last).to_contain_text("calle Olmo 45")
    page.get_by_role("button", name="Sí, enviarlo").click()
    expect(bot_messages(page).last).to_contain_text("Su reporte quedó registrado", timeout=30_000)
    expect(bot_messages(page).last).to_contain_text(REQUEST_ID)
    expect(page.locator("li.msg--user").nth(1)).to_have_text("Usted dijo: calle Olmo 45")

    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.screenshot(path=str(tmp_path / "spanish-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(tmp_path / "spanish-desktop.png"), full_page=True)

    # The choice is remembered on this device.
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("combobox", name="Idioma")).to_have_value("es")
    expect(bot_messages(page).last).to_contain_text("Su reporte quedó registrado")


def test_a_french_browser_gets_the_page_and_the_greeting_in_french(open_page):
    page = open_page("fr-FR")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page).to_have_title(re.compile("Chat d’assistance aux citoyens"))
    expect(page.get_by_role("button", name="Nouvelle conversation")).to_be_visible()
    expect(page.get_by_role("button", name="Envoyer")).to_be_visible()
    expect(page.get_by_label("Votre message", exact=True)).to_have_attribute("placeholder", "Écrivez votre message…")
    expect(page.locator(".chat__emergency")).to_have_text("En cas d’urgence, appelez le 911.")
    expect(page.get_by_role("combobox", name="Langue")).to_have_value("fr")
    # The very first message already carries the language: the bot greets in French.
    expect(bot_messages(page).first).to_contain_text("Bonjour", timeout=60_000)
    expect(page.locator("li.msg--note")).to_have_count(0)
    expect(page.locator("#status")).to_have_text("Connecté")

    # Back to English, by keyboard: the page follows at once and the bot is told once.
    page.get_by_role("combobox", name="Langue").focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="New conversation")).to_be_visible()
    expect(bot_messages(page).filter(has_text="continue in English")).to_have_count(1, timeout=30_000)
    expect(page.locator("li.msg--note")).to_have_count(1)
