"""Long replies cut into messages within a provider's limit (bot/connectors/splitting.py)."""

from __future__ import annotations

import random

from bot.connectors.splitting import split_text, utf16_units


def test_a_text_within_the_limit_is_one_message_and_a_blank_one_none():
    assert split_text("  Hello there.  ", 4096) == ["Hello there."]
    assert split_text("   ", 10) == []


def test_cuts_fall_after_paragraphs_then_lines_then_sentences_then_words():
    assert split_text("aaaa bbbb\n\ncc", 10) == ["aaaa bbbb", "cc"]
    assert split_text("One two.\n\nThree four.", 15) == ["One two.", "Three four."]
    assert split_text("first line\nsecond line", 15) == ["first line", "second line"]
    assert split_text("First sentence here. Second one here.", 25) == ["First sentence here.", "Second one here."]
    assert split_text("One two. Three four five.", 15) == ["One two.", "Three four", "five."]
    assert split_text("alpha beta gamma delta epsilon", 12) == ["alpha beta", "gamma delta", "epsilon"]


def test_only_a_word_longer_than_a_message_is_cut_inside():
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_a_paragraph_break_near_the_start_does_not_leave_a_tiny_message():
    assert split_text("Hi.\n\n" + "word " * 10, 30)[0].startswith("Hi.\n\nword")


def test_emoji_count_twice_as_telegram_counts_them():
    assert split_text("🚧" * 10, 8, utf16_units) == ["🚧" * 4, "🚧" * 4, "🚧" * 2]


def test_every_message_fits_and_no_word_is_lost():
    chance = random.Random(7)
    for _ in range(500):
        text = "".join(chance.choice(["a", "b", " ", "\n", ".", "é", "🚧"]) for _ in range(chance.randrange(300)))
        limit = chance.randrange(2, 40)
        parts = split_text(text, limit, utf16_units)
        assert all(sum(utf16_units(c) for c in part) <= limit for part in parts), (text, limit)
        assert all(part and part == part.strip() for part in parts), (text, limit)
        assert "".join("".join(parts).split()) == "".join(text.split()), (text, limit)
