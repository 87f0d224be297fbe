"""A citizen and an agent talk through the handoff, with the real Rasa server, action server and handoff app."""

from __future__ import annotations

import json
import os
import queue
import signal
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from stack.processes import Server, Stack
from tests.e2e.conftest import Chat, Console
from tests.e2e.test_socketio import SocketChat

pytestmark = pytest.mark.e2e


class EventStream:
    """The console's live stream (Server-Sent Events), read in a thread as the browser does."""

    def __init__(self, console: Console) -> None:
        self.events: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self._client = httpx.Client(base_url=str(console.client.base_url), cookies=console.client.cookies,
                                    timeout=httpx.Timeout(10, read=None))
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            with self._client.stream("GET", "/api/console/events") as response:
                kind = "message"
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        self.events.put((kind, json.loads(line[6:])))
        except httpx.HTTPError:
            return  # closed by the test

    def wait_for(self, match: Callable[[str, dict[str, Any]], bool], timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                kind, data = self.events.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if match(kind, data):
                return data
        raise AssertionError("the console never received the expected event")

    def close(self) -> None:
        self._client.close()


def wait_until(check: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def silent_for(chat: SocketChat, seconds: float) -> bool:
    try:
        chat.replies.get(timeout=seconds)
    except queue.Empty:
        return True
    return False


def test_citizen_and_agent_talk_while_the_bot_stays_silent(stack):
    ana = Console(stack, "ana")
    live = EventStream(ana)
    chat = SocketChat(stack.settings.rasa_public_url())
    try:
        session = chat.open_session(None)
        chat.say(session, "hello")
        queued = chat.say(session, "I want to talk to a person")
        assert "You are number" in queued[0]["text"] and "city's team" in queued[0]["text"]

        appeared = live.wait_for(lambda kind, d: kind == "handoff" and d["conversation_id"] == session)
        reference = appeared["reference"]
        detail = ana.detail(reference)
        assert detail["packet"]["channel"] == "socketio" and detail["packet"]["language"] == "en"
        assert detail["handoff"]["summary"].startswith("Asked for a person (English, web chat).")
        assert [e["text"] for e in detail["packet"]["transcript"] if e["sender"] == "citizen"] == [
            "hello", "I want to talk to a person"]

        assert ana.post(reference, "claim").status_code == 200
        reply = ana.post(reference, "messages", text="Hello, this is Ana from the city. How can I help?")
        assert reply.json()["delivery"] == "sent"
        pushed = chat.replies.get(timeout=20)
        assert pushed["text"] == "Ana (city team): Hello, this is Ana from the city. How can I help?"
        ana.post(reference, "messages", text="Type it as {address} or 0[1] if you like")
        assert chat.replies.get(timeout=20)["text"] == "Ana (city team): Type it as {address} or 0[1] if you like"

        chat.client.emit("user_uttered", {"message": "There is a huge pothole on Elm Street", "session_id": session})
        relayed = live.wait_for(lambda kind, d: kind == "message" and d["sender"] == "citizen")
        assert relayed["text"] == "There is a huge pothole on Elm Street" and relayed["reference"] == reference
        chat.client.emit("user_uttered", {"message": "help", "session_id": session})  # a bot intent, still silent
        live.wait_for(lambda kind, d: kind == "message" and d["text"] == "help")
        assert silent_for(chat, 3.0), "the bot spoke while the agent had the conversation"

        assert ana.post(reference, "resolve", note="Pothole filed by phone").json()["status"] == "resolved"
        back = chat.replies.get(timeout=20)
        assert "You're back with the virtual assistant" in back["text"]
        assert "Hello" in chat.say(session, "hello")[0]["text"]  # the bot answers again
        assert [m["sender"] for m in ana.detail(reference)["messages"] if m["sender"] != "system"] == [
            "agent", "agent", "citizen", "citizen"]
    finally:
        chat.close()
        live.close()


def test_spanish_citizen_gets_the_queue_message_and_agent_reply_in_spanish(stack):
    chat = Chat(stack)
    texts = chat.texts("hola, quiero hablar con una persona por favor")
    assert "Usted es el número" in texts
    ana = Console(stack, "ana")
    handoff = wait_until(lambda: ana.handoff_of(chat.sender), what="the handoff")
    assert handoff["language"] == "es"
    ana.post(handoff["reference"], "claim")
    assert ana.post(handoff["reference"], "messages", text="Hola").json()["delivery"] == "recorded"  # REST can't push
    ana.post(handoff["reference"], "resolve")
    assert "Vuelve a hablar con el asistente virtual" in json.dumps(
        httpx.get(f"{stack.settings.rasa_public_url()}/conversations/{chat.sender}/tracker",
                  params={"token": stack.settings.rasa_api_token}).json(), ensure_ascii=False)


def restart(server: Server, kill: bool = False) -> None:
    if kill and server.process is not None:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()
    server.stop()
    server.start()
    wait_until(server.healthy, timeout=60, what=f"{server.name} to come back")


def handoff_server(stack: Stack) -> Server:
    return next(s for s in stack.servers if s.name == "handoff service")


def test_restarting_the_handoff_service_loses_nothing(stack):
    ana = Console(stack, "ana")
    chats = [Chat(stack) for _ in range(2)]
    for chat in chats:
        chat.say("I need to speak to a human")
    references = {c.sender: wait_until(lambda c=c: ana.handoff_of(c.sender))["reference"] for c in chats}

    server = handoff_server(stack)
    server.stop()
    while_down = chats[0].texts("my address is 12 Oak Street")
    assert "Your message is saved" in while_down  # told honestly, once
    assert chats[0].texts("and it is urgent") == ""
    server.start()
    wait_until(server.healthy, timeout=60, what="the handoff service to come back")

    ana = Console(stack, "ana")
    assert {h["reference"] for h in ana.queue()} >= set(references.values())
    texts = wait_until(
        lambda: [m["text"] for m in ana.detail(references[chats[0].sender])["messages"] if m["sender"] == "citizen"],
        what="the messages written while the service was down",
    )
    assert texts == ["my address is 12 Oak Street", "and it is urgent"]


def test_an_escalation_while_the_service_is_dead_is_delivered_exactly_once(stack):
    server = handoff_server(stack)
    os.killpg(server.process.pid, signal.SIGKILL)  # type: ignore[union-attr]
    server.process.wait()  # type: ignore[union-attr]
    chat = Chat(stack)
    try:
        texts = chat.texts("talk to a person please")
        assert "Your request is saved" in texts
        chat.say("it's about my parking permit")
    finally:
        server.stop()
        server.start()
        wait_until(server.healthy, timeout=60, what="the handoff service to come back")
    ana = Console(stack, "ana")
    handoff = wait_until(lambda: ana.handoff_of(chat.sender), timeout=90, what="the outbox to deliver")
    time.sleep(4)  # a few more outbox rounds: nothing may arrive twice
    assert [h["conversation_id"] for h in ana.queue()].count(chat.sender) == 1
    citizen = [m["text"] for m in ana.detail(handoff["reference"])["messages"] if m["sender"] == "citizen"]
    assert citizen == ["it's about my parking permit"]


@pytest.mark.parametrize("token", [None, "forged"])
def test_forged_or_missing_credentials_are_refused(stack, token):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    rasa = stack.settings.rasa_public_url()
    assert httpx.post(f"{rasa}/webhooks/handoff/message", headers=headers,
                      json={"conversation_id": "x", "text": "hi", "message_id": "m"}).status_code == 401
    assert httpx.post(f"{rasa}/webhooks/handoff/resume", headers=headers,
                      json={"conversation_id": "x"}).status_code == 401
    handoff = stack.settings.handoff_url()
    assert httpx.post(f"{handoff}/api/handoffs", headers={**headers, "Idempotency-Key": "k"},
                      content=b"{}").status_code == 401
    assert httpx.get(f"{handoff}/api/console/queue", cookies={"citybot_session": token or ""}).status_code == 401
    assert httpx.get(f"{handoff}/console/").status_code == 401


def test_a_second_request_for_a_person_keeps_the_same_place(stack):
    chat = Chat(stack, "e2e-twice-" + uuid.uuid4().hex)
    first = chat.texts("I want to talk to a person")
    ana = Console(stack, "ana")
    handoff = wait_until(lambda: ana.handoff_of(chat.sender))
    assert handoff["reference"] in first
    assert chat.texts("agent please") == ""  # paused: relayed, not answered
    assert [h["conversation_id"] for h in ana.queue()].count(chat.sender) == 1


def test_starting_over_during_a_handoff_reaches_the_agent_and_keeps_the_bot_silent(stack):
    chat = Chat(stack)
    chat.say("I want to talk to a person")
    ana = Console(stack, "ana")
    handoff = wait_until(lambda: ana.handoff_of(chat.sender), what="the handoff")
    assert chat.say("/restart") == []
    assert chat.say("hello") == []  # still with the person: the bot does not answer
    texts = wait_until(lambda: [m["text"] for m in ana.detail(handoff["reference"])["messages"]
                                if m["sender"] == "citizen"] or None, what="the relayed messages")
    assert texts == ["/restart", "hello"]
