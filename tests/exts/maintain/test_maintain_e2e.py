"""/maintain through the fake Discord: who may use it, guild scope, pages, resolve and the DM."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import AppContext
from bot.bot import TutorBot
from bot.db.models import Feedback
from bot.services.feedback import FeedbackContext
from tests.exts.conftest import click, run
from tests.fakediscord import FakeDiscord
from tests.fakediscord._server import ScenarioError

OTHER_GUILD = 987654321
MANAGE_GUILD = 1 << 5


async def _seed(app: AppContext, fake: FakeDiscord, comments: int = 7) -> list[int]:
    alice = fake.user("alice")
    ids = []
    async with app.db.sessions.begin() as session:
        await app.services.learners.ensure(session, alice.id, "alice", guild_id=fake.guild.id)
        for n in range(comments):
            row = await app.services.feedback.record(
                session, alice.id, comment=f"note {n} [link](https://x.example)", reason="unclear",
                context=FeedbackContext(question_id="fx-genai.q1", guild_id=fake.guild.id),
            )
            ids.append(row.id)
        elsewhere = await app.services.feedback.record(
            session, alice.id, comment="from another server",
            context=FeedbackContext(lesson_id="fx-nn", guild_id=OTHER_GUILD),
        )
        ids.append(elsewhere.id)
    return ids


async def _make_mia_maintainer(app: AppContext, fake: FakeDiscord) -> None:
    async with app.db.sessions.begin() as session:
        await app.services.guild_config.set(
            session, fake.guild.id, maintainer_role_id=fake.guild.role("Mentor").id
        )


async def test_maintain_is_synced_for_managers_and_a_learner_cannot_run_it(
    fake: FakeDiscord, tutor: TutorBot
) -> None:
    spec = fake.commands()["maintain"]
    assert int(spec["default_member_permissions"]) == MANAGE_GUILD
    assert spec["contexts"] == [0]  # servers only
    with pytest.raises(ScenarioError, match="lacks the permissions"):
        await fake.slash(fake.user("bob"), "maintain feedback list")


async def test_the_bot_checks_the_maintainer_role_too(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    await _seed(app, fake)
    # An admin opened /maintain to Mentors in Integrations, but Mentor is not the maintainer role.
    fake.allow_command(fake.guild, "maintain", fake.guild.role("Mentor"))
    refused = await run(fake, "mia", "maintain feedback list")
    assert refused.ephemeral and "Only the course maintainers" in refused.content


async def test_a_maintainer_pages_through_their_servers_feedback_and_resolves_one(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    ids = await _seed(app, fake)
    fake.allow_command(fake.guild, "maintain", fake.guild.role("Mentor"))
    await _make_mia_maintainer(app, fake)

    listed = await run(fake, "mia", "maintain feedback list")
    assert listed.ephemeral and listed.embed["title"] == "Feedback in this server"
    text = listed.embed["description"]
    assert "note 6" in text and "from another server" not in text
    assert "https://x" not in text and "https\u200b://x" in text  # no live link
    assert "page 1 of 2" in listed.embed["footer"]["text"]
    older = await click(fake, listed, "Older \u25b6", "mia")
    assert "page 2 of 2" in older.embed["footer"]["text"] and "note 0" in older.embed["description"]

    other = await run(fake, "mia", "maintain feedback show", {"id": ids[-1]})
    assert "no feedback" in other.content
    shown = await run(fake, "mia", "maintain feedback show", {"id": ids[0]})
    fields = {f["name"]: f["value"] for f in shown.embed["fields"]}
    assert "Question fx-genai.q1" in fields and "\u2705" in fields["Question fx-genai.q1"]
    assert fields["Reason"] == "The question is unclear"

    done = await run(fake, "mia", "maintain feedback resolve", {"id": ids[0], "note": "reworded"})
    assert "Resolved" in done.content and "told by DM" in done.content
    dm = fake.messages_in(fake.dm_channel(fake.user("alice")))
    assert dm and "reworded" in dm[-1].content
    again = await run(fake, "mia", "maintain feedback resolve", {"id": ids[0]})
    assert "already resolved" in again.content
    async with app.db.sessions() as session:
        row = await session.get(Feedback, ids[0])
    assert row is not None and row.status == "resolved" and row.reporter_notified_at is not None
    assert row.resolved_by == fake.user("mia").id

    flagged = await run(fake, "mia", "maintain questions")
    assert flagged.ephemeral and "Questions to fix in this server" in flagged.embed["title"]


async def test_the_bot_owner_sees_every_server(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    await _seed(app, fake, comments=1)
    listed = await run(fake, "course-owner", "maintain feedback list", {"status": "all"})
    assert listed.embed["title"] == "Feedback in all servers"
    assert "from another server" in listed.embed["description"]
    async with app.db.sessions() as session:
        assert len(list(await session.scalars(select(Feedback)))) == 2


async def test_a_reporter_with_closed_dms_is_told_on_their_next_note(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    ids = await _seed(app, fake, comments=1)
    fake.allow_command(fake.guild, "maintain", fake.guild.role("Mentor"))
    await _make_mia_maintainer(app, fake)
    fake.user("alice").dms_open = False
    done = await run(fake, "mia", "maintain feedback resolve", {"id": ids[0], "note": "fixed"})
    assert "couldn't DM" in done.content
    fake.rejections.clear()  # the refused DM, as expected
    modal = await (await fake.slash(fake.user("alice"), "feedback")).modal()
    thanks = await (await fake.submit_modal(modal, {"rating": "5"})).response()
    assert f"#{ids[0]}" in thanks.content and "fixed" in thanks.content
    again = await (await fake.submit_modal(modal, {"rating": "4"})).response()
    assert f"#{ids[0]}" not in again.content  # told once
