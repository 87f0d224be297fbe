"""Photos citizens send on WhatsApp or Telegram, kept so a service request can link to them.

Providers hand the bot a file behind their own authentication (a Telegram file URL
holds the bot's token; a WhatsApp media URL needs the access token), so the channel
downloads the file and keeps it under ``CITYBOT_MEDIA_DIR`` with an unguessable
name; the web app serves that folder at ``/media/`` (web/app.py), and the report's
``media_url`` is that public link.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
MAX_BYTES = 10 * 1024 * 1024
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif"}


class MediaError(Exception):
    """A file that cannot be kept: too big, not an image, or the folder cannot be written."""


class MediaSettings(BaseSettings):
    media_dir: Path = ROOT / "var" / "media"
    # The web app's address as citizens and the city's systems reach it (links in service requests).
    public_url: str = "http://127.0.0.1:8000"

    class Config:
        env_prefix = "CITYBOT_"
        env_file = str(ROOT / ".env")
        extra = "ignore"


@lru_cache(maxsize=1)
def get_media_settings() -> MediaSettings:
    return MediaSettings()


def image_type(content: bytes) -> str:
    """The image's media type from its first bytes ('' when it is not an image the bot keeps).

    What the provider declares is not trusted: the file is served from the city's own address.
    """
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return ""


def keep_photo(content: bytes, settings: MediaSettings | None = None) -> str:
    """Store an image (JPEG, PNG, GIF or WebP, by its content); its public URL (``<public_url>/media/<random>.jpg``)."""
    settings = settings or get_media_settings()
    if not content or len(content) > MAX_BYTES:
        raise MediaError(f"an image must be 1 byte to {MAX_BYTES // (1024 * 1024)} MB")
    kind = image_type(content)
    if kind not in EXTENSIONS:
        raise MediaError("not an image the bot keeps (JPEG, PNG, GIF or WebP)")
    name = secrets.token_urlsafe(18) + EXTENSIONS[kind]
    try:
        settings.media_dir.mkdir(parents=True, exist_ok=True)
        (settings.media_dir / name).write_bytes(content)
    except OSError as exc:
        raise MediaError(f"cannot write {settings.media_dir}: {exc}") from exc
    return f"{settings.public_url.rstrip('/')}/media/{name}"
