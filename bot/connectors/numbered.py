"""Buttons as a numbered list, for when a provider's native buttons cannot carry them.

Twilio's WhatsApp needs templates approved in advance for buttons; WhatsApp Cloud API
takes at most 10; Telegram's callback data holds 64 bytes. Then the bot sends

    Which service?

    1. Pothole
    2. Streetlight

and remembers the payloads per conversation, so the citizen's next message "2" (or "2.")
means the second button. The list answers the next message only: any other message,
photo or pin forgets it, so a later "2" (a house number, a count) stays "2". The memory
is this process's own and bounded; a restart forgets the lists on offer.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

REMEMBERED = 10_000
_NUMBER = re.compile(r"^\s*(\d{1,3})\s*[.)]?\s*$")


def button_title(button: dict[str, Any]) -> str:
    return str(button.get("title") or button.get("payload") or "")


def button_payload(button: dict[str, Any]) -> str:
    return str(button.get("payload") or button.get("title") or "")


def numbered_list(text: str, buttons: list[dict[str, Any]]) -> tuple[str, list[str | None]]:
    """The message (the text, then one numbered line a button) and each number's payload.

    A link button shows its address and has no payload: its number means nothing typed back.
    """
    lines: list[str] = []
    payloads: list[str | None] = []
    for number, button in enumerate(b for b in buttons if isinstance(b, dict)):
        if button.get("url"):
            lines.append(f"{number + 1}. {button_title(button)}: {button['url']}")
            payloads.append(None)
        else:
            lines.append(f"{number + 1}. {button_title(button)}")
            payloads.append(button_payload(button))
    return "\n\n".join(part for part in (text.strip(), "\n".join(lines)) if part), payloads


class NumberedChoices:
    """Per conversation, the payloads of the numbered list it was sent last."""

    def __init__(self, limit: int = REMEMBERED) -> None:
        self.limit = limit
        self._offered: OrderedDict[str, list[str | None]] = OrderedDict()

    def remember(self, conversation: str, payloads: list[str | None]) -> None:
        self._offered.pop(conversation, None)
        self._offered[conversation] = payloads
        if len(self._offered) > self.limit:
            self._offered.popitem(last=False)

    def forget(self, conversation: str) -> None:
        self._offered.pop(conversation, None)

    def resolve(self, conversation: str, text: str) -> str:
        """The payload a typed number stands for, else ``text`` as typed; the list is forgotten either way."""
        payloads = self._offered.pop(conversation, None)
        match = _NUMBER.match(text)
        if not payloads or match is None or not 1 <= int(match.group(1)) <= len(payloads):
            return text
        return payloads[int(match.group(1)) - 1] or text
