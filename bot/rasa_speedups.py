"""Speed fixes for Rasa 3.6 internals, installed when our components are imported.

Rasa validates every action-server response with ``jsonschema.validate``,
which re-checks the (large) events schema against its meta-schema on every
call; on our 2-core machines that was ~20% of the Rasa server's CPU per
message. We validate against the same schema with a validator built once.
Behaviour is unchanged: an invalid response still raises ``ValidationError``
with Rasa's explanation appended.

Loading a tracker turns every stored event back into an object, and Rasa finds
each event's class by walking the whole ``Event`` class tree (with
``inspect.isabstract`` on every class) per event: ~20% of the CPU per message in
a 15-turn conversation. We keep the name -> class map, rebuilt when a name is
not found (an event class imported later).

The SQLite tracker store also runs in write-ahead-log mode (see
``open311.store.use_sqlite_wal``): each message's commit no longer waits for a
full journal sync.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

from open311.store import use_sqlite_wal


@lru_cache(maxsize=1)
def _action_response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    try:
        _action_response_validator().validate(result)
        return True
    except ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise e


_event_classes: dict[str, type[Event]] = {}


def _resolve_event_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """Rasa's ``Event.resolve_by_type`` with the class lookup cached (same results)."""
    if type_name not in _event_classes:
        _event_classes.clear()
        for cls in all_subclasses(Event):
            _event_classes.setdefault(cls.type_name, cls)  # the first match wins, as in Rasa
    found = _event_classes.get(type_name)
    if found is not None:
        return found
    if type_name == "topic":
        return None  # backwards compatibility to support old TopicSet evts
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def install() -> None:
    """Replace Rasa's per-call schema check with the cached validator (idempotent)."""
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(_resolve_event_type)  # type: ignore[method-assign,assignment]
    if not sa.event.contains(sa.engine.Engine, "connect", use_sqlite_wal):
        sa.event.listen(sa.engine.Engine, "connect", use_sqlite_wal)
