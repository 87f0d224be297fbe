"""Long replies cut into messages a provider accepts (Telegram 4096 UTF-16 units, WhatsApp 4096, Twilio 1600).

A cut falls after a paragraph if one is near the limit, else after a line, else after a
sentence, else at a space; only a word longer than a whole message is cut inside.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# Where a text may be cut, best first. A cut in the first quarter of a message would leave a
# tiny part, so only spaces may be used there.
_BOUNDARIES = (re.compile(r"\n[ \t]*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?…])\s"))
_SPACE = re.compile(r"\s")


def one_unit(_: str) -> int:
    return 1


def utf16_units(char: str) -> int:
    """How Telegram counts a character: characters outside the Basic Multilingual Plane count twice."""
    return 2 if ord(char) > 0xFFFF else 1


def _fitting(text: str, start: int, limit: int, units: Callable[[str], int]) -> int:
    """How many characters of ``text`` from ``start`` fit in ``limit`` units."""
    used = 0
    for index in range(start, len(text)):
        used += units(text[index])
        if used > limit:
            return index - start
    return len(text) - start


def _cut(window: str, fits: int) -> int:
    """Where to end a message within ``window`` (``fits`` characters that fit, plus the one after)."""
    floor = fits // 4
    for boundary in _BOUNDARIES:
        ends = [m.start() for m in boundary.finditer(window) if floor < m.start() <= fits]
        if ends:
            return max(ends)
    spaces = [m.start() for m in _SPACE.finditer(window) if 0 < m.start() <= fits]
    return max(spaces) if spaces else max(fits, 1)


def spans(text: str, limit: int, units: Callable[[str], int] = one_unit) -> list[tuple[int, int]]:
    """(start, end) of each message in ``text``, surrounding white space left out."""
    found: list[tuple[int, int]] = []
    start = 0
    while True:
        while start < len(text) and text[start].isspace():
            start += 1
        if start >= len(text):
            return found
        fits = _fitting(text, start, limit, units)
        if start + fits == len(text):
            found.append((start, len(text.rstrip())))
            return found
        end = start + _cut(text[start:start + fits + 1], fits)
        stop = end
        while stop > start and text[stop - 1].isspace():
            stop -= 1
        found.append((start, stop))
        start = end


def split_text(text: str, limit: int, units: Callable[[str], int] = one_unit) -> list[str]:
    """``text`` as messages of at most ``limit`` units each (none for a blank text)."""
    return [text[start:end] for start, end in spans(text, limit, units)]
