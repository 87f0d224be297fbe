"""Places, dates, addresses and request numbers per language, with the real spaCy pipelines."""

from __future__ import annotations

import pytest

from bot.components.entities import MultilingualEntityExtractor, rule_entities
from bot.language import LanguageConfig

CONFIG = LanguageConfig.from_file()


@pytest.fixture(scope="module")
def extractor() -> MultilingualEntityExtractor:
    return MultilingualEntityExtractor({})


def found(entities: list[dict]) -> set[tuple[str, str]]:
    return {(entity["entity"], entity["value"]) for entity in entities}


@pytest.mark.parametrize(
    "language, text, expected",
    [
        ("en", "pothole at 120 Main Street since March 3, ref sr 7k3m9q2x",
         {("address", "120 Main Street"), ("date", "March 3"), ("request_id", "SR-7K3M9Q2X")}),
        ("es", "hay un bache en la calle Main 120 desde el 3 de marzo",
         {("address", "calle Main 120"), ("date", "3 de marzo")}),
        ("fr", "un nid-de-poule au 12 rue de la Paix depuis le mois dernier",
         {("address", "12 rue de la Paix"), ("date", "le mois dernier")}),
    ],
)
def test_rule_patterns_find_addresses_dates_and_request_numbers(language, text, expected):
    assert expected <= found(rule_entities(text, language, CONFIG))


@pytest.mark.parametrize(
    "text", ["there is a pothole on my street", "the library since 2019", "hay 3 baches", "j'ai 2 questions"]
)
def test_no_address_without_a_street(text):
    assert not [e for e in rule_entities(text, "en", CONFIG) if e["entity"] == "address"]


@pytest.mark.parametrize(
    "language, text, place",
    [
        ("en", "the streetlight near the Central Library in Riverside is out", "Central Library"),
        ("es", "se fue la luz en Riverside cerca de la Biblioteca Central", "Biblioteca Central"),
        ("fr", "il y a une panne à Montréal, près de la gare Centrale", "Montréal"),
    ],
)
def test_spacy_finds_places_in_each_language(extractor, language, text, place):
    places = [value for name, value in found(extractor.extract(text, language)) if name == "place"]
    assert any(place in value for value in places), places


def test_a_huge_message_is_cut_before_extraction(extractor):
    entities = extractor.extract("calle Main 120 " + "bla " * 5000, "es")
    assert ("address", "calle Main 120") in found(entities)
    assert all(entity["end"] <= 1000 for entity in entities)
