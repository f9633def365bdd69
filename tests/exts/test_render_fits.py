"""Every embed and button row each feature renders (bot/exts/*/_render.py) fits Discord's limits."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

import discord
import pytest

from bot.content.loader import load_course
from bot.content.model import Course, Lesson, Question, QuestionKind
from bot.exts.help import _render as help_render
from bot.exts.lessons import _render as lessons_render
from bot.exts.progress import _render as progress_render
from bot.exts.quiz import _render as quiz_render
from bot.services.course import LessonStatus, Page
from bot.services.progress import (
    REVIEW_DAYS,
    BoardEntry,
    LessonProgressView,
    Period,
    ProgressSummary,
    ReviewOutlook,
    Streak,
)
from bot.services.quiz import AnswerResult, QuestionView, Score, shuffled_choices
from bot.services.roles import Role
from bot.settings import PROJECT_ROOT
from bot.ui import embeds, views
from bot.ui import limits as L
from bot.ui.chart import ChartRow, render_progress_chart

LEARNER = 2**64 - 1  # the longest Discord id there can be


@pytest.fixture(scope="module")
def real_course() -> Course:
    """The course that ships in lessons/."""
    return load_course(PROJECT_ROOT / "lessons")


def assert_fits(*message_embeds: discord.Embed) -> None:
    """Each part of each embed, and their total, within Discord's limits."""
    total = 0
    for embed in message_embeds:
        data = embed.to_dict()
        assert len(data.get("title", "")) <= L.EMBED_TITLE_MAX
        assert len(data.get("description", "")) <= L.EMBED_DESCRIPTION_MAX
        assert len(data.get("fields", [])) <= L.EMBED_FIELDS_MAX
        for field in data.get("fields", []):
            assert 0 < len(field["name"]) <= L.EMBED_FIELD_NAME_MAX
            assert 0 < len(field["value"]) <= L.EMBED_FIELD_VALUE_MAX
        assert len(data.get("footer", {}).get("text", "")) <= L.EMBED_FOOTER_MAX
        assert len(data.get("author", {}).get("name", "")) <= L.EMBED_AUTHOR_MAX
        total += len(embed)
    assert total <= L.EMBED_TOTAL_MAX


def assert_buttons_fit(view: discord.ui.View) -> None:
    """Rows, buttons per row, labels and custom ids within Discord's limits."""
    rows = view.to_components()
    assert len(rows) <= L.ACTION_ROWS_MAX
    seen: set[str] = set()
    for row in rows:
        assert len(row["components"]) <= L.ROW_BUTTONS_MAX
        for item in row["components"]:
            assert 0 < len(item["label"]) <= L.BUTTON_LABEL_MAX
            assert len(item["custom_id"]) <= L.CUSTOM_ID_MAX
            assert item["custom_id"] not in seen  # unique within a message
            seen.add(item["custom_id"])


def pages(course: Course) -> Iterator[Page]:
    for lesson in course.lessons:
        for snippet in lesson.snippets:
            for done in (False, True):
                yield Page(
                    lesson,
                    snippet,
                    snippet.position,
                    len(lesson.snippets),
                    done,
                    course.next_lesson(lesson.id),
                )


async def test_every_lesson_page_fits(real_course: Course) -> None:
    for page in pages(real_course):
        embed = lessons_render.lesson_page(page)
        assert_fits(embed)
        assert embed.description == page.snippet.body  # snippets are shown whole
        view = lessons_render.lesson_buttons(page, LEARNER)
        assert_buttons_fit(view)
        assert view.is_finished()  # never kept in memory (clicks go to the DynamicItems)


async def test_the_last_page_of_the_course_ends_it(real_course: Course) -> None:
    last = real_course.lessons[-1]
    page = Page(last, last.snippets[-1], len(last.snippets) - 1, len(last.snippets), True, None)
    labels = {
        b["label"]: b.get("disabled", False)
        for r in lessons_render.lesson_buttons(page, 1).to_components()
        for b in r["components"]
    }
    assert labels["End of the course"] is True


def _answer_for(question: Question, right: bool) -> tuple[str, str | None, float | None]:
    if question.kind is QuestionKind.NUMERIC:
        assert question.answer_number is not None
        value = question.answer_number if right else question.answer_number + 1e9
        return f"{value:g}", None, value
    choice = next(c for c in question.choices if (c.id == question.answer_choice) == right)
    return choice.text, choice.id, None


def _lesson(course: Course, question: Question) -> Lesson:
    lesson = course.lesson(question.lesson_id)
    assert lesson is not None
    return lesson


async def test_every_question_and_every_verdict_fits(real_course: Course) -> None:
    questions = list(real_course.questions.values())
    for index, question in enumerate(questions):
        following = questions[(index + 1) % len(questions)]
        view = QuestionView(
            2**63 - 1, question, 20, 20, shuffled_choices(question, index),
            _lesson(real_course, question),
        )
        assert_fits(quiz_render.quiz_question(view))
        assert_buttons_fit(quiz_render.question_buttons(view, LEARNER))
        next_view = QuestionView(
            2**63 - 1, following, 20, 20, shuffled_choices(following, 1),
            _lesson(real_course, following),
        )
        for right in (True, False):
            given, _, _ = _answer_for(question, right)
            for finished in (False, True):
                score = Score(2**63 - 1, 19, 20, 20, finished, _lesson(real_course, question))
                result = AnswerResult(
                    question,
                    right,
                    given,
                    not finished,
                    real_course.snippets[question.snippet_id],
                    _lesson(real_course, question),
                    score,
                    None if finished else next_view,
                )
                shown = quiz_render.answer_embeds(result)
                assert_fits(*shown)
                assert "Read more: Lesson" in (shown[0].description or "")
                assert_buttons_fit(quiz_render.after_answer(result, LEARNER))


