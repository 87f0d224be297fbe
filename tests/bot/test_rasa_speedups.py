from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

import bot.components  # noqa: F401  (installs the speedups)


def action() -> RemoteAction:
    return RemoteAction("action_test", EndpointConfig("http://127.0.0.1:1/webhook"))


def test_valid_action_server_responses_still_pass():
    response = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
    assert action()._validate_action_result(response) is True


def test_invalid_action_server_responses_are_still_refused():
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action()._validate_action_result({"events": [{"no_event_key": 1}], "responses": "nope"})


def test_event_types_resolve_as_in_rasa():
    from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered

    assert Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type("action") is ActionExecuted
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("nonsense", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("nonsense")
    restored = Event.from_parameters({"event": "slot", "name": "x", "value": 3})
    assert restored == SlotSet("x", 3)
