"""Buttons as a numbered list, and the numbers typed back (bot/connectors/numbered.py)."""

from __future__ import annotations

from bot.connectors.numbered import NumberedChoices, numbered_list


def test_each_button_gets_a_line_and_a_link_shows_its_address_without_a_payload():
    message, payloads = numbered_list("Which one?", [
        {"title": "Pothole", "payload": "/report"}, {"payload": "/deny"},
        {"title": "Read more", "url": "https://city.example.org/faq"}])
    assert message == "Which one?\n\n1. Pothole\n2. /deny\n3. Read more: https://city.example.org/faq"
    assert payloads == ["/report", "/deny", None]
    assert numbered_list("", [{"title": "Yes", "payload": "/affirm"}]) == ("1. Yes", ["/affirm"])


def test_a_typed_number_answers_the_next_message_only():
    choices = NumberedChoices()
    choices.remember("ana", ["/report", "/deny", None])
    assert choices.resolve("ana", " 2. ") == "/deny"
    assert choices.resolve("ana", "2") == "2"  # forgotten once answered
    choices.remember("ana", ["/report", "/deny"])
    assert choices.resolve("ana", "12 Main Street") == "12 Main Street"
    assert choices.resolve("ana", "1") == "1"  # forgotten by any other message
    choices.remember("ana", ["/report", None])
    assert choices.resolve("ana", "2") == "2"  # a link's number means nothing
    choices.remember("ana", ["/report"])
    assert choices.resolve("ana", "0") == "0" and choices.resolve("bob", "1") == "1"


def test_the_memory_is_bounded_and_forgets_the_oldest_conversation():
    choices = NumberedChoices(limit=2)
    for name in ("ana", "bob", "eve"):
        choices.remember(name, ["/affirm"])
    assert choices.resolve("ana", "1") == "1"
    assert choices.resolve("bob", "1") == "/affirm" and choices.resolve("eve", "1") == "/affirm"
