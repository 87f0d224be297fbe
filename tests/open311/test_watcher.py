"""Status notifications: the watcher against the web app's Open311 server, with a notify that records."""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest

from open311.client import RemoteRequest, ServerUnavailable
from open311.followers import Follower
from open311.watcher import ConversationGone, StatusWatcher, notice_for, start_watcher
from tests.open311.conftest import set_status, unreachable

pytestmark = pytest.mark.anyio


class Recorder:
    """The Rasa server's notify webhook as the watcher sees it: records, or is down."""

    def __init__(self) -> None:
        self.notices: list[tuple[str, str, dict[str, Any]]] = []
        self.down = False

    async def __call__(self, conversation_id: str, response: str, values: dict[str, Any]) -> None:
        if self.down:
            raise ConnectionError("the Rasa server cannot be reached")
        self.notices.append((conversation_id, response, values))


@pytest.fixture
def notify() -> Recorder:
    return Recorder()


async def followed_request(open311, followers, conversation_id: str = "conv-1") -> str:
    filed = await open311.create_request("pothole", description="deep hole", address_string="120 Main Street",
                                         answers={"size": "small", "in_traffic_lane": "no"})
    request = await open311.get_request(filed.service_request_id)
    assert request is not None
    followers.follow(request.service_request_id, conversation_id, request.status, request.status_notes)
    return request.service_request_id


async def test_nothing_is_told_while_nothing_changed(open311, followers, notify):
    await followed_request(open311, followers)
    assert await StatusWatcher(followers, open311, notify).run_once() == 0
    assert notify.notices == []
    assert len(followers.active()) == 1


async def test_a_closed_request_is_told_once_and_followed_no_longer(open311, open311_app, followers, notify):
    request_id = await followed_request(open311, followers)
    await set_status(open311_app, request_id, "closed", "Filled on 23 Nov")
    watcher = StatusWatcher(followers, open311, notify)
    assert await watcher.run_once() == 1
    assert notify.notices == [("conv-1", "utter_request_status_closed",
                               {"request_id": request_id, "status_notes": "Filled on 23 Nov"})]
    assert followers.active() == []
    assert await watcher.run_once() == 0 and len(notify.notices) == 1  # told once


async def test_joining_a_request_again_tells_changes_from_then_on(open311, open311_app, followers, notify):
    request_id = await followed_request(open311, followers)
    await set_status(open311_app, request_id, "closed", "Filled")
    watcher = StatusWatcher(followers, open311, notify)
    assert await watcher.run_once() == 1
    await set_status(open311_app, request_id, "open", "Reopened: the patch sank")
    reopened = await open311.get_request(request_id)
    assert reopened is not None
    # The citizen joins it again (a duplicate report): they know its state, so nothing is told yet.
    assert followers.follow(request_id, "conv-1", reopened.status, reopened.status_notes)
    assert await watcher.run_once() == 0 and len(notify.notices) == 1


async def test_with_two_action_servers_a_change_is_told_once(open311, open311_app, followers, notify):
    request_id = await followed_request(open311, followers)
    await set_status(open311_app, request_id, "closed", "Filled")
    seen = followers.active()  # both watchers read the followers before either tells
    first, second = StatusWatcher(followers, open311, notify), StatusWatcher(followers, open311, notify)
    followers.active = lambda: seen  # type: ignore[method-assign]
    assert await first.run_once() + await second.run_once() == 1
    assert len(notify.notices) == 1


async def test_every_follower_of_a_request_is_told(open311, open311_app, followers, notify):
    request_id = await followed_request(open311, followers, "conv-1")
    followers.follow(request_id, "conv-2", "open", None)  # joined it as a duplicate
    await set_status(open311_app, request_id, "closed", "Filled")
    assert await StatusWatcher(followers, open311, notify).run_once() == 2
    assert sorted(conversation for conversation, _, _ in notify.notices) == ["conv-1", "conv-2"]


async def test_new_notes_on_an_open_request_are_an_update(open311, open311_app, followers, notify):
    request_id = await followed_request(open311, followers)
    await set_status(open311_app, request_id, "open", "A crew is on the way")
    assert await StatusWatcher(followers, open311, notify).run_once() == 1
    [(_, response, values)] = notify.notices
    assert (response, values["status_notes"]) == ("utter_request_status_updated", "A crew is on the way")
    assert followers.active()[0].last_notes == "A crew is on the way"  # still followed


async def test_a_notice_that_cannot_be_delivered_is_told_next_round(open311, open311_app, followers, notify):
    request_id = await followed_request(open311, followers)
    await set_status(open311_app, request_id, "closed", "Filled")
    watcher = StatusWatcher(followers, open311, notify)
    notify.down = True
    assert await watcher.run_once() == 0
    assert [f.last_status for f in followers.active()] == ["open"]  # not marked as told
    notify.down = False
    assert await watcher.run_once() == 1
    assert [(c, r) for c, r, _ in notify.notices] == [("conv-1", "utter_request_status_closed")]
    assert followers.active() == []


async def test_nobody_followed_means_no_call_to_the_server(followers, notify):
    assert await StatusWatcher(followers, unreachable(), notify).run_once() == 0


def test_a_reopened_request_is_told_as_an_update():
    follower = Follower("SR-7K3M9Q2X", "conv-1", "closed", "Filled")
    request = RemoteRequest.from_json({"service_request_id": "SR-7K3M9Q2X", "status": "open",
                                       "status_notes": "Sinking again", "service_code": "pothole"})
    assert notice_for(follower, request) == ("utter_request_status_updated", {
        "request_id": "SR-7K3M9Q2X", "status_notes": "Sinking again"})


async def test_a_conversation_that_is_gone_is_followed_no_longer(open311, open311_app, followers):
    request_id = await followed_request(open311, followers)
    await set_status(open311_app, request_id, "closed", "Filled")

    async def gone(conversation_id: str, response: str, values: dict[str, Any]) -> None:
        raise ConversationGone(conversation_id)

    assert await StatusWatcher(followers, open311, gone).run_once() == 0
    assert followers.active() == []


async def test_while_the_server_is_down_nobody_stops_being_followed(open311, followers, notify):
    await followed_request(open311, followers)
    with pytest.raises(ServerUnavailable):  # run_forever logs it and tries again next round
        await StatusWatcher(followers, unreachable(), notify).run_once()
    assert [f.last_status for f in followers.active()] == ["open"]


async def test_the_background_watcher_tells_a_change_within_a_few_polls(open311, open311_app, followers, notify):
    request_id = await followed_request(open311, followers)
    stop = start_watcher(followers, open311, lambda: notify)  # polls every 0.1 s, in its own thread and loop
    try:
        await set_status(open311_app, request_id, "closed", "Filled")
        deadline = time.monotonic() + 10
        while not notify.notices and time.monotonic() < deadline:
            await anyio.sleep(0.05)
    finally:
        stop.set()
    assert [(c, r) for c, r, _ in notify.notices] == [("conv-1", "utter_request_status_closed")]


async def test_a_change_without_notes_is_told_with_a_dash_not_the_old_notes(open311, open311_app, followers, notify):
    request_id = await followed_request(open311, followers)
    await set_status(open311_app, request_id, "closed")
    assert await StatusWatcher(followers, open311, notify).run_once() == 1
    assert notify.notices[0][2]["status_notes"] == "-"
