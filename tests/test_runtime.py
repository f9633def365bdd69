"""The course runtime: swapped as one unit; a unit of work commits whole or not at all."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.app import AppContext
from bot.db.models import Learner, LessonProgress
from bot.errors import NotFoundError
from bot.runtime import Actor, unit_of_work

ME = Actor(user_id=4242, name="Ada", guild_id=77, guild_name="GenAI course")


async def test_a_swap_replaces_course_and_services_together(app: AppContext) -> None:
    before = app.runtime
    after = app.swap_course(before.course)
    assert app.runtime is after and app.course is after.course
    assert app.services is after.services is not before.services
    for service in (after.services.course, after.services.quiz, after.services.progress):
        assert service.course is after.course
    # The old unit is untouched: an interaction that read it finishes on it.
    assert before.services.course.course is before.course


async def test_a_unit_of_work_ensures_the_learner_and_commits(app: AppContext) -> None:
    async with unit_of_work(app.db, app.runtime, ME) as unit:
        page = await unit.services.course.resume(unit.session, ME.user_id)
    assert page.index == 0
    async with app.db.sessions() as session:
        learner = await session.get(Learner, ME.user_id)
        assert learner is not None and learner.display_name == "Ada"


async def test_a_failing_unit_of_work_writes_nothing(app: AppContext) -> None:
    with pytest.raises(NotFoundError):
        async with unit_of_work(app.db, app.runtime, ME) as unit:
            await unit.services.course.mark_done(unit.session, ME.user_id, "fx-genai")
            await unit.services.course.mark_done_at(unit.session, ME.user_id, "no.such-snippet")
    async with app.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Learner)) == 0
        assert await session.scalar(select(func.count()).select_from(LessonProgress)) == 0


async def test_service_results_carry_what_adapters_need(app: AppContext) -> None:
    async with unit_of_work(app.db, app.runtime, ME) as unit:
        view = await unit.services.quiz.start(
            unit.session, ME.user_id, guild_id=ME.guild_id, lesson_id="fx-genai", count=2
        )
        last_lesson = unit.course.lessons[-1]
        last = last_lesson.snippets[-1]
        beyond = await unit.services.course.step(unit.session, ME.user_id, last.id, 1)
        inside = await unit.services.course.step(
            unit.session, ME.user_id, last_lesson.snippets[0].id, 1
        )
        marked = await unit.services.course.mark_done_at(unit.session, ME.user_id, last.id)
    assert view.lesson is not None and view.lesson.id == "fx-genai"
    assert beyond.finished_course and beyond.lesson_done and beyond.snippet.id == last.id
    assert not inside.finished_course
    assert marked.lesson.id == last_lesson.id and marked.lesson_done
