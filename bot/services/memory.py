"""Memory state: each learner's FSRS card per question, updated by answers, once a local day.

A learner's **first** answer to a question in a **local day** (their ``learner.timezone``,
daylight saving included) reviews the card: right is ``Good``, wrong is ``Again``. Later answers
that day change nothing (a click's speed on Discord measures reading, not recall, so there is
no ``Hard`` or ``Easy``). The FSRS scheduler (the ``fsrs`` package) runs with no learning or
relearning steps: the package's defaults (1 and 10 minutes) would bring every practice answer
back within the hour.

:meth:`MemoryModel.record` is set-based: it takes the first answers of one unit of work (one
quiz click, or a whole batch of daily-quiz clicks) and the transaction's connection, and writes
with three statements whatever the number of answers:

1. new cards: ``INSERT … ON CONFLICT DO NOTHING RETURNING`` — the primary key decides;
2. known cards: ``UPDATE … FROM (the new states) WHERE last_review IS NOT DISTINCT FROM <the value
   read> RETURNING`` — a compare-and-set, so two sessions (two processes, a double click) that
   read the same card update it once: the second finds ``last_review`` moved and matches no row;
3. one ``review_log`` row per card that changed.

It never commits: the caller's unit of work does, with the answers themselves.

A suspended card ("I know this" in /review) is still updated, and a wrong answer lifts the
suspension: the learner did not know it after all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from fsrs import Card, Rating, Scheduler, State
from sqlalchemy import BigInteger, String, and_, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.models import Learner, ReviewCard
from bot.db.multirow import MAX_ROWS, MultiRow
from bot.services.learners import local_now
from bot.settings import ReviewSettings

#: Where an answer came from (``review_log.source``).
SOURCES = ("quiz", "daily", "review")
#: ``fsrs.Card()`` without an id sleeps a millisecond to make one: every card gets this one.
_CARD_ID = 0
#: Rows per statement: 500 x 11 columns stays well under both databases' bound-parameter limits.


@dataclass(frozen=True)
class FirstAnswer:
    """An answer just recorded (the first to this question in its quiz, post or review)."""

    learner_id: int
    question_id: str
    correct: bool
    at: datetime  # timezone-aware
    source: str  # one of SOURCES
    guild_id: int | None = None


@dataclass(frozen=True)
class CardChange:
    """A card an answer created or updated, and what it became."""

    learner_id: int
    question_id: str
    rating: int
    local_date: date
    due_before: datetime | None  # None: the card is new
    due: datetime
    stability: float
    state: int


@dataclass(frozen=True)
class _Known:
    """A card as read, before the answer."""

    due: datetime
    stability: float | None
    difficulty: float | None
    state: int
    last_review: datetime | None
    reps: int
    lapses: int
    suspended: bool


def card_of(
    *,
    due: datetime,
    stability: float | None,
    difficulty: float | None,
    state: int,
    last_review: datetime | None,
) -> Card:
    """The ``fsrs.Card`` for a stored state (datetimes carry exactly ``timezone.utc``)."""
    return Card(
        card_id=_CARD_ID,
        state=State(state),
        # With no learning steps a card is only ever "learning" before its first review.
        step=0 if state == State.Learning else None,
        stability=stability,
        difficulty=difficulty,
        due=due.astimezone(UTC),
        last_review=last_review.astimezone(UTC) if last_review else None,
    )


class MemoryModel:
    """The FSRS scheduler as configured in ``[review]``, and the card updates it drives."""

    def __init__(
        self,
        *,
        desired_retention: float = 0.9,
        maximum_interval_days: int = 36500,
        fuzz: bool = True,
    ) -> None:
        self.scheduler = Scheduler(
            desired_retention=desired_retention,
            learning_steps=(),
            relearning_steps=(),
            maximum_interval=maximum_interval_days,
            enable_fuzzing=fuzz,
        )

    @classmethod
    def from_settings(cls, settings: ReviewSettings) -> MemoryModel:
        """The model the ``[review]`` settings describe."""
        return cls(
            desired_retention=settings.desired_retention,
            maximum_interval_days=settings.maximum_interval_days,
            fuzz=settings.fuzz,
        )

    def review(self, card: Card, correct: bool, at: datetime) -> Card:
        """The card after one answer at ``at``: right is Good, wrong is Again."""
        rating = Rating.Good if correct else Rating.Again
        reviewed, _log = self.scheduler.review_card(card, rating, at.astimezone(UTC))
        return reviewed

    def retrievability(
        self, stability: float | None, last_review: datetime | None, now: datetime
    ) -> float:
        """The predicted chance (0 to 1) of recalling a card at ``now``; 0 for a new card."""
        if stability is None or last_review is None:
            return 0.0
        card = Card(card_id=_CARD_ID, state=State.Review, stability=stability,
                    difficulty=5.0, due=now.astimezone(UTC), last_review=last_review.astimezone(UTC))
        return float(self.scheduler.get_card_retrievability(card, now.astimezone(UTC)))

    async def record(
        self, conn: AsyncConnection, answers: Sequence[FirstAnswer]
    ) -> list[CardChange]:
        """Update the cards of ``answers`` that are each learner's first of their local day.

        Runs inside the caller's transaction. Returns the cards that changed; an answer whose
        card was already reviewed that local day, or changed meanwhile by another session,
        changes nothing and is not returned.
        """
        firsts: dict[tuple[int, str], FirstAnswer] = {}
        for answer in sorted(answers, key=lambda a: a.at):
            if answer.source not in SOURCES:
                raise ValueError(f"unknown review source {answer.source!r}")
            firsts.setdefault((answer.learner_id, answer.question_id), answer)
        if not firsts:
            return []
        zones, known = await _read(conn, list(firsts))

        new_rows: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        changes: dict[tuple[int, str], CardChange] = {}
        sql = _Sql(conn.dialect)
        # A burst of daily-quiz answers shares one moment and mostly new cards: the same
        # dates, conversions and FSRS steps repeat, so each is computed once per call.
        days: dict[tuple[str, datetime], date] = {}
        steps: dict[tuple[Any, ...], Card] = {}

        def day_of(zone: str, moment: datetime) -> date:
            found = days.get((zone, moment))
            if found is None:
                found = days[(zone, moment)] = local_now(zone, moment).date()
            return found

        for key, answer in firsts.items():
            zone = zones.get(answer.learner_id, "UTC")
            local_date = day_of(zone, answer.at)
            before = known.get(key)
            if before is not None and before.last_review is not None and (
                day_of(zone, before.last_review) >= local_date
            ):
                continue  # not the first answer of this local day
            step_key = (before and (before.due, before.stability, before.difficulty,
                                    before.state, before.last_review), answer.correct, answer.at)
            after = steps.get(step_key)
            if after is None:
                if before is None:
                    card = Card(card_id=_CARD_ID, due=answer.at.astimezone(UTC))
                else:
                    card = card_of(due=before.due, stability=before.stability,
                                   difficulty=before.difficulty, state=before.state,
                                   last_review=before.last_review)
                after = steps[step_key] = self.review(card, answer.correct, answer.at)
            assert after.stability is not None and after.last_review is not None
            # A lapse: forgetting a card that had been learned (not a new or reset one).
            lapse = int(not answer.correct and before is not None
                        and before.state != State.Learning)
            changes[key] = CardChange(
                learner_id=answer.learner_id,
                question_id=answer.question_id,
                rating=int(Rating.Good if answer.correct else Rating.Again),
                local_date=local_date,
                due_before=before.due if before else None,
                due=after.due,
                stability=after.stability,
                state=int(after.state),
            )
            state = (sql.timestamp(after.due), after.stability, after.difficulty,
                     int(after.state), sql.timestamp(after.last_review))
            if before is None:
                new_rows.append((*key, *state, 1, 0, sql.boolean(False),
                                 sql.timestamp(answer.at)))
            else:
                old = sql.timestamp(before.last_review) if before.last_review else None
                # "I know this" holds until the learner gets the question wrong.
                suspended = sql.boolean(before.suspended and answer.correct)
                updates.append((*key, old, *state, before.reps + 1, before.lapses + lapse,
                                suspended))

        won: set[tuple[int, str]] = set()
        if new_rows:
            won |= {
                (int(row[0]), str(row[1]))
                for row in await sql.insert(
                    conn, "review_card", _CARD_COLUMNS, new_rows,
                    "ON CONFLICT DO NOTHING RETURNING learner_id, question_id",
                )
            }
        if updates:
            won |= await sql.compare_and_set(conn, updates)
        done = [changes[key] for key in changes if key in won]
        if done:
            await sql.insert(
                conn, "review_log", _LOG_COLUMNS,
                [(c.learner_id, c.question_id, c.rating, sql.timestamp(firsts[key].at),
                  sql.date(c.local_date),
                  sql.timestamp(c.due_before) if c.due_before else None,
                  sql.timestamp(c.due), firsts[key].source, firsts[key].guild_id)
                 for key, c in ((k, changes[k]) for k in changes if k in won)],
                "",
            )
        return done


_CARD_COLUMNS = ("learner_id", "question_id", "due", "stability", "difficulty", "state",
                 "last_review", "reps", "lapses", "suspended", "created_at")
_LOG_COLUMNS = ("learner_id", "question_id", "rating", "reviewed_at", "local_date",
                "due_before", "due_after", "source", "guild_id")
#: The compare-and-set's rows: the key, the last review read, then the new state.
_CAS_COLUMNS = ("learner_id", "question_id", "old", "due", "stability", "difficulty", "state",
                "last_review", "reps", "lapses", "suspended")
_CAS_TYPES = ("BIGINT", "VARCHAR(48)", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE",
              "FLOAT", "FLOAT", "SMALLINT", "TIMESTAMP WITH TIME ZONE", "INTEGER", "INTEGER",
              "BOOLEAN")
_SET = ", ".join(f"{name} = v.{name}" for name in _CAS_COLUMNS[3:])


async def _read(
    conn: AsyncConnection, keys: list[tuple[int, str]]
) -> tuple[dict[int, str], dict[tuple[int, str], _Known]]:
    """The learners' time zones and the cards of ``keys`` that exist, in one query per chunk.

    Learners joined to their cards of the questions asked (a burst is one question for many
    learners), filtered to the wanted pairs here: cheaper than a row-value ``IN`` of pairs.
    """
    wanted = set(keys)
    learners = sorted({learner for learner, _ in keys})
    questions = sorted({question for _, question in keys})
    zones: dict[int, str] = {}
    known: dict[tuple[int, str], _Known] = {}
    postgres = conn.dialect.name == "postgresql"
    for first in range(0, len(learners), MAX_ROWS):
        chunk = learners[first:first + MAX_ROWS]
        if postgres:
            # One array parameter each: the same statement (and asyncpg's prepared statement)
            # for any number of learners, where an expanding IN is prepared again per size.
            asked = ReviewCard.question_id == any_(bindparam("qs", questions, ARRAY(String)))
            whose = Learner.id == any_(bindparam("ids", chunk, ARRAY(BigInteger)))
        else:
            asked = ReviewCard.question_id.in_(questions)
            whose = Learner.id.in_(chunk)
        rows = await conn.execute(
            select(Learner.id, Learner.timezone, ReviewCard.question_id, ReviewCard.due,
                   ReviewCard.stability, ReviewCard.difficulty, ReviewCard.state,
                   ReviewCard.last_review, ReviewCard.reps, ReviewCard.lapses,
                   ReviewCard.suspended)
            .select_from(Learner)
            .outerjoin(ReviewCard, and_(ReviewCard.learner_id == Learner.id, asked))
            .where(whose)
        )
        for row in rows:
            zones[row.id] = row.timezone
            key = (row.id, row.question_id)
            if row.question_id is not None and key in wanted:
                known[key] = _Known(row.due, row.stability, row.difficulty, row.state,
                                    row.last_review, row.reps, row.lapses, bool(row.suspended))
    return zones, known


class _Sql(MultiRow):
    """The shared multi-row statements, plus the cards' compare-and-set update.

    Values are converted once with the column types' own bind processors
    (:class:`bot.db.multirow.MultiRow`), so the compare-and-set compares exactly what is stored.
    """

    async def compare_and_set(
        self, conn: AsyncConnection, rows: list[tuple[Any, ...]]
    ) -> set[tuple[int, str]]:
        """Apply the new card states whose ``last_review`` is still the one read; the keys set."""
        won: set[tuple[int, str]] = set()
        if self.numbered:
            # PostgreSQL: one array per column; same statement text for any number of rows.
            result = await conn.exec_driver_sql(
                _cas_postgres(), tuple(list(col) for col in zip(*rows, strict=True))
            )
            returned: list[Any] = list(result.all())
            return {(int(r[0]), str(r[1])) for r in returned}
        for first in range(0, len(rows), MAX_ROWS):
            chunk = rows[first:first + MAX_ROWS]
            result = await conn.exec_driver_sql(
                _cas_sqlite(len(chunk)), tuple(value for row in chunk for value in row)
            )
            returned = list(result.all())
            won |= {(int(r[0]), str(r[1])) for r in returned}
        return won


@lru_cache(maxsize=1)
def _cas_postgres() -> str:
    arrays = ", ".join(f"${i + 1}::{kind}[]" for i, kind in enumerate(_CAS_TYPES))
    return (
        f"UPDATE review_card AS c SET {_SET} "
        f"FROM unnest({arrays}) AS v({', '.join(_CAS_COLUMNS)}) "
        "WHERE c.learner_id = v.learner_id AND c.question_id = v.question_id "
        "AND c.last_review IS NOT DISTINCT FROM v.old "
        "RETURNING c.learner_id, c.question_id"
    )


@lru_cache(maxsize=64)
def _cas_sqlite(rows: int) -> str:
    one = "(" + ", ".join("?" * len(_CAS_COLUMNS)) + ")"
    # SQLite's IS is IS NOT DISTINCT FROM; timestamps are compared as the text SQLAlchemy
    # stores, written here by the same processor.
    return (
        f"WITH v({', '.join(_CAS_COLUMNS)}) AS (VALUES {', '.join([one] * rows)}) "
        f"UPDATE review_card SET {_SET} FROM v "
        "WHERE review_card.learner_id = v.learner_id AND review_card.question_id = v.question_id "
        "AND review_card.last_review IS v.old "
        "RETURNING review_card.learner_id, review_card.question_id"
    )


__all__ = ["SOURCES", "CardChange", "FirstAnswer", "MemoryModel", "card_of"]
