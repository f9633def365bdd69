"""👎 on an /ask answer, then "Tell us why": a comment stored with the answer, asker only."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import AppContext
from bot.bot import TutorBot
from bot.db.models import Feedback
from bot.ui import custom_ids as ids
from tests.exts.ask.test_ask_e2e import (  # noqa: F401  (fixtures of the /ask tests)
    DOWN,
    ask,
    ask_options,
    fake_api,
    log_rows,
    ready,
    settings,
    thread_of,
)
from tests.fakediscord import FakeDiscord


async def test_tell_us_why_after_a_thumbs_down(
    fake: FakeDiscord, ready: TutorBot, app: AppContext  # noqa: F811
) -> None:
    _, message = await ask(fake)
    await thread_of(fake, message)
    [row] = await log_rows(app)
    alice, bob = fake.user("alice"), fake.user("bob")
    thanks = await (await fake.click(message, label=DOWN, user=alice)).response()
    assert thanks.ephemeral and thanks.button("\U0001f4ac Tell us why")

    # Bob's tampered client turns a public button into "Tell us why" on Alice's answer.
    message.button(DOWN)["custom_id"] = ids.TellWhy(row.id).encode()
    forged = await (await fake.click(message, label=DOWN, user=bob)).response()
    assert forged.ephemeral and "Only the person who asked" in forged.text

    modal = await (await fake.click(thanks, label="\U0001f4ac Tell us why", user=alice)).modal()
    done = await (await fake.submit_modal(modal, {"comment": "it ignored my question"})
                  ).response()
    assert "saved" in done.text
    async with app.db.sessions() as session:
        rows = [(f.kind, f.rating, f.comment, f.learner_id, f.ask_log_id)
                for f in await session.scalars(select(Feedback).order_by(Feedback.id))]
    assert rows == [("ask", -1, None, alice.id, row.id),
                    ("ask", None, "it ignored my question", alice.id, row.id)]
