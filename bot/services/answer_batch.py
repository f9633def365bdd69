"""Answer bursts: quiz answers recorded in batches, each acknowledged once durable.

**The stated exception to "one unit of work per interaction".** A daily quiz in a big server
gets a thousand clicks in seconds. A commit costs ~16 µs on SQLite; what costs ~0.7 ms per
answer is Python and SQLAlchemy running a transaction and three statements per click. So
concurrent answers, from many interactions, are gathered into one transaction of multi-row
statements (group commit). Both kinds of quiz answer take this path, in the same batch:

*Daily-post answers* (:meth:`AnswerBatcher.record`):

1. the posts answered (one ``SELECT … WHERE id IN``), to check each is open and grade it;
2. learners and guild memberships (multi-row ``INSERT … ON CONFLICT``);
3. ``INSERT INTO daily_answer … VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING`` — the
   unique key (post, learner) decides who answered first, also across processes;
4. the same answers into ``quiz_answer`` (``daily_post_id`` set, no attempt), so points,
   streaks, the leaderboard and /progress count them;
5. the memory cards of those answers (:meth:`MemoryModel.record <bot.services.memory.MemoryModel.record>`,
   set-based too: source ``daily``);
6. the first answers of those who had already answered, to show them.

*Practice-quiz answers* (:meth:`AnswerBatcher.record_practice`, ``/quiz`` and the console):

1. the attempts answered with their answers so far (one ``SELECT … LEFT JOIN … WHERE id IN``):
   each attempt's owner is checked against the clicker (the custom id never decides), and the
   answer graded by the :class:`~bot.services.quiz.QuizService` of the interaction's runtime;
2. ``INSERT INTO quiz_answer … ON CONFLICT DO NOTHING RETURNING`` — the unique key
   (attempt, question) records one answer per question, also across processes;
3. the answers another process recorded first, if any, to show them;
4. the memory cards of the answers recorded (source ``quiz``, or ``review`` for a /review
   attempt), set-based as for daily answers;
5. ``UPDATE quiz_attempt SET finished_at … WHERE id IN (…)`` for the attempts just finished.

Then one commit, and only then is each caller's future resolved: nobody is told "recorded"
before the row is durable. A batch that fails is retried row by row (each answer in its own
transaction), so one bad row fails alone; an answer a learner may not give (someone else's
quiz, a closed post, a choice that does not exist) fails alone without failing the batch.

There is no timer: the first answer starts a flush at once; answers arriving while a flush
runs form the next batch. A lone click pays one transaction; a burst shares them. A batch takes
at most :data:`BATCH_CAP` answers (``bench/daily_answers.py --cap`` compares caps: smaller ones
did not acknowledge a burst's clicks sooner, since every batch pays its own statements).
``parallel`` lets more than one batch be in flight (each on its own connection; on SQLite
there is one, on the event loop's thread); a second one on PostgreSQL did not measurably help
(``--parallel 1,2``), so the default is one. Rows are written in key order, so that batches
in flight together (here, or in another bot process on the same PostgreSQL) lock the rows
they share (a learner in both) in the same order and cannot deadlock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.content.model import Course, Question
from bot.db.base import utcnow
from bot.db.engine import Database
from bot.db.models import QuizAnswer, QuizAttempt
from bot.db.models.daily import DailyAnswer, DailyPost
from bot.db.multirow import MultiRow
from bot.errors import InvalidInputError, NotFoundError, TutorError
from bot.services.memory import FirstAnswer, MemoryModel
from bot.services.quiz import AnswerResult, QuizService, owned_attempt

log = logging.getLogger(__name__)

#: Rows per statement: 500 × 9 columns stays well under SQLite's 32,766 and PostgreSQL's
#: 32,767 bound parameters.
MAX_BATCH = 500
#: Answers per batch (``bench/daily_answers.py --cap 500,100`` compares caps).
BATCH_CAP = 500
_NAME_CHARS = 100


@dataclass(frozen=True)
class DailyAnswerIn:
    """One click on a daily quiz's choice button."""

    post_id: int
    learner_id: int
    choice_id: str
    display_name: str = ""


@dataclass(frozen=True)
class DailyAnswerOut:
    """The recorded answer (the first one, when this click was a repeat)."""

    post_id: int
    learner_id: int
    question: Question
    choice_id: str
    correct: bool
    already_answered: bool
    reveal: str  # 'instant': show right/wrong now; 'at_close': just "answer recorded"
    answered_at: datetime


