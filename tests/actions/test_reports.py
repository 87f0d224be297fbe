from __future__ import annotations

import json

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import defaults
from actions.reports import (
    REPORT_SLOTS,
    ActionAskIssueDetails,
    ActionAskIssueLocation,
    ActionAskIssuePhoto,
    ActionAskReportConfirmed,
    ActionFileServiceRequest,
    ActionKeepShared,
    ValidateStreetReportForm,
    looks_like_location,
    same_place,
)
from handoff.outbox import Outbox
from open311.client import Open311Client, RemoteRequest
from open311.errors import StoreUnavailable
from open311.followers import Follower, FollowerStore
from open311.services import ServiceCatalogue
from open311.settings import Open311ClientSettings
from open311.store import RequestStore, make_engine
from tests.conftest import make_tracker
from tests.handoff.conftest import app, client_for, relay  # noqa: F401  (the real handoff app, as fixtures)
from tests.open311.conftest import BOT_KEY, URL, served, set_status, unreachable

pytestmark = pytest.mark.anyio

CATALOGUE = ServiceCatalogue.from_file()
FORM_SLOTS = ["issue_type", "issue_location", "issue_description", "issue_details", "issue_photo",
              "report_confirmed", "join_existing"]  # domain.yml's street_report_form
ANSWERS = {"size": "large", "in_traffic_lane": "yes"}
REPORT = {
    "issue_type": "pothole",
    "issue_location": "120 Main Street",
    "issue_description": "deep hole",
    "issue_photo": "none",
    "report_confirmed": True,
}


def validate(slot: str, value, text: str | None = None, intent: str | None = None):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text=text if text is not None else str(value), intent=intent)
    form = ValidateStreetReportForm(catalogue=CATALOGUE)
    result = getattr(form, f"validate_{slot}")(value, dispatcher, tracker, {})
    return result, [m.get("response") for m in dispatcher.messages]


