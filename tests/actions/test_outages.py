from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.outages import ActionOutageStatus, FeedUnavailable, OutageFeed, ValidateOutageForm
from tests.conftest import make_tracker

pytestmark = pytest.mark.anyio

FEED = {
    "outages": [
        {
            "id": "OUT-1", "area": "Riverside", "zip_codes": ["94110"], "streets": ["River Road"],
            "cause": "equipment failure", "started": "2026-11-22T13:40:00-05:00",
            "estimated_restoration": "2026-11-22T20:30:00-05:00", "customers_affected": 1240,
        }
    ],
    "areas": ["Downtown", "Riverside", "Lakeside"],
}


@pytest.fixture
def feed_file(tmp_path: Path) -> Path:
    path = tmp_path / "outages.json"
    path.write_text(json.dumps(FEED))
    return path


@pytest.mark.parametrize("place", ["Riverside", "riverside please", "94110", "River Rd", "12 river road"])
def test_outage_is_found_by_area_zip_or_street(feed_file, place):
    assert [o.id for o in OutageFeed(str(feed_file)).lookup(place)] == ["OUT-1"]


def test_no_outage_elsewhere(feed_file):
    assert OutageFeed(str(feed_file)).lookup("Lakeside") == []


def test_known_place_is_read_from_a_sentence(feed_file):
    feed = OutageFeed(str(feed_file))
    assert feed.known_place("is there a power outage in 94110?") == "94110"
    assert feed.known_place("power out in downtown") == "Downtown"
    assert feed.known_place("my power is out") is None


def test_a_new_export_is_picked_up_without_restart(feed_file):
    feed = OutageFeed(str(feed_file))
    assert feed.lookup("Lakeside") == []
    changed = dict(FEED)
    changed["outages"] = [dict(FEED["outages"][0], id="OUT-2", area="Lakeside", zip_codes=[], streets=[])]
    feed_file.write_text(json.dumps(changed))
    os.utime(feed_file, (1, 1))  # a different mtime even within the same second
    assert [o.id for o in feed.lookup("Lakeside")] == ["OUT-2"]


def test_a_broken_export_raises_feed_unavailable(tmp_path):
    broken = tmp_path / "outages.json"
    broken.write_text("{not json")
    with pytest.raises(FeedUnavailable):
        OutageFeed(str(broken)).lookup("Riverside")
    with pytest.raises(FeedUnavailable):
        OutageFeed(str(tmp_path / "missing.json")).lookup("Riverside")


async def test_status_reports_the_outage_with_restoration_time(feed_file):
    dispatcher = CollectingDispatcher()
    feed = OutageFeed(str(feed_file), "America/New_York")
    await ActionOutageStatus(feed=feed).run(dispatcher, make_tracker(slots={"outage_area": "94110"}), {})
    message = dispatcher.messages[0]
    assert message["response"] == "utter_outage_found"
    assert message["area"] == "Riverside" and message["customers"] == "1,240"
    assert message["restoration"].endswith(", 20:30")


async def test_no_known_outage_offers_to_report_one(feed_file):
    dispatcher = CollectingDispatcher()
    await ActionOutageStatus(feed=OutageFeed(str(feed_file))).run(
        dispatcher, make_tracker(slots={"outage_area": "Lakeside"}), {}
    )
    assert dispatcher.messages[0]["response"] == "utter_outage_none"


async def test_feed_down_is_said_honestly(tmp_path):
    dispatcher = CollectingDispatcher()
    await ActionOutageStatus(feed=OutageFeed(str(tmp_path / "missing.json"))).run(
        dispatcher, make_tracker(slots={"outage_area": "Riverside"}), {}
    )
    assert dispatcher.messages[0]["response"] == "utter_outage_feed_unavailable"


async def test_area_in_the_first_message_fills_the_form(feed_file):
    form = ValidateOutageForm(feed=OutageFeed(str(feed_file)))
    tracker = make_tracker("is there an outage in Riverside", intent="outage_status")
    assert await form.extract_outage_area(CollectingDispatcher(), tracker, {}) == {"outage_area": "Riverside"}
