"""The two lines an agent reads first: why the citizen is here, what they were doing, what they said.

Written in English (the agents' working language) from the packet alone, so it
reads the same wherever it is shown; the citizen's own words are quoted as written.
"""

from __future__ import annotations

from handoff.packet import ContextPacket, Reason, Sender

MAX_QUOTE = 140
LANGUAGES = {"en": "English", "es": "Spanish", "fr": "French"}
CHANNELS = {"socketio": "web chat", "rest": "API", "whatsapp": "WhatsApp", "telegram": "Telegram"}
REASONS = {
    Reason.citizen_request: "Asked for a person",
    Reason.not_understood: "The bot did not understand them twice in a row",
    Reason.form_failed: "Could not finish {form}",
    Reason.frustration: "Frustrated with the bot",
    Reason.emergency: "Possible emergency",
}
FORMS = {
    "street_report_form": "a street problem report",
    "status_form": "a request status check",
    "renewal_form": "a renewal question",
    "outage_form": "a power outage check",
}
# Slots worth naming in the summary, with how to say them.
SLOT_LABELS = {
    "issue_type": "issue",
    "issue_location": "location",
    "issue_description": "description",
    "request_id": "request",
    "renewal_type": "renewal",
    "expiry_date": "expires",
    "outage_area": "area",
}


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_QUOTE else text[: MAX_QUOTE - 1].rstrip() + "…"


def summarize(packet: ContextPacket) -> str:
    """E.g. 'Could not finish a street problem report (Spanish, web chat). Issue: pothole; location: ...'."""
    form = FORMS.get(packet.active_form or "", "a form")
    first = REASONS[packet.reason].format(form=form)
    if packet.triage is not None and packet.triage.category and packet.triage.category != "general":
        first += f": {packet.triage.category}"
    language = LANGUAGES.get(packet.language, packet.language)
    channel = CHANNELS.get(packet.channel or "", packet.channel)
    where = ", ".join(part for part in (language, channel) if part)
    sentences = [f"{first} ({where})."]
    if packet.active_form and packet.reason != Reason.form_failed:
        sentences.append(f"Was in {FORMS.get(packet.active_form, packet.active_form)}.")
    known = [f"{label}: {packet.slots[slot]}" for slot, label in SLOT_LABELS.items() if packet.slots.get(slot)]
    if known:
        facts = _quote("; ".join(known))
        sentences.append(facts[:1].upper() + facts[1:] + ".")
    said = [entry.text for entry in packet.transcript if entry.sender == Sender.citizen and entry.text.strip()]
    last = next((text for text in reversed(said) if not text.startswith("/")), None)
    if last:
        sentences.append(f"Last said: “{_quote(last)}”")
    return " ".join(sentences)[:600]
