"""Reading citizens' answers: typed text versus button payloads, and "skip", "no", "I don't know"."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

SKIP_INTENTS = {"skip", "deny"}
SKIP_WORDS = {
    "skip", "no", "none", "nope", "no thanks", "n/a", "na", "not now", "pass", "unknown",
    "no photo", "no picture", "i don't have one", "i don't know", "don't know", "dont know",
    "not sure", "no idea", "idk",
}


def is_skip(tracker: Tracker, value: Any) -> bool:
    """Whether the citizen declined to answer (a Skip button, "no", "I don't know")."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    text = str(value or "").lower().replace("’", "'").strip(" .!/")
    return intent in SKIP_INTENTS or text in SKIP_WORDS


def typed_text(tracker: Tracker) -> str:
    """The latest message as the citizen typed it; empty for a button payload such as "/skip"."""
    text = tracker.latest_message.get("text") or ""
    return "" if text.startswith("/") else text
