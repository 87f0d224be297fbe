"""Finding and reading dates the way citizens write them, in each configured language (no Rasa imports).

Month names and relative phrases ("mañana", "le mois prochain", "hace 2 semanas") come from
dateparser's language data, so a new language needs no code here. English month names are
understood in every language (people mix them).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache

from bot.text import fold

_EN_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th|er|º|°)?"
_EN_RELATIVE = (
    r"today|tomorrow|yesterday|next (?:week|month|year)|last (?:week|month|year)"
    r"|in \w+ (?:days?|weeks?|months?|years?)|\w+ (?:days?|weeks?|months?|years?) ago"
)
_MONTH_KEYS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)



@cache
def _patterns(language: str) -> tuple[list[re.Pattern[str]], re.Pattern[str] | None]:
    """Date patterns for a language, most specific first, and its relative-date pattern."""
    months = [_EN_MONTHS]
    relative = [_EN_RELATIVE] if language == "en" else []
    if language != "en":
        from dateparser.languages.loader import default_loader

        info = default_loader.get_locale(language).info
        names = {fold(name) for key in _MONTH_KEYS for name in info.get(key, []) if len(name) >= 3}
        months.insert(0, "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True)))
        phrases = {fold(p) for values in info.get("relative-type", {}).values() for p in values}
        relative = [re.escape(p) for p in sorted(phrases, key=len, reverse=True)]
        for values in info.get("relative-type-regex", {}).values():
            relative.extend(fold(v).replace(r"(\d+[.,]?\d*)", r"\d+") + r"\b" for v in values)
    month = rf"(?:{'|'.join(months)})\.?"
    link = r"(?:\s+(?:of|de|del|le)\s+|\s+)"  # "15 of March", "15 de marzo", "15 mars"
    patterns = [
        re.compile(p, re.IGNORECASE)
        for p in (
            r"\b\d{4}-\d{1,2}-\d{1,2}\b",
            r"\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b",
            rf"\b{_DAY}{link}{month},?{link}\d{{4}}\b",
            rf"\b{month}\s+{_DAY},?\s+\d{{4}}\b",
            rf"\b{month}{link}\d{{4}}\b",
            rf"\b{_DAY}{link}{month}(?!\w)",
            rf"\b{month}\s+{_DAY}\b",
        )
    ]
    return patterns, (re.compile(rf"\b(?:{'|'.join(relative)})", re.IGNORECASE) if relative else None)


def _parse(fragment: str, today: date, date_order: str, language: str) -> date | None:
    import dateparser

    parsed = dateparser.parse(
        fragment,
        languages=sorted({language, "en"}),
        settings={
            "DATE_ORDER": date_order,
            "PREFER_DATES_FROM": "future",
            "PREFER_DAY_OF_MONTH": "last",
            "RELATIVE_BASE": datetime(today.year, today.month, today.day),
            "REQUIRE_PARTS": ["month"],
        },
    )
    return parsed.date() if parsed else None


def date_spans(text: str, language: str = "en") -> list[tuple[int, int]]:
    """Where dates may be written in ``text`` (start, end), the most specific patterns first."""
    folded = fold(text)  # same length as text: the spans hold for both
    patterns, relative = _patterns(language)
    spans = [match.span() for pattern in patterns for match in pattern.finditer(folded)]
    if relative is not None:
        spans += [match.span() for match in relative.finditer(folded)]
    return spans


def find_date(text: str, today: date, date_order: str = "MDY", language: str = "en") -> date | None:
    """The first date written in a sentence, in ``language`` or English.

    "expires March 3rd, 2027", "on 2027-03-03", "next month", "el 15 de marzo de 2027",
    "le 1er mars", "dentro de 2 semanas". ``date_order`` reads numeric dates (MDY or DMY).
    """
    folded = fold(text)
    for start, end in date_spans(text, language):
        found = _parse(folded[start:end].replace(",", " "), today, date_order, language)
        if found:
            return found
    return None