async def answer(client, slot: str, value, slots: dict, text: str | None = None, intent: str | None = None,
                 sender_id: str = "citizen-1"):
    """The form's (async) validation of one answer, with the Open311 server behind it."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text=text if text is not None else str(value), intent=intent, slots=slots,
                           sender_id=sender_id)
    form = ValidateStreetReportForm(catalogue=CATALOGUE, client=client)
    result = await getattr(form, f"validate_{slot}")(value, dispatcher, tracker, {})
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


@pytest.mark.parametrize("channel, variant", [("rest", ""), ("socketio", ""), ("telegram", "_app"),
                                              ("whatsapp", "_app"), ("twilio_whatsapp", "_app")])
async def test_where_and_photo_questions_mention_pins_and_photos_only_on_the_messaging_apps(channel, variant):
    for action, response in ((ActionAskIssueLocation(), "utter_ask_issue_location"),
                             (ActionAskIssuePhoto(), "utter_ask_issue_photo")):
        dispatcher = CollectingDispatcher()
        assert await action.run(dispatcher, make_tracker(text="pothole", channel=channel), {}) == []
        assert [m["response"] for m in dispatcher.messages] == [response + variant]
    dispatcher = CollectingDispatcher()
    form = ValidateStreetReportForm(catalogue=CATALOGUE)
    form.validate_issue_photo("[photo could not be received]", dispatcher,
                              make_tracker(text="[photo could not be received]", channel=channel), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_photo_invalid" + variant]


def test_unknown_problem_type_becomes_other_street_problem():
    assert validate("issue_type", "pothole")[0] == {"issue_type": "pothole"}
    assert validate("issue_type", "a dead tree")[0] == {"issue_type": "fallen_tree"}  # catalogued since
    assert validate("issue_type", "graffiti on the bridge")[0] == {"issue_type": "street_other"}
    assert validate("issue_type", "a wobbly bench in the square")[0] == {"issue_type": "street_other"}


async def test_problem_type_is_read_from_the_first_message():
    form = ValidateStreetReportForm(catalogue=CATALOGUE)
    tracker = make_tracker("the street light on my corner is out", intent="report_street_issue")
    assert await form.extract_issue_type(CollectingDispatcher(), tracker, {}) == {"issue_type": "streetlight"}
    vague = make_tracker("I want to report something", intent="report_street_issue")
    assert await form.extract_issue_type(CollectingDispatcher(), vague, {}) == {}


async def test_problem_named_in_own_words_when_asked_becomes_other_street_problem():
    form = ValidateStreetReportForm(catalogue=CATALOGUE)
    tracker = make_tracker("a wobbly bench in the square", intent="inform",
                           slots={"requested_slot": "issue_type"})
    assert await form.extract_issue_type(CollectingDispatcher(), tracker, {}) == {"issue_type": "street_other"}


async def test_saying_no_at_confirmation_asks_again_but_keeps_the_type(open311):
    slots = {**REPORT, "report_attributes": ANSWERS, "report_confirmed": None}
    result, responses = await answer(open311, "report_confirmed", False, slots, text="/deny", intent="deny")
    assert result == {
        "report_confirmed": None, "issue_location": None, "issue_lat": None, "issue_long": None,
        "issue_description": None, "issue_photo": None, "report_attributes": None,
    }
    assert "issue_type" not in result
    assert responses == ["utter_report_correct"]


async def test_summary_shows_the_report_and_the_answers_before_filing():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={**REPORT, "report_attributes": ANSWERS})
    await ActionAskReportConfirmed(catalogue=CATALOGUE).run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["response"] == "utter_report_summary"
    assert dispatcher.messages[0]["service_name"] == "Pothole"
    assert dispatcher.messages[0]["details"] == "Bigger than a car tyre; Yes"
    assert dispatcher.messages[0]["photo"] == "-"


# --- the service definition's questions --------------------------------------------------------


async def ask_details(client, **slots) -> list[dict]:
    dispatcher = CollectingDispatcher()
    events = await ActionAskIssueDetails(catalogue=CATALOGUE, client=client).run(
        dispatcher, make_tracker(slots=slots), {})
    assert events == []
    return dispatcher.messages


async def test_pothole_questions_are_asked_in_order_in_the_citizens_language(open311):
    [first] = await ask_details(open311, issue_type="pothole", language="es")
    assert first["text"] == "¿De qué tamaño es?"
    assert [b["title"] for b in first["buttons"]] == [
        "Más chico que un plato", "Como una llanta de auto", "Más grande que una llanta de auto"]
    [second] = await ask_details(open311, issue_type="pothole", language="es", report_attributes={"size": "large"})
    assert second["text"] == "¿Está en un carril por donde pasan autos o bicicletas?"
    assert [b["title"] for b in second["buttons"]] == ["Sí", "No, está a un lado o en el acotamiento"]
    assert await ask_details(open311, issue_type="pothole", language="es", report_attributes=ANSWERS) == []


@pytest.mark.parametrize(
    "text, language",
    [("Bigger than a car tyre", "en"), ("Más grande que una llanta de auto", "es"), ("3", "en"), ("large", "en"),
     ("bigger", "en")],
)
async def test_a_button_title_a_number_or_a_key_answers_the_question(open311, text, language):
    slots = {"issue_type": "pothole", "language": language, "requested_slot": "issue_details"}
    result, responses = await answer(open311, "issue_details", text, slots)
    assert result == {"report_attributes": {"size": "large"}, "issue_details": None}
    assert responses == []


async def test_the_next_answer_goes_to_the_next_question_and_keeps_the_first(open311):
    slots = {"issue_type": "pothole", "report_attributes": {"size": "large"}}
    result, responses = await answer(open311, "issue_details", "1", slots)
    assert result == {"report_attributes": ANSWERS, "issue_details": None}
    assert responses == []


@pytest.mark.parametrize("text, intent", [("purple", "inform"), ("7", "inform"), ("skip", "skip")])
async def test_nonsense_or_skipping_a_required_question_is_re_asked(open311, text, intent):
    slots = {"issue_type": "pothole", "report_attributes": {}}
    result, responses = await answer(open311, "issue_details", text, slots, intent=intent)
    assert result == {"issue_details": None}
    assert responses == ["utter_attribute_invalid"]


async def test_an_optional_question_can_be_skipped_and_nothing_is_filed_for_it(
    open311, open311_settings, followers
):
    slots = {"issue_type": "streetlight", "report_attributes": {"light_state": "out"}}
    result, responses = await answer(open311, "issue_details", "skip", slots, intent="skip")
    assert result == {"report_attributes": {"light_state": "out", "pole_number": ""}, "issue_details": None}
    assert responses == []

    report = {**REPORT, "issue_type": "streetlight", "report_attributes": result["report_attributes"]}
    form = ValidateStreetReportForm(catalogue=CATALOGUE, client=open311)
    required = await form.required_slots(FORM_SLOTS, CollectingDispatcher(), make_tracker(slots=report), {})
    assert "issue_details" not in required  # no question left to ask

    dispatcher = CollectingDispatcher()
    await ActionFileServiceRequest(client=open311, catalogue=CATALOGUE).run(dispatcher, make_tracker(slots=report), {})
    stored = RequestStore.from_url(open311_settings.database_url).get(dispatcher.messages[0]["request_id"])
    assert stored is not None and stored.attributes == {"light_state": "out"}


async def test_form_asks_the_questions_while_unanswered_and_join_only_after_a_duplicate(open311):
    form = ValidateStreetReportForm(catalogue=CATALOGUE, client=open311)

    async def required(**slots) -> list[str]:
        return await form.required_slots(FORM_SLOTS, CollectingDispatcher(), make_tracker(slots=slots), {})

    base = ["issue_type", "issue_location", "issue_description", "issue_photo", "report_confirmed"]
    with_questions = base[:3] + ["issue_details"] + base[3:]
    assert await required() == base  # no type yet: no questions to know
    assert await required(issue_type="pothole") == with_questions
    assert await required(issue_type="pothole", report_attributes={"size": "large"}) == with_questions
    assert await required(issue_type="pothole", report_attributes=ANSWERS) == base
    assert await required(issue_type="street_other") == base  # a service without questions
    assert await required(issue_type="pothole", report_attributes=ANSWERS, duplicate_of="SR-7K3M9Q2X") == [
        *base, "join_existing"]


# --- filing ------------------------------------------------------------------------------------


async def file_report(client, location: str = "120 Main Street", sender_id: str = "citizen-1",
                      issue_type: str = "pothole", **slots) -> tuple[str, list]:
    """A citizen's confirmed report, filed; the request id and the action's events."""
    dispatcher = CollectingDispatcher()
    report = {**REPORT, "issue_type": issue_type, "issue_location": location, "report_attributes": ANSWERS, **slots}
    events = await ActionFileServiceRequest(client=client, catalogue=CATALOGUE).run(
        dispatcher, make_tracker(slots=report, sender_id=sender_id), {})
    assert dispatcher.messages[0]["response"] == "utter_report_filed", dispatcher.messages
    return dispatcher.messages[0]["request_id"], events


async def test_confirmed_report_is_filed_through_open311_its_id_given_and_followed(
    open311, open311_app, open311_settings, followers
):
    dispatcher = CollectingDispatcher()
    report = {**REPORT, "report_attributes": ANSWERS, "issue_photo": "https://img.example.org/hole.jpg"}
    events = await ActionFileServiceRequest(client=open311, catalogue=CATALOGUE).run(
        dispatcher, make_tracker(slots=report, sender_id="conv-9"), {})

    [message] = dispatcher.messages
    assert message["response"] == "utter_report_filed"
    assert message["agency"] == "Public Works - Street Maintenance"
    request_id = message["request_id"]
    [request] = await served(open311_app, f"/requests/{request_id}.json")
    assert (request["service_code"], request["status"], request["description"], request["address"]) == (
        "pothole", "open", "deep hole", "120 Main Street")
    assert request["media_url"] == "https://img.example.org/hole.jpg"
    stored = RequestStore.from_url(open311_settings.database_url).get(request_id)
    assert stored is not None and stored.attributes == ANSWERS
    assert stored.urgency == "high"  # a big pothole in a traffic lane
    # Followed from the status it was filed with: only later changes are told.
    assert followers.active() == [Follower(request_id, "conv-9", "open", request["status_notes"])]
    assert events == [SlotSet(slot, None) for slot in REPORT_SLOTS]


class FullDisk(FollowerStore):
    """The action server's own database cannot be written."""

    def follow(self, *args, **kwargs):  # type: ignore[override]
        raise StoreUnavailable("disk full")