async def test_choices_are_lettered_in_the_attempts_order(real_course: Course) -> None:
    question = next(q for q in real_course.questions.values() if q.kind is QuestionKind.SINGLE)
    view = QuestionView(1, question, 1, 1, shuffled_choices(question, 3))
    body = quiz_render.quiz_question(view).description or ""
    for letter, choice in zip("ABCDE", view.choices, strict=False):
        assert f"**{letter}.** {choice.text}" in body
    buttons = quiz_render.question_buttons(view, 5).to_components()[0]["components"]
    assert [b["label"] for b in buttons] == list("ABCDE"[: len(view.choices)])
    assert [b["custom_id"].rsplit(":", 1)[1] for b in buttons] == [c.id for c in view.choices]


async def test_the_course_overview_paginates_a_long_course(real_course: Course) -> None:
    many = [
        LessonStatus(lesson, 1, i % 2 == 0, i == 3) for i, lesson in enumerate(real_course.lessons)
    ] * 4
    pages_text = lessons_render.course_pages(many)
    assert len(pages_text) == -(-len(many) // lessons_render.COURSE_LINES_PER_PAGE)
    for number in range(len(pages_text)):
        assert_fits(lessons_render.course_overview(many, number))
        view = lessons_render.course_buttons(LEARNER, number, len(pages_text))
        assert view is not None
        assert_buttons_fit(view)
    assert lessons_render.course_buttons(LEARNER, 0, 1) is None


def _summary(course: Course, name: str) -> ProgressSummary:
    lessons = [
        LessonProgressView(lesson, len(lesson.snippets), True, 99, 50) for lesson in course.lessons
    ]
    days = tuple((date(2026, 12, 1) + timedelta(days=n), 99_999) for n in range(REVIEW_DAYS))
    return ProgressSummary(
        1, name, lessons, len(lessons), len(lessons), 999, 500, Streak(400, 800, False), 123456, 1,
        ReviewOutlook(cards=999_999, due_today=99_999, retention=0.999, per_day=days),
    )


async def test_progress_and_leaderboard_fit_even_with_hostile_names(real_course: Course) -> None:
    hostile = "**@everyone** <@123> `" + "\u0301" * 50 + "\n" * 20 + "W" * 500
    assert_fits(progress_render.progress(_summary(real_course, hostile), name=hostile, with_chart=True))
    board = [BoardEntry(rank, rank, hostile, 10_000 - rank) for rank in range(1, 11)]
    for period in Period:
        embed = progress_render.leaderboard(board, period, hostile)
        assert_fits(embed)
        assert "@everyone" not in (embed.description or "")
        assert_fits(progress_render.leaderboard([], period, ""))


async def test_help_fits_for_every_role() -> None:
    commands = [help_render.CommandHelp(f"/c{i} [option]", "d" * 100) for i in range(30)]
    for role in Role:
        assert_fits(help_render.help_embed(commands, role))
    assert "For maintainers" in str(help_render.help_embed([], Role.MAINTAINER).to_dict())
    assert "For moderators" not in str(help_render.help_embed([], Role.LEARNER).to_dict())


def test_error_texts_fit_a_message() -> None:
    assert len(embeds.error_message("x" * 5000)) <= L.CONTENT_MAX
    assert "abc123" in embeds.apology("abc123")


async def test_the_number_modal_fits(real_course: Course) -> None:
    from bot.ui import custom_ids as ids

    for question in real_course.questions.values():
        if question.kind is not QuestionKind.NUMERIC:
            continue
        modal = quiz_render.number_modal(ids.NumberAnswer(LEARNER, 2**63 - 1, question.id), question)
        data = modal.to_dict()
        assert len(data["title"]) <= L.MODAL_TITLE_MAX
        assert len(data["custom_id"]) <= L.CUSTOM_ID_MAX
        assert modal.is_finished()


def test_submitted_value_reads_both_shapes_discord_sends() -> None:
    rows = {
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "value", "value": "42"}]}
        ]
    }
    labels = {
        "components": [{"type": 18, "component": {"type": 4, "custom_id": "value", "value": "7"}}]
    }
    assert views.submitted_value(rows) == "42"
    assert views.submitted_value(labels) == "7"
    assert views.submitted_value({"components": []}) is None
    assert views.submitted_value(None) is None


def test_the_chart_is_a_png_even_for_odd_labels() -> None:
    rows = [
        ChartRow(
            f"{i}. $\\frac{{x}}{{$ lesson " + "y" * 100, random.random(), None if i % 2 else 0.5
        )
        for i in range(17)
    ]
    png = render_progress_chart("$name$ with \n newline", rows)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert render_progress_chart("empty", []).startswith(b"\x89PNG")
    due = [("today", 9_999), *((f"Wed\n{n}", n % 3) for n in range(13))]
    assert render_progress_chart("with reviews", rows, due).startswith(b"\x89PNG")
