"""The chat page's own words in every configured language (web/translations.yml).

The languages are those of bot/data/languages.yml: each one must have every key any of them has,
with the same placeholders, or loading fails (:class:`TranslationError`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from markupsafe import Markup, escape

from bot.language import LanguageConfig

TRANSLATIONS_FILE = Path(__file__).resolve().parent / "translations.yml"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
BOLD = re.compile(r"\*\*(.+?)\*\*")
# An Accept-Language entry: a tag such as es-MX, then optional parameters such as ;q=0.8.
_QUALITY = re.compile(r";\s*q\s*=\s*([0-9.]+)")


class TranslationError(ValueError):
    """A configured language lacks some of the page's words, or has malformed ones."""


def fill(template: str, values: dict[str, str]) -> str:
    """The template with its known {placeholders} replaced; unknown ones stay for the browser."""
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), template)


def bold(text: str) -> Markup:
    """Escaped text with **words** in bold: the only markup the page's words may use."""
    return Markup(BOLD.sub(r"<strong>\1</strong>", str(escape(text))))


@dataclass(frozen=True)
class PageText:
    """The page's words (key -> text) per configured language, in languages.yml's order."""

    default: str
    names: dict[str, str]  # language code -> endonym ("Español")
    strings: dict[str, dict[str, str]]

    @classmethod
    def load(cls, config: LanguageConfig | None = None, path: Path = TRANSLATIONS_FILE) -> PageText:
        config = config or LanguageConfig.from_file()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        strings = {code: {str(k): str(v) for k, v in (data.get(code) or {}).items()} for code in config.codes}
        keys = {key for texts in strings.values() for key in texts}
        problems = []
        for code, texts in strings.items():
            missing = sorted(key for key in keys if not texts.get(key, "").strip())
            if missing:
                problems.append(f"{code} lacks {', '.join(missing)}")
        reference = strings[config.default]
        for code, texts in strings.items():
            for key, text in texts.items():
                expected = set(PLACEHOLDER.findall(reference.get(key, "")))
                if set(PLACEHOLDER.findall(text)) != expected:
                    problems.append(f"{code}.{key} must use the placeholders {sorted(expected)}")
        if problems:
            raise TranslationError(f"{path}: " + "; ".join(problems))
        return cls(default=config.default, names=dict(config.names), strings=strings)

    def filled(self, language: str, values: dict[str, str]) -> dict[str, str]:
        """One language's words with the given placeholders filled in."""
        return {key: fill(text, values) for key, text in self.strings[language].items()}

    def preferred(self, accept_language: str | None) -> str:
        """The configured language a browser's Accept-Language header prefers most, else the default."""
        ranked: list[tuple[float, int, str]] = []
        for position, entry in enumerate((accept_language or "").split(",")):
            code = entry.split(";")[0].strip().split("-")[0].lower()
            quality = _QUALITY.search(entry)
            try:
                weight = float(quality.group(1)) if quality else 1.0
            except ValueError:
                continue
            if code in self.strings and weight > 0:
                ranked.append((-weight, position, code))
        return min(ranked)[2] if ranked else self.default


@lru_cache(maxsize=1)
def get_page_text() -> PageText:
    return PageText.load()