@dataclass(frozen=True)
class PracticeAnswerIn:
    """One answer to a question of a practice quiz (``/quiz``, the console).

    ``quiz`` is the quiz service of the runtime the interaction read at its start: it grades
    the answer and builds the result, so an answer is never graded against another course.
    """

    quiz: QuizService
    attempt_id: int
    learner_id: int
    question_id: str
    choice_id: str | None = None
    value: float | None = None


@dataclass
class _Pending:
    item: DailyAnswerIn | PracticeAnswerIn
    future: asyncio.Future[Any]


@dataclass(frozen=True)
class _Mark:
    """A recorded answer to one question of an attempt."""

    choice_id: str | None
    value: float | None
    correct: bool


_POSTS = select(
    DailyPost.id, DailyPost.guild_id, DailyPost.question_id, DailyPost.reveal,
    DailyPost.closes_at, DailyPost.closed_at,
).where(DailyPost.id.in_(bindparam("ids", expanding=True)))
#: The attempts answered and every answer they have (one row per answer; NULLs before the first).
_ATTEMPTS = (
    select(
        QuizAttempt.id, QuizAttempt.learner_id, QuizAttempt.guild_id, QuizAttempt.lesson_id,
        QuizAttempt.question_ids, QuizAttempt.seed, QuizAttempt.finished_at, QuizAttempt.kind,
        QuizAnswer.question_id.label("answered_id"), QuizAnswer.choice_id, QuizAnswer.value,
        QuizAnswer.correct,
    )
    .select_from(QuizAttempt)
    .outerjoin(QuizAnswer, QuizAnswer.attempt_id == QuizAttempt.id)
    .where(QuizAttempt.id.in_(bindparam("ids", expanding=True)))
)
_FINISH = (
    update(QuizAttempt)
    .where(QuizAttempt.id.in_(bindparam("ids", expanding=True)),
           QuizAttempt.finished_at.is_(None))
    .values(finished_at=bindparam("now"))
)
_PRACTICE_COLUMNS = ("attempt_id", "learner_id", "guild_id", "lesson_id", "question_id",
                     "choice_id", "value", "correct", "answered_at")


