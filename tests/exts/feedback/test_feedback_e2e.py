"""/feedback, "Report this question", "Tell us why" and /forget-me through the fake Discord."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import AppContext
from bot.bot import TutorBot
from bot.db.models import Feedback, Learner, QuizAnswer
from bot.services.privacy import rows_naming
from bot.ui import custom_ids as ids
from tests.exts.conftest import click, count, run
from tests.exts.quiz.test_quiz_e2e import answer, start
from tests.fakediscord import FakeDiscord

HOSTILE = "@everyone see [this](https://evil.example) <script>"


async def _feedback_rows(app: AppContext) -> list[Feedback]:
    async with app.db.sessions() as session:
        return list(await session.scalars(select(Feedback).order_by(Feedback.id)))


async def test_feedback_opens_a_modal_and_stores_a_rating_and_comment(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    alice = fake.user("alice")
    handle = await fake.slash(alice, "feedback", {"lesson": "fx-genai"})
    modal = await handle.modal()
    assert "What generative AI is" in modal.title
    submitted = await fake.submit_modal(modal, {"rating": "4", "comment": HOSTILE + "\x00"})
    thanks = await submitted.response()
    assert thanks.ephemeral and "saved" in thanks.content
    [row] = await _feedback_rows(app)
    assert (row.learner_id, row.kind, row.rating, row.lesson_id) == (alice.id, "lesson", 4,
                                                                    "fx-genai")
    assert row.comment == HOSTILE  # stored without the NUL
    assert row.guild_id == fake.guild.id


async def test_a_bad_rating_is_refused_clearly_and_nothing_is_stored(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    handle = await fake.slash(fake.user("bob"), "feedback")
    modal = await handle.modal()
    assert "course" in modal.title.lower()  # bob is reading nothing yet
    refused = await (await fake.submit_modal(modal, {"rating": "9", "comment": "hi"})
                     ).response()
    assert refused.ephemeral and "1 to 5" in refused.content
    assert await _feedback_rows(app) == []
    empty = await (await fake.submit_modal(modal, {"rating": "", "comment": "  "})).response()
    assert "rating or write a comment" in empty.content


async def test_a_quiz_question_can_be_reported_with_a_reason(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    message = await start(fake, lesson="fx-genai", questions=1)
    verdict = await answer(fake, app, message, "alice", right=False)
    picker = await click(fake, verdict, "\u2691 Report this question", "alice")
    assert picker.ephemeral and "Pick a reason" in picker.content
    opened = await fake.click(picker, label="\u274c The keyed answer is wrong",
                              user=fake.user("alice"))
    modal = await opened.modal()
    thanks = await (await fake.submit_modal(modal, {"comment": "B is right too"})).response()
    assert "saved" in thanks.content
    [row] = await _feedback_rows(app)
    async with app.db.sessions() as session:
        answer_row = await session.scalar(select(QuizAnswer).where(
            QuizAnswer.learner_id == fake.user("alice").id))
    assert answer_row is not None
    assert (row.kind, row.reason, row.question_id, row.comment, row.quiz_answer_id) == (
        "question", "wrong_answer", answer_row.question_id, "B is right too", answer_row.id)


async def test_a_report_never_links_someone_elses_answer(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    message = await start(fake, lesson="fx-genai", questions=1)
    await answer(fake, app, message, "alice")
    async with app.db.sessions() as session:
        theirs = await session.scalar(select(QuizAnswer))
    assert theirs is not None
    # Bob forges a report form naming Alice's attempt: stored as his, with no answer linked.
    forged = ids.ReportForm(theirs.attempt_id or 0, theirs.question_id, "typo")
    handle = await fake.slash(fake.user("bob"), "feedback")
    modal = await handle.modal()
    modal.custom_id = forged.encode()  # what a forged client would submit
    thanks = await (await fake.submit_modal(modal, {"comment": "typo here"})).response()
    assert "saved" in thanks.content
    [row] = await _feedback_rows(app)
    assert row.learner_id == fake.user("bob").id and row.quiz_answer_id is None


async def test_forget_me_after_confirmation(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    alice = fake.user("alice")
    message = await start(fake, lesson="fx-genai", questions=1)
    await answer(fake, app, message, "alice")
    asked = await run(fake, "alice", "forget-me")
    assert asked.ephemeral and "Forget me?" in asked.content
    assert await count(app, Learner, Learner.id == alice.id) == 1  # nothing yet
    done = await click(fake, asked, "Yes, forget me", "alice")
    assert "Done" in done.content and "stay in the course statistics" in done.content
    async with app.db.sessions() as session:
        assert await rows_naming(session, alice.id) == {}
    assert await count(app, QuizAnswer) == 1  # the answer is kept, anonymously
