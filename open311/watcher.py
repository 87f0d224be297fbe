"""Status notifications: tell citizens, on their channel and in their language, when their request changes.

A background thread of the action server asks the Open311 server (GET
requests.json?service_request_id=...) about every followed request each
``poll_seconds``, and posts a notice to the Rasa server's ``/webhooks/handoff/notify``
for each change; Rasa renders it in the conversation's language and pushes it on the
channel the citizen last used. A notice that cannot be posted is tried again next
round, so none is lost while Rasa is down; a closed request is followed no longer.
With several action servers, each change is claimed in the followers table before
it is told, so only one of their watchers tells it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from open311.client import Open311Client, RemoteRequest
from open311.errors import Open311Error
from open311.followers import Follower, FollowerStore

logger = logging.getLogger(__name__)

Notify = Callable[[str, str, dict[str, Any]], Awaitable[None]]
CLOSED = "closed"


class ConversationGone(Exception):
    """Raised by a notify function when the conversation no longer exists: stop following for it."""


def notice_for(follower: Follower, request: RemoteRequest) -> tuple[str, dict[str, Any]] | None:
    """The response and values to send, or None when nothing the citizen cares about changed."""
    if request.status == follower.last_status and (request.status_notes or None) == (follower.last_notes or None):
        return None
    values = {"request_id": request.service_request_id, "status_notes": request.status_notes or "-"}
    if request.status == CLOSED:
        return "utter_request_status_closed", values
    return "utter_request_status_updated", values


class StatusWatcher:
    def __init__(self, followers: FollowerStore, client: Open311Client, notify: Notify) -> None:
        self._followers = followers
        self._client = client
        self._notify = notify

    async def run_once(self) -> int:
        """Check every followed request once; the number of citizens told."""
        followers = await asyncio.to_thread(self._followers.active)
        if not followers:
            return 0
        found = {r.service_request_id: r for r in await self._client.find_requests(
            ids=sorted({f.service_request_id for f in followers}))}
        told = 0
        for follower in followers:
            request = found.get(follower.service_request_id)
            notice = notice_for(follower, request) if request else None
            if request is None or notice is None:
                continue
            changed = Follower(follower.service_request_id, follower.conversation_id, request.status,
                               request.status_notes)
            if not await asyncio.to_thread(self._followers.claim, follower, request.status, request.status_notes,
                                           request.status != CLOSED):
                continue  # another action server's watcher tells this one
            try:
                await self._notify(follower.conversation_id, notice[0], notice[1])
            except ConversationGone:
                logger.info("conversation %s is gone; no longer following %s", follower.conversation_id,
                            follower.service_request_id)
                await asyncio.to_thread(self._followers.record, changed, request.status, request.status_notes, False)
                continue
            except Exception:  # Rasa down: give the change back, to be told next round
                logger.warning("could not tell %s about %s", follower.conversation_id,
                               follower.service_request_id, exc_info=True)
                await asyncio.to_thread(self._followers.record, changed, follower.last_status, follower.last_notes,
                                        True)
                continue
            told += 1
        return told

    async def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Open311Error:
                logger.warning("could not check followed service requests", exc_info=True)
            except Exception:  # a surprise must not end the notifications for good
                logger.exception("checking followed service requests failed")
            await asyncio.to_thread(stop.wait, self._client.settings.poll_seconds)


def start_watcher(
    followers: FollowerStore, client: Open311Client, make_notify: Callable[[], Notify]
) -> threading.Event:
    """Run the watcher in a daemon thread with its own event loop; set the returned event to stop it."""
    stop = threading.Event()

    def run() -> None:
        async def main() -> None:
            await StatusWatcher(followers, client, make_notify()).run_forever(stop)

        asyncio.run(main())

    threading.Thread(target=run, name="open311-status-watcher", daemon=True).start()
    return stop
