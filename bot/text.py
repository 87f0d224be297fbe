"""Text hygiene shared by NLU components, channels and actions."""

from __future__ import annotations

import re
import unicodedata

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


def fold(text: str) -> str:
    """Lower case without accents, typographic apostrophes made plain: "Février" -> "fevrier"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("’", "'").replace("`", "'"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
