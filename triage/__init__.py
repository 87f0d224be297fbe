"""Triage: emergencies first, then category, department and urgency (a library for actions and services)."""

from __future__ import annotations

from triage.assess import (
    EMERGENCY,
    Emergency,
    TriageResult,
    answers_urgency,
    default_catalogue,
    default_config,
    detect_emergency,
    report_urgency,
    triage,
)
from triage.config import TriageConfig
from triage.errors import TriageConfigError, TriageError

__all__ = [
    "EMERGENCY",
    "Emergency",
    "TriageConfig",
    "TriageConfigError",
    "TriageError",
    "TriageResult",
    "answers_urgency",
    "default_catalogue",
    "default_config",
    "detect_emergency",
    "report_urgency",
    "triage",
]
