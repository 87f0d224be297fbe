"""Street problem reports: the report form, its questions, duplicates, and filing through Open311.

The questions after "what, where, describe it" are the service definition's
attributes, read from the Open311 server (open311/client.py) in the citizen's
language. Before filing, an open request of the same service at the same place is
looked for; the citizen may follow it instead of filing another. Either way the
conversation follows the request, and is told when its status changes
(open311/watcher.py).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
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
from open311.client import FiledRequest, FilingUncertain, Open311Client, RemoteRequest
from open311.errors import Open311Error
from open311.services import Attribute, Service, ServiceCatalogue

logger = logging.getLogger(__name__)

OTHER_SERVICE = "street_other"
LOCATION_MAX_CHARS = 200
DESCRIPTION_MIN_CHARS = 4
DESCRIPTION_MAX_CHARS = 1000
NO_PHOTO = "none"
REPORT_SLOTS = ("issue_type", "issue_location", "issue_lat", "issue_long", "issue_description", "issue_details",
                "report_attributes",
                "issue_photo", "report_confirmed", "duplicate_of", "duplicate_address", "join_existing")
SKIPPED = ""  # the answer kept for an optional question the citizen skipped
# Channels whose citizens can share a location pin and send a photo (bot/connectors/): their
# questions say so, with the "<response>_app" variant of the response.
MESSAGING_APPS = frozenset({"telegram", "whatsapp", "twilio_whatsapp"})

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


def for_channel(tracker: Tracker, response: str) -> str:
    """The response's wording for the citizen's channel: "share your location" only where one can."""
    return f"{response}_app" if tracker.get_latest_input_channel() in MESSAGING_APPS else response


def photo_link(tracker: Tracker) -> str | None:
    photo = tracker.get_slot("issue_photo")
    return photo if photo and photo != NO_PHOTO else None


def shared_point(tracker: Tracker) -> tuple[float, float] | None:
    """The location pin the citizen just shared (WhatsApp, Telegram): (latitude, longitude), if valid."""
    found = {e.get("entity"): e.get("value") for e in tracker.latest_message.get("entities") or []}
    try:
        lat, long = float(found["latitude"]), float(found["longitude"])
    except (KeyError, TypeError, ValueError):
        return None
    return (lat, long) if -90 <= lat <= 90 and -180 <= long <= 180 else None


def pin_slots(point: tuple[float, float]) -> dict[str, Any]:
    """A location pin as the report's place: its coordinates, written and as lat/long for Open311."""
    return {"issue_location": f"{point[0]:.5f}, {point[1]:.5f}", "issue_lat": point[0], "issue_long": point[1]}


def shared_photo(tracker: Tracker) -> str | None:
    """The link of the photo the citizen just sent (kept by the channel, bot/connectors/media.py)."""
    for entity in tracker.latest_message.get("entities") or []:
        value = entity.get("value")
        if entity.get("entity") == "photo_url" and isinstance(value, str) and _URL.fullmatch(value.strip()):
            return value.strip()
    return None


def looks_like_location(text: str) -> bool:
    """A street address, an intersection or a landmark - not "here" or "idk" (any configured language)."""
    folded = fold(text)
    return bool(_NUMBER_AND_WORD.search(folded)) or any(
        pattern.search(folded) for pattern in _location_patterns(defaults.language_config())
    )


async def service_questions(client: Open311Client, catalogue: ServiceCatalogue, code: str,
                            language: str) -> tuple[Attribute, ...]:
    """The service definition's questions in the citizen's language; the local catalogue's if the server fails."""
    try:
        return await client.service_attributes(code, language)
    except Open311Error:
        logger.warning("could not read the definition of %s; asking the catalogue's questions", code, exc_info=True)
        return catalogue.get(code).in_language(language).attributes if code in catalogue else ()


def next_question(attributes: Sequence[Attribute], answers: dict[str, Any]) -> Attribute | None:
    return next((a for a in attributes if a.variable and a.code not in answers), None)


def match_answer(attribute: Attribute, text: str) -> str | None:
    """The key of a list attribute's value the citizen chose (by key, name or number); the text otherwise."""
    if not attribute.is_list:
        return text
    folded = fold(text).strip(" .!")
    for number, value in enumerate(attribute.values, start=1):
        if folded in (fold(value.key), fold(value.name), str(number)):
            return value.key
    for value in attribute.values:  # "bigger" for "Bigger than a car tyre"
        if len(folded) >= 3 and fold(value.name).startswith(folded):
            return value.key
    return None


