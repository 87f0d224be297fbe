from __future__ import annotations

import pytest
from pydantic import ValidationError

from handoff.packet import ContextPacket, Reason, Triage, Urgency, json_schema
from handoff.summary import summarize
from tests.conftest import ROOT
from tests.handoff.conftest import packet


def test_the_published_schema_is_current():
    published = (ROOT / "docs" / "handoff-packet.schema.json").read_text(encoding="utf-8")
    assert published == json_schema(), "run: python -m handoff schema > docs/handoff-packet.schema.json"


def test_a_newer_minor_version_is_read_and_another_major_refused():
    data = packet().dict()
    assert ContextPacket.parse_obj({**data, "schema_version": "1.7", "new_field": 1}).schema_version == "1.7"
    with pytest.raises(ValidationError):
        ContextPacket.parse_obj({**data, "schema_version": "2.0"})


def test_the_summary_says_why_where_what_and_the_last_words():
    p = packet(reason=Reason.frustration, language="fr")
    p.slots = {"issue_type": "streetlight", "issue_location": "5th and Oak"}
    text = summarize(p)
    assert text.startswith("Frustrated with the bot (French, web chat).")
    assert "Issue: streetlight; location: 5th and Oak." in text
    assert text.endswith("Last said: “my email is ana@example.org”")


def test_the_summary_names_a_triage_category_and_stays_short():
    p = packet(reason=Reason.emergency, urgency=Urgency.emergency)
    p.triage = Triage(category="gas smell", urgency=Urgency.emergency)
    p.transcript[0].text = "gas " * 500
    text = summarize(p)
    assert text.startswith("Possible emergency: gas smell")
    assert len(text) <= 600
