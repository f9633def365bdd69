"""👍/👎 on /ask answers: one rating per learner and answer, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.app import AppContext
from bot.db.models import Feedback
from bot.db.models.ask import AskLog
from bot.errors import InvalidInputError, NotFoundError
from bot.services.feedback import FeedbackContext

ASKER, READER = 10, 20
GUILD = 500


async def _answer(app: AppContext) -> int:
    """Two learners and one logged answer; the answer's id."""
    async with app.db.sessions.begin() as session:
        for learner in (ASKER, READER):
            await app.services.learners.ensure(session, learner, f"name{learner}")
        row = AskLog(
            learner_id=ASKER,
            guild_id=GUILD,
            question="q",
            answer="a",
            engine="llm",
            latency_ms=1,
            citations=[],
        )
        session.add(row)
        await session.flush()
        return row.id


async def _rate(app: AppContext, learner: int, answer: int, rating: int) -> Feedback:
    async with app.db.sessions.begin() as session:
        return await app.services.feedback.rate_answer(
            session, learner, answer, rating, guild_id=GUILD
        )


async def _ratings(app: AppContext) -> list[tuple[int, int | None, int | None, str | None]]:
    async with app.db.sessions() as session:
        rows = await session.scalars(select(Feedback).order_by(Feedback.id))
        return [(r.learner_id, r.ask_log_id, r.rating, r.comment) for r in rows]


async def test_rating_again_replaces_the_earlier_thumb(app: AppContext) -> None:
    answer = await _answer(app)
    first = await _rate(app, ASKER, answer, 1)
    again = await _rate(app, ASKER, answer, 1)  # a double click
    changed = await _rate(app, ASKER, answer, -1)  # a change of mind
    assert first.id == again.id == changed.id
    assert await _ratings(app) == [(ASKER, answer, -1, None)]
    assert changed.guild_id == GUILD and changed.created_at >= first.created_at


async def test_each_learner_and_each_answer_has_its_own_rating(app: AppContext) -> None:
    answer, other = await _answer(app), await _answer(app)
    await _rate(app, ASKER, answer, 1)
    await _rate(app, READER, answer, -1)
    await _rate(app, ASKER, other, -1)
    assert sorted(await _ratings(app)) == sorted(
        [(ASKER, answer, 1, None), (READER, answer, -1, None), (ASKER, other, -1, None)]
    )


async def test_a_comment_on_the_answer_is_not_a_rating(app: AppContext) -> None:
    answer = await _answer(app)
    async with app.db.sessions.begin() as session:
        await app.services.feedback.record(
            session, ASKER, comment="Too short", context=FeedbackContext(ask_log_id=answer)
        )
    await _rate(app, ASKER, answer, 1)
    await _rate(app, ASKER, answer, -1)
    assert await _ratings(app) == [(ASKER, answer, None, "Too short"), (ASKER, answer, -1, None)]


async def test_two_clicks_at_once_store_one_row(app: AppContext) -> None:
    answer = await _answer(app)
    await asyncio.gather(*(_rate(app, ASKER, answer, r) for r in (1, -1, 1, -1)))
    [(learner, ask_log, rating, _)] = await _ratings(app)
    assert (learner, ask_log) == (ASKER, answer) and rating in (1, -1)


@pytest.mark.parametrize("rating", [0, 2, 5, -2])
async def test_only_thumbs_rate_an_answer(app: AppContext, rating: int) -> None:
    answer = await _answer(app)
    with pytest.raises(InvalidInputError, match="thumbs up or thumbs down"):
        await _rate(app, ASKER, answer, rating)
    assert await _ratings(app) == []


async def test_an_answer_no_longer_logged_cannot_be_rated(app: AppContext) -> None:
    await _answer(app)
    with pytest.raises(NotFoundError, match="no longer on record"):
        await _rate(app, ASKER, 999_999, 1)
    assert await _ratings(app) == []
