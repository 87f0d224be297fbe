"""Conversations persist in the tracker store across a restart of the whole stack."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Chat

pytestmark = pytest.mark.e2e


def test_open_conversation_continues_after_the_stack_restarts(stack):
    chat = Chat(stack)
    assert "Where is it?" in chat.texts("there's a pothole on my street")
    stack.stop()
    stack.start()
    assert "describe the problem" in chat.texts("120 Main Street")
