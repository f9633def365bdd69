"""/help through the fake Discord: each role sees its own sections."""

from __future__ import annotations

from bot.bot import TutorBot
from tests.exts.conftest import run
from tests.fakediscord import FakeDiscord
from tests.fakediscord._world import MANAGE_MESSAGES

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


async def test_help_is_shown_per_role(fake: FakeDiscord, tutor: TutorBot) -> None:
    moderators = fake.add_role(fake.guild, "Moderator", permissions=MANAGE_MESSAGES)
    fake.add_member(fake.guild, fake.user("dora"), roles=(moderators.name,))

    def sections(message_text: str) -> tuple[bool, bool]:
        return "For moderators" in message_text, "For maintainers" in message_text

    learner = await run(fake, "alice", "help")
    assert learner.ephemeral
    assert "/lesson [name]" in learner.text and "/settings timezone <zone>" in learner.text
    assert "/quiz [lesson] [questions]" in learner.text and "/progress [member]" in learner.text
    assert sections(learner.text) == (False, False)
    assert "/schedule" not in learner.text and "/config" not in learner.text
    # Manage Messages alone makes no moderator: the roles set with /config do.
    assert sections((await run(fake, "dora", "help")).text) == (False, False)
    await run(fake, "course-owner", "config moderator-role", {"role": moderators})
    await run(fake, "course-owner", "config maintainer-role", {"role": fake.guild.role("Mentor")})
    moderator = await run(fake, "dora", "help")
    assert sections(moderator.text) == (True, False)
    assert "/schedule add \u00b7 list" in moderator.text and "/config show" in moderator.text
    assert sections((await run(fake, "mia", "help")).text) == (True, True)  # the Mentor role
    assert sections((await run(fake, "course-owner", "help")).text) == (True, True)
    assert sections((await run(fake, "course-owner", "help", dm=True)).text) == (False, False)
