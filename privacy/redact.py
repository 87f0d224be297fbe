"""Masking personal data in free text before it is stored for analysis or shown to staff.

What is masked: e-mail addresses, phone numbers, payment card and other long numbers,
service-request and handoff references, street addresses with a house number, and a
name the writer gives for themselves ("my name is ..."). It is pattern-based, so it
errs on the side of masking: a question about "route 66" keeps its number (2 digits),
"123 Main Street" does not.
"""

from __future__ import annotations

import re

STREET_WORDS = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|place|pl|way|"
    r"terrace|ter|parkway|pkwy|highway|hwy|circle|cir|square|sq|plaza|"
    r"calle|avenida|rue|boulevard|chemin|allée|allee|impasse"
)
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE), "[email]"),
    (re.compile(r"https?://\S+", re.IGNORECASE), "[link]"),
    (re.compile(r"\b(?:SR|H)[\s-]?[0-9A-Z]{6,8}\b", re.IGNORECASE), "[reference]"),
    # House number + up to four words + a street word: "123 N Main St", "12 rue de la Paix".
    (
        re.compile(
            rf"\b\d{{1,6}}[a-z]?\s+(?:[\w.'-]+\s+){{0,4}}?(?:{STREET_WORDS})\b\.?",
            re.IGNORECASE | re.UNICODE,
        ),
        "[address]",
    ),
    (re.compile(r"\b(?:calle|avenida|rue|chemin)\s+[\w' -]{1,40}?\s\d{1,6}\b", re.IGNORECASE), "[address]"),
    # Phone numbers: +1 (555) 123-4567, 555.123.4567, 06 12 34 56 78 ...
    (re.compile(r"(?<![\w(])(?:\+|\()?\d[\d\s().-]{6,}\d(?!\w)"), "[number]"),
    (re.compile(r"\b\d{5,}\b"), "[number]"),
    (
        re.compile(
            r"\b((?i:my name is|my name's|i am called|this is|me llamo|mi nombre es|je m'appelle|je suis))"
            r"\s+[A-ZÀ-Ý][\w'-]+(?:\s+[A-ZÀ-Ý][\w'-]+)?",
            re.UNICODE,
        ),
        r"\1 [name]",
    ),
]


def redact(text: str) -> str:
    """``text`` with personal data replaced by [email], [number], [address], [name] and so on."""
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text
