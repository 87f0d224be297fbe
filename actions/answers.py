"""Reading citizens' answers: typed text versus button payloads, and "skip", "no", "I don't know"."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from actions import defaults
from bot.text import fold

SKIP_INTENTS = {"skip", "deny"}


def is_skip_word(value: Any) -> bool:
    """Whether a text, in any configured language, says "none" or "I don't know" (bot/data/languages.yml)."""
    text = fold(str(value or "")).strip(" .!¡?¿/")
    return text in defaults.language_config().words_of_kind("skip")


def is_skip(tracker: Tracker, value: Any) -> bool:
    """Whether the citizen declined to answer (a Skip button, "no", "I don't know", "no sé")."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return intent in SKIP_INTENTS or is_skip_word(value)


def typed_text(tracker: Tracker) -> str:
    """The latest message as the citizen typed it; empty for a button payload such as "/skip"."""
    text = tracker.latest_message.get("text") or ""
    return "" if text.startswith("/") else text
