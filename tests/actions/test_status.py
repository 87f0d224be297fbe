from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.status import ActionRequestStatus, ValidateStatusForm
from open311.store import RequestStore
from tests.conftest import make_tracker

pytestmark = pytest.mark.anyio


async def test_request_number_is_read_from_the_question():
    tracker = make_tracker("what's the status of sr-7k3m9q2x?", intent="request_status")
    result = await ValidateStatusForm().extract_request_id(CollectingDispatcher(), tracker, {})
    assert result == {"request_id": "SR-7K3M9Q2X"}


def test_answer_without_a_number_is_re_asked():
    dispatcher = CollectingDispatcher()
    result = ValidateStatusForm().validate_request_id("my report", dispatcher, make_tracker("my report"), {})
    assert result == {"request_id": None}
    assert dispatcher.messages[0]["response"] == "utter_request_id_invalid"


async def test_known_request_status_and_notes_are_told(database_url):
    store = RequestStore.from_url(database_url)
    created = store.create(
        service_code="pothole", service_name="Pothole", description="deep",
        address_string="120 Main Street", agency_responsible="Public Works",
    )
    store.update_status(created.service_request_id, "closed", "Filled with asphalt.")
    dispatcher = CollectingDispatcher()
    events = await ActionRequestStatus(store=store).run(
        dispatcher, make_tracker(slots={"request_id": created.service_request_id}), {}
    )
    message = dispatcher.messages[0]
    assert message["response"] == "utter_status_found"
    assert (message["status"], message["status_notes"]) == ("closed", "Filled with asphalt.")
    assert events == [SlotSet("request_id", None)]


async def test_unknown_request_gets_a_clear_answer(database_url):
    dispatcher = CollectingDispatcher()
    await ActionRequestStatus(store=RequestStore.from_url(database_url)).run(
        dispatcher, make_tracker(slots={"request_id": "SR-ZZZZZZZZ"}), {}
    )
    assert dispatcher.messages[0]["response"] == "utter_status_unknown"
    assert dispatcher.messages[0]["request_id"] == "SR-ZZZZZZZZ"
