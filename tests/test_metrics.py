"""The metrics registry of an app and the endpoint's start-up faults."""

from __future__ import annotations

import socket

import pytest

from bot.errors import ConfigError
from bot.metrics import Metrics, MetricsServer
from bot.observe import Observer


def test_each_app_has_its_own_registry() -> None:
    first, second = Metrics("1.0"), Metrics("1.0")
    first.interactions.labels("/quiz", "ok").inc()
    assert first.registry.get_sample_value(
        "tutorbot_interactions_total", {"command": "/quiz", "outcome": "ok"}) == 1
    assert second.registry.get_sample_value(
        "tutorbot_interactions_total", {"command": "/quiz", "outcome": "ok"}) is None
    assert b'tutorbot_version_info{version="1.0"} 1.0' in first.exposition()


def test_the_gateway_latency_is_read_at_scrape_time_and_skips_unknown_values() -> None:
    metrics = Metrics("1.0")
    metrics.gateway.source = lambda: {0: 0.042, 1: float("inf")}
    text = metrics.exposition().decode()
    assert 'tutorbot_gateway_latency_seconds{shard="0"} 0.042' in text
    assert 'shard="1"' not in text


async def test_a_port_in_use_is_a_configuration_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = MetricsServer(Observer(), db=None, host="127.0.0.1", port=port)  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match=r"metrics\.port"):
            await server.start()
