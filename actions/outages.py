"""Power outage status from the utility's feed, and the outage question form.

The feed is a JSON export (a file the utility's job overwrites, or an http(s)
URL). It is re-read when the file changes, or after a minute for a URL.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import defaults
from actions.answers import typed_text
from actions.formats import format_moment, format_number
from actions.forms import CitizenFormValidation
from actions.language import current_language
from actions.responses import response_text
from bot.text import clean_text

logger = logging.getLogger(__name__)

URL_CACHE_SECONDS = 60.0
_ZIP = re.compile(r"\b\d{5}\b")
_STREET_SUFFIXES = {
    "street": "st", "st": "st", "avenue": "ave", "ave": "ave", "road": "rd", "rd": "rd",
    "drive": "dr", "dr": "dr", "lane": "ln", "ln": "ln", "boulevard": "blvd", "blvd": "blvd",
}


class FeedUnavailable(Exception):
    """The outage feed could not be read or parsed."""


@dataclass(frozen=True)
class Outage:
    id: str
    area: str
    zip_codes: tuple[str, ...]
    streets: tuple[str, ...]
    cause: str
    started: datetime
    estimated_restoration: datetime | None
    customers_affected: int


def _street_key(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return " ".join(_STREET_SUFFIXES.get(word, word) for word in words)


def _contains(haystack: str, needle: str) -> bool:
    return bool(needle) and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack) is not None


class OutageFeed:
    """Reads the feed and answers "is there an outage here?"."""

    def __init__(self, source: str, timezone: str = "UTC") -> None:
        self._source = source
        self._zone = ZoneInfo(timezone)
        self._lock = threading.Lock()
        self._stamp: float | None = None
        self._loaded_at = 0.0
        self._outages: list[Outage] = []
        self._areas: list[str] = []

    def _read_source(self) -> dict[str, Any] | None:
        """The parsed feed, or None when the cached copy is still current."""
        if self._source.startswith(("http://", "https://")):
            if time.monotonic() - self._loaded_at < URL_CACHE_SECONDS and self._stamp is not None:
                return None
            import httpx

            response = httpx.get(self._source, timeout=5.0)
            response.raise_for_status()
            self._stamp = time.monotonic()
            return response.json()  # type: ignore[no-any-return]
        path = Path(self._source)
        stamp = path.stat().st_mtime
        if stamp == self._stamp:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        self._stamp = stamp
        return data  # type: ignore[no-any-return]

    def _refresh(self) -> None:
        with self._lock:
            try:
                data = self._read_source()
                if data is None:
                    return
                outages = [
                    Outage(
                        id=str(item["id"]),
                        area=str(item["area"]),
                        zip_codes=tuple(str(z) for z in item.get("zip_codes", [])),
                        streets=tuple(str(s) for s in item.get("streets", [])),
                        cause=str(item.get("cause") or "cause not yet known"),
                        started=datetime.fromisoformat(item["started"]),
                        estimated_restoration=(
                            datetime.fromisoformat(item["estimated_restoration"])
                            if item.get("estimated_restoration")
                            else None
                        ),
                        customers_affected=int(item.get("customers_affected") or 0),
                    )
                    for item in data.get("outages", [])
                ]
            except Exception as exc:  # OSError, ValueError, KeyError, httpx errors
                self._stamp = None
                raise FeedUnavailable(f"outage feed {self._source}: {exc}") from exc
            self._outages = outages
            self._areas = [str(a) for a in data.get("areas", [])] + [o.area for o in outages]
            self._loaded_at = time.monotonic()

    def known_place(self, text: str) -> str | None:
        """An area name, ZIP code or outage street mentioned in the text, if any."""
        self._refresh()
        zip_match = _ZIP.search(text)
        if zip_match:
            return zip_match.group(0)
        lowered = text.lower()
        for area in self._areas:
            if _contains(lowered, area.lower()):
                return area
        key = _street_key(text)
        for outage in self._outages:
            for street in outage.streets:
                if _contains(key, _street_key(street)):
                    return street
        return None

    def lookup(self, place: str) -> list[Outage]:
        """Current outages for an area name, ZIP code or street."""
        self._refresh()
        lowered = place.lower().strip()
        key = _street_key(place)
        found = []
        for outage in self._outages:
            if (
                _contains(lowered, outage.area.lower())
                or any(_contains(lowered, z) for z in outage.zip_codes)
                or any(_contains(key, _street_key(s)) for s in outage.streets)
            ):
                found.append(outage)
        return found

    def format_time(self, moment: datetime, language: str) -> str:
        """'23 Nov, 02:00' ('23 nov., 02:00' in French), in the city's time zone."""
        return format_moment(moment.astimezone(self._zone), language)


class ValidateOutageForm(CitizenFormValidation):
    """Where the citizen is asking about."""

    def __init__(self, feed: OutageFeed | None = None) -> None:
        self._feed = feed

    @property
    def feed(self) -> OutageFeed:
        return self._feed or defaults.outage_feed()

    def name(self) -> str:
        return "validate_outage_form"

    async def extract_outage_area(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = typed_text(tracker)
        if tracker.get_slot("outage_area") or not text:
            return {}
        try:
            place = self.feed.known_place(text)
        except FeedUnavailable:
            logger.warning("outage feed unavailable while extracting an area", exc_info=True)
            return {}
        return {"outage_area": place} if place else {}

    def validate_outage_area(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = clean_text(str(value or ""))
        if not text or len(text) > 120:
            dispatcher.utter_message(response="utter_ask_outage_area")
            return {"outage_area": None}
        return {"outage_area": text}


class ActionOutageStatus(Action):
    """Known outages for the area, or an offer to report one."""

    def __init__(self, feed: OutageFeed | None = None) -> None:
        self._feed = feed

    def name(self) -> str:
        return "action_outage_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        feed = self._feed or defaults.outage_feed()
        place = tracker.get_slot("outage_area") or ""
        reset: list[EventType] = [SlotSet("outage_area", None)]
        try:
            outages = feed.lookup(place)
        except FeedUnavailable:
            logger.error("outage feed unavailable", exc_info=True)
            dispatcher.utter_message(response="utter_outage_feed_unavailable")
            return reset
        language = current_language(tracker)
        for outage in outages:
            dispatcher.utter_message(
                response="utter_outage_found",
                area=outage.area,
                cause=outage.cause,
                started=feed.format_time(outage.started, language),
                customers=format_number(outage.customers_affected, language),
                restoration=(
                    feed.format_time(outage.estimated_restoration, language)
                    if outage.estimated_restoration
                    else response_text(domain, "utter_word_not_yet_known", language) or "-"
                ),
            )
        if not outages:
            dispatcher.utter_message(response="utter_outage_none", area=place)
        return reset
