"""Every response speaks every configured language, with the same placeholders and buttons."""

from __future__ import annotations

import re

import pytest
import yaml

from bot.language import LanguageConfig
from tests.conftest import ROOT

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
RESPONSES: dict[str, list[dict]] = DOMAIN["responses"]
CONFIG = LanguageConfig.from_file()
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def language_of(variant: dict) -> str:
    conditions = variant.get("condition") or []
    for condition in conditions:
        if condition.get("type") == "slot" and condition.get("name") == "language":
            return str(condition["value"])
    assert not conditions, f"a condition on something other than the language slot: {conditions}"
    return CONFIG.default


def by_language(name: str) -> dict[str, dict]:
    variants: dict[str, dict] = {}
    for variant in RESPONSES[name]:
        language = language_of(variant)
        assert language not in variants, f"{name}: two variants for {language}"
        variants[language] = variant
    return variants


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_every_response_has_a_variant_in_every_language(name):
    missing = set(CONFIG.codes) - set(by_language(name))
    assert not missing, f"{name} has no variant in {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_variants_keep_the_placeholders_and_button_payloads(name):
    variants = by_language(name)
    default = variants[CONFIG.default]
    for language, variant in variants.items():
        assert sorted(PLACEHOLDER.findall(variant.get("text", ""))) == sorted(
            PLACEHOLDER.findall(default.get("text", ""))
        ), f"{name} [{language}]"
        assert [b["payload"] for b in variant.get("buttons", [])] == [
            b["payload"] for b in default.get("buttons", [])
        ], f"{name} [{language}]"
        assert all(b.get("title", "").strip() for b in variant.get("buttons", [])), f"{name} [{language}]"


def test_the_slot_the_variants_depend_on_exists():
    assert "language" in DOMAIN["slots"]
    assert DOMAIN["slots"]["language"]["influence_conversation"] is False


def test_response_texts_differ_between_languages():
    """A variant copied from English untranslated is a missing translation (short labels may coincide)."""
    untranslated = [
        (name, language)
        for name in RESPONSES
        for language, variant in by_language(name).items()
        if language != CONFIG.default
        and len(variant.get("text", "")) > 20
        and variant.get("text") == by_language(name)[CONFIG.default].get("text")
    ]
    assert not untranslated
