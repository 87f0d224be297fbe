from __future__ import annotations

from fastapi.testclient import TestClient

from web.app import create_app
from web.settings import WebSettings, get_settings


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
