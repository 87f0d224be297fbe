"""Street problem reports: the report form, its confirmation, and filing the service request."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import defaults
from actions.answers import is_skip, is_skip_word, typed_text
from actions.forms import CitizenFormValidation
from actions.handoff import escalate
from actions.language import current_language
from bot.language import LanguageConfig
from bot.text import alternation, clean_text, fold
from handoff.packet import Reason
from open311.errors import Open311Error
from open311.services import Service, ServiceCatalogue
from open311.store import RequestStore

logger = logging.getLogger(__name__)

OTHER_SERVICE = "street_other"
LOCATION_MAX_CHARS = 200
DESCRIPTION_MIN_CHARS = 4
DESCRIPTION_MAX_CHARS = 1000
NO_PHOTO = "none"
REPORT_SLOTS = ("issue_type", "issue_location", "issue_description", "issue_photo", "report_confirmed")

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_NUMBER_AND_WORD = re.compile(r"\b\d+[a-z]{0,2}\b.*\b[a-z]{2,}\b|\b[a-z]{2,}\b.*\b\d+\b", re.IGNORECASE)


@lru_cache(maxsize=4)
def _location_patterns(config: LanguageConfig) -> tuple[re.Pattern[str], ...]:
    """Street words, "A and B" intersections and "near X" landmarks, in every configured language."""
    street = config.words_of_kind("street") + config.words_of_kind("place")
    intersection = config.words_of_kind("intersection")
    phrases = tuple(word for word in intersection if " " in word)  # "corner of" needs no second street
    landmark = config.words_of_kind("landmark")
    return (
        re.compile(rf"(?<!\w)(?:{alternation(street)})(?!\w)"),
        re.compile(rf"\w\s+(?:{alternation(intersection)})\s+\w|(?<!\w)(?:{alternation(phrases)})(?!\w)"),
        re.compile(rf"(?<!\w)(?:{alternation(landmark)})\s+\w"),
    )


def reported_service(catalogue: ServiceCatalogue, tracker: Tracker) -> Service:
    """The service the report is about (other street problem when unknown)."""
    code = tracker.get_slot("issue_type") or OTHER_SERVICE
    return catalogue.get(code if code in catalogue else OTHER_SERVICE)


def photo_link(tracker: Tracker) -> str | None:
    photo = tracker.get_slot("issue_photo")
    return photo if photo and photo != NO_PHOTO else None


def looks_like_location(text: str) -> bool:
    """A street address, an intersection or a landmark - not "here" or "idk" (any configured language)."""
    folded = fold(text)
    return bool(_NUMBER_AND_WORD.search(folded)) or any(
        pattern.search(folded) for pattern in _location_patterns(defaults.language_config())
    )


class ValidateStreetReportForm(CitizenFormValidation):
    """What, where, a description, an optional photo, then the citizen's yes."""

    never_hand_over = frozenset({"report_confirmed"})  # "no, let me correct it" is not a failure

    def __init__(self, catalogue: ServiceCatalogue | None = None) -> None:
        self._catalogue = catalogue

    @property
    def catalogue(self) -> ServiceCatalogue:
        return self._catalogue or defaults.service_catalogue()

    def name(self) -> str:
        return "validate_street_report_form"

    async def extract_issue_type(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = typed_text(tracker)
        if tracker.get_slot("issue_type") or not text:
            return {}
        service = self.catalogue.match(text)
        if service:
            return {"issue_type": service.service_code}
        if tracker.get_slot("requested_slot") == "issue_type" and clean_text(text):
            # The citizen named the problem in their own words.
            return {"issue_type": OTHER_SERVICE}
        return {}

    def validate_issue_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code = str(value or "")
        if code in self.catalogue:
            return {"issue_type": code}
        service = self.catalogue.match(code)
        return {"issue_type": service.service_code if service else OTHER_SERVICE}

    def validate_issue_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = clean_text(str(value or ""))
        if len(text) > LOCATION_MAX_CHARS:
            dispatcher.utter_message(response="utter_location_too_long")
            return {"issue_location": None}
        if not looks_like_location(text):
            dispatcher.utter_message(response="utter_location_invalid")
            return {"issue_location": None}
        return {"issue_location": text}

    def validate_issue_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = clean_text(str(value or ""))
        if len(text) > DESCRIPTION_MAX_CHARS:
            dispatcher.utter_message(response="utter_description_too_long")
            return {"issue_description": None}
        if len(text) < DESCRIPTION_MIN_CHARS or is_skip_word(text):
            dispatcher.utter_message(response="utter_description_too_short")
            return {"issue_description": None}
        return {"issue_description": text}

    def validate_issue_photo(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = clean_text(str(value or ""))
        if text == NO_PHOTO or is_skip(tracker, text):
            return {"issue_photo": NO_PHOTO}
        url = _URL.search(text)
        if url and len(url.group(0)) <= 2000:
            return {"issue_photo": url.group(0)}
        dispatcher.utter_message(response="utter_photo_invalid")
        return {"issue_photo": None}

    def validate_report_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True:
            return {"report_confirmed": True}
        # "No, let me correct it": keep what was reported, ask the rest again.
        dispatcher.utter_message(response="utter_report_correct")
        return {
            "report_confirmed": None,
            "issue_location": None,
            "issue_description": None,
            "issue_photo": None,
        }


class ActionAskReportConfirmed(Action):
    """Shows the report back to the citizen before it is filed."""

    def __init__(self, catalogue: ServiceCatalogue | None = None) -> None:
        self._catalogue = catalogue

    def name(self) -> str:
        return "action_ask_report_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        service = reported_service(self._catalogue or defaults.service_catalogue(), tracker)
        dispatcher.utter_message(
            response="utter_report_summary",
            service_name=service.in_language(current_language(tracker)).service_name,
            photo=photo_link(tracker) or "-",
        )
        return []


class ActionFileServiceRequest(Action):
    """Files the confirmed report as a service request and gives its id."""

    def __init__(
        self, store: RequestStore | None = None, catalogue: ServiceCatalogue | None = None
    ) -> None:
        self._store = store
        self._catalogue = catalogue

    def name(self) -> str:
        return "action_file_service_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        service = reported_service(self._catalogue or defaults.service_catalogue(), tracker)
        try:
            store = self._store or defaults.request_store()
            request = store.create(
                service_code=service.service_code,
                service_name=service.service_name,
                description=tracker.get_slot("issue_description") or "",
                address_string=tracker.get_slot("issue_location"),
                agency_responsible=service.agency_responsible,
                media_url=photo_link(tracker),
                conversation_id=tracker.sender_id,
                channel=tracker.get_latest_input_channel(),
                language=current_language(tracker),
            )
        except Open311Error:
            logger.error("could not file a service request", exc_info=True)
            dispatcher.utter_message(response="utter_report_failed")
            # A person files it by hand: the packet carries the whole report.
            handed = await escalate(dispatcher, tracker, Reason.form_failed, active_form="street_report_form",
                                    slot_changes={"report_confirmed": True})
            return [SlotSet("report_confirmed", None), *handed]
        dispatcher.utter_message(
            response="utter_report_filed",
            request_id=request.service_request_id,
            agency=service.in_language(current_language(tracker)).agency_responsible,
        )
        return [SlotSet(slot, None) for slot in REPORT_SLOTS]


class ActionResetReport(Action):
    """Forgets a cancelled report."""

    def name(self) -> str:
        return "action_reset_report"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return [SlotSet(slot, None) for slot in REPORT_SLOTS]
