"""The city's analytics: figures from seeded stores, and the admin-only page that shows them as charts."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from rasa.shared.core.events import ActionExecuted, ConversationPaused

from analytics.metrics import compute
from handoff.packet import Reason
from open311.store import RequestStore
from retrieval.gaps import GapLog
from tests.handoff.conftest import PASSWORD, accounts, app, bot, login, packet, queue, relay  # noqa: F401
from tests.tracker_seed import said, seed

NOW = time.time()
DAY = 86_400.0
PHONE = "555-867-5309"


def conversations() -> dict:
    return {
        "wa-15550001111": [said("there's a pothole on Elm", "report_street_issue", 0.98, timestamp=NOW - 2 * DAY),
                           ActionExecuted("street_report_form"),
                           said("/affirm", "affirm", 1.0, timestamp=NOW - 2 * DAY),
                           said("/rate_helpful", "rate_helpful", 1.0, timestamp=NOW - 2 * DAY),
                           ActionExecuted("utter_rated_helpful")],
        "tg-42": [said("hola, cuándo pasa la basura", "faq", 0.9, language="es", channel="telegram",
                       timestamp=NOW - DAY),
                  said(f"call me at {PHONE}", "nlu_fallback", 0.3, language="es", channel="telegram",
                       timestamp=NOW - DAY),
                  said("quiero hablar con una persona", "human_handoff", 0.97, language="es", channel="telegram",
                       timestamp=NOW - DAY), ConversationPaused()],
        "web-1": [said("is the library open", "faq", 0.95, channel="socketio", timestamp=NOW),
                  said("no", "deny", 0.9, channel="socketio", timestamp=NOW),  # typed, after "did this help?"
                  ActionExecuted("utter_rated_not_helpful")],
        "web-old": [said("hello", "greet", 0.99, channel="socketio", timestamp=NOW - 60 * DAY)],  # before the period
    }


@pytest.fixture
def stores(tmp_path, monkeypatch, app, bot):  # noqa: F811
    tracker = seed(tmp_path / "tracker.db", conversations())
    requests_url = f"sqlite:///{tmp_path / 'citybot.db'}"
    store = RequestStore.from_url(requests_url)
    for code, name in (("pothole", "Pothole"), ("pothole", "Pothole"), ("streetlight", "Street light out")):
        store.create(service_code=code, service_name=name, description="x", address_string="1 Main St",
                     agency_responsible=None, phone=PHONE)
    GapLog(store._engine).record(f"can I pay my fine by phone {PHONE}", "no_answer", [], language="en")
    queue(bot, packet("tg-42", Reason.citizen_request))
    monkeypatch.setenv("CITYBOT_TRACKER_DB", str(tmp_path / "tracker.db"))
    monkeypatch.setenv("CITYBOT_DATABASE_URL", requests_url)
    return tracker, requests_url


def test_the_figures_count_conversations_topics_rates_waits_and_satisfaction(stores, app):  # noqa: F811
    tracker, requests_url = stores
    figures = compute(tracker, app.state.settings.database_url, requests_url, days=30)
    assert figures.conversations == 3 and sum(figures.conversations_per_day.values()) == 3
    assert sum(figures.messages_per_day.values()) == 8
    assert dict(figures.by_channel) == {"whatsapp": 1, "telegram": 1, "socketio": 1}
    assert dict(figures.by_language) == {"en": 2, "es": 1}
    assert dict(figures.intents) == {"report_street_issue": 1, "faq": 2, "human_handoff": 1}
    assert dict(figures.categories) == {"Pothole": 2, "Street light out": 1}
    assert round(figures.containment or 0) == 67 and round(figures.handoff_rate or 0) == 33
    assert figures.fallback_rate == 100 * 1 / 6  # typed messages only: payloads are buttons
    assert (figures.handoffs, figures.waiting_now, figures.waits_minutes) == (1, 1, [])
    assert (figures.helpful, figures.not_helpful, figures.satisfaction) == (1, 1, 50.0)
    assert figures.faq_gaps == [("can i pay my fine by phone [number]", 1)]
    week = compute(tracker, app.state.settings.database_url, requests_url, days=1,
                   now=datetime.now(timezone.utc) + timedelta(days=10))
    assert week.conversations == 0 and week.containment is None


def test_a_broken_store_is_named_and_the_rest_still_shown(stores, app):  # noqa: F811
    _, requests_url = stores
    figures = compute("sqlite:////nonexistent/dir/tracker.db", app.state.settings.database_url, requests_url)
    assert figures.unavailable == ["conversations (tracker store)"] and figures.categories


def test_only_an_admin_sees_the_page_and_it_shows_charts_without_personal_data(stores, app, accounts):  # noqa: F811
    assert TestClient(app).get("/console/analytics").status_code == 401  # the login form
    assert TestClient(app).get("/api/admin/analytics").status_code == 401
    agent = login(app, "ana")
    assert agent.get("/console/analytics").status_code == 403
    assert agent.get("/api/admin/analytics").status_code == 403
    admin = login(app, "root")
    page = admin.get("/console/analytics?days=30")
    assert page.status_code == 200
    html = page.text
    assert html.count("<svg") == 6 and "Conversations by channel" in html and "telegram" in html
    assert "Reports filed, by category" in html and "Pothole" in html and "67%" in html
    assert "can i pay my fine by phone [number]" in html
    for personal in (PHONE, "5309", "15550001111", "tg-42", "1 Main St"):
        assert personal not in html, personal
    data = admin.get("/api/admin/analytics", params={"days": 7}).json()
    assert data["conversations"] == 3 and data["satisfaction"] == 50.0
    assert admin.get("/console/analytics?days=100000").status_code == 200  # clamped, not an error
