from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.connectors import media
from bot.connectors.media import MediaError, MediaSettings, keep_photo

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_a_kept_photo_gets_an_unguessable_public_link(tmp_path):
    settings = MediaSettings(media_dir=tmp_path, public_url="https://city.example.org/")
    first, second = keep_photo(PNG, "image/png", settings), keep_photo(PNG, "image/png", settings)
    assert first.startswith("https://city.example.org/media/") and first.endswith(".png") and first != second
    assert (tmp_path / first.rsplit("/", 1)[1]).read_bytes() == PNG


@pytest.mark.parametrize("content, kind", [(b"<html>", "text/html"), (b"", "image/jpeg"),
                                           (b"x" * (media.MAX_BYTES + 1), "image/jpeg")])
def test_what_is_not_a_reasonable_image_is_refused(tmp_path, content, kind):
    with pytest.raises(MediaError):
        keep_photo(content, kind, MediaSettings(media_dir=tmp_path))


def test_the_web_app_serves_kept_photos(tmp_path, monkeypatch):
    monkeypatch.setenv("CITYBOT_MEDIA_DIR", str(tmp_path))
    media.get_media_settings.cache_clear()
    try:
        from web.app import create_app

        link = keep_photo(PNG, "image/png")
        client = TestClient(create_app())
        served = client.get("/media/" + link.rsplit("/", 1)[1])
        assert served.status_code == 200 and served.content == PNG
        assert client.get("/media/nothing-here.png").status_code == 404
    finally:
        media.get_media_settings.cache_clear()
