"""What every form of the bot shares: when the same question fails three times, a person takes over."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from handoff.packet import Reason

REJECTIONS_BEFORE_HUMAN = 3
# Messages a form must never take as an answer: the rules for them stop the form.
INTERRUPTING_INTENTS = frozenset({"emergency"})


def _rejects(event: dict[str, Any], slot: str) -> bool:
    return event.get("event") == "slot" and event.get("name") == slot and event.get("value") is None


def earlier_rejections(tracker: Tracker, slot: str, progress: str | None = None) -> int:
    """How many answers to the question for ``slot`` were turned down since the form asked it.

    ``progress``: a slot whose change means the same slot now asks a new question.
    """
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop":
            break
        if progress and event.get("event") == "slot" and event.get("name") == progress:
            break
        if event.get("event") == "slot" and event.get("name") == "requested_slot" and event.get("value") != slot:
            break
        count += _rejects(event, slot)
    return count


class CitizenFormValidation(FormValidationAction):
    """A form's validation; after REJECTIONS_BEFORE_HUMAN turned-down answers to one question, hands over.

    The form stops (requested_slot None) and ``action_request_human`` runs next
    with the reason ``form_failed``, so the agent sees how far the citizen got.
    Slots in ``never_hand_over`` (a confirmation the citizen may refuse) do not count.
    """

    never_hand_over: frozenset[str] = frozenset()
    # Slots that ask several questions in turn (slot -> the slot that records each answer).
    progress_slots: dict[str, str] = {}

    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if (tracker.latest_message.get("intent") or {}).get("name") in INTERRUPTING_INTENTS:
            return []  # nothing filled: Rasa rejects the form and the emergency rule runs
        slot = tracker.get_slot("requested_slot")
        progress = self.progress_slots.get(slot or "")
        earlier = earlier_rejections(tracker, slot, progress) if slot else 0  # before this turn's events
        events = await super().run(dispatcher, tracker, domain)
        if not slot or slot in self.never_hand_over or not any(_rejects(e, slot) for e in events):
            return events
        if progress and any(e.get("event") == "slot" and e.get("name") == progress for e in events):
            return events  # answered: the next question comes
        if earlier + 1 < REJECTIONS_BEFORE_HUMAN:
            return events
        dispatcher.utter_message(response="utter_form_failed_handoff")
        return [
            *events,
            SlotSet("handoff_reason", Reason.form_failed.value),
            SlotSet("handoff_form", self.form_name()),
            SlotSet("requested_slot", None),
            FollowupAction("action_request_human"),
        ]
