"""Places, dates, street addresses and request numbers in messages, in each configured language.

Runs after :class:`bot.components.language_detector.LanguageDetector`. Places (and, in English,
dates) come from the spaCy pipeline of the message's language (bot/data/languages.yml,
``spacy``); dates in every language, street addresses and request numbers come from rule
patterns, so they are found whatever spaCy's model knows:

- ``place``: spaCy GPE / LOC / FAC ("Biblioteca Central", "Riverside");
- ``date``: spaCy DATE, and the date patterns of :mod:`bot.dates` ("15 de marzo", "le mois prochain");
- ``address``: a house number next to a street word of any configured language ("120 Main Street",
  "calle Main 120", "12 rue Oak");
- ``request_id``: "SR-7K3M9Q2X", normalised.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.dates import date_spans
from bot.language import LANGUAGE_DETECTION, LANGUAGES_FILE, Detection, LanguageConfig
from bot.spacy_pipelines import load_pipeline
from bot.text import alternation, fold
from open311.store import request_ids_in

logger = logging.getLogger(__name__)

SPACY_LABELS = {"GPE": "place", "LOC": "place", "FAC": "place", "DATE": "date"}
MAX_CHARS = 1000  # entity search on a 2,000-character message must stay cheap
# A message's own language is trusted for choosing the pipeline from this many words and confidence.
MIN_WORDS, MIN_CONFIDENCE = 2, 0.5


@lru_cache(maxsize=4)
def address_pattern(config: LanguageConfig) -> re.Pattern[str]:
    """A house number and a street word within three words of each other, either order."""
    street = alternation(word for word in config.words_of_kind("street") if len(word) > 2 and word.isalpha())
    name = r"[\w'.-]+"
    article = r"(?:(?:de la|del|des|du|de|la|le)\s+|l')?"
    return re.compile(
        rf"\b\d{{1,5}}[a-z]?,?\s+(?:{street})\s+{article}{name}"  # "12 rue Oak", "12 rue de la Paix"
        rf"|\b\d{{1,5}}[a-z]?,?\s+(?:{name}\s+){{1,3}}?(?:{street})\b"  # "120 Main Street"
        rf"|\b(?:{street})\s+{article}(?:{name}\s+){{1,3}}?\d{{1,5}}[a-z]?\b"  # "calle Main 120"
    )


def rule_entities(text: str, language: str, config: LanguageConfig) -> list[dict[str, Any]]:
    """Addresses, dates and request numbers found by patterns."""
    found = [
        {"entity": "request_id", "start": start, "end": end, "value": value}
        for start, end, value in request_ids_in(text)
    ]
    found += [
        {"entity": "address", "start": m.start(), "end": m.end(), "value": text[m.start() : m.end()]}
        for m in address_pattern(config).finditer(fold(text))
    ]
    taken: list[tuple[int, int]] = []
    for start, end in date_spans(text, language):
        if not any(start < other_end and other_start < end for other_start, other_end in taken):
            taken.append((start, end))
            found.append({"entity": "date", "start": start, "end": end, "value": text[start:end]})
    return found


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class MultilingualEntityExtractor(EntityExtractorMixin, GraphComponent):
    """Adds place, date, address and request_id entities, using the message's language."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"languages_file": str(LANGUAGES_FILE)}

    def __init__(self, config: dict[str, Any]) -> None:
        settings = {**self.get_default_config(), **config}
        self._languages = LanguageConfig.from_file(Path(settings["languages_file"]))
        self._pipelines = {code: load_pipeline(package) for code, package in self._languages.spacy_models.items()}
        for code in self._languages.codes:  # first calls load date data and allocate: not on a citizen's time
            self.extract("warm up on 1 March", code)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MultilingualEntityExtractor:
        return cls(config)

    def language_of(self, message: Message) -> str:
        detection = Detection.from_dict(message.get(LANGUAGE_DETECTION) or {})
        if detection.language in self._pipelines and (
            detection.words >= MIN_WORDS and detection.confidence >= MIN_CONFIDENCE
        ):
            return detection.language
        return self._languages.default

    def extract(self, text: str, language: str) -> list[dict[str, Any]]:
        text = text[:MAX_CHARS]
        entities = rule_entities(text, language, self._languages)
        nlp = self._pipelines.get(language)
        if nlp is not None:
            dates = [(e["start"], e["end"]) for e in entities if e["entity"] == "date"]
            for span in nlp(text).ents:
                name = SPACY_LABELS.get(span.label_)
                if name is None or (
                    name == "date" and any(span.start_char < end and start < span.end_char for start, end in dates)
                ):
                    continue
                entities.append({"entity": name, "start": span.start_char, "end": span.end_char, "value": span.text})
        return sorted(entities, key=lambda entity: (entity["start"], entity["entity"]))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip() or text.startswith(INTENT_MESSAGE_PREFIX):
                continue
            found = self.add_extractor_name(self.extract(text, self.language_of(message)))
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