def _distance_metres(lat1: float, long1: float, lat2: float, long2: float) -> float:
    rad = math.radians
    a = (math.sin(rad(lat2 - lat1) / 2) ** 2
         + math.cos(rad(lat1)) * math.cos(rad(lat2)) * math.sin(rad(long2 - long1) / 2) ** 2)
    return 6_371_000 * 2 * math.asin(math.sqrt(a))


def _place_words(address: str) -> set[str]:
    ignored = {"the", "street", "st", "calle", "rue", "avenue", "ave", "av", "de", "la", "el", "du", "des", "at",
               "near"}
    return {word for word in re.findall(r"\w+", fold(address)) if word not in ignored}


def same_place(address: str | None, request: RemoteRequest, lat: float | None = None, long: float | None = None,
               metres: float = 50.0) -> bool:
    """Whether a request is at the place the citizen gave: within ``metres``, or the same address words."""
    if lat is not None and long is not None and request.lat is not None and request.long is not None:
        return _distance_metres(lat, long, request.lat, request.long) <= metres
    if not address or not request.address:
        return False
    mine, theirs = _place_words(address), _place_words(request.address)
    if not mine:
        return False
    numbers = {word for word in mine if word.isdigit()}
    if numbers != {word for word in theirs if word.isdigit()}:
        return False  # 12 and 120 Main Street are different places
    overlap = len(mine & theirs) / len(mine | theirs)
    # Without a house number, a street name alone ("Main St") is too wide: ask for more in common.
    return overlap >= 0.6 if numbers else len(mine) >= 3 and overlap >= 0.8


async def find_duplicate(client: Open311Client, service_code: str, address: str | None, lat: float | None = None,
                         long: float | None = None) -> RemoteRequest | None:
    """An open request of the same service at the same place, filed recently."""
    since = datetime.now(timezone.utc) - timedelta(days=client.settings.duplicate_days)
    try:
        candidates = await client.find_requests(service_code=service_code, status="open", start_date=since)
    except Open311Error:
        logger.warning("could not look for duplicates of a %s report", service_code, exc_info=True)
        return None
    return next((r for r in candidates if same_place(address, r, lat, long, client.settings.duplicate_metres)), None)


