"""The web chat's channel: socket.io with session persistence, against the real servers."""

from __future__ import annotations

import queue
import uuid

import pytest
import socketio

pytestmark = pytest.mark.e2e


class SocketChat:
    """A socket.io client as the web page uses it (polling transport; see ENVIRONMENT.md)."""

    def __init__(self, url: str) -> None:
        self.client = socketio.Client(reconnection=False)
        self.replies: queue.Queue[dict] = queue.Queue()
        self.sessions: queue.Queue[str] = queue.Queue()
        self.client.on("bot_uttered", self.replies.put)
        self.client.on("session_confirm", self.sessions.put)
        self.client.connect(url, transports=["polling"], socketio_path="socket.io")

    def open_session(self, session_id: str | None) -> str:
        self.client.emit("session_request", {"session_id": session_id})
        return self.sessions.get(timeout=30)

    def say(self, session_id: str, text: object) -> list[dict]:
        self.client.emit("user_uttered", {"message": text, "session_id": session_id})
        replies = [self.replies.get(timeout=60)]
        while True:  # the bot may send several messages for one turn
            try:
                replies.append(self.replies.get(timeout=1.5))
            except queue.Empty:
                return replies

    def close(self) -> None:
        self.client.disconnect()


def test_bot_answers_over_socketio_with_buttons(stack):
    chat = SocketChat(stack.settings.rasa_public_url())
    try:
        session = chat.open_session(None)
        replies = chat.say(session, "hello")
        assert "Hello" in replies[0]["text"]
        assert any(q["payload"] == "/report_street_issue" for q in replies[-1]["quick_replies"])
    finally:
        chat.close()


def test_conversation_continues_after_reconnecting_with_the_same_session(stack):
    session_id = uuid.uuid4().hex
    first = SocketChat(stack.settings.rasa_public_url())
    try:
        assert first.open_session(session_id) == session_id
        assert "Where is it?" in first.say(session_id, "I want to report a pothole")[0]["text"]
    finally:
        first.close()
    again = SocketChat(stack.settings.rasa_public_url())  # a page reload: new socket, same session
    try:
        assert again.open_session(session_id) == session_id
        assert "describe the problem" in again.say(session_id, "120 Main Street")[0]["text"]
    finally:
        again.close()


def test_non_text_message_gets_a_polite_answer(stack):
    chat = SocketChat(stack.settings.rasa_public_url())
    try:
        session = chat.open_session("not a valid id!")  # replaced by a fresh one
        assert session != "not a valid id!"
        assert "didn't receive any text" in chat.say(session, {"evil": True})[0]["text"]
    finally:
        chat.close()
