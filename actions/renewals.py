"""Licence and permit renewals: the rules file, the renewal window, and the renewal form."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import defaults
from actions.answers import is_skip, typed_text
from actions.formats import format_date
from actions.forms import CitizenFormValidation
from actions.language import current_language
from actions.settings import get_settings
from bot.dates import find_date
from bot.text import clean_text, fold

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Renewal:
    code: str
    name: str
    aliases: tuple[str, ...]
    requirements: tuple[str, ...]
    fee: str
    where: str
    online: str
    processing_time: str
    opens_days_before: int
    grace_days_after: int
    # Per language code: the texts a citizen reads (name, requirements, fee, where, processing_time).
    translations: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)

    def in_language(self, language: str) -> Renewal:
        """This document described in ``language``; fields with no translation stay as they are."""
        texts = self.translations.get(language) or {}
        return replace(
            self,
            name=str(texts.get("name") or self.name),
            requirements=tuple(str(r) for r in texts.get("requirements") or self.requirements),
            fee=str(texts.get("fee") or self.fee),
            where=str(texts.get("where") or self.where),
            processing_time=str(texts.get("processing_time") or self.processing_time),
        )


TRANSLATED = ("name", "requirements", "fee", "where", "processing_time")


class Verdict(str, Enum):
    NOT_YET = "not_yet"
    OPEN = "open"
    GRACE = "grace"
    CLOSED = "closed"


@dataclass(frozen=True)
class Window:
    verdict: Verdict
    expiry: date
    opens: date
    grace_end: date


def _aliases(entry: dict[str, Any]) -> tuple[str, ...]:
    """The document's names in every language (citizens mix them), normalised."""
    names = [entry.get("name", ""), *(entry.get("aliases") or [])]
    for texts in (entry.get("translations") or {}).values():
        names.extend([texts.get("name", ""), *(texts.get("aliases") or [])])
    return tuple(dict.fromkeys(fold(str(name)) for name in names if name))


class RenewalCatalogue:
    """Renewable documents by code, and alias matching of free text."""

    def __init__(self, renewals: list[Renewal]) -> None:
        self._renewals = {renewal.code: renewal for renewal in renewals}

    @classmethod
    def from_file(cls, path: Path) -> RenewalCatalogue:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls(
            [
                Renewal(
                    code=str(entry["code"]),
                    name=str(entry["name"]),
                    aliases=_aliases(entry),
                    requirements=tuple(str(r) for r in entry.get("requirements", [])),
                    fee=str(entry["fee"]),
                    where=str(entry["where"]),
                    online=str(entry["online"]),
                    processing_time=str(entry["processing_time"]),
                    opens_days_before=int(entry["opens_days_before"]),
                    grace_days_after=int(entry["grace_days_after"]),
                    translations={
                        str(code): {key: texts[key] for key in TRANSLATED if texts.get(key)}
                        for code, texts in (entry.get("translations") or {}).items()
                    },
                )
                for entry in data.get("renewals", [])
            ]
        )

    def get(self, code: str) -> Renewal | None:
        return self._renewals.get(code)

    def match(self, text: str) -> Renewal | None:
        """The document named in the text (longest alias wins), if any."""
        lowered = fold(text)
        best: tuple[int, Renewal] | None = None
        for renewal in self._renewals.values():
            for alias in renewal.aliases:
                if re.search(rf"(?<!\w){re.escape(alias)}(?!\w)", lowered) and (
                    best is None or len(alias) > best[0]
                ):
                    best = (len(alias), renewal)
        return best[1] if best else None


def renewal_window(renewal: Renewal, expiry: date, today: date) -> Window:
    """Whether a document expiring on ``expiry`` can be renewed ``today``."""
    opens = expiry - timedelta(days=renewal.opens_days_before)
    grace_end = expiry + timedelta(days=renewal.grace_days_after)
    if today < opens:
        verdict = Verdict.NOT_YET
    elif today <= expiry:
        verdict = Verdict.OPEN
    elif today <= grace_end:
        verdict = Verdict.GRACE
    else:
        verdict = Verdict.CLOSED
    return Window(verdict, expiry, opens, grace_end)


def city_today() -> date:
    return datetime.now(ZoneInfo(get_settings().timezone)).date()


def find_date_in_language(text: str, tracker: Tracker) -> date | None:
    """A date in the citizen's message, read the way the conversation's language writes dates."""
    language = current_language(tracker)
    date_order = defaults.language_config().date_orders.get(language, "DMY")
    return find_date(text, city_today(), date_order, language)


class ValidateRenewalForm(CitizenFormValidation):
    """Which document, and (optionally) when it expires."""

    def __init__(self, catalogue: RenewalCatalogue | None = None) -> None:
        self._catalogue = catalogue

    @property
    def catalogue(self) -> RenewalCatalogue:
        return self._catalogue or defaults.renewal_catalogue()

    def name(self) -> str:
        return "validate_renewal_form"

    async def extract_renewal_type(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = typed_text(tracker)
        if tracker.get_slot("renewal_type") or not text:
            return {}
        renewal = self.catalogue.match(text)
        return {"renewal_type": renewal.code} if renewal else {}

    async def extract_expiry_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = typed_text(tracker)
        if tracker.get_slot("expiry_date") or not text:
            return {}
        found = find_date_in_language(text, tracker)
        return {"expiry_date": found.isoformat()} if found else {}

    def validate_renewal_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        if self.catalogue.get(text):
            return {"renewal_type": text}
        renewal = self.catalogue.match(text)
        if renewal:
            return {"renewal_type": renewal.code}
        dispatcher.utter_message(response="utter_renewal_type_unknown")
        return {"renewal_type": None}

    def validate_expiry_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = clean_text(str(value or ""))
        if text == UNKNOWN or is_skip(tracker, text):
            return {"expiry_date": UNKNOWN}
        try:
            return {"expiry_date": date.fromisoformat(text).isoformat()}
        except ValueError:
            pass
        found = find_date_in_language(text, tracker)
        if found:
            return {"expiry_date": found.isoformat()}
        dispatcher.utter_message(response="utter_expiry_date_invalid")
        return {"expiry_date": None}


class ActionRenewalInfo(Action):
    """What a renewal needs, and whether the citizen can renew now."""

    def __init__(self, catalogue: RenewalCatalogue | None = None) -> None:
        self._catalogue = catalogue

    def name(self) -> str:
        return "action_renewal_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        catalogue = self._catalogue or defaults.renewal_catalogue()
        renewal = catalogue.get(tracker.get_slot("renewal_type") or "")
        reset: list[EventType] = [SlotSet("renewal_type", None), SlotSet("expiry_date", None)]
        if renewal is None:
            dispatcher.utter_message(response="utter_renewal_type_unknown")
            return reset
        language = current_language(tracker)
        renewal = renewal.in_language(language)
        dispatcher.utter_message(
            response="utter_renewal_details",
            name=renewal.name,
            requirements="; ".join(renewal.requirements),
            fee=renewal.fee,
            where=renewal.where,
            link=renewal.online,
            processing=renewal.processing_time,
        )
        expiry_text = tracker.get_slot("expiry_date")
        if expiry_text and expiry_text != UNKNOWN:
            window = renewal_window(renewal, date.fromisoformat(expiry_text), city_today())
            dispatcher.utter_message(
                response=f"utter_renewal_window_{window.verdict.value}",
                name_in_sentence=renewal.name[:1].lower() + renewal.name[1:],
                expiry=format_date(window.expiry, language),
                opens=format_date(window.opens, language),
                grace_end=format_date(window.grace_end, language),
                link=renewal.online,
            )
        return reset
