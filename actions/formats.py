"""Dates, times and numbers written the way the citizen's language writes them (Babel's CLDR data)."""

from __future__ import annotations

from datetime import date, datetime

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.numbers import format_decimal


def format_date(value: date, language: str) -> str:
    """'March 15, 2027', '15 de marzo de 2027', '15 mars 2027'."""
    return _babel_date(value, "long", locale=language)


def format_moment(moment: datetime, language: str, with_year: bool = False) -> str:
    """A local date and time: '23 Nov, 02:00', '23 nov, 02:00', '23 nov., 02:00'."""
    return _babel_datetime(moment, "d MMM y, HH:mm" if with_year else "d MMM, HH:mm", locale=language)


def format_number(value: int | float, language: str) -> str:
    """'12,345', '12.345', '12 345'."""
    return format_decimal(value, locale=language)


def language_name(code: str, language: str) -> str:
    """The name of language ``code`` in ``language``: ('en', 'es') -> 'inglés'."""
    try:
        return str(Locale.parse(language).languages.get(code) or code)
    except (UnknownLocaleError, ValueError):
        return code
