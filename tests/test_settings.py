"""Settings: defaults, config file, environment overrides, secrets, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import PROJECT_ROOT, Settings, load_settings


def test_config_example_documents_every_setting_with_its_default() -> None:
    example = load_settings(PROJECT_ROOT / "config.example.toml", environ={})
    assert example == Settings()
    text = (PROJECT_ROOT / "config.example.toml").read_text()
    for section, model in Settings().model_dump().items():
        if isinstance(model, dict):
            assert f"[{section}]" in text
            for key in model:
                assert f"{key} =" in text, f"config.example.toml does not document {section}.{key}"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[ask]\nmodel = "from-file"\nmax_tokens = 100\n')
    settings = load_settings(config, environ={"TUTORBOT_ASK__MODEL": "from-env"})
    assert settings.ask.model == "from-env"
    assert settings.ask.max_tokens == 100


def test_secrets_come_only_from_their_variables_and_never_print(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        environ={"DISCORD_TOKEN": "tok-123", "ANTHROPIC_API_KEY": "sk-secret"},
    )
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "tok-123"
    assert "sk-secret" not in repr(settings) and "tok-123" not in str(settings)
    config = tmp_path / "config.toml"
    config.write_text('anthropic_api_key = "sk-in-a-file"\n')
    with pytest.raises(ConfigError, match="only from the environment"):
        load_settings(config, environ={})


def test_bad_values_are_reported_by_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, environ={"TUTORBOT_ASK__TIMEOUT_S": "soon",
                                     "TUTORBOT_ASK__COLOUR": "red"})
    message = str(caught.value)
    assert "ask.timeout_s" in message and "ask.colour" in message
    assert "unknown setting" in message


def test_broken_toml_and_missing_explicit_file_are_clear(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[ask\nmodel = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config, environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_default_database_is_sqlite_in_the_data_folder() -> None:
    settings = load_settings(None, environ={"TUTORBOT_PATHS__DATA_DIR": "/srv/tb"})
    assert settings.database_url == "sqlite+aiosqlite:////srv/tb/tutorbot.sqlite3"
