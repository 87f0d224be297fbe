"""FAQ answers through the real stack, and the content team's edit -> `make faq` -> live workflow."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.conftest import Chat, build_faq_index

pytestmark = pytest.mark.e2e

FESTIVAL = """\
category: events
entries:
  - id: events-winter-lights
    reviewed: 2026-11-01
    source: https://city.example.gov/events/winter-lights
    questions:
      en:
        - When is the Winter Lights festival?
        - What are the dates of the Winter Lights festival in the park?
        - Is there a holiday lights festival this year?
    answers:
      en: >-
        The Winter Lights festival runs December 4-20, 17:00-22:00 nightly, at Riverside Park.
        Entry is free; the ice rink costs $5.
"""


def answer_within(chat: Chat, question: str, expected: str, seconds: float) -> float:
    """Ask until the reply contains ``expected``; how long it took."""
    started = time.monotonic()
    while True:
        reply = chat.texts(question)
        if expected in reply:
            return time.monotonic() - started
        if time.monotonic() - started > seconds:
            raise AssertionError(f"no {expected!r} after {seconds} s; last reply: {reply}")
        time.sleep(1.0)


def test_a_citizen_question_gets_the_faq_answer_with_its_source(chat: Chat):
    reply = chat.texts("when do they pick up the garbage")
    assert "collected" in reply
    assert "More information: https://city.example.gov/waste/collection" in reply


def test_a_chosen_faq_button_answers_that_entry(chat: Chat):
    reply = chat.texts('/faq{"faq_id": "library-card"}')
    assert "More information: https://city.example.gov/library/card" in reply


def test_a_question_the_faq_cannot_answer_is_admitted_and_a_person_offered(chat: Chat):
    replies = chat.say("can I rent the zeppelin from the mayor's office for my wedding")
    text = " ".join(m.get("text", "") for m in replies)
    buttons = [b["payload"] for m in replies for b in m.get("buttons", [])]
    assert "/human_handoff" in buttons or "/help" in buttons, text


def test_a_new_entry_is_live_after_make_faq_without_a_restart(chat: Chat, faq_folders: tuple[Path, Path]):
    faq_dir, index_dir = faq_folders
    question = "when is the winter lights festival"
    assert "December 4-20" not in chat.texts(question)
    (faq_dir / "events.yml").write_text(FESTIVAL, encoding="utf-8")
    started = time.monotonic()
    built = build_faq_index(faq_dir, index_dir)
    assert built.returncode == 0, built.stderr[-2000:]
    answer_within(chat, question, "December 4-20", seconds=30)
    assert time.monotonic() - started < 60, "the content team's edit must be live within a minute"


def test_a_broken_faq_file_leaves_the_last_good_answers_serving(chat: Chat, faq_folders: tuple[Path, Path]):
    faq_dir, index_dir = faq_folders
    broken = faq_dir / "zz-broken.yml"
    broken.write_text("category: oops\nentries:\n  - id: oops-entry\n    questions: {en: [Why]}\n")
    try:
        built = build_faq_index(faq_dir, index_dir)
        assert built.returncode == 1
        assert "zz-broken.yml: oops-entry: missing answer" in built.stderr
        assert "NOT rebuilt" in built.stderr
        assert "collected" in chat.texts("when do they pick up the garbage")
    finally:
        broken.unlink()
