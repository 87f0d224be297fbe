from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import defaults
from actions.reports import (
    ActionAskReportConfirmed,
    ActionFileServiceRequest,
    ValidateStreetReportForm,
    looks_like_location,
)
from handoff.outbox import Outbox
from open311.errors import StoreUnavailable
from open311.services import ServiceCatalogue
from open311.store import RequestStore, make_engine
from tests.conftest import make_tracker
from tests.handoff.conftest import app, client_for, relay  # noqa: F401  (the real handoff app, as fixtures)

pytestmark = pytest.mark.anyio

CATALOGUE = ServiceCatalogue.from_file()


def validate(slot: str, value, text: str | None = None, intent: str | None = None):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text=text if text is not None else str(value), intent=intent)
    form = ValidateStreetReportForm(catalogue=CATALOGUE)
    result = getattr(form, f"validate_{slot}")(value, dispatcher, tracker, {})
    return result, [m.get("response") for m in dispatcher.messages]


@pytest.mark.parametrize(
    "text",
    ["120 Main Street", "Oak Avenue and 5th Street", "corner of Pine and 3rd", "in front of the Central Library",
     "5th st", "Elm Rd", "outside the school on Maple"],
)
def test_addresses_intersections_and_landmarks_are_accepted(text):
    assert looks_like_location(text)
    result, responses = validate("issue_location", text)
    assert result == {"issue_location": text}
    assert responses == []


@pytest.mark.parametrize("text", ["here", "idk", "yes", "", "???"])
def test_vague_location_gets_a_clear_re_ask(text):
    result, responses = validate("issue_location", text)
    assert result == {"issue_location": None}
    assert responses == ["utter_location_invalid"]


def test_absurdly_long_location_is_refused():
    result, responses = validate("issue_location", "12 Main Street " * 30)
    assert result == {"issue_location": None}
    assert responses == ["utter_location_too_long"]


def test_description_too_short_or_too_long_is_re_asked():
    assert validate("issue_description", "no")[1] == ["utter_description_too_short"]
    assert validate("issue_description", "x" * 1001)[1] == ["utter_description_too_long"]
    assert validate("issue_description", "deep hole, car tyres at risk")[0] == {
        "issue_description": "deep hole, car tyres at risk"
    }


def test_photo_link_is_kept_and_skip_means_no_photo():
    result, _ = validate("issue_photo", "here it is: https://img.example.org/a.jpg thanks")
    assert result == {"issue_photo": "https://img.example.org/a.jpg"}
    assert validate("issue_photo", "/skip", intent="skip")[0] == {"issue_photo": "none"}
    assert validate("issue_photo", "no")[0] == {"issue_photo": "none"}


def test_photo_that_is_not_a_link_is_re_asked():
    result, responses = validate("issue_photo", "a photo of the hole")
    assert result == {"issue_photo": None}
    assert responses == ["utter_photo_invalid"]


def test_unknown_problem_type_becomes_other_street_problem():
    assert validate("issue_type", "pothole")[0] == {"issue_type": "pothole"}
    assert validate("issue_type", "graffiti on the bridge")[0] == {"issue_type": "street_other"}
    assert validate("issue_type", "a dead tree")[0] == {"issue_type": "street_other"}


async def test_problem_type_is_read_from_the_first_message():
    form = ValidateStreetReportForm(catalogue=CATALOGUE)
    tracker = make_tracker("the street light on my corner is out", intent="report_street_issue")
    assert await form.extract_issue_type(CollectingDispatcher(), tracker, {}) == {"issue_type": "streetlight"}
    vague = make_tracker("I want to report something", intent="report_street_issue")
    assert await form.extract_issue_type(CollectingDispatcher(), vague, {}) == {}


def test_saying_no_at_confirmation_asks_again_but_keeps_the_type():
    result, responses = validate("report_confirmed", False, text="/deny", intent="deny")
    assert result == {
        "report_confirmed": None, "issue_location": None, "issue_description": None, "issue_photo": None,
    }
    assert responses == ["utter_report_correct"]


REPORT = {
    "issue_type": "pothole",
    "issue_location": "120 Main Street",
    "issue_description": "deep hole",
    "issue_photo": "none",
    "report_confirmed": True,
}


async def test_summary_shows_the_report_before_filing():
    dispatcher = CollectingDispatcher()
    await ActionAskReportConfirmed(catalogue=CATALOGUE).run(dispatcher, make_tracker(slots=REPORT), {})
    assert dispatcher.messages[0]["response"] == "utter_report_summary"
    assert dispatcher.messages[0]["service_name"] == "Pothole"
    assert dispatcher.messages[0]["photo"] == "-"


async def test_confirmed_report_is_filed_and_its_id_given(database_url):
    store = RequestStore.from_url(database_url)
    dispatcher = CollectingDispatcher()
    events = await ActionFileServiceRequest(store=store, catalogue=CATALOGUE).run(
        dispatcher, make_tracker(slots=REPORT, sender_id="conv-9"), {}
    )
    message = dispatcher.messages[0]
    assert message["response"] == "utter_report_filed"
    stored = store.get(message["request_id"])
    assert stored is not None
    assert (stored.service_code, stored.address_string, stored.media_url) == ("pothole", "120 Main Street", None)
    assert stored.agency_responsible == "Public Works - Street Maintenance"
    assert stored.conversation_id == "conv-9"
    assert SlotSet("issue_location", None) in events and SlotSet("report_confirmed", None) in events


class BrokenStore(RequestStore):
    def __init__(self) -> None:
        pass

    def create(self, **fields):  # type: ignore[override]
        raise StoreUnavailable("disk full")


async def test_store_failure_is_told_honestly_and_a_person_files_it(app, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(defaults, "handoff_client", lambda: client_for(app))
    monkeypatch.setattr(defaults, "handoff_outbox", lambda: Outbox(make_engine(f"sqlite:///{tmp_path / 'a.db'}")))
    dispatcher = CollectingDispatcher()
    events = await ActionFileServiceRequest(store=BrokenStore(), catalogue=CATALOGUE).run(
        dispatcher, make_tracker(slots=REPORT), {}
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_report_failed", "utter_handoff_queued"]
    assert events[0] == SlotSet("report_confirmed", None) and events[-1]["event"] == "pause"
    handoff = app.state.service.store.queue()[0]
    packet = app.state.service.store.packet(handoff["reference"])
    assert (handoff["reason"], packet["slots"]["issue_location"]) == ("form_failed", REPORT["issue_location"])
