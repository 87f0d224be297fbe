from __future__ import annotations

from stack.settings import StackSettings
from stack.train import fingerprint, is_stale


def test_fingerprint_changes_when_an_input_changes(tmp_path):
    config = tmp_path / "config.yml"
    data = tmp_path / "data"
    data.mkdir()
    config.write_text("pipeline: []")
    (data / "nlu.yml").write_text("nlu: []")
    before = fingerprint([config, data])
    assert fingerprint([config, data]) == before
    (data / "nlu.yml").write_text("nlu: [changed]")
    assert fingerprint([config, data]) != before


def test_missing_model_is_stale(tmp_path):
    settings = StackSettings(model_path=tmp_path / "citybot.tar.gz", var_dir=tmp_path)
    assert is_stale(settings)


def test_local_mode_generates_a_private_api_token_once(tmp_path):
    settings = StackSettings(var_dir=tmp_path, rasa_api_token="")
    token = settings.rasa_token()
    assert len(token) >= 32
    assert (tmp_path / "rasa_api_token").stat().st_mode & 0o077 == 0
    assert StackSettings(var_dir=tmp_path, rasa_api_token="").rasa_token() == token


def test_outside_local_mode_a_token_must_be_configured(tmp_path):
    settings = StackSettings(var_dir=tmp_path, mode="production", rasa_api_token="")
    try:
        settings.rasa_token()
    except ValueError as exc:
        assert "CITYBOT_RASA_API_TOKEN" in str(exc)
    else:
        raise AssertionError("a missing token was accepted in production mode")


def test_default_database_lives_in_the_var_folder(tmp_path):
    assert StackSettings(var_dir=tmp_path, database_url="").database_url == f"sqlite:///{tmp_path}/citybot.db"
