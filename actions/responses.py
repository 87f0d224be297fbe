"""Reading response texts from the domain, for texts that actions compose (button titles, words)."""

from __future__ import annotations

from typing import Any


def _language_of(variant: dict[str, Any]) -> str | None:
    for condition in variant.get("condition") or []:
        if condition.get("type") == "slot" and condition.get("name") == "language":
            return str(condition.get("value"))
    return None


def response_text(domain: dict[str, Any], name: str, language: str | None = None) -> str | None:
    """The text of a domain response in ``language`` (its default variant when it has none there).

    None if the domain lacks the response.
    """
    variants = [v for v in (domain.get("responses") or {}).get(name) or [] if v.get("text")]
    for wanted in (language, None):
        for variant in variants:
            if _language_of(variant) == wanted and (wanted or not variant.get("condition")):
                return str(variant["text"])
    return str(variants[0]["text"]) if variants else None
