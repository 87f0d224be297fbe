"""Restarts and outages: conversations persist, and a citizen is never left without an answer."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import Chat

pytestmark = pytest.mark.e2e


def test_open_conversation_continues_after_the_stack_restarts(stack):
    chat = Chat(stack)
    assert "Where is it?" in chat.texts("there's a pothole on my street")
    stack.stop()
    stack.start()
    assert "describe the problem" in chat.texts("120 Main Street")


def test_citizen_is_told_when_the_action_server_is_down(stack):
    chat = Chat(stack)
    actions = stack.servers[0]
    assert actions.name == "action server"
    actions.stop()
    try:
        assert "something went wrong on our side" in chat.texts("is there a power outage in 94110")
    finally:
        actions.start()
        deadline = time.monotonic() + 60
        while not actions.healthy():
            assert time.monotonic() < deadline, actions.log_tail()
            time.sleep(0.5)
    assert "Riverside" in chat.texts("is there a power outage in 94110")
