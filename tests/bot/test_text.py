from __future__ import annotations

import pytest

from bot.components.input_guard import EMPTY_MESSAGE, MESSAGE_TOO_LONG, NO_WORDS, guard_intent
from bot.text import clean_text, has_words


def test_clean_text_drops_control_and_zero_width_characters():
    assert clean_text("hi\x00\x01 there\u200b\n\n  friend ") == "hi there friend"
    assert clean_text(None) == ""  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text, intent",
    [
        ("", EMPTY_MESSAGE),
        ("   \n\t ", EMPTY_MESSAGE),
        ("\x00\x01", EMPTY_MESSAGE),
        (None, EMPTY_MESSAGE),
        ("👍🎉", NO_WORDS),
        ("?!...", NO_WORDS),
        ("a" * 2001, MESSAGE_TOO_LONG),
        ("hello", None),
        ("SR-7K3M9Q2X", None),
        ("42", None),
        ("¿dónde está? 👍", None),
    ],
)
def test_guard_names_messages_without_usable_words(text, intent):
    assert guard_intent(text, max_chars=2000) == intent


def test_has_words_counts_letters_and_digits_in_any_script():
    assert has_words("日本")
    assert has_words("7")
    assert not has_words("🙂🙂")
