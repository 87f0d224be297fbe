"""Finding and reading dates the way citizens write them."""

from __future__ import annotations

import re
from datetime import date, datetime

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
# Most specific first: a full date wins over a partial one in the same text.
_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b\d{4}-\d{1,2}-\d{1,2}\b",
        r"\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b",
        rf"\b{_DAY}(?:\s+of)?\s+{_MONTH},?\s+\d{{4}}\b",
        rf"\b{_MONTH}\s+{_DAY},?\s+\d{{4}}\b",
        rf"\b{_MONTH}\s+\d{{4}}\b",
        rf"\b{_DAY}(?:\s+of)?\s+{_MONTH}(?!\w)",
        rf"\b{_MONTH}\s+{_DAY}\b",
    )
]
_RELATIVE = re.compile(
    r"\b(today|tomorrow|yesterday|next (week|month|year)|last (week|month|year)"
    r"|in \w+ (days?|weeks?|months?|years?)|\w+ (days?|weeks?|months?|years?) ago)\b",
    re.IGNORECASE,
)


def _parse(fragment: str, today: date, date_order: str) -> date | None:
    import dateparser

    parsed = dateparser.parse(
        fragment,
        languages=["en"],
        settings={
            "DATE_ORDER": date_order,
            "PREFER_DATES_FROM": "future",
            "PREFER_DAY_OF_MONTH": "last",
            "RELATIVE_BASE": datetime(today.year, today.month, today.day),
            "REQUIRE_PARTS": ["month"],
        },
    )
    return parsed.date() if parsed else None


def find_date(text: str, today: date, date_order: str = "MDY") -> date | None:
    """The first date written in a sentence ("expires March 3rd, 2027", "on 2027-03-03", "next month")."""
    for pattern in _PATTERNS:
        match = pattern.search(text)
        if match:
            found = _parse(match.group(0).replace(",", " "), today, date_order)
            if found:
                return found
    relative = _RELATIVE.search(text)
    if relative:
        return _parse(relative.group(0), today, date_order)
    return None
