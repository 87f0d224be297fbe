"""The conversation's language: kept or switched after every message, and read by the other actions.

``action_set_language`` fills the ``language`` slot through a custom slot mapping, so Rasa runs it
after every user message, before the next action is chosen (and inside forms). It combines what
the NLU pipeline detected in the message (``language_detection``, from
:mod:`bot.components.language_detector`) with the language so far (:func:`bot.language.decide`).
Every turn records the language and the detector's confidence (slot ``language_confidence``).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import defaults
from bot.language import LANGUAGE_DETECTION, Detection, LanguageConfig, LanguageDecision, decide

logger = logging.getLogger(__name__)

LANGUAGE_SLOT = "language"
CONFIDENCE_SLOT = "language_confidence"
LANGUAGE_ENTITY = "language"  # set by the language buttons: /change_language{"language": "es"}


def current_language(tracker: Tracker) -> str:
    """The language to answer in: the ``language`` slot, else the configured default."""
    config = defaults.language_config()
    language = tracker.get_slot(LANGUAGE_SLOT)
    return language if language in config.names else config.default


def language_after(message: dict[str, Any], current: str | None, config: LanguageConfig) -> LanguageDecision:
    """The conversation's language after ``message`` (a tracker's parse data)."""
    for entity in message.get("entities") or []:
        if entity.get("entity") == LANGUAGE_ENTITY and entity.get("value") in config.names:
            return LanguageDecision(str(entity["value"]), 1.0, "requested")
    detection = message.get(LANGUAGE_DETECTION)
    if not isinstance(detection, dict):  # a button payload: it says nothing about the language
        detection = {}
    return decide(Detection.from_dict(detection), current, config)


class ActionSetLanguage(Action):
    """Sets ``language`` and ``language_confidence`` after each user message."""

    def __init__(self, config: LanguageConfig | None = None) -> None:
        self._config = config

    def name(self) -> str:
        return "action_set_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        config = self._config or defaults.language_config()
        current = tracker.get_slot(LANGUAGE_SLOT)
        decision = language_after(tracker.latest_message or {}, current, config)
        if decision.language != current:
            logger.info("conversation language %s -> %s (%s)", current, decision.language, decision.reason)
        return [
            SlotSet(LANGUAGE_SLOT, decision.language),
            SlotSet(CONFIDENCE_SLOT, round(decision.confidence, 4)),
        ]
