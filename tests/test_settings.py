"""Settings: defaults, config file, environment overrides, secrets, and clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import PROJECT_ROOT, Settings, load_settings, prepare_folders


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


def test_a_config_file_that_is_not_utf8_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes('[console]\nname = "Zoë"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8 text") as caught:
        load_settings(config, environ={})
    assert caught.value.__cause__ is None and "\n" not in str(caught.value)


@pytest.mark.parametrize("value", ["1e999", "inf", "-inf", "nan", "NaN"])
def test_non_finite_numbers_are_refused(value: str) -> None:
    with pytest.raises(ConfigError, match=r"ask.timeout_s"):
        load_settings(None, environ={"TUTORBOT_ASK__TIMEOUT_S": value})
    with pytest.raises(ConfigError, match=r"lifecycle.stop_timeout_s"):
        load_settings(None, environ={"TUTORBOT_LIFECYCLE__STOP_TIMEOUT_S": value})


def test_a_database_url_with_a_non_numeric_port_is_refused_without_the_password() -> None:
    with pytest.raises(ConfigError, match=r"database.url: .*non-numeric port") as caught:
        load_settings(None, environ={
            "TUTORBOT_DATABASE__URL": "postgresql://tutor:s3cret-pw@db.example:54x2/tutorbot",
        })
    assert "s3cret-pw" not in str(caught.value)
    with pytest.raises(ConfigError, match="unsupported database 'mysql'"):
        load_settings(None, environ={"TUTORBOT_DATABASE__URL": "mysql://root@localhost/x"})


def test_prepare_folders_creates_the_data_and_cache_folders(tmp_path: Path) -> None:
    settings = load_settings(None, environ={"TUTORBOT_PATHS__DATA_DIR": str(tmp_path / "d")})
    prepare_folders(settings)
    assert (tmp_path / "d" / "cache" / "ask").is_dir()


def test_an_unwritable_data_or_cache_folder_fails_fast(tmp_path: Path) -> None:
    # A file in the way fails for every user, root included (chmod does not stop root).
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    settings = load_settings(None, environ={"TUTORBOT_PATHS__DATA_DIR": str(blocker / "data")})
    with pytest.raises(ConfigError, match=r"Cannot write to the folder .*blocker/data .*paths\.data_dir"):
        prepare_folders(settings)
    data = tmp_path / "data"
    (data / "cache").mkdir(parents=True)
    (data / "cache" / "ask").write_text("in the way")
    settings = load_settings(None, environ={"TUTORBOT_PATHS__DATA_DIR": str(data)})
    with pytest.raises(ConfigError, match=r"Cannot write to the folder .*cache/ask"):
        prepare_folders(settings)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through any permission bits")
def test_a_read_only_cache_folder_fails_fast(tmp_path: Path) -> None:
    cache = tmp_path / "data" / "cache" / "ask"
    cache.mkdir(parents=True)
    cache.chmod(0o500)
    try:
        settings = load_settings(None, environ={"TUTORBOT_PATHS__DATA_DIR": str(tmp_path / "data")})
        with pytest.raises(ConfigError, match="Permission denied"):
            prepare_folders(settings)
    finally:
        cache.chmod(0o700)


def test_shard_ids_come_from_the_environment_with_a_shard_count() -> None:
    settings = load_settings(None, environ={"TUTORBOT_DISCORD__SHARD_COUNT": "4",
                                            "TUTORBOT_DISCORD__SHARD_IDS": "0, 2"})
    assert settings.discord.shard_ids == (0, 2)
    with pytest.raises(ConfigError, match="shard_ids needs shard_count"):
        load_settings(None, environ={"TUTORBOT_DISCORD__SHARD_IDS": "0"})
    with pytest.raises(ConfigError, match=r"outside 0\.\.1"):
        load_settings(None, environ={"TUTORBOT_DISCORD__SHARD_COUNT": "2",
                                     "TUTORBOT_DISCORD__SHARD_IDS": "3"})
