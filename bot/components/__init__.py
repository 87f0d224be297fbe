"""Custom Rasa graph components. Importing them also installs bot.rasa_speedups."""

from __future__ import annotations

from bot import rasa_speedups

rasa_speedups.install()
