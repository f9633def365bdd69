"""The local console: the bot's commands as text lines, on the same services and database.

A newcomer can take the whole course with no Discord account::

    /lesson            read the next snippet (then `n` for next, `p` for previous, `done`)
    /quiz tokens 5     a quiz; answer with the choice letter, `t`/`f`, or a number
    /progress          completion, accuracy, streak

When standard input is not a terminal, commands are read line by line and the console exits 0
at the end of the input, so it can be scripted.
"""

from __future__ import annotations

import io
import logging
import re
import shlex
import sys
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from bot.app import AppContext, build_app
from bot.cli._common import read_blocking
from bot.content.markdown import strip_formatting
from bot.content.model import QuestionKind
from bot.db.base import utcnow
from bot.errors import TutorError
from bot.runtime import Actor, CourseRuntime, Services, Unit, unit_of_work
from bot.services.course import Page
from bot.services.progress import ReviewOutlook
from bot.services.quiz import AnswerResult, QuestionView, parse_number
from bot.services.review import ReviewStart
from bot.settings import Settings

log = logging.getLogger(__name__)

LETTERS = "abcdefghij"
#: A question count as typed after /quiz (the quiz service checks the range).
_COUNT = re.compile(r"[0-9]{1,6}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
HELP = """\
Commands (the same as the Discord bot's):
  /course                      every lesson with your progress marks
  /lesson [name]               the next snippet, or a lesson by number, id or title
    n | next, p | prev, done   move through the lesson, mark it done
  /quiz [lesson] [questions]   a quiz (answer with a letter, t/f, or a number)
  /review [questions]          the questions you are about to forget, most overdue first
    know | reset               on a review question: never review it again / start it afresh
  /progress                    completion, accuracy per lesson, streak
  /leaderboard [week|all]      top learners
  /settings timezone <zone>    your time zone for streaks, e.g. Europe/Berlin
  /ask <question>              ask about the course (answers cite the lessons)
  /help                        this list
  /quit                        leave (Ctrl-D works too)"""


def _bar(done: int, total: int, width: int = 10) -> str:
    filled = round(width * done / total) if total else 0
    return "#" * filled + "." * (width - filled)


def plain(markdown: str) -> str:
    """Markdown formatting removed, for a terminal (code, lists and headings read fine as is)."""
    return strip_formatting(markdown)


def render_reviews(outlook: ReviewOutlook) -> list[str]:
    """Reviews due today, predicted retention and reviews due per day ahead, as text lines."""
    if not outlook.cards:
        return ["Reviews: none yet (answered questions come back with /review)."]
    retention = f"{outlook.retention:.0%}" if outlook.retention is not None else "-"
    lines = [f"Reviews: {outlook.due_today} due today, predicted retention {retention} "
             f"over {outlook.cards} question(s)", "  due in the next 14 days:"]
    top = max((count for _, count in outlook.per_day), default=0) or 1
    for n, (day, count) in enumerate(outlook.per_day):
        label = "today" if n == 0 else f"{day:%a %d}"
        lines.append(f"  {label:>6} {'#' * round(20 * count / top):<20} {count}")
    return lines


def render_page(page: Page) -> str:
    """A snippet as plain text."""
    header = f"{page.lesson.label}  [{page.index + 1}/{page.total}]"
    hints = []
    if page.has_previous:
        hints.append("p = previous")
    hints.append("n = next" if page.has_next else "n = next lesson" if page.next_lesson else "")
    hints.append("done = mark lesson done")
    hints.append("/quiz = test yourself")
    footer = "  ".join(h for h in hints if h)
    return f"{header}\n## {page.snippet.title}\n\n{plain(page.snippet.body)}\n\n({footer})"


def render_question(view: QuestionView) -> str:
    """A quiz (or review) question with lettered choices."""
    title = "Review" if view.kind == "review" else "Question"
    lines = [f"{title} {view.number}/{view.total}: {view.question.prompt}"]
    if view.question.kind is QuestionKind.NUMERIC:
        unit = f" ({view.question.unit})" if view.question.unit else ""
        lines.append(f"Type a number{unit}.")
    elif view.question.kind is QuestionKind.TRUE_FALSE:
        lines.append("  t) True\n  f) False")
    else:
        lines += [f"  {LETTERS[i]}) {choice.text}" for i, choice in enumerate(view.choices)]
    if view.kind == "review":
        lines.append("(know = I know this, don't review it again; reset = start it afresh)")
    return "\n".join(lines)


def _from_now(moment: datetime, now: datetime) -> str:
    """``in 3 days``, ``in 5 hours``, ``now``: how far off a due time is."""
    seconds = (moment - now).total_seconds()
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = round(seconds / size)
            return f"in {count} {unit}{'s' if count != 1 else ''}"
    return "now"


def render_nothing_due(start: ReviewStart, now: datetime) -> str:
    """Nothing to review: when the next review is, and new questions meanwhile."""
    if start.next_due is not None:
        lines = [f"Nothing to review right now. Your next review is "
                 f"{_from_now(start.next_due, now)} ({start.next_due:%Y-%m-%d %H:%M} UTC)."]
    else:
        lines = ["Nothing to review yet: answer quiz questions, and each comes back here just "
                 "before you would forget it."]
    if start.new_questions:
        lines.append(f"{start.new_questions} question(s) of the course are new to you: type "
                     "`new` for five of them.")
    return "\n".join(lines)


def render_result(result: AnswerResult) -> str:
    """Verdict, explanation and where to read more."""
    if result.already_answered:
        verdict = f"You already answered this one: {result.given}."
    else:
        verdict = "Right!" if result.correct else f"Not quite. The answer is: {result.question.answer_text}."
    lines = [verdict, plain(result.question.explanation)]
    if result.lesson and result.snippet:
        lines.append(f"Read more: {result.lesson.label} > {result.snippet.title}")
    score = result.score
    if result.next_review is not None:
        lines.append(f"Back for review {_from_now(result.next_review, utcnow())}.")
    if score.finished:
        kind = "Review" if score.kind == "review" else "Quiz"
        lines.append(f"\n{kind} finished: {score.correct}/{score.total} right.")
    return "\n".join(lines)


@dataclass
class Console:
    """One local learner's session: the current page and quiz between lines."""

    app: AppContext
    learner_id: int
    name: str
    page_snippet: str | None = None
    question: QuestionView | None = None
    handlers: dict[str, Callable[[list[str]], Awaitable[str]]] = field(default_factory=dict)
    #: The course runtime of the line being handled (read once per line, like an interaction).
    runtime: CourseRuntime | None = None

    def __post_init__(self) -> None:
        self.handlers = {
            "help": self._help, "course": self._course, "lesson": self._lesson,
            "quiz": self._quiz, "review": self._review, "progress": self._progress, "leaderboard": self._leaderboard,
            "settings": self._settings, "ask": self._ask,
        }

    async def handle(self, line: str) -> str:
        """Run one line and return what to print. Errors become friendly messages."""
        # Control characters (a NUL that PostgreSQL refuses, stray escapes) mean nothing here.
        text = _CONTROL.sub("", line).strip()
        if not text or text.startswith("#"):
            return ""
        self.runtime = self.app.runtime
        try:
            return await self._dispatch(text)
        except TutorError as exc:
            return str(exc)
        except Exception:
            # A bug: keep the console running, and give an id to find the traceback in the log.
            error_id = uuid.uuid4().hex[:8]
            log.exception("console command failed (error id %s): %r", error_id, text[:200])
            return f"Sorry, something went wrong on my side (error id {error_id})."

    async def _dispatch(self, text: str) -> str:
        lowered = text.lower()
        if lowered in {"n", "next", "p", "prev", "previous"}:
            return await self._step(1 if lowered.startswith("n") else -1)
        if lowered == "done":
            return await self._done()
        if lowered in {"know", "reset"} and self.question is not None \
                and self.question.kind == "review":
            return await self._card_action(lowered)
        if lowered == "new" and self.question is None:
            return await self._new_questions()
        if not text.startswith("/"):
            if self.question is not None:
                return await self._answer(text)
            return "Type /help for the commands, or /lesson to start reading."
        try:
            parts = shlex.split(text[1:])
        except ValueError:
            parts = text[1:].split()
        if not parts:
            return "Type /help for the commands."
        command, args = parts[0].lower(), parts[1:]
        handler = self.handlers.get(command)
        if handler is None:
            return f"Unknown command /{command[:30]}. Type /help for the list."
        return await handler(args)

    @property
    def services(self) -> Services:
        """The services of the line being handled."""
        return (self.runtime or self.app.runtime).services

    def _unit(self, *, ensure_learner: bool = True) -> AbstractAsyncContextManager[Unit]:
        """One transaction around service calls, as the console learner."""
        actor = Actor(user_id=self.learner_id, name=self.name)
        runtime = self.runtime or self.app.runtime
        return unit_of_work(self.app.db, runtime, actor, ensure_learner=ensure_learner)

    async def _help(self, _args: list[str]) -> str:
        return HELP

    async def _course(self, _args: list[str]) -> str:
        async with self._unit() as unit:
            statuses = await unit.services.course.overview(unit.session, self.learner_id)
        lines = []
        for status in statuses:
            mark = "[x]" if status.done else ">" if status.current else "[ ]"
            lines.append(f"{mark:>3} {status.lesson.number:>2}. {status.lesson.title} "
                         f"({status.read}/{status.total} read) - {status.lesson.summary}")
        return "\n".join(lines)

    async def _show(self, page: Page) -> str:
        self.page_snippet = page.snippet.id
        return render_page(page)

    async def _lesson(self, args: list[str]) -> str:
        async with self._unit() as unit:
            if args:
                lesson = unit.services.course.resolve_lesson(" ".join(args))
                page = await unit.services.course.open_lesson(unit.session, self.learner_id,
                                                              lesson.id)
            else:
                page = await unit.services.course.resume(unit.session, self.learner_id)
        return await self._show(page)

    async def _step(self, offset: int) -> str:
        if self.page_snippet is None:
            return await self._lesson([])
        async with self._unit() as unit:
            page = await unit.services.course.step(unit.session, self.learner_id,
                                                   self.page_snippet, offset)
        return await self._show(page)

    async def _done(self) -> str:
        if self.page_snippet is None:
            return "Open a lesson first with /lesson."
        async with self._unit(ensure_learner=False) as unit:
            page = await unit.services.course.mark_done_at(unit.session, self.learner_id,
                                                           self.page_snippet)
        following = page.next_lesson
        tail = f" Next up: {following.label} (type n)." if following else " That was the last one!"
        return f"Marked {page.lesson.label} as done.{tail}"

    async def _quiz(self, args: list[str]) -> str:
        count: int | None = None
        # ASCII digits only: str.isdigit() also accepts "²" and "①", which int() refuses.
        if args and _COUNT.fullmatch(args[-1]):
            count = int(args.pop())
        lesson_id = None
        if args:
            lesson_id = self.services.course.resolve_lesson(" ".join(args)).id
        async with self._unit() as unit:
            view = await unit.services.quiz.start(unit.session, self.learner_id, guild_id=None,
                                                  lesson_id=lesson_id, count=count)
        self.question = view
        return render_question(view)

    async def _review(self, args: list[str]) -> str:
        count = int(args[0]) if args and _COUNT.fullmatch(args[0]) else None
        async with self._unit() as unit:
            start = await unit.services.review.start(unit.session, self.learner_id,
                                                     guild_id=None, count=count)
        self.question = start.question
        if start.question is None:
            return render_nothing_due(start, utcnow())
        return f"{start.due} question(s) due, most overdue first.\n\n" + render_question(
            start.question)

    async def _new_questions(self) -> str:
        async with self._unit() as unit:
            view = await unit.services.review.start_new(unit.session, self.learner_id,
                                                        guild_id=None)
        self.question = view
        return render_question(view)

    async def _card_action(self, action: str) -> str:
        view = self.question
        assert view is not None
        async with self._unit(ensure_learner=False) as unit:
            if action == "reset":
                await unit.services.review.reset(unit.session, self.learner_id,
                                                 view.attempt_id, view.question.id)
                return ("Reset: this question's schedule starts afresh with your answer.\n\n"
                        + render_question(view))
            done = await unit.services.review.suspend(unit.session, self.learner_id,
                                                      view.attempt_id, view.question.id)
        self.question = done.next_question
        text_out = "Got it: this question won't come back for review (unless you get it wrong)."
        if self.question is not None:
            return text_out + "\n\n" + render_question(self.question)
        if done.score is not None and done.score.answered:
            text_out += f"\nReview finished: {done.score.correct}/{done.score.total} right."
        return text_out

    async def _answer(self, text: str) -> str:
        view = self.question
        assert view is not None
        choice_id: str | None = None
        value: float | None = None
        reply = text.strip().lower()
        if view.question.kind is QuestionKind.NUMERIC:
            value = parse_number(text)
        elif view.question.kind is QuestionKind.TRUE_FALSE:
            if reply in {"t", "true", "yes", "y"}:
                choice_id = "true"
            elif reply in {"f", "false", "no", "n"}:
                choice_id = "false"
            else:
                return "Answer with t (true) or f (false)."
        else:
            letters = LETTERS[: len(view.choices)]
            if len(reply) != 1 or reply not in letters:
                return f"Answer with a letter from a to {letters[-1]}."
            choice_id = view.choices[letters.index(reply)].id
        # The same batched answer path as the Discord quiz (bot.services.answer_batch).
        result = await self.app.answers.record_practice(
            self.services.quiz, view.attempt_id, self.learner_id, view.question.id,
            choice_id=choice_id, value=value,
        )
        self.question = result.next_question
        text_out = render_result(result)
        if self.question is not None:
            text_out += "\n\n" + render_question(self.question)
        return text_out

    async def _progress(self, _args: list[str]) -> str:
        async with self._unit() as unit:
            summary = await unit.services.progress.summary(unit.session, self.learner_id,
                                                           guild_id=None)
        accuracy = f"{summary.accuracy:.0%}" if summary.accuracy is not None else "-"
        lines = [
            f"Course: {_bar(summary.lessons_done, summary.lessons_total)} "
            f"{summary.lessons_done}/{summary.lessons_total} lessons done",
            f"Answers: {summary.answered} ({accuracy} right), points: {summary.points}",
            f"Streak: {summary.streak.current} day(s) (longest {summary.streak.longest})",
        ]
        for view in summary.lessons:
            if view.read or view.answered:
                acc = f"{view.accuracy:.0%}" if view.accuracy is not None else "-"
                lines.append(f"  {view.lesson.number:>2}. {view.lesson.title}: "
                             f"{view.read}/{len(view.lesson.snippets)} read, accuracy {acc}")
        lines += render_reviews(summary.reviews)
        return "\n".join(lines)

    async def _leaderboard(self, args: list[str]) -> str:
        period = (args[0].lower() if args else "all")
        if period not in {"week", "all"}:
            return "Use /leaderboard week or /leaderboard all."
        since = self.services.progress.week_start() if period == "week" else None
        async with self._unit(ensure_learner=False) as unit:
            board = await unit.services.progress.leaderboard(unit.session, None, since=since)
        if not board:
            return "No points yet. Answer quiz questions to get on the board."
        return "\n".join(f"{e.rank:>2}. {e.name} - {e.points} point(s)" for e in board)

    async def _settings(self, args: list[str]) -> str:
        if len(args) < 2 or args[0].lower() != "timezone":
            return "Use /settings timezone <zone>, e.g. /settings timezone Europe/Berlin."
        async with self._unit(ensure_learner=False) as unit:
            zone = await unit.services.learners.set_timezone(
                unit.session, self.learner_id, " ".join(args[1:]))
        return f"Your time zone is now {zone}."

    async def _ask(self, args: list[str]) -> str:
        question = " ".join(args).strip()
        if not question:
            return "Ask a question about the course, e.g. /ask what is a token?"
        from bot.services.tutor import AskRequest  # the tutor loads on first use

        tutor = await self.app.tutor(progress=True)
        result = await tutor.ask(self.app.db.sessions, AskRequest(
            learner_id=self.learner_id, question=question, display_name=self.name))
        # Markdown emphasis reads as noise in a terminal.
        lines = [plain(result.text)]
        if result.citations:
            lines.append("Sources: " + "; ".join(c.label for c in result.citations))
        return "\n".join(lines)


async def run_console(settings: Settings, *, stdin: TextIO | None = None,
                      stdout: TextIO | None = None) -> int:
    """Serve the console until /quit or the end of input. Returns the exit status."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if isinstance(stdin, io.TextIOWrapper):
        # Bytes that are not valid text (a Latin-1 file piped in) must not end the session.
        stdin.reconfigure(errors="replace")
    app = await build_app(settings)
    console = Console(app, settings.console.learner_id, settings.console.name)
    interactive = stdin.isatty()
    try:
        if interactive:
            print(f'tutorbot console: "Generative AI fundamentals", {len(app.runtime.course.lessons)} '
                  "lessons. Type /help, or /lesson to start.", file=stdout)
        while True:
            if interactive:
                try:
                    line = await read_blocking(lambda: input("> "))
                except EOFError:
                    print(file=stdout)
                    break
            else:
                line = stdin.readline()
                if not line:
                    break
            if line.strip().lower() in {"/quit", "/exit", "quit", "exit"}:
                break
            output = await console.handle(line)
            if output:
                print(output, file=stdout, flush=True)
    finally:
        await app.close()
    return 0
