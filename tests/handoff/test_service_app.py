from __future__ import annotations

from datetime import datetime, timedelta, timezone

import anyio
import pytest
from fastapi.testclient import TestClient

from handoff.packet import Urgency
from handoff.routers.console import resume_from
from tests.handoff.conftest import PASSWORD, TOKEN, login, packet, queue

CONSOLE_GETS = ["/api/console/me", "/api/console/queue", "/api/console/handoffs/H-000000",
                "/api/console/handoffs/H-000000/transcript", "/api/console/events", "/api/admin/accounts"]
CONSOLE_POSTS = ["/api/console/handoffs/H-000000/claim", "/api/console/handoffs/H-000000/release",
                 "/api/console/handoffs/H-000000/transfer", "/api/console/handoffs/H-000000/resolve",
                 "/api/console/handoffs/H-000000/messages", "/api/console/handoffs/H-000000/notes",
                 "/console/logout", "/api/admin/accounts"]


# The bot's service API ----------------------------------------------------------------------

@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_service_api_refuses_missing_or_forged_tokens(app, authorization):
    client = TestClient(app)
    headers = {"Idempotency-Key": "k"} | ({"Authorization": authorization} if authorization else {})
    assert client.post("/api/handoffs", content=packet().json(), headers=headers).status_code == 401
    assert client.post("/api/conversations/c1/messages", json={"message_id": "m", "text": "x"},
                       headers=headers).status_code == 401
    assert client.get("/api/handoffs/H-000000/transcript", headers=headers).status_code == 401


