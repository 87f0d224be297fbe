"""Conversations written to a SQLite tracker store by Rasa's own SQLTrackerStore, for tests that read it back."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from tests.conftest import ROOT

DOMAIN = Domain.load(str(ROOT / "domain.yml"))


def said(text: str, intent: str, confidence: float, ranking: list[tuple[str, float]] | None = None,
         language: str = "en", channel: str = "whatsapp", timestamp: float | None = None) -> UserUttered:
    """A citizen's message as the NLU parsed it."""
    ranking = ranking or [(intent, confidence)]
    return UserUttered(text, intent={"name": intent, "confidence": confidence}, input_channel=channel,
                       parse_data={"text": text, "intent": {"name": intent, "confidence": confidence},
                                   "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
                                   "entities": [], "language_detection": {"language": language}},
                       timestamp=timestamp)


def seed(path: Path, conversations: dict[str, list[Event]]) -> str:
    """Save the conversations (sender id -> events); the store's SQLAlchemy URL."""
    store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(path))
    for sender_id, events in conversations.items():
        tracker = DialogueStateTracker.from_events(sender_id, [ActionExecuted("action_listen"), *events],
                                                   slots=DOMAIN.slots)
        asyncio.run(store.save(tracker))
    return f"sqlite:///{path}"