class ValidateStreetReportForm(CitizenFormValidation):
    """What, where, a description, an optional photo, then the citizen's yes."""

    # "No, let me correct it" and "no, file a new one" are not failures.
    never_hand_over = frozenset({"report_confirmed", "join_existing"})
    progress_slots = {"issue_details": "report_attributes"}  # each answer moves on to the next question

    def __init__(self, catalogue: ServiceCatalogue | None = None, client: Open311Client | None = None) -> None:
        self._catalogue = catalogue
        self._client = client

    @property
    def catalogue(self) -> ServiceCatalogue:
        return self._catalogue or defaults.service_catalogue()

    @property
    def client(self) -> Open311Client:
        return self._client or defaults.open311_client()

    async def _questions(self, tracker: Tracker) -> tuple[Attribute, ...]:
        code = tracker.get_slot("issue_type")
        return await service_questions(self.client, self.catalogue, code, current_language(tracker)) if code else ()

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        """The service's questions only while one is unanswered; "join it?" only when a duplicate was found."""
        slots = list(domain_slots)
        answers = tracker.get_slot("report_attributes") or {}
        if "issue_details" in slots and (not tracker.get_slot("issue_type")
                                         or next_question(await self._questions(tracker), answers) is None):
            slots.remove("issue_details")
        if "join_existing" in slots and not tracker.get_slot("duplicate_of"):
            slots.remove("join_existing")
        return slots

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

    def extract_issue_location(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A location pin is the place whatever the form asked: a citizen may send it first."""
        point = shared_point(tracker)
        if point is None:
            return {}
        if tracker.get_slot("requested_slot") not in (None, "issue_location"):  # said, as it was not asked for
            dispatcher.utter_message(response="utter_kept_location")
        return {"issue_location": pin_slots(point)["issue_location"]}

    def extract_issue_photo(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A photo is the report's photo whatever the form asked."""
        photo = shared_photo(tracker)
        if photo is None:
            return {}
        if tracker.get_slot("requested_slot") not in (None, "issue_photo"):
            dispatcher.utter_message(response="utter_kept_photo")
        return {"issue_photo": photo}

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
        point = shared_point(tracker)
        if point is not None:  # a location pin: the coordinates are the place
            return pin_slots(point)
        text = clean_text(str(value or ""))
        if text.startswith("/"):  # a payload (a broken pin, a photo) is not an address
            dispatcher.utter_message(response="utter_location_invalid")
            return {"issue_location": None}
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
        photo = shared_photo(tracker)
        if photo is not None:
            return {"issue_photo": photo}
        text = clean_text(str(value or ""))
        if text == NO_PHOTO or is_skip(tracker, text):
            return {"issue_photo": NO_PHOTO}
        url = _URL.search(text)
        if url and len(url.group(0)) <= 2000:
            return {"issue_photo": url.group(0)}
        dispatcher.utter_message(response=for_channel(tracker, "utter_photo_invalid"))
        return {"issue_photo": None}

    async def validate_issue_details(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answers = dict(tracker.get_slot("report_attributes") or {})
        question = next_question(await self._questions(tracker), answers)
        if question is None:
            return {"issue_details": None}
        text = clean_text(str(value or ""))[:DESCRIPTION_MAX_CHARS]
        if not question.required and is_skip(tracker, text):
            answer: str | None = SKIPPED
        else:
            answer = match_answer(question, text) if text else None
        if answer is None:
            dispatcher.utter_message(response="utter_attribute_invalid")
            return {"issue_details": None}
        answers[question.code] = answer
        return {"report_attributes": answers, "issue_details": None}

    async def validate_report_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True:
            duplicate = await find_duplicate(self.client, reported_service(self.catalogue, tracker).service_code,
                                             tracker.get_slot("issue_location"), tracker.get_slot("issue_lat"),
                                             tracker.get_slot("issue_long"))
            if duplicate is None:
                return {"report_confirmed": True, "duplicate_of": None}
            return {"report_confirmed": True, "duplicate_of": duplicate.service_request_id,
                    "duplicate_address": duplicate.address or "-"}
        # "No, let me correct it": keep what was reported, ask the rest again.
        dispatcher.utter_message(response="utter_report_correct")
        return {
            "report_confirmed": None,
            "issue_location": None,
            "issue_lat": None,
            "issue_long": None,
            "issue_description": None,
            "issue_photo": None,
            "report_attributes": None,
        }

    def validate_join_existing(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"join_existing": bool(value)}


class _AskForTheChannel(Action, ABC):
    """Asks for a report slot in the words of the citizen's channel (see ``for_channel``)."""

    @property
    @abstractmethod
    def slot(self) -> str: ...

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response=for_channel(tracker, f"utter_ask_{self.slot}"))
        return []


class ActionAskIssueLocation(_AskForTheChannel):
    slot = "issue_location"


class ActionAskIssuePhoto(_AskForTheChannel):
    slot = "issue_photo"


class ActionAskIssueDetails(Action):
    """Asks the service definition's next unanswered question, with its values as buttons."""

    def __init__(self, catalogue: ServiceCatalogue | None = None, client: Open311Client | None = None) -> None:
        self._catalogue = catalogue
        self._client = client

    def name(self) -> str:
        return "action_ask_issue_details"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        questions = await service_questions(self._client or defaults.open311_client(),
                                            self._catalogue or defaults.service_catalogue(),
                                            tracker.get_slot("issue_type") or OTHER_SERVICE, current_language(tracker))
        question = next_question(questions, tracker.get_slot("report_attributes") or {})
        if question is None:
            return []
        buttons = [{"title": value.name, "payload": value.name} for value in question.values]
        dispatcher.utter_message(text=question.description, buttons=buttons)
        return []


class ActionAskReportConfirmed(Action):
    """Shows the report back to the citizen before it is filed."""

    def __init__(self, catalogue: ServiceCatalogue | None = None) -> None:
        self._catalogue = catalogue

    def name(self) -> str:
        return "action_ask_report_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        service = reported_service(self._catalogue or defaults.service_catalogue(), tracker).in_language(
            current_language(tracker))
        dispatcher.utter_message(
            response="utter_report_summary",
            service_name=service.service_name,
            details=details_text(service, tracker.get_slot("report_attributes") or {}) or "-",
            photo=photo_link(tracker) or "-",
        )
        return []


