"""A citizen fed up with the bot: apologise once, and hand over to a person when it happens again."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.fallback import HANDOFF_EVENTS
from actions.handoff import escalate
from handoff.packet import Reason

RECENT_MESSAGES = 6
SIGNALS_BEFORE_HUMAN = 2
MIN_SHOUTED_LETTERS = 8


def is_shouting(text: str) -> bool:
    """Written in capitals (at least a few words of it), as people do when angry."""
    letters = [c for c in text if c.isalpha()]
    cased = [c for c in letters if c.isupper() or c.islower()]
    words = [w for w in text.split() if any(c.isalpha() for c in w)]
    return len(cased) >= MIN_SHOUTED_LETTERS and len(words) >= 2 and sum(c.isupper() for c in cased) >= 0.8 * len(cased)


def is_frustrated(event: dict[str, Any]) -> bool:
    intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
    text = event.get("text") or ""
    return intent == "frustration" or (not text.startswith("/") and is_shouting(text))


def frustration_signals(tracker: Tracker) -> int:
    """How many of the citizen's latest messages sound angry (the frustration intent, or shouting)."""
    recent = []
    for event in reversed(tracker.events):
        if event.get("event") in HANDOFF_EVENTS:  # what was said to a person does not count
            break
        if event.get("event") == "user":
            recent.append(event)
    return sum(is_frustrated(event) for event in recent[:RECENT_MESSAGES])


class ActionHandleFrustration(Action):
    """The first time: sorry, and a person is one tap away. The second: a person takes over."""

    def name(self) -> str:
        return "action_handle_frustration"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if frustration_signals(tracker) >= SIGNALS_BEFORE_HUMAN:
            dispatcher.utter_message(response="utter_frustration_handoff")
            return await escalate(dispatcher, tracker, Reason.frustration)
        dispatcher.utter_message(response="utter_frustration_sorry")
        return []
