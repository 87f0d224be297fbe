from __future__ import annotations

from datetime import date

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import renewals
from actions.renewals import ActionRenewalInfo, RenewalCatalogue, ValidateRenewalForm, Verdict, renewal_window
from actions.settings import get_settings
from tests.conftest import make_tracker

pytestmark = pytest.mark.anyio

CATALOGUE = RenewalCatalogue.from_file(get_settings().renewals_file)
TODAY = date(2026, 11, 22)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(renewals, "city_today", lambda: TODAY)


def test_the_four_documents_are_in_the_catalogue():
    for code in ("drivers_licence", "vehicle_registration", "parking_permit", "business_licence"):
        assert CATALOGUE.get(code) is not None


@pytest.mark.parametrize(
    "text, code",
    [
        ("how do I renew my driver's license", "drivers_licence"),
        ("my drivers licence is expiring", "drivers_licence"),
        ("renew my car registration", "vehicle_registration"),
        ("my parking permit expired", "parking_permit"),
        ("business license renewal", "business_licence"),
        ("I want to renew something", None),
    ],
)
def test_document_is_recognised_in_free_text(text, code):
    match = CATALOGUE.match(text)
    assert (match.code if match else None) == code


@pytest.mark.parametrize(
    "expiry, verdict",
    [
        (date(2027, 9, 1), Verdict.NOT_YET),  # opens 180 days before
        (date(2027, 3, 1), Verdict.OPEN),
        (date(2026, 11, 22), Verdict.OPEN),
        (date(2026, 11, 1), Verdict.GRACE),  # 60 days of grace
        (date(2026, 8, 1), Verdict.CLOSED),
    ],
)
def test_renewal_window_for_a_drivers_licence(expiry, verdict):
    assert renewal_window(CATALOGUE.get("drivers_licence"), expiry, TODAY).verdict is verdict


async def test_expiry_date_in_the_first_message_is_used():
    form = ValidateRenewalForm(catalogue=CATALOGUE)
    tracker = make_tracker("my parking permit expires on 2026-12-01, can I renew now?", intent="renewal_info")
    dispatcher = CollectingDispatcher()
    assert await form.extract_renewal_type(dispatcher, tracker, {}) == {"renewal_type": "parking_permit"}
    assert await form.extract_expiry_date(dispatcher, tracker, {}) == {"expiry_date": "2026-12-01"}


def test_skip_and_unreadable_dates():
    form = ValidateRenewalForm(catalogue=CATALOGUE)
    dispatcher = CollectingDispatcher()
    skipped = form.validate_expiry_date("/skip", dispatcher, make_tracker("/skip", intent="skip"), {})
    assert skipped == {"expiry_date": "unknown"}
    bad = form.validate_expiry_date("soonish", dispatcher, make_tracker("soonish", intent="inform"), {})
    assert bad == {"expiry_date": None}
    assert dispatcher.messages[-1]["response"] == "utter_expiry_date_invalid"


def test_unknown_document_is_re_asked():
    dispatcher = CollectingDispatcher()
    result = ValidateRenewalForm(catalogue=CATALOGUE).validate_renewal_type(
        "fishing licence", dispatcher, make_tracker("fishing licence"), {}
    )
    assert result == {"renewal_type": None}
    assert dispatcher.messages[0]["response"] == "utter_renewal_type_unknown"


async def test_details_and_verdict_are_given_then_the_slots_reset():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"renewal_type": "drivers_licence", "expiry_date": "2027-03-01"})
    events = await ActionRenewalInfo(catalogue=CATALOGUE).run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_renewal_details", "utter_renewal_window_open"]
    assert dispatcher.messages[0]["fee"] == "$45.00"
    assert dispatcher.messages[1]["opens"] == "September 2, 2026"
    assert events == [SlotSet("renewal_type", None), SlotSet("expiry_date", None)]


async def test_without_expiry_only_the_details_are_given():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"renewal_type": "business_licence", "expiry_date": "unknown"})
    await ActionRenewalInfo(catalogue=CATALOGUE).run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_renewal_details"]