def details_text(service: Service, answers: dict[str, Any]) -> str:
    """The answers as the citizen read them: "Bigger than a car tyre; Yes"."""
    shown = []
    for code, answer in answers.items():
        attribute = service.attribute(code)
        value = attribute.value(str(answer)) if attribute else None
        if answer != SKIPPED:
            shown.append(value.name if value else str(answer))
    return "; ".join(shown)


class ActionKeepShared(Action):
    """A photo or a location pin sent before any report: kept for the report that begins next."""

    def name(self) -> str:
        return "action_keep_shared"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        point, photo = shared_point(tracker), shared_photo(tracker)
        if point is not None:
            dispatcher.utter_message(response="utter_kept_location")
            return [SlotSet(name, value) for name, value in pin_slots(point).items()]
        if photo is not None:
            dispatcher.utter_message(response="utter_kept_photo")
            return [SlotSet("issue_photo", photo)]
        return []  # a pin off the map: the report asks where it is


class ActionFileServiceRequest(Action):
    """Files the confirmed report through Open311 (or joins the duplicate the citizen chose) and follows it."""

    def __init__(self, client: Open311Client | None = None, catalogue: ServiceCatalogue | None = None) -> None:
        self._client = client
        self._catalogue = catalogue

    def name(self) -> str:
        return "action_file_service_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        service = reported_service(self._catalogue or defaults.service_catalogue(), tracker)
        client = self._client or defaults.open311_client()
        language = current_language(tracker)
        agency = service.in_language(language).agency_responsible
        duplicate = tracker.get_slot("duplicate_of")
        try:
            if duplicate and tracker.get_slot("join_existing"):
                await follow(client, duplicate, tracker.sender_id)
                dispatcher.utter_message(response="utter_report_joined", request_id=duplicate, agency=agency)
                return [SlotSet(slot, None) for slot in REPORT_SLOTS]
            answers = {code: str(value) for code, value in (tracker.get_slot("report_attributes") or {}).items()
                       if value != SKIPPED}
            description = tracker.get_slot("issue_description") or ""
            try:
                filed = await client.create_request(
                    service.service_code,
                    description=description,
                    address_string=tracker.get_slot("issue_location"),
                    lat=tracker.get_slot("issue_lat"),
                    long=tracker.get_slot("issue_long"),
                    media_url=photo_link(tracker),
                    answers=answers,
                )
            except FilingUncertain:  # sent, no answer: it may be filed; do not file it twice
                found = await filed_meanwhile(client, service.service_code, tracker.get_slot("issue_location"))
                if found is None:
                    raise
                filed = FiledRequest(found.service_request_id)
        except Open311Error:
            logger.error("could not file a service request", exc_info=True)
            dispatcher.utter_message(response="utter_report_failed")
            # A person files it by hand: the packet carries the whole report.
            handed = await escalate(dispatcher, tracker, Reason.form_failed, active_form="street_report_form",
                                    slot_changes={"report_confirmed": True})
            return [SlotSet("report_confirmed", None), *handed]
        try:
            await follow(client, filed.service_request_id, tracker.sender_id)
        except Open311Error:  # filed all the same; only the notifications are lost
            logger.error("could not follow %s for %s", filed.service_request_id, tracker.sender_id, exc_info=True)
        dispatcher.utter_message(response="utter_report_filed", request_id=filed.service_request_id, agency=agency)
        return [SlotSet(slot, None) for slot in REPORT_SLOTS]


async def filed_meanwhile(client: Open311Client, service_code: str, address: str | None) -> RemoteRequest | None:
    """The request a POST that got no answer may have filed: same service and place, in the last minutes."""
    since = datetime.now(timezone.utc) - timedelta(minutes=10)
    try:
        candidates = await client.find_requests(service_code=service_code, status="open", start_date=since)
    except Open311Error:
        return None
    return next((r for r in candidates if same_place(address, r)), None)


async def follow(client: Open311Client, service_request_id: str, conversation_id: str) -> None:
    """The conversation is told about this request's status changes from now on (open311/watcher.py)."""
    request = await client.get_request(service_request_id)
    status, notes = (request.status, request.status_notes) if request else ("open", None)
    await asyncio.to_thread(defaults.request_followers().follow, service_request_id, conversation_id, status, notes)


class ActionResetReport(Action):
    """Forgets a cancelled report."""

    def name(self) -> str:
        return "action_reset_report"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return [SlotSet(slot, None) for slot in REPORT_SLOTS]
