"""The maintainers' review: guild-scoped lists, context, resolving once, the weekly digest."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from bot.app import AppContext
from bot.db.base import utcnow
from bot.errors import InvalidInputError, NotFoundError, RateLimitedError
from bot.services.feedback import RATE_LIMIT_COUNT, FeedbackContext
from bot.services.maintain import MaintainService, iso_week

GUILD, ELSEWHERE = 51, 52
LEARNER, MAINTAINER = 2001, 2002


@pytest.fixture
def maintain(app: AppContext) -> MaintainService:
    return MaintainService(app.course)


async def _report(app: AppContext, guild: int = GUILD, comment: str = "the key looks wrong",
                  learner: int = LEARNER) -> int:
    async with app.db.sessions.begin() as session:
        await app.services.learners.ensure(session, learner, "L", guild_id=guild)
        view = await app.services.quiz.start(session, learner, guild_id=guild,
                                             lesson_id="fx-genai", count=3,
                                             rng=random.Random(3))
        await app.services.quiz.record_answer(session, view.attempt_id, learner, "fx-genai.q1",
                                              choice_id="write")
        row = await app.services.feedback.record(
            session, learner, comment=comment, reason="wrong_answer",
            context=FeedbackContext(question_id="fx-genai.q1", guild_id=guild),
        )
        return row.id


async def test_a_report_is_stored_as_a_question_report_with_its_reason(
    app: AppContext, maintain: MaintainService
) -> None:
    feedback_id = await _report(app)
    async with app.db.sessions.begin() as session:
        detail = await maintain.show(session, feedback_id, guild_id=GUILD)
    item = detail.item
    assert (item.kind, item.reason, item.status, item.lesson_id) == (
        "question", "wrong_answer", "open", "fx-genai")
    assert item.reason_label == "The keyed answer is wrong"
    assert detail.question is not None and detail.question.id == "fx-genai.q1"
    assert detail.stats is not None and detail.stats.learners == 1 and detail.stats.correct == 0


async def test_a_maintainer_sees_only_their_guild(app: AppContext, maintain: MaintainService) -> None:
    mine = await _report(app, GUILD)
    theirs = await _report(app, ELSEWHERE, learner=LEARNER + 1)
    async with app.db.sessions.begin() as session:
        listed = await maintain.browse(session, guild_id=GUILD)
        everything = await maintain.browse(session, guild_id=None)
        with pytest.raises(NotFoundError, match="no feedback"):
            await maintain.show(session, theirs, guild_id=GUILD)
        with pytest.raises(NotFoundError):
            await maintain.resolve(session, theirs, MAINTAINER, guild_id=GUILD)
    assert [i.id for i in listed.items] == [mine]
    assert {i.id for i in everything.items} == {mine, theirs}


async def test_resolving_happens_once_and_the_reporter_can_be_told(
    app: AppContext, maintain: MaintainService
) -> None:
    feedback_id = await _report(app)
    async with app.db.sessions.begin() as session:
        first = await maintain.resolve(session, feedback_id, MAINTAINER, "fixed\x00 the key",
                                       guild_id=GUILD)
        second = await maintain.resolve(session, feedback_id, MAINTAINER + 1, "again",
                                        guild_id=GUILD)
        pending = await maintain.unnotified(session, LEARNER)
    assert not first.already and second.already
    assert second.item.resolution_note == "fixed the key"  # sanitised, and the first stands
    assert [p.id for p in pending] == [feedback_id]
    async with app.db.sessions.begin() as session:
        await maintain.mark_notified(session, feedback_id)
        assert await maintain.unnotified(session, LEARNER) == []
        open_items = await maintain.browse(session, guild_id=GUILD, status="open")
        resolved = await maintain.browse(session, guild_id=GUILD, status="resolved")
    assert open_items.total == 0 and resolved.total == 1


async def test_lists_page_and_filter(app: AppContext, maintain: MaintainService) -> None:
    for n in range(7):
        await _report(app, comment=f"note {n}")
    async with app.db.sessions.begin() as session:
        page0 = await maintain.browse(session, guild_id=GUILD, per_page=5)
        page1 = await maintain.browse(session, guild_id=GUILD, page=1, per_page=5)
        late = await maintain.browse(session, guild_id=GUILD, page=99, per_page=5)
        lessons = await maintain.browse(session, guild_id=GUILD, kind="lesson")
        with pytest.raises(InvalidInputError):
            await maintain.browse(session, guild_id=GUILD, kind="gossip")
        with pytest.raises(NotFoundError):
            await maintain.browse(session, guild_id=GUILD, lesson_id="nope")
    assert (page0.total, page0.pages, len(page0.items), len(page1.items)) == (7, 2, 5, 2)
    assert page0.items[0].comment == "note 6"  # newest first
    assert late.page == 1 and lessons.total == 0


async def test_written_feedback_is_rate_limited_per_learner(app: AppContext) -> None:
    async with app.db.sessions.begin() as session:
        await app.services.learners.ensure(session, LEARNER, "L", guild_id=GUILD)
        for n in range(RATE_LIMIT_COUNT):
            await app.services.feedback.record(session, LEARNER, comment=f"c{n}")
        with pytest.raises(RateLimitedError, match="saved"):
            await app.services.feedback.record(session, LEARNER, comment="one too many")
        # A bare rating is not written text: still accepted.
        await app.services.feedback.record(session, LEARNER, rating=4,
                                           context=FeedbackContext(lesson_id="fx-genai"))


async def test_the_digest_counts_the_guilds_week(app: AppContext, maintain: MaintainService) -> None:
    await _report(app)
    async with app.db.sessions.begin() as session:
        await app.services.feedback.record(session, LEARNER, rating=2,
                                           context=FeedbackContext(lesson_id="fx-genai",
                                                                   guild_id=GUILD))
        digest = await maintain.digest(session, GUILD)
        elsewhere = await maintain.digest(session, ELSEWHERE)
        later = await maintain.digest(session, GUILD, now=utcnow() + timedelta(days=30))
    assert (digest.new_items, digest.open_items) == (1, 1)
    assert digest.most_reported == [("fx-genai.q1", 1)]
    assert digest.lowest_rated[0][1:] == (2.0, 1)
    assert elsewhere.empty and later.new_items == 0 and later.open_items == 1
    assert digest.week == iso_week(utcnow())
