"""Candidate training examples from real conversations, written to a review file a person edits.

A citizen's message is a candidate when the bot was unsure of it:

- ``fallback``: below the fallback threshold (the NLU said ``nlu_fallback``);
- ``low_confidence``: the intent's confidence was under ``--threshold``;
- ``before_handoff``: one of the two messages before a person took the conversation over
  (unless it was the request for a person itself);
- ``faq_miss``: the FAQ had no good answer (the gap log, retrieval/gaps.py).

Payloads ("/affirm", a pin), answers to a form's question ("12 Elm Street", a description:
no intent is expected of them), and what the guard and the triage rules set (empty messages,
emergencies), are never candidates. Texts are redacted (privacy/redact.py) before anything is
written, and the same text seen again only raises its count.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from bot.text import fold
from learning.conversations import Turn
from privacy import redact

NOT_LEARNT = frozenset({"emergency", "empty_message", "no_words", "message_too_long", "share_location",
                        "share_photo", "change_language"})
FALLBACK = "nlu_fallback"
HANDOFF_INTENT = "human_handoff"
TURNS_BEFORE_HANDOFF = 2
DECISIONS = ("accept", "relabel", "drop")
INSTRUCTIONS = """\
# Candidate training examples from real conversations (personal data already masked).
# For each example set `decision`:
#   accept   `intent` (the predicted one) is right: add the text as an example of it
#   relabel  set `intent` to the right one first: an intent of domain.yml, or faq:<entry id>
#            to add the text as a question of that FAQ entry (bot/data/faq/)
#   drop     not useful (or still holds personal data: then drop it)
# An example left without a decision is skipped. Then: make merge REVIEW=<this file>
"""


@dataclass
class Candidate:
    text: str
    language: str
    predicted: str
    confidence: float
    reasons: set[str] = field(default_factory=set)
    seen: int = 1

    @property
    def key(self) -> tuple[str, str]:
        return self.language, " ".join(fold(self.text).split())

    def entry(self) -> dict[str, Any]:
        return {"id": hashlib.sha256("|".join(self.key).encode()).hexdigest()[:10], "text": self.text,
                "language": self.language, "reasons": sorted(self.reasons), "predicted": self.predicted,
                "confidence": round(self.confidence, 3), "seen": self.seen, "decision": "",
                "intent": self.predicted}


def _reasons(turns: list[Turn], index: int, threshold: float) -> set[str]:
    turn = turns[index]
    reasons = set()
    if turn.intent == FALLBACK:
        reasons.add("fallback")
    elif turn.confidence < threshold:
        reasons.add("low_confidence")
    handed_over = any(t.handed_over for t in turns[index:index + TURNS_BEFORE_HANDOFF])
    if handed_over and not (turn.intent == HANDOFF_INTENT and turn.confidence >= threshold):
        reasons.add("before_handoff")
    return reasons


def _predicted(turn: Turn) -> tuple[str, float]:
    """The NLU's best intent; under a fallback, the intent it would have chosen."""
    if turn.intent != FALLBACK:
        return turn.intent, turn.confidence
    runner_up = next(((name, score) for name, score in turn.ranking if name != FALLBACK), ("", 0.0))
    return runner_up


def candidates(conversations: Iterable[list[Turn]], threshold: float,
               faq_misses: Iterable[tuple[str, str]] = ()) -> list[Candidate]:
    """The candidates of all conversations (and FAQ misses as (question, language)), most seen first."""
    found: dict[tuple[str, str], Candidate] = {}

    def add(candidate: Candidate) -> None:
        if not fold(candidate.text).strip():
            return
        known = found.get(candidate.key)
        if known is None:
            found[candidate.key] = candidate
        else:
            known.seen += 1
            known.reasons |= candidate.reasons

    for turns in conversations:
        for index, turn in enumerate(turns):
            text = turn.text.strip()
            if not text or text.startswith("/") or turn.intent in NOT_LEARNT or turn.answering:
                continue
            reasons = _reasons(turns, index, threshold)
            if reasons:
                intent, confidence = _predicted(turn)
                add(Candidate(redact(text), turn.language or "en", intent, confidence, reasons))
    for question, language in faq_misses:
        add(Candidate(redact(question), language or "en", "faq", 0.0, {"faq_miss"}))
    return sorted(found.values(), key=lambda c: (-c.seen, c.language, c.text))


def write_review(path: Path, found: list[Candidate], since: datetime, threshold: float) -> None:
    """The review file: instructions, where the examples came from, then one entry per example."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"since": since.isoformat(timespec="seconds"), "threshold": threshold,
            "examples": [c.entry() for c in found]}
    path.write_text(INSTRUCTIONS + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=100),
                    encoding="utf-8")
