"""`python -m actions [rasa-sdk options]`: the action server, with the FAQ model loaded up front.

Loading the sentence embedder takes seconds; doing it while the server starts means
the first citizen to ask a general question does not wait for it.
"""

from __future__ import annotations

import logging
import threading

from rasa_sdk.__main__ import main as rasa_sdk_main

from actions import defaults
from retrieval.errors import RetrievalError

logger = logging.getLogger(__name__)


def warm_up() -> None:
    try:
        searcher = defaults.faq_searcher()
        searcher.search("warm up")
    except RetrievalError:
        logger.error("the FAQ is not available yet; general questions get an apology", exc_info=True)


def main() -> None:
    threading.Thread(target=warm_up, name="faq-warm-up", daemon=True).start()
    rasa_sdk_main()


if __name__ == "__main__":
    main()