class AnswerBatcher:
    """Records quiz answers (daily posts and practice quizzes) in group commits.

    ``await record(...)`` / ``await record_practice(...)`` return once the answer is durable.
    One per process (:attr:`bot.app.AppContext.answers`): it batches its callers.
    """

    def __init__(
        self,
        db: Database,
        course: Callable[[], Course],
        *,
        default_timezone: str = "UTC",
        clock: Callable[[], datetime] = utcnow,
        memory: MemoryModel | None = None,
        cap: int = BATCH_CAP,
        parallel: int = 1,
    ) -> None:
        if not 1 <= cap <= MAX_BATCH:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH} answers")
        self.db = db
        self.course = course
        self.default_timezone = default_timezone
        self.clock = clock
        self.memory = memory or MemoryModel()
        self.cap = cap
        self.parallel = max(1, parallel)
        self._pending: list[_Pending] = []
        self._flushers: set[asyncio.Task[None]] = set()
        self.batches = 0  # statistics for benchmarks
        self.rows = 0

    async def record(
        self, post_id: int, learner_id: int, choice_id: str, *, display_name: str = ""
    ) -> DailyAnswerOut:
        """Record one member's answer to a post; raises a :class:`TutorError` for people."""
        return await self._submit(
            DailyAnswerIn(post_id, learner_id, choice_id, display_name)
        )

    async def record_practice(
        self,
        quiz: QuizService,
        attempt_id: int,
        learner_id: int,
        question_id: str,
        *,
        choice_id: str | None = None,
        value: float | None = None,
    ) -> AnswerResult:
        """Record a learner's answer to a question of their practice quiz, exactly once.

        The batched twin of :meth:`QuizService.record_answer`, with the same checks and result:
        a repeated or concurrent answer records nothing and returns the first one with
        ``already_answered=True``; someone else's attempt raises
        :class:`~bot.errors.NotAllowedError`.
        """
        return await self._submit(
            PracticeAnswerIn(quiz, attempt_id, learner_id, question_id, choice_id, value)
        )

    async def _submit(self, item: DailyAnswerIn | PracticeAnswerIn) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(item, future))
        # Up to ``parallel`` flushers, each taking the answers waiting when it gets its turn (a
        # second one commits what arrived while the first's batch is with the database). A
        # flusher still running takes this answer too: it looks for more before it ends. One
        # that has ended may not have left the set yet (done callbacks run later): not counted.
        if sum(not task.done() for task in self._flushers) < self.parallel:
            task = asyncio.create_task(self._flush_all(), name="answer-batch")
            self._flushers.add(task)
            task.add_done_callback(self._flushers.discard)
        return await future

    async def drain(self) -> None:
        """Wait until every answer handed in so far is recorded (or failed)."""
        while self._flushers:
            await asyncio.gather(*(asyncio.shield(task) for task in list(self._flushers)))

    async def _flush_all(self) -> None:
        while self._pending:
            # One turn of the loop lets every click already in flight join this batch.
            await asyncio.sleep(0)
            if not self._pending:
                return  # another flusher took them
            batch, self._pending = self._pending[:self.cap], self._pending[self.cap:]
            try:
                await self._commit(batch)
            except Exception:
                log.warning("an answer batch of %d failed; recording row by row", len(batch),
                            exc_info=True)
                for one in batch:
                    if one.future.done():
                        continue
                    try:
                        await self._commit([one])
                    except Exception as exc:
                        if not one.future.done():
                            one.future.set_exception(exc)

    async def _commit(self, batch: list[_Pending]) -> None:
        now = self.clock()
        results: dict[int, Any] = {}
        daily = [(i, p.item) for i, p in enumerate(batch) if isinstance(p.item, DailyAnswerIn)]
        practice = [(i, p.item) for i, p in enumerate(batch)
                    if isinstance(p.item, PracticeAnswerIn)]
        async with self.db.engine.begin() as conn:
            sql = MultiRow(conn.dialect)
            if daily:
                await self._daily(conn, sql, daily, results, now)
            if practice:
                await self._practice(conn, sql, practice, results, now)
        self.batches += 1
        self.rows += len(batch)
        # Committed: only now is anybody told.
        for index, pending in enumerate(batch):
            outcome = results[index]
            if pending.future.done():
                continue
            if isinstance(outcome, Exception):
                pending.future.set_exception(outcome)
            else:
                pending.future.set_result(outcome)

    # --- daily posts ---------------------------------------------------------------------

    async def _daily(
        self,
        conn: AsyncConnection,
        sql: MultiRow,
        batch: list[tuple[int, DailyAnswerIn]],
        results: dict[int, Any],
        now: datetime,
    ) -> None:
        course = self.course()
        posts = {
            row.id: row
            for row in await conn.execute(
                _POSTS, {"ids": sorted({item.post_id for _, item in batch})}
            )
        }
        graded: list[tuple[int, DailyAnswerIn, Question, bool, int]] = []
        for index, item in batch:
            post = posts.get(item.post_id)
            try:
                if post is None:
                    raise NotFoundError("That daily quiz no longer exists.")
                question = course.questions.get(post.question_id)
                if question is None:  # before "closed": its post closes without results
                    raise NotFoundError("This quiz's question was removed from the course.")
                if post.closed_at is not None or post.closes_at <= now:
                    raise InvalidInputError(
                        "This daily quiz has closed: the results are in the channel."
                    )
                if question.choice(item.choice_id) is None:
                    raise InvalidInputError("That is not one of this question's choices.")
            except TutorError as exc:
                results[index] = exc
                continue
            graded.append(
                (index, item, question, question.is_correct_choice(item.choice_id),
                 post.guild_id)
            )
        if graded:
            await self._write(conn, sql, graded, posts, results, now)

    async def _write(
        self,
        conn: AsyncConnection,
        sql: MultiRow,
        graded: list[tuple[int, DailyAnswerIn, Question, bool, int]],
        posts: dict[int, Any],
        results: dict[int, Any],
        now: datetime,
    ) -> None:
        at = sql.timestamp(now)
        learners: dict[int, tuple[Any, ...]] = {}
        members: dict[tuple[int, int], tuple[Any, ...]] = {}
        for _, item, _, _, guild_id in graded:
            learners[item.learner_id] = (
                item.learner_id, item.display_name[:_NAME_CHARS], self.default_timezone, at, at
            )
            members[(guild_id, item.learner_id)] = (guild_id, item.learner_id, at, at)
        # Key order everywhere: two batches in flight lock shared rows in the same order.
        named = sorted(row for row in learners.values() if row[1])
        unnamed = sorted(row for row in learners.values() if not row[1])
        learner_columns = ("id", "display_name", "timezone", "created_at", "updated_at")
        if named:
            await sql.insert(conn, "learner", learner_columns, named,
                             "ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name")
        if unnamed:  # never blank out a name we know
            await sql.insert(conn, "learner", learner_columns, unnamed, "ON CONFLICT DO NOTHING")
        await sql.insert(
            conn, "guild_member", ("guild_id", "learner_id", "first_seen_at", "last_seen_at"),
            sorted(members.values()),
            "ON CONFLICT (guild_id, learner_id) DO UPDATE SET last_seen_at = excluded.last_seen_at",
        )
        inserted = {
            (int(row[0]), int(row[1]))
            for row in await sql.insert(
                conn, "daily_answer",
                ("post_id", "learner_id", "choice_id", "correct", "answered_at"),
                # A stable sort: of two clicks by one member in this batch, the first wins.
                sorted(((p.post_id, p.learner_id, p.choice_id, sql.boolean(correct), at)
                        for _, p, _, correct, _ in graded), key=lambda row: (row[0], row[1])),
                "ON CONFLICT DO NOTHING RETURNING post_id, learner_id",
            )
        }
        new: list[tuple[Any, ...]] = []
        memories: list[FirstAnswer] = []
        claimed: set[tuple[int, int]] = set()
        for _, item, question, correct, guild_id in graded:
            key = (item.post_id, item.learner_id)
            if key in inserted and key not in claimed:
                claimed.add(key)
                new.append((key[0], key[1], guild_id, question.lesson_id, question.id,
                             item.choice_id, sql.boolean(correct), at))
                memories.append(FirstAnswer(key[1], question.id, correct, now, "daily", guild_id))
        if new:
            await sql.insert(
                conn, "quiz_answer",
                ("daily_post_id", "learner_id", "guild_id", "lesson_id", "question_id",
                 "choice_id", "correct", "answered_at"),
                new, "",
            )
            await self.memory.record(conn, memories)  # the memory cards, in this transaction
        repeats = {
            (p.post_id, p.learner_id)
            for _, p, _, _, _ in graded
            if (p.post_id, p.learner_id) not in claimed
        }
        firsts: dict[tuple[int, int], Any] = {}
        if repeats:
            firsts = {
                (row.post_id, row.learner_id): row
                for row in await conn.execute(
                    select(DailyAnswer.post_id, DailyAnswer.learner_id, DailyAnswer.choice_id,
                           DailyAnswer.correct, DailyAnswer.answered_at)
                    .where(tuple_(DailyAnswer.post_id, DailyAnswer.learner_id).in_(list(repeats)))
                )
            }
        taken: set[tuple[int, int]] = set()
        for index, item, question, correct, _ in graded:
            key = (item.post_id, item.learner_id)
            reveal = posts[key[0]].reveal
            if key in claimed and key not in taken:
                taken.add(key)
                results[index] = DailyAnswerOut(
                    key[0], key[1], question, item.choice_id, correct, False, reveal, now
                )
                continue
            first = firsts.get(key)
            if first is None:  # the first click of this batch: it is in `claimed`
                first_item = next(p for _, p, _, _, _ in graded
                                  if (p.post_id, p.learner_id) == key)
                results[index] = DailyAnswerOut(
                    key[0], key[1], question, first_item.choice_id,
                    question.is_correct_choice(first_item.choice_id), True, reveal, now,
                )
            else:
                results[index] = DailyAnswerOut(
                    key[0], key[1], question, first.choice_id, bool(first.correct), True,
                    reveal, first.answered_at,
                )


    # --- practice quizzes ----------------------------------------------------------------

    async def _practice(
        self,
        conn: AsyncConnection,
        sql: MultiRow,
        batch: list[tuple[int, PracticeAnswerIn]],
        results: dict[int, Any],
        now: datetime,
    ) -> None:
        attempts: dict[int, Any] = {}
        marks: dict[int, dict[str, _Mark]] = {}
        for row in await conn.execute(_ATTEMPTS, {"ids": sorted({i.attempt_id for _, i in batch})}):
            attempts.setdefault(row.id, row)
            answered = marks.setdefault(row.id, {})
            if row.answered_id is not None:
                answered[row.answered_id] = _Mark(row.choice_id, row.value, bool(row.correct))
        graded: list[tuple[int, PracticeAnswerIn, Any, Question]] = []
        # (attempt, question) → the batch index that records it, and its answer
        claims: dict[tuple[int, str], tuple[int, _Mark]] = {}
        rows: list[tuple[Any, ...]] = []
        at = sql.timestamp(now)
        for index, item in batch:
            try:
                # Ownership from the attempt's row, never from the custom id.
                attempt = owned_attempt(attempts.get(item.attempt_id), item.learner_id)
                question, correct = item.quiz.grade(
                    attempt, item.question_id, choice_id=item.choice_id, value=item.value
                )
            except TutorError as exc:
                results[index] = exc
                continue
            graded.append((index, item, attempt, question))
            key = (attempt.id, question.id)
            if question.id in marks[attempt.id] or key in claims:
                continue  # answered before, or earlier in this batch: a repeat
            claims[key] = (index, _Mark(item.choice_id, item.value, correct))
            rows.append((attempt.id, item.learner_id, attempt.guild_id, question.lesson_id,
                         question.id, item.choice_id, item.value, sql.boolean(correct), at))
        if not graded:
            return
        won: set[tuple[int, str]] = set()
        rows.sort(key=lambda row: (row[0], row[4]))  # key order (see _write)
        if rows:
            won = {
                (int(row[0]), str(row[1]))
                for row in await sql.insert(
                    conn, "quiz_answer", _PRACTICE_COLUMNS, rows,
                    "ON CONFLICT DO NOTHING RETURNING attempt_id, question_id",
                )
            }
        for key in won:
            marks[key[0]][key[1]] = claims[key][1]
        due: dict[int, datetime] = {}  # batch index → when its card comes back for review
        if won:
            # The memory cards of the answers just recorded, in this transaction.
            by_index = {index: (item, attempt, question) for index, item, attempt, question in graded}
            recorded = [by_index[claims[key][0]] for key in won]
            changed = await self.memory.record(conn, [
                FirstAnswer(item.learner_id, question.id, claims[(attempt.id, question.id)][1].correct,
                            now, "review" if attempt.kind == "review" else "quiz",
                            attempt.guild_id)
                for item, attempt, question in recorded
            ])
            cards = {(c.learner_id, c.question_id): c.due for c in changed}
            for key in won:
                index = claims[key][0]
                item, _, question = by_index[index]
                if (item.learner_id, question.id) in cards:
                    due[index] = cards[(item.learner_id, question.id)]
        if len(won) < len(claims):
            # Another process recorded some of these first (reads do not block its writes on
            # PostgreSQL): read those attempts' answers again, to show the first ones.
            lost = sorted({attempt_id for attempt_id, _ in set(claims) - won})
            for attempt_id in lost:
                marks[attempt_id] = {}
            for row in await conn.execute(_ATTEMPTS, {"ids": lost}):
                if row.answered_id is not None:
                    marks[row.id][row.answered_id] = _Mark(
                        row.choice_id, row.value, bool(row.correct)
                    )
        finished = sorted(
            attempt.id for attempt, quiz in {a.id: (a, i.quiz) for _, i, a, _ in graded}.values()
            if attempt.finished_at is None and quiz.finished(attempt, set(marks[attempt.id]))
        )
        if finished:
            await conn.execute(_FINISH, {"ids": finished, "now": now})
        for index, item, attempt, question in graded:
            key = (attempt.id, question.id)
            first = marks[attempt.id][question.id]
            results[index] = item.quiz.result(
                attempt, question, choice_id=first.choice_id, value=first.value,
                correct=first.correct, already=not (key in won and claims[key][0] == index),
                marks={qid: mark.correct for qid, mark in marks[attempt.id].items()},
                next_review=due.get(index),
            )


__all__ = ["MAX_BATCH", "AnswerBatcher", "DailyAnswerIn", "DailyAnswerOut", "PracticeAnswerIn"]