def test_a_packet_is_queued_once_per_idempotency_key(bot):
    first = bot.post("/api/handoffs", content=packet("c1").json(), headers={"Idempotency-Key": "k1"})
    again = bot.post("/api/handoffs", content=packet("c1").json(), headers={"Idempotency-Key": "k1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["reference"] == again.json()["reference"]
    assert first.json()["position"] == 1 and first.json()["created"] is True


@pytest.mark.parametrize("body", [b"{not json", b"\x00\xff\xfe", b"[]", b'{"conversation_id": "c1"}',
                                  b'{"schema_version": "2.0", "conversation_id": "c", "language": "en", '
                                  b'"reason": "citizen_request", "summary": "", "created_at": "2026-01-01T00:00:00Z"}'])
def test_bad_packets_get_a_clear_422(bot, body):
    response = bot.post("/api/handoffs", content=body, headers={"Idempotency-Key": "k"})
    assert response.status_code == 422
    assert "packet" in response.json()["detail"]


def test_a_packet_without_idempotency_key_is_refused(bot):
    assert bot.post("/api/handoffs", content=packet().json()).status_code == 422


def test_a_huge_body_is_refused_before_it_is_read(bot):
    response = bot.post("/api/handoffs", content=b"x" * 2_000_000, headers={"Idempotency-Key": "k"})
    assert response.status_code == 413


def test_citizen_message_without_an_open_handoff_is_404(bot):
    response = bot.post("/api/conversations/nobody/messages", json={"message_id": "m1", "text": "hello"})
    assert response.status_code == 404


def test_service_transcript_export_is_redacted(bot):
    reference = queue(bot, packet("c1"))["reference"]
    document = bot.get(f"/api/handoffs/{reference}/transcript").json()
    assert document["redacted"] is True
    assert "ana@example.org" not in str(document) and "123 Main Street" not in str(document)
    assert "[email]" in document["with_bot"][0]["text"]


# The console ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", CONSOLE_GETS)
def test_console_api_needs_a_login(app, path):
    assert TestClient(app).get(path).status_code == 401


@pytest.mark.parametrize("path", CONSOLE_POSTS)
def test_console_actions_need_a_login(app, path):
    assert TestClient(app).post(path, json={"text": "x", "team": "t"}).status_code == 401


def test_console_page_without_login_is_the_login_form_with_401(app):
    response = TestClient(app).get("/console/")
    assert response.status_code == 401
    assert 'id="login-form"' in response.text


def test_a_forged_session_cookie_is_refused(app, accounts):
    client = TestClient(app, cookies={"citybot_session": "forged"})
    assert client.get("/api/console/queue").status_code == 401


def test_wrong_password_is_refused_and_the_session_cookie_is_httponly(app, accounts):
    client = TestClient(app)
    assert client.post("/console/login", json={"username": "ana", "password": "nope"}).status_code == 401
    assert client.post("/console/login", json={"username": "nobody", "password": PASSWORD}).status_code == 401
    response = client.post("/console/login", json={"username": "ana", "password": PASSWORD})
    assert response.status_code == 200 and response.json()["role"] == "agent"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_state_changes_need_the_pages_csrf_token(app, accounts, bot):
    reference = queue(bot, packet("c1"))["reference"]
    client = login(app, "ana")
    csrf = client.headers.pop("X-CSRF-Token")
    assert client.post(f"/api/console/handoffs/{reference}/claim").status_code == 401
    assert client.post(f"/api/console/handoffs/{reference}/claim", headers={"X-CSRF-Token": "guess"}).status_code == 401
    assert client.post(f"/api/console/handoffs/{reference}/claim", headers={"X-CSRF-Token": csrf}).status_code == 200


def test_an_agent_claims_replies_and_resolves(app, accounts, bot, relay):
    reference = queue(bot, packet("c1"))["reference"]
    ana, bo = login(app, "ana"), login(app, "bo")
    assert [h["reference"] for h in ana.get("/api/console/queue").json()["handoffs"]] == [reference]
    assert ana.post(f"/api/console/handoffs/{reference}/claim").json()["agent"] == "ana"
    assert bo.post(f"/api/console/handoffs/{reference}/claim").status_code == 409
    assert bo.post(f"/api/console/handoffs/{reference}/messages", json={"text": "me too"}).status_code == 409

    reply = ana.post(f"/api/console/handoffs/{reference}/messages", json={"text": "Hello, I'm Ana from the city"})
    assert reply.json()["delivery"] == "sent"
    assert relay.sent == [{"conversation_id": "c1", "message_id": reply.json()["message_id"],
                           "text": "Hello, I'm Ana from the city", "agent": "Ana"}]
    assert bot.post("/api/conversations/c1/messages", json={"message_id": "m1", "text": "thanks!"}).status_code == 202
    detail = ana.get(f"/api/console/handoffs/{reference}").json()
    assert [m["sender"] for m in detail["messages"] if m["sender"] != "system"] == ["agent", "citizen"]
    assert detail["packet"]["summary"] == "Summary of c1"

    assert ana.post(f"/api/console/handoffs/{reference}/resolve", json={"note": "done"}).json()["status"] == "resolved"
    assert relay.resumed == ["c1"]
    assert ana.get("/api/console/queue").json()["handoffs"] == []


def test_an_agent_reply_waits_while_rasa_is_down_and_is_delivered_later(app, accounts, bot, relay):
    reference = queue(bot, packet("c1"))["reference"]
    ana = login(app, "ana")
    ana.post(f"/api/console/handoffs/{reference}/claim")
    relay.down = True
    reply = ana.post(f"/api/console/handoffs/{reference}/messages", json={"text": "Are you still there?"})
    assert reply.status_code == 200 and reply.json()["delivery"] == "pending"
    relay.down = False
    anyio.run(app.state.service.retry_round, False)
    assert [m["text"] for m in relay.sent] == ["Are you still there?"]
    assert app.state.service.store.undelivered() == []


def test_a_reply_to_a_citizen_who_started_over_is_marked_failed_and_explained(app, accounts, bot, relay):
    reference = queue(bot, packet("c1"))["reference"]
    ana = login(app, "ana")
    ana.post(f"/api/console/handoffs/{reference}/claim")
    relay.bot_has_it = True
    reply = ana.post(f"/api/console/handoffs/{reference}/messages", json={"text": "Hello?"})
    assert reply.json()["delivery"] == "failed"
    system = [m["text"] for m in ana.get(f"/api/console/handoffs/{reference}").json()["messages"]
              if m["sender"] == "system"]
    assert "back with the bot" in system[-1]


def test_agents_export_the_whole_transcript_admins_a_redacted_one(app, accounts, bot):
    reference = queue(bot, packet("c1"))["reference"]
    agent = login(app, "ana").get(f"/api/console/handoffs/{reference}/transcript")
    admin = login(app, "root").get(f"/api/console/handoffs/{reference}/transcript")
    assert "attachment" in agent.headers["content-disposition"]
    assert agent.json()["redacted"] is False and "ana@example.org" in agent.text
    assert admin.json()["redacted"] is True and "ana@example.org" not in admin.text


def test_only_admins_create_accounts(app, accounts):
    new = {"username": "cy", "password": PASSWORD, "role": "agent"}
    assert login(app, "ana").post("/api/admin/accounts", json=new).status_code == 403
    assert login(app, "root").post("/api/admin/accounts", json=new).status_code == 201
    assert login(app, "cy").get("/api/console/me").json()["username"] == "cy"


def test_an_emergency_jumps_the_queue(app, accounts, bot):
    queue(bot, packet("first"))
    queue(bot, packet("urgent", urgency=Urgency.emergency))
    rows = login(app, "ana").get("/api/console/queue").json()["handoffs"]
    assert [r["conversation_id"] for r in rows] == ["urgent", "first"]


def test_an_emergency_written_while_waiting_moves_the_conversation_to_the_top(app, accounts, bot):
    queue(bot, packet("first"))
    reference = queue(bot, packet("second"))["reference"]
    bot.post("/api/conversations/second/messages", json={"message_id": "m1", "text": "still waiting, thanks"})
    ana = login(app, "ana")
    assert [r["conversation_id"] for r in ana.get("/api/console/queue").json()["handoffs"]] == ["first", "second"]

    sent = bot.post("/api/conversations/second/messages",
                    json={"message_id": "m2", "text": "now there's smoke coming out of the kitchen!!"})
    assert sent.status_code == 202
    rows = ana.get("/api/console/queue").json()["handoffs"]
    assert [(r["conversation_id"], r["urgency"]) for r in rows] == [("second", "emergency"), ("first", "normal")]
    system = [m["text"] for m in ana.get(f"/api/console/handoffs/{reference}").json()["messages"]
              if m["sender"] == "system"]
    assert any("emergency (fire" in text for text in system)


def test_a_late_packet_from_the_outbox_imports_missed_messages_and_tells_the_citizen(bot, relay):
    escalated = datetime.now(timezone.utc) - timedelta(minutes=5)
    relay.citizen["c1"] = [{"message_id": "m1", "text": "hello? anyone?", "timestamp": escalated.isoformat()}]
    reference = queue(bot, packet("c1", created_at=escalated))["reference"]
    assert relay.notices == [("c1", "utter_handoff_delivered", {"position": 1, "reference": reference})]
    texts = [m.text for m in bot.app.state.service.store.messages(reference) if m.sender == "citizen"]
    assert texts == ["hello? anyone?"]


def test_unauthenticated_calls_get_401_even_with_a_malformed_body(app):
    client = TestClient(app)
    assert client.post("/api/conversations/c1/messages", content=b"{broken").status_code == 401
    assert client.post("/api/console/handoffs/H-1/messages", content=b"{broken").status_code == 401
    assert client.post("/api/admin/accounts", content=b"\xff\xfe").status_code == 401


def test_a_chunked_body_over_the_limit_is_refused(bot):
    def chunks():
        for _ in range(30):
            yield b"x" * 100_000

    response = bot.post("/api/handoffs", content=chunks(), headers={"Idempotency-Key": "k"})
    assert response.status_code == 413


@pytest.mark.parametrize("last_event_id", ["²", "9" * 5000, "-1", "abc", ""])
def test_odd_last_event_ids_are_ignored(last_event_id):
    assert resume_from(last_event_id) is None
    assert resume_from("42") == 42


def test_a_password_with_a_lone_surrogate_is_just_wrong(app, accounts):
    body = b'{"username": "ana", "password": "\\ud800abcdefghijk"}'
    response = TestClient(app).post("/console/login", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 401


def test_waiting_handoffs_are_resolved_or_transferred_by_their_owner_or_an_admin(app, accounts, bot):
    reference = queue(bot, packet("c1"))["reference"]
    ana, root = login(app, "ana"), login(app, "root")
    assert ana.post(f"/api/console/handoffs/{reference}/resolve").status_code == 409  # not claimed
    assert ana.post(f"/api/console/handoffs/{reference}/transfer", json={"team": "streets"}).status_code == 409
    assert root.post(f"/api/console/handoffs/{reference}/transfer", json={"agent": "nobody"}).status_code == 422
    moved = root.post(f"/api/console/handoffs/{reference}/transfer", json={"agent": "bo"}).json()
    assert (moved["status"], moved["agent"]) == ("active", "bo")
    assert root.post(f"/api/console/handoffs/{reference}/resolve").json()["status"] == "resolved"
