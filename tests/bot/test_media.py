from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.connectors import media
from bot.connectors.media import MediaError, MediaSettings, keep_photo

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_a_kept_photo_gets_an_unguessable_public_link(tmp_path):
    settings = MediaSettings(media_dir=tmp_path, public_url="https://city.example.org/")
    first, second = keep_photo(PNG, settings), keep_photo(PNG, settings)
    assert first.startswith("https://city.example.org/media/") and first.endswith(".png") and first != second
    assert (tmp_path / first.rsplit("/", 1)[1]).read_bytes() == PNG


@pytest.mark.parametrize("content", [b"<html><script>alert(1)</script>", b"", b"\xff\xd8\xff" + b"x" * media.MAX_BYTES],
                         ids=["html", "empty", "too-big"])
def test_what_is_not_a_reasonable_image_is_refused(tmp_path, content):
    with pytest.raises(MediaError):
        keep_photo(content, MediaSettings(media_dir=tmp_path))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("content, extension", [
    (b"\xff\xd8\xff\xe0" + b"\x00" * 16, ".jpg"), (PNG, ".png"), (b"GIF89a" + b"\x00" * 16, ".gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 16, ".webp")])
def test_the_stored_type_comes_from_the_content_not_from_what_the_provider_says(tmp_path, content, extension):
    assert keep_photo(content, MediaSettings(media_dir=tmp_path)).endswith(extension)


def test_the_web_app_serves_kept_photos(tmp_path, monkeypatch):
    monkeypatch.setenv("CITYBOT_MEDIA_DIR", str(tmp_path))
    media.get_media_settings.cache_clear()
    try:
        from web.app import create_app

        link = keep_photo(PNG)
        client = TestClient(create_app())
        served = client.get("/media/" + link.rsplit("/", 1)[1])
        assert served.status_code == 200 and served.content == PNG
        assert client.get("/media/nothing-here.png").status_code == 404
    finally:
        media.get_media_settings.cache_clear()
