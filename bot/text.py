"""Text hygiene shared by NLU components, channels and actions."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_SPACES = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """NFC-normalise, drop control and zero-width characters, fold white space."""
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def has_words(text: str) -> bool:
    """True when the text holds at least one letter or digit (not only emoji or symbols)."""
    return any(unicodedata.category(ch)[0] in ("L", "N") for ch in text)


def alternation(words: Iterable[str]) -> str:
    """A regular-expression alternation matching any of the literal ``words`` (put longest first)."""
    return "|".join(re.escape(word) for word in words)


def fold(text: str) -> str:
    """Lower case without accents, typographic apostrophes made plain: "Février" -> "fevrier".

    One character in, one out, so a match in the folded text is at the same place in the original.
    """
    return "".join(_fold_char(ch) for ch in text)


def _fold_char(ch: str) -> str:
    if ch in "’`´":
        return "'"
    lowered = ch.lower()
    base = unicodedata.normalize("NFKD", lowered)[:1] if len(lowered) == 1 else ch
    return base if base and not unicodedata.combining(base) else ch
