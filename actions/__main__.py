"""`python -m actions [rasa-sdk options]`: the action server, FAQ model loaded up front, handoff outbox and
status notifications running.

Loading the sentence embedder takes seconds; doing it while the server starts means
the first citizen to ask a general question does not wait for it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from rasa_sdk.__main__ import main as rasa_sdk_main

from actions import defaults
from handoff.errors import HandoffError, HandoffNotFound
from handoff.outbox import Deliverer
from handoff.relay import RasaRelay
from handoff.settings import get_settings as get_handoff_settings
from open311.errors import Open311Error
from open311.watcher import ConversationGone, Notify, start_watcher
from retrieval.errors import RetrievalError

logger = logging.getLogger(__name__)


def warm_up() -> None:
    try:
        searcher = defaults.faq_searcher()
        searcher.search("warm up")
    except RetrievalError:
        logger.error("the FAQ is not available yet; general questions get an apology", exc_info=True)


def start_outbox() -> None:
    """Keep delivering handoff packets the service did not confirm (it was down)."""
    try:
        Deliverer(defaults.handoff_outbox(), defaults.handoff_client()).start()
    except HandoffError:
        logger.error("the handoff outbox cannot be opened; packets are posted without it", exc_info=True)


def rasa_notify() -> Notify:
    """Notices to citizens go through the Rasa server's handoff channel (built inside the watcher's loop)."""
    settings = get_handoff_settings()
    relay = RasaRelay(settings.rasa_url, settings.token)

    async def notify(conversation_id: str, response: str, values: dict[str, Any]) -> None:
        try:
            await relay.notify(conversation_id, response, values)
        except HandoffNotFound as exc:
            raise ConversationGone(conversation_id) from exc

    return notify


def start_status_notifications() -> None:
    """Tell citizens when a request they filed or joined changes status."""
    try:
        start_watcher(defaults.request_followers(), defaults.open311_client(), rasa_notify)
    except Open311Error:
        logger.error("the request followers cannot be opened; no status notifications", exc_info=True)


def main() -> None:
    threading.Thread(target=warm_up, name="faq-warm-up", daemon=True).start()
    start_outbox()
    start_status_notifications()
    rasa_sdk_main()


if __name__ == "__main__":
    main()
