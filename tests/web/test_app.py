from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from bot.language import LanguageConfig
from web.app import create_app
from web.settings import WebSettings, get_settings
from web.translations import TRANSLATIONS_FILE, PageText, TranslationError

WEB = Path(__file__).resolve().parents[2] / "web"


def client(rasa_url: str = "http://127.0.0.1:5005") -> TestClient:
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: WebSettings(rasa_public_url=rasa_url)
    return TestClient(app)


def test_chat_page_points_the_browser_at_the_rasa_server():
    response = client("http://bot.example.gov:5005").get("/")
    assert response.status_code == 200
    assert '"rasaUrl": "http://bot.example.gov:5005"' in response.text
    assert 'for="message"' in response.text  # the input has a label
    assert "/static/vendor/socket.io-4.8.4.min.js" in response.text


def test_pages_carry_a_strict_content_security_policy():
    policy = client().get("/").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_static_assets_and_health_are_served():
    c = client()
    assert c.get("/static/chat.js").status_code == 200
    assert c.get("/static/vendor/socket.io-4.8.4.min.js").status_code == 200
    assert c.get("/health").json() == {"status": "ok"}
    assert c.get("/nope").status_code == 404


def test_page_arrives_in_the_language_the_browser_prefers():
    page = client().get("/", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.8"}).text
    assert '<html lang="fr">' in page
    assert "Nouvelle conversation" in page and "Écrivez votre message…" in page
    assert "En cas d’urgence, appelez le <strong>911</strong>." in page


def test_page_falls_back_to_the_default_language():
    for header in ("de-DE,de;q=0.9", "", "es;q=0, *;q=0.5"):
        page = client().get("/", headers={"Accept-Language": header}).text
        assert '<html lang="en">' in page and "New conversation" in page, header


def test_language_selector_offers_every_configured_language_by_its_own_name():
    page = client().get("/", headers={"Accept-Language": "es"}).text
    assert '<label for="language"' in page
    for code, name in LanguageConfig.from_file().names.items():
        assert f'<option value="{code}" lang="{code}"' in page and f">{name}</option>" in page
    assert '<option value="es" lang="es" selected>Español</option>' in page


def test_every_configured_language_has_every_page_string():
    config = LanguageConfig.from_file()
    page_text = PageText.load(config)  # raises TranslationError when one is incomplete
    raw = yaml.safe_load(TRANSLATIONS_FILE.read_text(encoding="utf-8"))
    keys = set(raw[config.default])
    for code in config.codes:
        assert set(raw.get(code) or {}) == keys, code
        assert all(text.strip() for text in page_text.strings[code].values()), code


def test_every_word_the_page_and_script_use_is_translated():
    template = (WEB / "templates" / "chat.html").read_text(encoding="utf-8")
    script = (WEB / "static" / "chat.js").read_text(encoding="utf-8")
    used = set(re.findall(r'data-text[\w-]*="(\w+)"|\btext\.(\w+)', template))
    # t("key"), setStatus("key"), setAttribute("data-text...", "key"), "bot_says" : "you_said"
    used |= set(re.findall(r'\bt\("(\w+)"\)|setStatus\("(\w+)"\)|"data-text[\w-]*", "(\w+)"|"(\w+)" : "(\w+)"', script))
    used = {key for keys in used for key in keys if key}
    assert {"heading", "placeholder", "status_lost", "you_said", "typing", "language_changed"} <= used
    known = set(PageText.load().strings["en"])
    assert used <= known, used - known


def test_a_language_lacking_a_string_fails_to_load(tmp_path):
    raw = yaml.safe_load(TRANSLATIONS_FILE.read_text(encoding="utf-8"))
    del raw["fr"]["send"]
    raw["es"]["heading"] = "Atención ciudadana"  # lost its {city}
    broken = tmp_path / "translations.yml"
    broken.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TranslationError, match="fr lacks send") as error:
        PageText.load(LanguageConfig.from_file(), broken)
    assert "es.heading" in str(error.value)


def test_script_gets_every_language_with_city_and_number_filled_in():
    page = client().get("/").text
    config = json.loads(re.search(r'<script id="chat-config" type="application/json">(.*?)</script>', page).group(1))
    assert config["defaultLanguage"] == "en"
    assert config["languages"] == LanguageConfig.from_file().names
    assert config["text"]["es"]["emergency"] == "En caso de emergencia, llame al **911**."
    assert config["text"]["es"]["heading"] == "City of Example – Atención ciudadana"
    assert config["text"]["fr"]["language_changed"] == "Langue choisie\u00a0: {language}."
