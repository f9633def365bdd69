"""Settings: ``config.toml`` merged with ``TUTORBOT_<SECTION>__<KEY>`` environment variables.

Settings are built once, at start-up, by :func:`load_settings` and passed down; nothing in the
package reads the environment at import time. Secrets come only from ``DISCORD_TOKEN`` and
``ANTHROPIC_API_KEY`` (plus the SDK's own ``ANTHROPIC_BASE_URL``) and are never printed: they are
held as :class:`pydantic.SecretStr`.

Precedence, lowest first: defaults, ``config.toml``, environment variables.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.errors import ConfigError

#: The repository root when running from a checkout (``bot/`` lives directly under it).
PROJECT_ROOT = Path(__file__).resolve().parent.parent

ENV_PREFIX = "TUTORBOT_"
CONFIG_ENV = "TUTORBOT_CONFIG"


class _Section(BaseModel):
    # allow_inf_nan=False: "1e999" parses as infinity, and an infinite timeout never fires.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class DatabaseSettings(_Section):
    """Where learner progress lives."""

    url: str = Field(
        default="",
        description="SQLAlchemy URL. Empty means SQLite in the data folder.",
    )
    echo: bool = Field(default=False, description="Log every SQL statement (to standard error).")

    @field_validator("url")
    @classmethod
    def _parseable(cls, value: str) -> str:
        if not value:
            return value
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value)
        except (ArgumentError, ValueError) as exc:
            # The message names the part that is wrong, never the URL (it may hold a password).
            # make_url raises a bare ValueError only when int() refuses the port.
            reason = "an unreadable URL"
            if not isinstance(exc, ArgumentError):
                reason = "a non-numeric port"
            raise ValueError(
                f"{reason}; expected e.g. postgresql://user:password@host:5432/dbname "
                "or sqlite:///path/to/file.sqlite3"
            ) from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {url.get_backend_name()!r}: use SQLite or "
                             "PostgreSQL")
        return value


class PathSettings(_Section):
    """Folders on disk."""

    data_dir: Path = Field(default=Path("data"), description="SQLite file, caches, logs.")
    lessons_dir: Path = Field(default=PROJECT_ROOT / "lessons", description="The course content.")

    @field_validator("lessons_dir", mode="before")
    @classmethod
    def _default_lessons(cls, value: object) -> object:
        return PROJECT_ROOT / "lessons" if value in ("", None) else value


class DiscordSettings(_Section):
    """How the bot reaches Discord."""

    api_base: str = Field(default="https://discord.com/api/v10")
    gateway_url: str = Field(default="", description="Empty means Discord's own gateway.")
    dev_guild_id: int | None = Field(default=None, description="Sync commands to this guild only.")
    shard_count: int | None = Field(default=None, ge=1, description="Empty: Discord recommends.")
    shard_ids: tuple[int, ...] | None = Field(
        default=None,
        description="The shards this process connects (with shard_count). Empty: all of them.",
    )
    sync_commands: bool = True

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_list(cls, value: object) -> object:
        # From the environment or the command line: "0,1" or "0 1".
        if isinstance(value, str):
            parts = value.replace(",", " ").split()
            if not all(re.fullmatch(r"[0-9]{1,6}", part) for part in parts):
                raise ValueError(f"shard ids are numbers separated by commas, not {value!r}")
            return tuple(int(part) for part in parts) or None
        return value

    @model_validator(mode="after")
    def _shards_fit(self) -> DiscordSettings:
        if self.shard_ids is None:
            return self
        if self.shard_count is None:
            raise ValueError("shard_ids needs shard_count (the total number of shards)")
        if len(set(self.shard_ids)) != len(self.shard_ids):
            raise ValueError(f"shard_ids lists a shard twice: {list(self.shard_ids)}")
        outside = [n for n in self.shard_ids if not 0 <= n < self.shard_count]
        if outside:
            raise ValueError(
                f"shard_ids {outside} are outside 0..{self.shard_count - 1} "
                f"(shard_count is {self.shard_count})"
            )
        return self


class AskSettings(_Section):
    """The /ask tutor: Claude with a local, offline fallback."""

    engine: Literal["auto", "llm", "local"] = "auto"
    model: str = "claude-haiku-5-5"
    max_tokens: int = Field(default=700, ge=64, le=8192)
    timeout_s: float = Field(default=15.0, gt=0, description="One deadline for the whole attempt.")
    stall_s: float = Field(default=5.0, gt=0, description="Give up on a stream this long silent.")
    max_question_chars: int = Field(default=500, ge=20, le=4000)
    rate_limit_count: int = Field(default=5, ge=1, description="Questions per user per window.")
    rate_limit_window_s: float = Field(default=60.0, gt=0)
    guild_daily_token_budget: int = Field(default=200_000, ge=0)
    passages: int = Field(
        default=4, ge=1, le=12, description="Course passages sent with a question."
    )


class JobsSettings(_Section):
    """The background job runner (daily quizzes and later jobs): one leader process runs it."""

    enabled: bool = Field(default=True, description="Run scheduled jobs in this process.")
    grace_minutes: int = Field(
        default=120, ge=1, le=24 * 60,
        description="A post missed while down (or failing) is still made this long after its time.",
    )
    sync_seconds: float = Field(
        default=10.0, gt=0, le=30, description="How often the leader re-reads schedule changes."
    )
    leader_check_seconds: float = Field(
        default=10.0, gt=0, le=30, description="How often leadership is checked or sought."
    )
    send_per_second: float = Field(
        default=45.0, gt=0, le=50, description="Discord requests per second for posting (global limit 50)."
    )


class DailySettings(_Section):
    """Moderators' daily quizzes."""

    max_schedules_per_guild: int = Field(default=25, ge=1, le=500)


