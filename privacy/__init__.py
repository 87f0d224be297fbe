"""Keeping citizens' personal data out of logs, exports and content-team reports."""

from __future__ import annotations

from privacy.redact import redact

__all__ = ["redact"]
