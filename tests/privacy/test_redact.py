from __future__ import annotations

import pytest

from privacy import redact


@pytest.mark.parametrize(
    "text, expected",
    [
        ("write to jane.doe+city@mail.example.com please", "write to [email] please"),
        ("call me on (555) 123-4567", "call me on [number]"),
        ("card 4111 1111 1111 1111", "card [number]"),
        ("account 00123456", "account [number]"),
        ("pothole at 123 N Main St.", "pothole at [address]"),
        ("status of sr-7k3m9q2x", "status of [reference]"),
        ("my name is Ana Lopez", "my name is [name]"),
        ("me llamo María", "me llamo [name]"),
        ("vivo en calle Mayor 14", "vivo en [address]"),
    ],
)
def test_personal_data_is_masked(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", ["when is bin day", "is route 66 closed", "what is 311", "this is about trash"])
def test_ordinary_questions_are_left_alone(text):
    assert redact(text) == text
