"""A handoff's whole conversation as one JSON document, redacted unless an agent asks."""

from __future__ import annotations

from typing import Any

from handoff.store import HandoffStore
from privacy.redact import redact


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_mask(item) for item in value]
    if isinstance(value, dict):
        return {key: _mask(item) for key, item in value.items()}
    return value


def export(store: HandoffStore, reference: str, redacted: bool) -> dict[str, Any]:
    """The conversation before the handoff (from the packet), with the agent, and the notes."""
    handoff = store.get(reference)
    packet = store.packet(reference)
    before = [
        {"sender": entry.get("sender"), "text": entry.get("text", ""), "at": entry.get("at")}
        for entry in packet.get("transcript", [])
    ]
    during = [
        {"sender": m.sender, "text": m.text, "at": m.at.isoformat(), "agent": m.agent}
        for m in store.messages(reference)
    ]
    document: dict[str, Any] = {
        "reference": handoff.reference,
        "conversation_id": handoff.conversation_id,
        "channel": handoff.channel,
        "language": handoff.language,
        "reason": handoff.reason,
        "urgency": handoff.urgency,
        "team": handoff.team,
        "status": handoff.status,
        "agent": handoff.agent,
        "escalated_at": handoff.escalated_at.isoformat(),
        "resolved_at": handoff.resolved_at.isoformat() if handoff.resolved_at else None,
        "summary": handoff.summary,
        "slots": packet.get("slots", {}),
        "with_bot": before,
        "with_agent": during,
        "notes": [note.as_dict() for note in store.notes(reference)],
        "redacted": redacted,
    }
    if redacted:
        for key in ("summary", "slots", "with_bot", "with_agent", "notes"):
            document[key] = _mask(document[key])
    return document
