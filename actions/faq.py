"""General questions answered from the FAQ index: answer, offer a choice, or say so.

The same action runs for the ``faq`` intent and, before the bot gives up, for messages
it did not understand (``nlu_fallback``) or judged out of scope.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Literal

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import defaults
from actions.answers import typed_text
from actions.fallback import FAILURES_BEFORE_HUMAN, clarify, consecutive_failures
from actions.formats import language_name
from actions.language import current_language
from actions.responses import response_text
from actions.settings import get_settings
from retrieval.errors import RetrievalError
from retrieval.faq import FaqEntry
from retrieval.gaps import GapLog
from retrieval.index import Hit
from retrieval.search import FaqSearcher

logger = logging.getLogger(__name__)

Decision = Literal["answer", "choose", "none"]
CANDIDATES = 3


@dataclass(frozen=True)
class FaqThresholds:
    """Cosine-score cut-offs, calibrated on the evaluation set (benchmarks/results/faq.md)."""

    answer: float
    choose: float
    margin: float

    @classmethod
    def from_settings(cls) -> FaqThresholds:
        settings = get_settings()
        return cls(settings.faq_answer_threshold, settings.faq_choose_threshold, settings.faq_margin)


def decide(hits: list[Hit], thresholds: FaqThresholds) -> Decision:
    """Answer a clear best hit; offer the top two when close or only fair; else nothing."""
    if not hits:
        return "none"
    top = hits[0].score
    runner_up = hits[1].score if len(hits) > 1 else 0.0
    if top >= thresholds.answer and top - runner_up >= thresholds.margin:
        return "answer"
    if top >= thresholds.choose:
        return "choose"
    return "none"


def chosen_entry_id(tracker: Tracker) -> str | None:
    """The entry a citizen picked with an FAQ button (``/faq{"faq_id": "..."}``)."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "faq_id" and entity.get("value"):
            return str(entity["value"])
    return None


class ActionAnswerFaq(Action):
    """Searches the FAQ for the citizen's question and answers, offers a choice, or says so."""

    def __init__(
        self,
        searcher: FaqSearcher | None = None,
        gaps: GapLog | None = None,
        thresholds: FaqThresholds | None = None,
    ) -> None:
        self._searcher = searcher
        self._gaps = gaps
        self._thresholds = thresholds

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = current_language(tracker)
        try:
            searcher = self._searcher
            if searcher is None:  # the first call loads the embedder: keep the event loop free
                searcher = await asyncio.to_thread(defaults.faq_searcher)
            picked = chosen_entry_id(tracker)
            if picked is not None:
                entry = searcher.entry(picked)
                if entry is not None:
                    self._answer(dispatcher, entry, language)
                    return []
                logger.warning("FAQ button for an entry that no longer exists: %s", picked)
            question = typed_text(tracker).strip()
            result = await asyncio.to_thread(searcher.search, question, CANDIDATES) if question else None
        except RetrievalError:
            logger.error("FAQ search failed", exc_info=True)
            dispatcher.utter_message(response="utter_faq_unavailable")
            return []
        hits = result.hits if result is not None else []
        tried = [
            {"id": h.entry_id, "score": round(h.score, 3), "question": result.entry(h).title_in(language)}
            for h in hits if result is not None
        ]
        candidates = SlotSet("faq_candidates", tried)
        decision = decide(hits, self._thresholds or FaqThresholds.from_settings())
        if decision == "answer" and result is not None:
            self._answer(dispatcher, result.entry(hits[0]), language)
            return [candidates]
        self._record_gap(tracker, question, "unsure" if decision == "choose" else "no_answer", hits, language)
        if decision == "choose" and result is not None:
            entries = [result.entry(hit) for hit in hits[:2]]
            dispatcher.utter_message(response="utter_faq_choose", buttons=self._choices(entries, language, domain))
            return [candidates]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "faq" and consecutive_failures(tracker) < FAILURES_BEFORE_HUMAN:
            dispatcher.utter_message(response="utter_faq_no_answer")
            return [candidates]
        handed = await clarify(dispatcher, tracker, domain, nothing_else="utter_faq_no_answer",
                               slot_changes={"faq_candidates": tried})  # a handoff carries what was just tried
        return [candidates, *handed]

    @staticmethod
    def _answer(dispatcher: CollectingDispatcher, entry: FaqEntry, language: str) -> None:
        """The entry's answer in ``language``; where it has none, in the default language, saying so."""
        text, shown_in = entry.answer_in(language, defaults.language_config().default)
        if shown_in == language:
            dispatcher.utter_message(response="utter_faq_answer", answer=text, source=entry.source, faq_id=entry.id)
            return
        dispatcher.utter_message(
            response="utter_faq_answer_other_language",
            answer=text,
            source=entry.source,
            faq_id=entry.id,
            answer_language=language_name(shown_in, language),
        )

    @staticmethod
    def _choices(entries: list[FaqEntry], language: str, domain: DomainDict) -> list[dict[str, str]]:
        buttons = [
            {"title": entry.title_in(language), "payload": f'/faq{{"faq_id": "{entry.id}"}}'} for entry in entries
        ]
        person = response_text(domain, "utter_intent_label_human_handoff", language) or "Talk to a person"
        buttons.append({"title": person, "payload": "/human_handoff"})
        return buttons

    def _record_gap(self, tracker: Tracker, question: str, outcome: str, hits: list[Hit], language: str) -> None:
        """Log the question for the content team; a failure here must not cost the citizen an answer."""
        if not question:
            return
        try:
            gaps = self._gaps or defaults.gap_log()
            gaps.record(question, outcome, hits, language=language, channel=tracker.get_latest_input_channel())
        except RetrievalError:
            logger.error("could not record an unanswered FAQ question", exc_info=True)
