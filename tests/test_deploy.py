"""The sample deployment files agree with the code: stop timeouts, shards, exit statuses."""

from __future__ import annotations

import re

import yaml

from bot.cli import build_parser
from bot.errors import ExitStatus
from bot.settings import PROJECT_ROOT, DiscordSettings, LifecycleSettings

DEPLOY = PROJECT_ROOT / "deploy"
#: A supervisor waits the drain bound plus this margin before it kills the process.
MARGIN_S = 5


def unit_setting(name: str) -> str:
    text = (DEPLOY / "tutorbot.service").read_text()
    match = re.search(rf"^{name}=(.*)$", text, re.MULTILINE)
    assert match, f"tutorbot.service has no {name}="
    return match.group(1).strip()


def test_the_systemd_unit_waits_the_drain_bound_plus_5_s_and_never_restarts_bad_config() -> None:
    bound = LifecycleSettings().stop_timeout_s
    assert float(unit_setting("TimeoutStopSec")) == bound + MARGIN_S
    assert unit_setting("KillSignal") == "SIGTERM"
    refused = {int(status) for status in unit_setting("RestartPreventExitStatus").split()}
    assert refused == {ExitStatus.USAGE, ExitStatus.CONFIG}
    command = unit_setting("ExecStart").split()
    assert command[0].endswith("/tutorbot")
    build_parser().parse_args(command[1:])  # options the command line knows


def test_the_compose_file_splits_the_shards_and_waits_the_drain_bound_plus_5_s() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    bots = {name: service for name, service in compose["services"].items()
            if name.startswith("tutorbot")}
    assert len(bots) == 2
    bound = LifecycleSettings().stop_timeout_s
    shards = []
    for service in bots.values():
        assert service["stop_grace_period"] == f"{bound + MARGIN_S:g}s"
        env = service["environment"]
        settings = DiscordSettings(shard_count=int(env["TUTORBOT_DISCORD__SHARD_COUNT"]),
                                   shard_ids=env["TUTORBOT_DISCORD__SHARD_IDS"])
        assert env["TUTORBOT_DATABASE__URL"].startswith("postgresql://")
        assert settings.shard_ids is not None
        shards += settings.shard_ids
        assert "../lessons:/app/lessons:ro" in service["volumes"]  # the same files: reloads follow
    assert sorted(shards) == list(range(settings.shard_count or 0))
