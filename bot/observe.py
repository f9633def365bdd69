"""What one app tells its operator: a log line and metrics per interaction and job, and health.

An :class:`Observer` belongs to an :class:`~bot.app.AppContext` (``app.observer``). It is fed
from two places only: the unit of work of every interaction (``Turn`` in
:mod:`bot.exts._interactions`) and the job wrapper (:class:`bot.jobs.runner.JobTracker`).

Log lines name the learner by an HMAC of their Discord id, with a random key created once and
kept in ``app_state`` (so lines of one learner can be followed across restarts and processes,
but the id cannot be read back; it is not a secret to configure). ``/forget-me`` has nothing to
remove from the logs.

This module is domain code: it never imports ``discord``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bot import __version__
from bot.errors import DatabaseBusyError
from bot.health import Health, check_database, is_damaged_database
from bot.log import EVENTS_LOGGER, event
from bot.metrics import Metrics

if TYPE_CHECKING:
    from bot.app import AppContext
    from bot.db.engine import Database
    from bot.metrics import MetricsServer

log = logging.getLogger(__name__)
events = logging.getLogger(EVENTS_LOGGER)

#: The app_state key of the learner HMAC's random key.
LEARNER_KEY = "log.learner_hmac_key"
#: Outcomes that are the bot's fault: the line carries an error id the learner also sees.
FAILED = ("error", "db_error")


def new_error_id() -> str:
    """A short id the learner can quote and the operator can find in the log."""
    return secrets.token_hex(4)


def database_error_kind(error: BaseException) -> str | None:
    """``damaged``, ``busy`` or ``other`` for a database error; ``None`` for anything else."""
    from sqlalchemy.exc import SQLAlchemyError

    if is_damaged_database(error):
        return "damaged"
    if isinstance(error, DatabaseBusyError):
        return "busy"
    if isinstance(error, SQLAlchemyError):
        return "other"
    return None


class Observer:
    """Log lines, metrics and health of one app."""

    def __init__(self, database_url: str = "", *, version: str = __version__) -> None:
        self.version = version
        self.database_url = database_url
        self.metrics = Metrics(version)
        self.health = Health()
        self.workers_registered = False
        #: The metrics endpoint, when it runs (its ``port`` is the one bound).
        self.server: MetricsServer | None = None
        self._learner_key: bytes | None = None
        self._key_lock = asyncio.Lock()

    # --- the learner HMAC ----------------------------------------------------------------

    async def load_learner_key(self, db: Database) -> None:
        """Read the HMAC key from ``app_state``, creating it the first time (once per process).

        Two processes creating it at once agree: the first insert wins, both read it back.
        """
        if self._learner_key is not None:
            return
        from bot.db.models.app_state import AppState
        from bot.db.upsert import insert_ignore

        async with self._key_lock:
            if self._learner_key is not None:
                return
            async with db.sessions.begin() as session:
                await insert_ignore(session, AppState, key=LEARNER_KEY,
                                    value=secrets.token_hex(32))
                row = await session.get(AppState, LEARNER_KEY, populate_existing=True)
            assert row is not None
            self._learner_key = bytes.fromhex(row.value)

    def learner(self, user_id: int | None) -> str | None:
        """The learner as it appears in logs: 16 hex digits of an HMAC of their id."""
        if user_id is None or self._learner_key is None:
            return None
        digest = hmac.new(self._learner_key, str(user_id).encode(), hashlib.sha256)
        return digest.hexdigest()[:16]

    # --- interactions and jobs -----------------------------------------------------------

    def interaction(
        self,
        *,
        command: str,
        guild_id: int | None,
        user_id: int | None,
        seconds: float,
        outcome: str,
        error_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """One finished interaction: its log line and its metrics."""
        details = dict(details or {})
        metrics = self.metrics
        metrics.interactions.labels(command, outcome).inc()
        metrics.interaction_seconds.labels(command).observe(seconds)
        if "engine" in details:
            metrics.ask_answers.labels(
                str(details["engine"]), str(details.get("fallback") or "none")
            ).inc()
        for kind in ("input", "output", "cache_read", "cache_write"):
            tokens = details.get(f"tokens_{kind}")
            if isinstance(tokens, int) and tokens > 0:
                metrics.ask_tokens.labels(kind).inc(tokens)
        fields: dict[str, object] = {
            "command": command,
            "guild": guild_id,
            "learner": self.learner(user_id),
            "latency_ms": round(seconds * 1000),
            "outcome": outcome,
        }
        fields.update(details)
        fields["error_id"] = error_id
        fields["version"] = self.version
        level = logging.WARNING if outcome in FAILED else logging.INFO
        event(events, "interaction", fields, level=level)

    def job(
        self,
        *,
        job: str,
        seconds: float,
        outcome: str,
        counts: Mapping[str, int] | None = None,
        error_id: str | None = None,
    ) -> None:
        """One finished job run: its log line and its metrics.

        ``counts`` are what the run did: ``posts_made``, ``posts_late``, ``posts_missed``.
        """
        counts = dict(counts or {})
        metrics = self.metrics
        metrics.jobs.labels(job, outcome).inc()
        metrics.job_seconds.labels(job).observe(seconds)
        for name, counter in (
            ("posts_made", metrics.daily_posts_made),
            ("posts_late", metrics.daily_posts_late),
            ("posts_missed", metrics.daily_posts_missed),
        ):
            if counts.get(name):
                counter.inc(counts[name])
        fields: dict[str, object] = {
            "job": job, "latency_ms": round(seconds * 1000), "outcome": outcome,
        }
        fields.update({name: value for name, value in counts.items() if value})
        fields["error_id"] = error_id
        fields["version"] = self.version
        # Housekeeping runs every few seconds: a run that did nothing is a DEBUG line.
        level = logging.WARNING if outcome in FAILED else \
            logging.INFO if any(counts.values()) else logging.DEBUG
        event(events, "job", fields, level=level)

    # --- the database --------------------------------------------------------------------

    def database_failed(self, error: BaseException) -> bool:
        """Count a database error; a damaged file also marks the app unhealthy.

        Returns whether the database is damaged (the caller then logs no traceback: the
        operator has had their one line).
        """
        kind = database_error_kind(error)
        if kind is None:
            return False
        self.metrics.database_errors.labels(kind).inc()
        if kind != "damaged":
            return False
        self.database_damaged(str(getattr(error, "orig", None) or error).splitlines()[0])
        return True

    def database_damaged(self, reason: str) -> None:
        """Mark the database damaged and tell the operator, once per process."""
        if not self.health.database_damaged(reason):
            return
        where = "The database"
        from bot.db.backup import BackupError, sqlite_file

        try:
            path = sqlite_file(self.database_url) if self.database_url else None
        except BackupError:
            path = None
        if path is not None:
            where = f"The database file {path}"
        log.error(
            "%s is DAMAGED (%s): commands that read the damaged pages fail and learners get "
            "an apology; /healthz answers 503. Stop the bot, run `tutorbot db check`, then "
            "`tutorbot db restore PATH` with your latest backup.", where, reason,
        )

    async def problems(self, db: Database) -> list[str]:
        """Why the app is unhealthy (empty when it is not): what ``/healthz`` reports."""
        problems = self.health.gateway_problems()
        try:
            await check_database(db)
        except TimeoutError:
            problems.append("the database did not answer within 2 s")
        except Exception as exc:
            self.database_failed(exc)
            if self.health.database_damage is None:
                reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
                problems.append(f"the database check failed: {reason}")
        if self.health.database_damage is not None:
            problems.append(f"the database is damaged: {self.health.database_damage}")
        return problems


def register_workers(app: AppContext) -> None:
    """Register the running bot's observability workers with ``app`` (once).

    The heartbeat and start-up check always; the metrics endpoint when ``metrics.enabled``.
    """
    observer = app.observer
    if observer.workers_registered:
        return
    observer.workers_registered = True
    from bot.health import DatabaseHealthWorker

    app.register_worker(DatabaseHealthWorker(observer, app.db))
    settings = app.settings.metrics
    if settings.enabled:
        from bot.metrics import MetricsServer

        observer.server = MetricsServer(observer, app.db, settings.host, settings.port)
        app.register_worker(observer.server)


__all__ = ["LEARNER_KEY", "Observer", "database_error_kind", "new_error_id", "register_workers"]
