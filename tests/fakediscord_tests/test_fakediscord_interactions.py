"""The real discord.py client answering interactions through the fake Discord."""

from __future__ import annotations

import asyncio
import io
import struct
import zlib

import discord
import pytest
from discord import app_commands

from tests.fakediscord import FakeDiscord, ScenarioError, run_client

LESSONS = {
    "01": "What is generative AI",
    "02": "Large language models",
    "04": "Neural network basics",
}


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    """A valid RGB PNG of the given size (no image library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def test_slash_command_round_trip(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()
    seen: dict[str, object] = {}

    @bot.tree.command()
    async def ping(interaction: discord.Interaction) -> None:
        """Check the bot is alive."""
        seen["user"] = interaction.user.id
        seen["guild"] = interaction.guild_id
        seen["member"] = isinstance(interaction.user, discord.Member)
        await interaction.response.send_message(f"pong {interaction.user.mention}")

    alice = fake.user("alice")
    async with run_client(fake, bot):
        handle = await fake.slash(alice, "ping")
        reply = await handle.response()

    assert reply.content == f"pong <@{alice.id}>"
    assert not reply.ephemeral
    assert seen == {"user": alice.id, "guild": fake.guild.id, "member": True}
    assert handle.callback_type == 4
    # The bot's allowed_mentions reached the fake, so alice is not pinged.
    assert reply.allowed_mentions == {"parse": []}
    assert reply.mentions == []
    assert fake.commands()["ping"]["description"] == "Check the bot is alive."
    assert len(fake.sync_calls) == 1 and fake.sync_calls[0].names == ["ping"]
    fake.assert_no_rejections()


async def test_deferred_response_then_followups(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()
    release = asyncio.Event()

    @bot.tree.command()
    async def slow(interaction: discord.Interaction) -> None:
        """Think, then answer."""
        await interaction.response.defer(thinking=True, ephemeral=True)
        await release.wait()
        await interaction.followup.send("first answer")
        await interaction.followup.send("second answer")
        await interaction.edit_original_response(content="first answer, edited")

    async with run_client(fake, bot):
        handle = await fake.slash(fake.user("alice"), "slow")
        assert await handle.acknowledgement() == 5
        assert handle.original is not None and handle.original.loading
        release.set()
        reply = await handle.response()
        second = await handle.followup(0)
        edited = await handle.delivery(2)

    # The first followup after a "thinking" defer fills the deferred message itself.
    assert reply is handle.original and not reply.loading
    assert reply.ephemeral  # the defer decided it
    assert second.content == "second answer" and second is not reply
    assert edited is reply and reply.content == "first answer, edited"
    assert [v["content"] for v in reply.versions] == ["", "first answer"]
    assert handle.messages() == [reply, second]
    fake.assert_no_rejections()


async def test_second_initial_response_is_rejected(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()

    @bot.tree.command()
    async def ping(interaction: discord.Interaction) -> None:
        """Answer every delivery of the interaction."""
        await interaction.response.send_message("pong")

    async with run_client(fake, bot):
        handle = await fake.slash(fake.user("alice"), "ping")
        await handle.response()
        # Discord may deliver an interaction twice (after a resume); only one answer counts.
        await handle.redeliver()
        failure = await asyncio.wait_for(bot.errors.get(), 5)

    assert isinstance(failure, discord.HTTPException)
    assert (failure.status, failure.code) == (400, 40060)
    assert handle.rejections[0].code == 40060
    assert len(handle.messages()) == 1


async def test_late_first_response_is_rejected(fake: FakeDiscord, bare_bot) -> None:
    fake.response_deadline = 0.05
    bot = bare_bot()
    go = asyncio.Event()

    @bot.tree.command()
    async def late(interaction: discord.Interaction) -> None:
        """Answer too late."""
        await go.wait()
        await interaction.response.send_message("too late")

    async with run_client(fake, bot):
        handle = await fake.slash(fake.user("alice"), "late")
        await handle.deadline_passed()
        go.set()
        failure = await asyncio.wait_for(bot.errors.get(), 5)

    # Discord answers a late first response with 404 Unknown interaction.
    assert isinstance(failure, discord.NotFound)
    assert (failure.status, failure.code) == (404, 10062)
    assert handle.expired and not handle.acknowledged


async def test_defer_in_time_then_late_followup_is_fine(fake: FakeDiscord, bare_bot) -> None:
    fake.response_deadline = 0.2
    bot = bare_bot()
    go = asyncio.Event()

    @bot.tree.command()
    async def think(interaction: discord.Interaction) -> None:
        """Defer at once, answer after the 3-second window."""
        await interaction.response.defer(thinking=True)
        await go.wait()
        await interaction.followup.send("worth the wait")

    async with run_client(fake, bot):
        handle = await fake.slash(fake.user("alice"), "think")
        await handle.acknowledgement()
        await handle.deadline_passed()
        go.set()
        reply = await handle.response()

    assert reply.content == "worth the wait"
    fake.assert_no_rejections()


async def test_too_long_content_is_rejected(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()

    @bot.tree.command()
    async def essay(interaction: discord.Interaction) -> None:
        """Say too much, then recover."""
        try:
            await interaction.response.send_message("x" * 2001)
        except discord.HTTPException as exc:
            await interaction.response.send_message(f"too long ({exc.code})", ephemeral=True)

    async with run_client(fake, bot):
        handle = await fake.slash(fake.user("alice"), "essay")
        reply = await handle.response()

    assert reply.content == "too long (50035)" and reply.ephemeral
    rejection = handle.rejections[0]
    assert (rejection.status, rejection.code) == (400, 50035)
    too_long = {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}
    assert rejection.errors == {"data": {"content": {"_errors": [too_long]}}}


async def test_autocomplete_returns_the_bots_choices(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()

    @bot.tree.command()
    @app_commands.describe(name="The lesson")
    async def lesson(interaction: discord.Interaction, name: str) -> None:
        """Open a lesson."""
        await interaction.response.send_message(LESSONS[name])

    @lesson.autocomplete("name")
    async def lesson_names(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=title, value=key)
            for key, title in LESSONS.items()
            if current.lower() in title.lower()
        ]

    alice = fake.user("alice")
    async with run_client(fake, bot):
        choices = await fake.autocomplete(alice, "lesson", "name", "neural")
        everything = await fake.autocomplete(alice, "lesson", "name", "")
        reply = await (await fake.slash(alice, "lesson", {"name": choices[0]["value"]})).response()

    assert choices == [{"name": "Neural network basics", "value": "04"}]
    assert len(everything) == 3
    assert reply.content == "Neural network basics"
    fake.assert_no_rejections()


class FeedbackModal(discord.ui.Modal, title="Lesson feedback"):
    """One old-style input (in an action row) and one in a Label."""

    rating: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
        label="Rating (1-5)", custom_id="rating", max_length=1
    )
    comment: discord.ui.Label[FeedbackModal] = discord.ui.Label(
        text="Comment",
        description="What would make the lesson better?",
        component=discord.ui.TextInput(
            custom_id="comment", style=discord.TextStyle.paragraph, required=False
        ),
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        comment = self.comment.component
        assert isinstance(comment, discord.ui.TextInput)
        await interaction.response.send_message(
            f"rating {self.rating.value}, comment {comment.value!r}", ephemeral=True
        )


async def test_modal_submit_reaches_the_modal(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()

    @bot.tree.command()
    async def feedback(interaction: discord.Interaction) -> None:
        """Give feedback on a lesson."""
        await interaction.response.send_modal(FeedbackModal())

    async with run_client(fake, bot):
        handle = await fake.slash(fake.user("alice"), "feedback")
        modal = await handle.modal()
        submitted = await fake.submit_modal(modal, {"rating": "4", "comment": "More examples"})
        reply = await submitted.response()

    assert modal.title == "Lesson feedback"
    assert [i["custom_id"] for i in modal.inputs] == ["rating", "comment"]
    assert modal.label_of("rating") == "Rating (1-5)"
    assert modal.label_of("comment") == "Comment"
    assert reply.content == "rating 4, comment 'More examples'" and reply.ephemeral
    fake.assert_no_rejections()


async def test_dm_interaction_and_direct_messages(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()
    seen: dict[str, object] = {}

    @bot.tree.command()
    async def remind(interaction: discord.Interaction) -> None:
        """Send me a reminder by DM."""
        seen["guild"] = interaction.guild
        seen["channel"] = type(interaction.channel).__name__
        seen["user"] = type(interaction.user).__name__
        await interaction.response.send_message("I will remind you", ephemeral=True)
        await interaction.user.send("Time for lesson 2!")

    alice = fake.user("alice")
    async with run_client(fake, bot):
        handle = await fake.slash(alice, "remind", dm=True)
        reply = await handle.response()
        dm = await fake.wait_for_message(
            lambda m: m.channel is fake.dm_channel(alice) and not m.ephemeral
        )

    assert seen == {"guild": None, "channel": "DMChannel", "user": "User"}
    assert handle.payload["context"] == 1 and "member" not in handle.payload
    assert reply.channel.is_dm and reply.ephemeral
    assert dm.content == "Time for lesson 2!" and dm.interaction_id is None
    fake.assert_no_rejections()


async def test_dm_to_a_user_with_closed_dms_is_forbidden(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()
    alice = fake.user("alice")
    alice.dms_open = False

    @bot.tree.command()
    async def remind(interaction: discord.Interaction) -> None:
        """Send me a reminder by DM."""
        try:
            await interaction.user.send("Time for lesson 2!")
        except discord.Forbidden as exc:
            await interaction.response.send_message(f"cannot DM you ({exc.code})", ephemeral=True)

    async with run_client(fake, bot):
        reply = await (await fake.slash(alice, "remind")).response()

    assert reply.content == "cannot DM you (50007)"


async def test_file_attachments_arrive_with_their_bytes(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()
    png = tiny_png(4, 3)

    @bot.tree.command()
    async def chart(interaction: discord.Interaction) -> None:
        """Draw my progress."""
        await interaction.response.defer(thinking=True)
        await interaction.followup.send(
            "Your progress",
            file=discord.File(fp=io.BytesIO(png), filename="progress.png"),
        )

    @bot.tree.command()
    async def notes(interaction: discord.Interaction) -> None:
        """Lesson notes as a file."""
        data = io.BytesIO(b"# Lesson 1\n")
        await interaction.response.send_message(
            file=discord.File(data, filename="notes.md", description="Notes")
        )

    alice = fake.user("alice")
    async with run_client(fake, bot):
        drawn = await (await fake.slash(alice, "chart")).response()
        written = await (await fake.slash(alice, "notes")).response()

    [image] = drawn.attachments
    assert (image.filename, image.content_type, image.data) == ("progress.png", "image/png", png)
    assert image.image_size == (4, 3)
    [text] = written.attachments
    assert (text.filename, text.data, text.description) == ("notes.md", b"# Lesson 1\n", "Notes")
    assert fake.files() == [image, text]
    fake.assert_no_rejections()


async def test_deferred_update_then_edit_followup_and_delete(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()

    class Next(discord.ui.View):
        @discord.ui.button(label="Next page", custom_id="next")
        async def next_page(
            self, interaction: discord.Interaction, button: discord.ui.Button[Next]
        ) -> None:
            await interaction.response.defer()  # type 6: acknowledge, no "thinking" message
            await interaction.edit_original_response(content="page 2", view=None)
            note = await interaction.followup.send("turned the page", ephemeral=True, wait=True)
            await note.delete()

    @bot.tree.command()
    async def read(interaction: discord.Interaction) -> None:
        """Read a lesson."""
        await interaction.response.send_message("page 1", view=Next())

    alice = fake.user("alice")
    async with run_client(fake, bot):
        page = await (await fake.slash(alice, "read")).response()
        click = await fake.click(page, "next", user=alice)
        edited = await click.response()
        note = await click.followup(0)
        await fake.wait_until(lambda: note.deleted, what="the note to be deleted")

    assert click.callback_type == 6
    assert edited is page and page.content == "page 2" and page.components == []
    assert note.content == "turned the page" and note.ephemeral
    fake.assert_no_rejections()


async def test_channel_messages_members_and_history(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()
    general = fake.guild.channel("general")
    alice = fake.user("alice")
    async with run_client(fake, bot):
        channel = bot.get_channel(general.id)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("Lesson 1 is out", embed=discord.Embed(title="Lesson 1"))
        await sent.edit(content="Lesson 1 is out (updated)")
        fetched = await channel.fetch_message(sent.id)
        second = await channel.send("Lesson 2 is out")
        history = [m.content async for m in channel.history(limit=10)]
        await second.delete()
        member = await channel.guild.fetch_member(alice.id)
        with pytest.raises(discord.NotFound):
            await channel.guild.fetch_member(fake.user("dora").id)
        await sent.add_reaction("👍")

    stored = fake.messages[sent.id]
    assert fetched.content == stored.content == "Lesson 1 is out (updated)"
    assert (
        stored.embed["title"] == "Lesson 1" and stored.versions[0]["content"] == "Lesson 1 is out"
    )
    assert history == ["Lesson 2 is out", "Lesson 1 is out (updated)"]
    assert fake.messages[second.id].deleted and fake.messages_in(general) == [stored]
    assert member.id == alice.id and member.name == "alice"
    assert stored.reactions == {"👍": {fake.bot_user.id}}
    assert [r.code for r in fake.rejections] == [10007]


async def test_mentions_follow_allowed_mentions(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()

    @bot.tree.command()
    async def hello(interaction: discord.Interaction) -> None:
        """Greet, pinging only on the second message."""
        mention = interaction.user.mention
        await interaction.response.send_message(f"hello {mention}")
        await interaction.followup.send(
            f"and again {mention}", allowed_mentions=discord.AllowedMentions(users=True)
        )

    alice = fake.user("alice")
    async with run_client(fake, bot):
        handle = await fake.slash(alice, "hello")
        quiet, loud = await handle.response(), await handle.followup(0)

    assert quiet.allowed_mentions == {"parse": []} and quiet.mentions == []
    assert loud.allowed_mentions is not None and "users" in loud.allowed_mentions["parse"]
    assert loud.mentions == [alice]


async def test_the_fake_refuses_what_a_discord_client_would_not_send(
    fake: FakeDiscord, bare_bot
) -> None:
    bot = bare_bot()

    @bot.tree.command()
    @app_commands.default_permissions(manage_guild=True)
    async def admin(interaction: discord.Interaction, level: app_commands.Range[int, 1, 3]) -> None:
        """Mentors only."""
        await interaction.response.send_message(f"level {level}")

    alice, dora = fake.user("alice"), fake.user("dora")
    async with run_client(fake, bot):
        with pytest.raises(ScenarioError, match="not synced"):
            await fake.slash(alice, "nope")
        with pytest.raises(ScenarioError, match="lacks the permissions"):
            await fake.slash(alice, "admin", {"level": 1})
        with pytest.raises(ScenarioError, match="is required"):
            await fake.slash(fake.owner, "admin")
        with pytest.raises(ScenarioError, match="at most 3"):
            await fake.slash(fake.owner, "admin", {"level": 4})
        with pytest.raises(ScenarioError, match="not a member"):
            await fake.slash(dora, "admin", {"level": 1})
        reply = await (await fake.slash(fake.owner, "admin", {"level": 2})).response()
    assert reply.content == "level 2"
