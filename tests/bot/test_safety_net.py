from __future__ import annotations

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.connectors.safety_net import apology, with_safety_net

pytestmark = pytest.mark.anyio


async def test_a_turn_without_any_answer_gets_the_apology():
    collector = CollectingOutputChannel()

    async def silent(message: UserMessage) -> None:
        return None

    await with_safety_net(silent)(UserMessage("hi", collector, "c1"))
    assert [m["text"] for m in collector.messages] == [apology()]
    assert "something went wrong on our side" in apology()


async def test_an_answered_turn_is_left_alone_even_when_the_handler_fails():
    collector = CollectingOutputChannel()

    async def answers_then_fails(message: UserMessage) -> None:
        await message.output_channel.send_response(message.sender_id, {"text": "Hello!"})
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await with_safety_net(answers_then_fails)(UserMessage("hi", collector, "c1"))
    assert [m["text"] for m in collector.messages] == ["Hello!"]