class ReviewSettings(_Section):
    """Spaced repetition: the FSRS memory model behind /review."""

    desired_retention: float = Field(
        default=0.9, gt=0.5, lt=1.0,
        description="The chance of recalling a question when it comes back for review.",
    )
    maximum_interval_days: int = Field(
        default=36500, ge=1, description="The longest a question waits before coming back."
    )
    fuzz: bool = Field(
        default=True,
        description="Spread due dates a little, so questions learned together do not all return together.",
    )
    remind_min_due: int = Field(
        default=5, ge=1, le=1000,
        description="A reminder DM goes only when at least this many reviews are due.",
    )


class MaintainersSettings(_Section):
    """Course maintainers: the weekly digest and how long /ask questions are kept."""

    digest_weekday: int = Field(
        default=0, ge=0, le=6,
        description="Day of the weekly digest in the guild's time zone (0 Monday ... 6 Sunday).",
    )
    digest_hour: int = Field(default=9, ge=0, le=23, description="Hour of the weekly digest.")
    ask_log_retention_days: int = Field(
        default=180, ge=0, description="Delete /ask questions older than this (0: keep forever).",
    )


class ConsoleSettings(_Section):
    """The local console's learner identity."""

    learner_id: int = Field(default=1, ge=1)
    name: str = "you"


class LifecycleSettings(_Section):
    """Starting and stopping the process."""

    stop_timeout_s: float = Field(
        default=8.0, gt=0, le=600,
        description="On SIGTERM/SIGINT: the bound for interactions in flight and workers to end.",
    )


class ReloadSettings(_Section):
    """Live course reloads (``/admin reload``, ``tutorbot lessons reload``)."""

    poll_seconds: float = Field(
        default=30.0, ge=1, le=3600,
        description="How often a process checks whether another one published a reloaded course.",
    )


