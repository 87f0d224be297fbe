"""Request status: "what's the status of SR-7K3M9Q2X?"."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import defaults
from actions.formats import format_moment
from actions.forms import CitizenFormValidation
from actions.language import current_language
from actions.responses import response_text
from actions.settings import get_settings
from open311.client import Open311Client
from open311.errors import Open311Error
from open311.store import find_request_id

logger = logging.getLogger(__name__)



class ValidateStatusForm(CitizenFormValidation):
    """Finds the request number in what the citizen wrote."""

    def name(self) -> str:
        return "validate_status_form"

    async def extract_request_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("request_id"):
            return {}
        request_id = find_request_id(tracker.latest_message.get("text") or "")
        return {"request_id": request_id} if request_id else {}

    def validate_request_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        request_id = find_request_id(str(value or "")) or find_request_id(
            tracker.latest_message.get("text") or ""
        )
        if request_id is None:
            dispatcher.utter_message(response="utter_request_id_invalid")
            return {"request_id": None}
        return {"request_id": request_id}


class ActionRequestStatus(Action):
    """Looks the request up and tells its status and notes."""

    def __init__(self, client: Open311Client | None = None) -> None:
        self._client = client

    def name(self) -> str:
        return "action_request_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        request_id = tracker.get_slot("request_id") or ""
        reset: list[EventType] = [SlotSet("request_id", None)]
        try:
            request = await (self._client or defaults.open311_client()).get_request(request_id)
        except Open311Error:
            logger.error("could not read service request %s", request_id, exc_info=True)
            dispatcher.utter_message(response="utter_status_unavailable")
            return reset
        if request is None:
            dispatcher.utter_message(response="utter_status_unknown", request_id=request_id)
            return reset
        language = current_language(tracker)
        updated = (request.updated_datetime or request.requested_datetime or datetime.now(timezone.utc)).astimezone(
            ZoneInfo(get_settings().timezone))
        catalogue = defaults.service_catalogue()
        service_name = (
            catalogue.get(request.service_code).in_language(language).service_name
            if request.service_code and request.service_code in catalogue
            else request.service_name or "-"
        )
        dispatcher.utter_message(
            response="utter_status_found",
            request_id=request.service_request_id,
            service_name=service_name,
            address=request.address or response_text(domain, "utter_word_no_address", language) or "-",
            status=response_text(domain, f"utter_word_status_{request.status}", language) or request.status,
            status_notes=request.status_notes or "",
            updated=format_moment(updated, language, with_year=True),
        )
        return reset
