"""Prometheus metrics of one app, and the optional HTTP endpoint serving them with ``/healthz``.

Each app has its own :class:`~prometheus_client.CollectorRegistry` (never the global one), so
several apps in one process (tests, two bots) keep separate counts. The counters are fed from
the one unit-of-work helper (``Turn``) and the job wrapper (``JobTracker``) through
:class:`bot.observe.Observer`; nothing else increments them.

Labels are bounded: commands and button kinds are the bot's own names (an unknown button is
``button:unknown``), outcomes and engines are short fixed sets. There is no per-guild label
(the number of guilds is unbounded): per-guild figures are in the logs and the report.

This module is domain code: it never imports ``discord``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, Info
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.db.engine import Database
    from bot.observe import Observer

log = logging.getLogger(__name__)

#: Interaction latency buckets (seconds): Discord's 3-second window sits between 2.5 and 5.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (0.01, 0.05, 0.25, 1.0, 5.0, 15.0, 60.0, 300.0)


class _GatewayCollector(Collector):
    """Gateway latency per shard, read at scrape time from the Discord adapter's callback."""

    def __init__(self) -> None:
        self.source: Callable[[], Mapping[int, float]] | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "tutorbot_gateway_latency_seconds",
            "Time between the last gateway heartbeat and its acknowledgement, per shard.",
            labels=["shard"],
        )
        source = self.source
        if source is not None:
            for shard, latency in sorted(source().items()):
                if math.isfinite(latency):  # infinite until the first acknowledgement
                    family.add_metric([str(shard)], latency)
        yield family


class Metrics:
    """Every metric of one app, in its own registry."""

    def __init__(self, version: str) -> None:
        registry = self.registry = CollectorRegistry(auto_describe=True)
        self.interactions = Counter(
            "tutorbot_interactions", "Interactions handled, by command (or button kind) and "
            "outcome (ok, refused, busy, timeout, error, db_error, cancelled, restarting).",
            ["command", "outcome"], registry=registry,
        )
        self.interaction_seconds = Histogram(
            "tutorbot_interaction_seconds", "Time from an interaction's start to its end.",
            ["command"], buckets=LATENCY_BUCKETS, registry=registry,
        )
        self.ask_answers = Counter(
            "tutorbot_ask_answers", "/ask answers by engine (llm, local) and the reason the "
            "local model answered instead of Claude (none when it did not).",
            ["engine", "fallback"], registry=registry,
        )
        self.ask_tokens = Counter(
            "tutorbot_ask_tokens", "Claude tokens billed for /ask, by kind (input, output, "
            "cache_read, cache_write).", ["kind"], registry=registry,
        )
        self.daily_posts_made = Counter(
            "tutorbot_daily_posts_made", "Daily quiz posts made.", registry=registry,
        )
        self.daily_posts_late = Counter(
            "tutorbot_daily_posts_late", "Daily quiz posts made over a minute after their "
            "time (caught up after a restart, or retried).", registry=registry,
        )
        self.daily_posts_missed = Counter(
            "tutorbot_daily_posts_missed", "Daily quiz posts given up (not made within the "
            "grace window).", registry=registry,
        )
        self.jobs = Counter(
            "tutorbot_jobs", "Scheduled job runs by job and outcome (ok, error, db_error).",
            ["job", "outcome"], registry=registry,
        )
        self.job_seconds = Histogram(
            "tutorbot_job_seconds", "Time a scheduled job run took.", ["job"],
            buckets=JOB_BUCKETS, registry=registry,
        )
        self.database_errors = Counter(
            "tutorbot_database_errors", "Database errors met by interactions and jobs, by kind "
            "(damaged, busy, other).", ["kind"], registry=registry,
        )
        self.gateway = _GatewayCollector()
        registry.register(self.gateway)
        Info("tutorbot_version", "The running tutorbot's version.", registry=registry).info(
            {"version": version}
        )

    def exposition(self) -> bytes:
        """The metrics in Prometheus's text format."""
        return generate_latest(self.registry)


class MetricsServer:
    """``/metrics`` and ``/healthz`` over HTTP, as a lifecycle worker (``metrics.enabled``).

    ``/healthz`` answers 200 ``{"status": "ok"}``, or 503 with the problems when a shard has
    been down for over a minute or the database check fails (a damaged file, an error, no
    answer within 2 s).
    """

    name = "metrics"

    def __init__(self, observer: Observer, db: Database, host: str, port: int) -> None:
        self.observer = observer
        self.db = db
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen on ``host:port`` (a port of 0 takes any free one; :attr:`port` says which)."""
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(
                f"Cannot serve metrics on {self.host}:{self.port} ({exc.strerror or exc}): "
                "set metrics.port to a free port, or metrics.enabled = false."
            ) from None
        self._runner = runner
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("metrics at http://%s:%d/metrics, health at /healthz", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _metrics(self, _: web.Request) -> web.Response:
        body = self.observer.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, _: web.Request) -> web.Response:
        problems = await self.observer.problems(self.db)
        if problems:
            return web.json_response({"status": "unhealthy", "problems": problems}, status=503)
        return web.json_response({"status": "ok"})


__all__ = ["LATENCY_BUCKETS", "Metrics", "MetricsServer"]