class BackupSettings(_Section):
    """Scheduled SQLite backups, made by the process that runs the jobs."""

    schedule: str = Field(
        default="",
        description="A daily local time (HH:MM, 24-hour) for a backup; empty: no scheduled backups.",
    )
    timezone: str = Field(default="UTC", description="The time zone of ``schedule``.")
    dir: Path = Field(
        default=Path(""), description="Where backups go. Empty: the backups folder in data_dir."
    )
    keep: int = Field(default=7, ge=1, le=1000, description="Scheduled backups kept (the newest).")

    @field_validator("schedule")
    @classmethod
    def _daily_time(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"([01]?[0-9]|2[0-3]):[0-5][0-9]", value):
            raise ValueError(f"a daily time is HH:MM on a 24-hour clock, e.g. 03:30, not {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class LogSettings(_Section):
    """Logging."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = Field(
        default="text", description="text: one readable line per record; json: JSON lines.",
    )


class MetricsSettings(_Section):
    """The Prometheus metrics and ``/healthz`` endpoint (one port per process)."""

    enabled: bool = Field(default=False, description="Serve /metrics and /healthz over HTTP.")
    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=9108, ge=0, le=65535, description="Port (0: any free port).")


class Settings(_Section):
    """Every setting of the bot. See ``config.example.toml`` for each one with its default."""

    database: DatabaseSettings = DatabaseSettings()
    paths: PathSettings = PathSettings()
    discord: DiscordSettings = DiscordSettings()
    ask: AskSettings = AskSettings()
    console: ConsoleSettings = ConsoleSettings()
    lifecycle: LifecycleSettings = LifecycleSettings()
    jobs: JobsSettings = JobsSettings()
    daily: DailySettings = DailySettings()
    review: ReviewSettings = ReviewSettings()
    maintainers: MaintainersSettings = MaintainersSettings()
    reload: ReloadSettings = ReloadSettings()
    backup: BackupSettings = BackupSettings()
    log: LogSettings = LogSettings()
    metrics: MetricsSettings = MetricsSettings()
    default_timezone: str = "UTC"

    # Secrets: from the environment only (a config file holding them is refused).
    discord_token: SecretStr | None = Field(default=None, exclude=True)
    anthropic_api_key: SecretStr | None = Field(default=None, exclude=True)
    anthropic_base_url: str | None = Field(default=None, exclude=True)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def backup_dir(self) -> Path:
        """Where scheduled backups go (``backup.dir``, or ``backups/`` in the data folder)."""
        return self.backup.dir if str(self.backup.dir) not in ("", ".") else (
            self.paths.data_dir / "backups"
        )

    @property
    def database_url(self) -> str:
        """The database URL, with the embedded SQLite default filled in."""
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{(self.paths.data_dir / 'tutorbot.sqlite3').as_posix()}"


_SECRET_FIELDS = {"discord_token", "anthropic_api_key", "anthropic_base_url"}


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """Turn ``TUTORBOT_SECTION__KEY=value`` into ``{"section": {"key": "value"}}``."""
    tree: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        if not all(path):
            raise ConfigError(
                f"Environment variable {name} is not of the form TUTORBOT_SECTION__KEY."
            )
        node = tree
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"Environment variable {name} clashes with another setting.")
            node = child
        # Empty strings mean "unset" for optional values, as shells make unsetting awkward.
        node[path[-1]] = None if value == "" else value
    return tree


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def describe_errors(error: ValidationError, source: str) -> str:
    """One line per invalid setting, for a :class:`ConfigError`."""
    lines = [f"Invalid settings ({source}):"]
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown setting (see config.example.toml for the list)"
        lines.append(f"  - {where}: {message}")
    return "\n".join(lines)


def load_settings(
    config_path: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings from an optional TOML file and the environment.

    ``config_path`` defaults to ``$TUTORBOT_CONFIG``, then to ``./config.toml`` when it exists.
    Raises :class:`ConfigError` with a message naming every bad setting.
    """
    env = dict(os.environ if environ is None else environ)
    explicit = config_path or env.get(CONFIG_ENV)
    path = Path(explicit) if explicit else Path("config.toml")
    data: dict[str, Any] = {}
    source = "defaults and environment"
    if path.exists():
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{path}: not UTF-8 text (byte {exc.start} cannot be decoded); save the file "
                "as UTF-8."
            ) from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from None
        source = f"{path} and environment"
        leaked = _SECRET_FIELDS & set(data)
        if leaked:
            raise ConfigError(
                f"{path}: secrets ({', '.join(sorted(leaked))}) are read only from the environment "
                "(DISCORD_TOKEN, ANTHROPIC_API_KEY); remove them from the file."
            )
    elif explicit:
        raise ConfigError(f"Config file {path} does not exist.")

    data = _merge(data, _env_overrides(env))
    for field, var in (
        ("discord_token", "DISCORD_TOKEN"),
        ("anthropic_api_key", "ANTHROPIC_API_KEY"),
        ("anthropic_base_url", "ANTHROPIC_BASE_URL"),
    ):
        if env.get(var):
            data[field] = env[var]
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, source)) from None


def prepare_folders(settings: Settings) -> None:
    """Create the data folder and its cache, and check the process can write there.

    Run at start by every entry point, before anything slow (embedding the course takes half a
    minute on a cold cache and would be lost if the cache could not be written). Raises
    :class:`ConfigError` naming the folder and the setting that chooses it.
    """
    import tempfile

    data_dir = settings.paths.data_dir
    for folder, setting in ((data_dir, "paths.data_dir"), (data_dir / "cache" / "ask", None)):
        where = f"set {setting} (TUTORBOT_PATHS__DATA_DIR) to a folder it can write"
        if setting is None:
            where = "make it writable, or set paths.data_dir to another folder"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ConfigError(
                f"Cannot write to the folder {folder} ({reason}): {where}."
            ) from None
