"""What a location pin or a photo sent on a messaging app becomes for the bot.

    /share_location{"latitude": 40.4168, "longitude": -3.7038}
    /share_photo{"photo_url": "https://city.example.org/media/….jpg"}

Rasa reads these as the intents ``share_location`` and ``share_photo`` with their
entities. In a report they answer "where is it?" and "a photo?" whenever they come;
outside a report they are kept and start one (actions/reports.py, bot/data/training/rules.yml).
"""

from __future__ import annotations

import json
import math

SHARE_LOCATION = "/share_location"
SHARE_PHOTO = "/share_photo"
SHARE_INTENTS = ("share_location", "share_photo")  # in domain.yml; set by the channels, never learnt
PHOTO_FAILED = "[photo could not be received]"  # text, so that the bot asks again
# The answer to a voice note, a video or a document: said by the channel, outside any Rasa turn, so a
# form in progress or a person's conversation is not disturbed (bot/connectors/safety_net.py).
UNREADABLE = "utter_unsupported_media"


def is_place(latitude: float, longitude: float) -> bool:
    return math.isfinite(latitude) and math.isfinite(longitude) and abs(latitude) <= 90 and abs(longitude) <= 180


def location_message(latitude: float, longitude: float) -> str:
    return SHARE_LOCATION + json.dumps({"latitude": latitude, "longitude": longitude})


def photo_message(url: str) -> str:
    return SHARE_PHOTO + json.dumps({"photo_url": url})
