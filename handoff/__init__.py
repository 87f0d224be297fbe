"""Handoff to a person: the durable queue of requests (agent console and relay come later)."""

from __future__ import annotations

from handoff.errors import HandoffError, HandoffUnavailable
from handoff.store import HandoffRequest, HandoffStore

__all__ = ["HandoffError", "HandoffRequest", "HandoffStore", "HandoffUnavailable"]