async def test_a_report_that_cannot_be_followed_is_filed_and_its_id_given_all_the_same(
    open311, open311_app, tmp_path, monkeypatch
):
    monkeypatch.setattr(defaults, "request_followers", lambda: FullDisk(make_engine(f"sqlite:///{tmp_path / 'b.db'}")))
    request_id, events = await file_report(open311)
    assert [r["service_request_id"] for r in await served(open311_app, "/requests.json")] == [request_id]
    assert events == [SlotSet(slot, None) for slot in REPORT_SLOTS]


async def test_report_in_spanish_names_the_spanish_agency(open311, followers):
    dispatcher = CollectingDispatcher()
    await ActionFileServiceRequest(client=open311, catalogue=CATALOGUE).run(
        dispatcher, make_tracker(slots={**REPORT, "report_attributes": ANSWERS, "language": "es"}), {})
    assert dispatcher.messages[0]["agency"] == "Obras Públicas - Mantenimiento de Calles"


async def test_open311_server_down_is_told_honestly_and_a_person_files_it(
    app, tmp_path, monkeypatch, followers  # noqa: F811
):
    monkeypatch.setattr(defaults, "handoff_client", lambda: client_for(app))
    monkeypatch.setattr(defaults, "handoff_outbox", lambda: Outbox(make_engine(f"sqlite:///{tmp_path / 'a.db'}")))
    dispatcher = CollectingDispatcher()
    events = await ActionFileServiceRequest(client=unreachable(), catalogue=CATALOGUE).run(
        dispatcher, make_tracker(slots={**REPORT, "report_attributes": ANSWERS}), {}
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_report_failed", "utter_handoff_queued"]
    assert events[0] == SlotSet("report_confirmed", None) and events[-1]["event"] == "pause"
    handoff = app.state.service.store.queue()[0]
    packet = app.state.service.store.packet(handoff["reference"])
    assert (handoff["reason"], packet["slots"]["issue_location"]) == ("form_failed", REPORT["issue_location"])
    assert packet["slots"]["report_attributes"] == ANSWERS and packet["slots"]["report_confirmed"] is True
    assert followers.active() == []  # nothing was filed to follow


# --- duplicates --------------------------------------------------------------------------------


async def test_second_report_of_the_same_pothole_joins_the_first_instead_of_filing(
    open311, open311_app, followers
):
    first, _ = await file_report(open311, "120 Main Street", sender_id="citizen-1")
    second = {**REPORT, "issue_location": "120 main st", "report_attributes": ANSWERS, "report_confirmed": None}
    result, responses = await answer(open311, "report_confirmed", True, second, text="/affirm", intent="affirm",
                                     sender_id="citizen-2")
    assert result == {"report_confirmed": True, "duplicate_of": first, "duplicate_address": "120 Main Street"}
    assert responses == []

    dispatcher = CollectingDispatcher()
    joining = {**second, **result, "join_existing": True}
    events = await ActionFileServiceRequest(client=open311, catalogue=CATALOGUE).run(
        dispatcher, make_tracker(slots=joining, sender_id="citizen-2"), {})
    assert dispatcher.messages[0]["response"] == "utter_report_joined"
    assert dispatcher.messages[0]["request_id"] == first
    assert [r["service_request_id"] for r in await served(open311_app, "/requests.json")] == [first]
    assert sorted(f.conversation_id for f in followers.active()) == ["citizen-1", "citizen-2"]
    assert events == [SlotSet(slot, None) for slot in REPORT_SLOTS]


async def test_declining_to_join_files_a_new_report(open311, open311_app, followers):
    first, _ = await file_report(open311, "120 Main Street", sender_id="citizen-1")
    second, _ = await file_report(open311, "120 main st", sender_id="citizen-2", duplicate_of=first,
                                  join_existing=False)
    assert second != first
    assert len(await served(open311_app, "/requests.json")) == 2


@pytest.mark.parametrize(
    "issue_type, location", [("pothole", "45 Oak Avenue"), ("streetlight", "120 Main Street")],
)
async def test_another_place_or_another_problem_is_not_a_duplicate(open311, followers, issue_type, location):
    await file_report(open311, "120 Main Street")
    report = {**REPORT, "issue_type": issue_type, "issue_location": location, "report_confirmed": None}
    result, _ = await answer(open311, "report_confirmed", True, report, text="/affirm", intent="affirm")
    assert result == {"report_confirmed": True, "duplicate_of": None}


async def test_a_closed_request_is_not_a_duplicate(open311, open311_app, followers):
    first, _ = await file_report(open311, "120 Main Street")
    await set_status(open311_app, first, "closed", "Filled")
    result, _ = await answer(open311, "report_confirmed", True, {**REPORT, "report_confirmed": None},
                             text="/affirm", intent="affirm")
    assert result == {"report_confirmed": True, "duplicate_of": None}


async def test_confirmation_still_files_when_duplicates_cannot_be_looked_for():
    result, responses = await answer(unreachable(), "report_confirmed", True, {**REPORT, "report_confirmed": None},
                                     text="/affirm", intent="affirm")
    assert result == {"report_confirmed": True, "duplicate_of": None}
    assert responses == []


def test_same_place_by_coordinates_is_within_fifty_metres():
    request = RemoteRequest.from_json(
        {"service_request_id": "SR-7K3M9Q2X", "lat": 40.7128, "long": -74.0060, "address": "120 Main Street"})
    assert same_place(None, request, lat=40.7128 + 0.0003, long=-74.0060)  # about 33 m north
    assert not same_place(None, request, lat=40.7128 + 0.0045, long=-74.0060)  # about 500 m north
    assert not same_place("120 Main Street", request, lat=40.7128 + 0.0045, long=-74.0060)  # coordinates decide


@pytest.mark.parametrize(
    "mine, theirs, same",
    [
        ("120 Main Street", "120 main st", True),
        ("calle Main 120", "120 Main Street", True),  # the same place written in another language
        ("12 Main Street", "120 Main Street", False),
        ("Main Street", "Main St", False),  # a whole street is not one place
        ("in front of the central library", "in front of the central library", True),
    ],
)
def test_same_place_by_address_needs_the_same_number_or_a_precise_landmark(mine, theirs, same):
    request = RemoteRequest.from_json({"service_request_id": "SR-1", "address": theirs})
    assert same_place(mine, request) is same


class SlowToAnswer(httpx.AsyncBaseTransport):
    """The server files the request, but its answer never arrives in time."""

    def __init__(self, server) -> None:
        self._inner = httpx.ASGITransport(app=server)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.method == "POST":
            raise httpx.ReadTimeout("no answer in time", request=request)
        return response


async def test_a_report_whose_answer_timed_out_is_not_filed_twice(open311_app, followers):
    client = Open311Client(Open311ClientSettings(url=URL, api_key=BOT_KEY), transport=SlowToAnswer(open311_app))
    request_id, _ = await file_report(client, "15 Cedar Lane")
    listed = await served(open311_app, "/requests.json", service_code="pothole")
    assert [r["service_request_id"] for r in listed if r["address"] == "15 Cedar Lane"] == [request_id]
    assert [f.service_request_id for f in followers.active()] == [request_id]


def test_a_shared_location_pin_is_the_place_with_its_coordinates():
    text = '/share_location{"latitude": 40.712776, "longitude": -74.005974}'
    tracker = make_tracker(text=text, intent="share_location", slots={"issue_type": "pothole"})
    tracker.latest_message["entities"] = [{"entity": "latitude", "value": 40.712776},
                                          {"entity": "longitude", "value": -74.005974}]
    result = ValidateStreetReportForm(catalogue=CATALOGUE).validate_issue_location(
        text, CollectingDispatcher(), tracker, {})
    assert result == {"issue_location": "40.71278, -74.00597", "issue_lat": 40.712776, "issue_long": -74.005974}


def test_a_location_pin_out_of_range_is_not_a_place():
    text = '/share_location{"latitude": 140, "longitude": 0}'
    tracker = make_tracker(text=text, intent="share_location")
    tracker.latest_message["entities"] = [{"entity": "latitude", "value": 140}, {"entity": "longitude", "value": 0}]
    dispatcher = CollectingDispatcher()
    result = ValidateStreetReportForm(catalogue=CATALOGUE).validate_issue_location(text, dispatcher, tracker, {})
    assert result == {"issue_location": None}
    assert dispatcher.messages[0]["response"] == "utter_location_invalid"


def test_a_photo_sent_on_a_messaging_app_is_the_reports_photo():
    url = "http://127.0.0.1:8000/media/Zx81aB.jpg"
    text = f'/share_photo{{"photo_url": "{url}"}}'
    tracker = make_tracker(text=text, intent="share_photo")
    tracker.latest_message["entities"] = [{"entity": "photo_url", "value": url}]
    result = ValidateStreetReportForm(catalogue=CATALOGUE).validate_issue_photo(
        text, CollectingDispatcher(), tracker, {})
    assert result == {"issue_photo": url}


def shared(kind: str, requested: str | None = None, **entities) -> Tracker:
    """A tracker whose latest message is a pin or a photo from a messaging app, while ``requested`` is asked."""
    tracker = make_tracker(text=f"/{kind}{json.dumps(entities)}", intent=kind, channel="whatsapp",
                           slots={"requested_slot": requested, "issue_type": "pothole"})
    tracker.latest_message["entities"] = [{"entity": name, "value": value} for name, value in entities.items()]
    return tracker


async def test_a_pin_or_a_photo_before_any_report_is_kept_for_the_report_that_begins():
    dispatcher = CollectingDispatcher()
    events = await ActionKeepShared().run(dispatcher, shared("share_location", latitude=40.7, longitude=-74.0), {})
    assert events == [SlotSet("issue_location", "40.70000, -74.00000"), SlotSet("issue_lat", 40.7),
                      SlotSet("issue_long", -74.0)]
    url = "http://127.0.0.1:8000/media/Zx81aB.jpg"
    events = await ActionKeepShared().run(dispatcher, shared("share_photo", photo_url=url), {})
    assert events == [SlotSet("issue_photo", url)]
    assert [m["response"] for m in dispatcher.messages] == ["utter_kept_location", "utter_kept_photo"]
    off_the_map = CollectingDispatcher()
    assert await ActionKeepShared().run(off_the_map, shared("share_location", latitude=95, longitude=0), {}) == []
    assert off_the_map.messages == []


@pytest.mark.parametrize("requested, said", [("issue_type", ["utter_kept_location", "utter_kept_photo"]),
                                             ("issue_description", ["utter_kept_location", "utter_kept_photo"]),
                                             ("issue_location", ["utter_kept_photo"]),
                                             ("issue_photo", ["utter_kept_location"])])
def test_a_pin_or_a_photo_answers_its_question_whatever_the_form_asked(requested, said):
    form, dispatcher = ValidateStreetReportForm(catalogue=CATALOGUE), CollectingDispatcher()
    pin = shared("share_location", requested, latitude=40.7, longitude=-74.0)
    assert form.extract_issue_location(dispatcher, pin, {}) == {"issue_location": "40.70000, -74.00000"}
    assert form.extract_issue_photo(dispatcher, pin, {}) == {}
    photo = shared("share_photo", requested, photo_url="http://127.0.0.1:8000/media/Zx81aB.jpg")
    assert form.extract_issue_photo(dispatcher, photo, {}) == {"issue_photo": "http://127.0.0.1:8000/media/Zx81aB.jpg"}
    assert form.extract_issue_location(dispatcher, photo, {}) == {}
    assert [m["response"] for m in dispatcher.messages] == said  # thanked only when it was not what was asked
