from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.status import ActionRequestStatus, ValidateStatusForm
from tests.conftest import make_tracker
from tests.open311.conftest import set_status, unreachable

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


async def file_and_close(client, app) -> str:
    filed = await client.create_request("pothole", description="deep", address_string="120 Main Street",
                                        answers={"size": "small", "in_traffic_lane": "no"})
    await set_status(app, filed.service_request_id, "closed", "Filled with asphalt.")
    return filed.service_request_id


@pytest.mark.parametrize(
    "language, status, service_name", [("en", "closed", "Pothole"), ("es", "cerrada", "Bache")],
)
async def test_known_request_status_and_notes_are_told(
    open311, open311_app, domain, language, status, service_name
):
    request_id = await file_and_close(open311, open311_app)
    dispatcher = CollectingDispatcher()
    events = await ActionRequestStatus(client=open311).run(
        dispatcher, make_tracker(slots={"request_id": request_id, "language": language}), domain
    )
    [message] = dispatcher.messages
    assert message["response"] == "utter_status_found"
    assert (message["request_id"], message["service_name"], message["address"]) == (
        request_id, service_name, "120 Main Street")
    assert (message["status"], message["status_notes"]) == (status, "Filled with asphalt.")
    assert events == [SlotSet("request_id", None)]


async def test_unknown_request_gets_a_clear_answer(open311):
    dispatcher = CollectingDispatcher()
    events = await ActionRequestStatus(client=open311).run(
        dispatcher, make_tracker(slots={"request_id": "SR-ZZZZZZZZ"}), {}
    )
    assert dispatcher.messages[0]["response"] == "utter_status_unknown"
    assert dispatcher.messages[0]["request_id"] == "SR-ZZZZZZZZ"
    assert events == [SlotSet("request_id", None)]


async def test_open311_server_down_is_said_honestly():
    dispatcher = CollectingDispatcher()
    events = await ActionRequestStatus(client=unreachable()).run(
        dispatcher, make_tracker(slots={"request_id": "SR-7K3M9Q2X"}), {}
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_status_unavailable"]
    assert events == [SlotSet("request_id", None)]
