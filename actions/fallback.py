"""When the bot does not understand: clarify with the likeliest options, then offer a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff import escalate
from actions.language import current_language
from actions.responses import response_text
from handoff.packet import Reason

FAILURE_INTENTS = {"nlu_fallback", "out_of_scope", "faq"}
# A failure intent whose message the FAQ answered is not a misunderstanding.
ANSWERED_RESPONSES = {"utter_faq_answer"}
# Intents worth offering as a "did you mean" button (answers such as "yes" are not).
NOT_OFFERED = FAILURE_INTENTS | {
    "affirm", "deny", "cancel", "skip", "inform", "empty_message", "no_words", "message_too_long",
}
FAILURES_BEFORE_HUMAN = 2
HANDOFF_EVENTS = {"pause", "resume"}
OPTIONS = 2


def consecutive_failures(tracker: Tracker) -> int:
    """How many of the latest user messages in a row the bot did not understand or answer."""
    count = 0
    answered = False  # whether the bot answered the user message met next (going backwards)
    for event in reversed(tracker.events):
        if event.get("event") in HANDOFF_EVENTS:  # what was said to a person does not count
            break
        if event.get("event") == "bot":
            answered = answered or (event.get("metadata") or {}).get("utter_action") in ANSWERED_RESPONSES
            continue
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent not in FAILURE_INTENTS or answered:
            break
        count += 1
    return count


def likeliest_intents(tracker: Tracker, domain: DomainDict, limit: int = OPTIONS) -> list[str]:
    """The best-ranked intents of the latest message that the bot can offer as buttons."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    offered = []
    for candidate in ranking:
        name = candidate.get("name")
        if name in NOT_OFFERED or not response_text(domain, f"utter_intent_label_{name}"):
            continue
        offered.append(str(name))
        if len(offered) == limit:
            break
    return offered


class ActionClarify(Action):
    """Asks "did you mean...?" with the two likeliest options; after two misses, offers a person."""

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return await clarify(dispatcher, tracker, domain)


async def clarify(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, nothing_else: str = "utter_help",
    slot_changes: dict[str, Any] | None = None,
) -> list[EventType]:
    """The bot's answer to a message it cannot act on; ``nothing_else`` when it has no guess.

    After FAILURES_BEFORE_HUMAN messages in a row it did not understand, the bot
    stops guessing and hands the conversation to a person.
    """
    if consecutive_failures(tracker) >= FAILURES_BEFORE_HUMAN:
        dispatcher.utter_message(response="utter_not_understood_handoff")
        return await escalate(dispatcher, tracker, Reason.not_understood, slot_changes=slot_changes)
    latest_intent = (tracker.latest_message.get("intent") or {}).get("name")
    if latest_intent == "out_of_scope":
        dispatcher.utter_message(response="utter_out_of_scope")
        dispatcher.utter_message(response="utter_help")
        return []
    options = likeliest_intents(tracker, domain)
    if not options:
        dispatcher.utter_message(response=nothing_else)
        return []
    language = current_language(tracker)
    buttons = [
        {"title": response_text(domain, f"utter_intent_label_{name}", language), "payload": f"/{name}"}
        for name in options
    ]
    buttons.append({"title": response_text(domain, "utter_clarify_something_else", language), "payload": "/help"})
    dispatcher.utter_message(response="utter_clarify", buttons=buttons)
    return []
