"""Reading response texts from the domain, for texts that actions compose (button titles)."""

from __future__ import annotations

from typing import Any


def response_text(domain: dict[str, Any], name: str) -> str | None:
    """The text of a domain response's default variant, or None if the domain lacks it."""
    variants = (domain.get("responses") or {}).get(name) or []
    for variant in variants:
        if not variant.get("condition") and variant.get("text"):
            return str(variant["text"])
    return str(variants[0]["text"]) if variants and variants[0].get("text") else None
