"""Connecting, restarting, sharding, resuming, and failing loudly."""

from __future__ import annotations

import re

import discord
import pytest
from discord.http import Route

from tests.fakediscord import BotStoppedError, FakeDiscord, run_client


class Counter(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"counter:(?P<count>[0-9]+)",
):
    """A button that keeps working after a restart: its state lives in its custom_id."""

    def __init__(self, count: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"Count {count}",
                custom_id=f"counter:{count}",
                style=discord.ButtonStyle.primary,
            )
        )
        self.count = count

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[discord.ui.View],
        match: re.Match[str],
    ) -> Counter:
        return cls(int(match["count"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(Counter(self.count + 1))
        await interaction.response.edit_message(
            content=f"{interaction.user.name} counted", view=view
        )


async def test_dynamic_button_works_after_a_restart(fake: FakeDiscord, bare_bot) -> None:
    first = bare_bot()

    @first.tree.command()
    async def counter(interaction: discord.Interaction) -> None:
        """Start counting."""
        view = discord.ui.View(timeout=None)
        view.add_item(Counter(0))
        await interaction.response.send_message("Click to count", view=view)

    alice = fake.user("alice")
    async with run_client(fake, first):
        message = await (await fake.slash(alice, "counter")).response()
    assert first.is_closed()

    second = bare_bot()
    second.add_dynamic_items(Counter)
    async with run_client(fake, second):
        click = await fake.click(message, "counter:0", user=alice)
        updated = await click.response()
        again = await (await fake.click(updated, label="Count 1", user=fake.user("bob"))).response()

    assert click.callback_type == 7 and updated is message
    assert again.content == "bob counted" and again.buttons[0]["custom_id"] == "counter:2"
    assert fake.identify_count == 2
    fake.assert_no_rejections()


async def test_select_menu_reaches_the_view(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()

    class Pick(discord.ui.View):
        @discord.ui.select(
            custom_id="pick", options=[discord.SelectOption(label=x, value=x) for x in "ABC"]
        )
        async def pick(
            self, interaction: discord.Interaction, select: discord.ui.Select[Pick]
        ) -> None:
            await interaction.response.send_message(
                f"you picked {select.values[0]}", ephemeral=True
            )

    @bot.tree.command()
    async def quiz(interaction: discord.Interaction) -> None:
        """Answer a question."""
        await interaction.response.send_message("Which one?", view=Pick())

    alice = fake.user("alice")
    async with run_client(fake, bot):
        question = await (await fake.slash(alice, "quiz")).response()
        answer = await (await fake.select(question, "pick", ["B"], user=alice)).response()

    assert answer.content == "you picked B" and answer.ephemeral
    fake.assert_no_rejections()


async def test_sharded_bot_gets_each_guild_on_its_shard(bare_bot) -> None:
    async with FakeDiscord(shard_count=2) as fake:
        alice = fake.add_user("alice")
        guilds = [fake.add_guild(f"course {n}", shard=(n, 2)) for n in (0, 1)]
        for guild in guilds:
            fake.add_member(guild, alice)
        bot = bare_bot(sharded=True)
        seen: list[int | None] = []

        @bot.tree.command()
        async def ping(interaction: discord.Interaction) -> None:
            """Which shard am I on?"""
            assert interaction.guild is not None
            seen.append(interaction.guild.shard_id)
            await interaction.response.send_message("pong")

        async with run_client(fake, bot):
            assert bot.shard_count == 2 and len(bot.guilds) == 2
            for guild in guilds:
                await (await fake.slash(alice, "ping", guild=guild)).response()

    assert seen == [0, 1]
    assert sorted(s.shard_id for s in fake.sessions) == [0, 1]
    assert any(r.path == "/api/v10/gateway/bot" for r in fake.requests)
    fake.assert_no_rejections()


async def test_reconnect_resumes_the_session(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()

    @bot.tree.command()
    async def ping(interaction: discord.Interaction) -> None:
        """Check the bot is alive."""
        await interaction.response.send_message("pong")

    async with run_client(fake, bot):
        await fake.reconnect()
        reply = await (await fake.slash(fake.user("alice"), "ping")).response()

    assert reply.content == "pong"
    assert (fake.identify_count, fake.resume_count) == (1, 1)


async def test_a_payload_that_crashes_the_client_fails_the_test(
    fake: FakeDiscord, bare_bot, discord_errors_expected
) -> None:
    bot = bare_bot()
    with pytest.raises(BotStoppedError):
        async with run_client(fake, bot):
            # An interaction without its required fields makes discord.py's parser raise,
            # which ends Client.connect() without a word.
            await fake.dispatch_raw(
                "INTERACTION_CREATE", {"id": "1", "type": 2}, guild_id=fake.guild.id
            )
            with pytest.raises(BotStoppedError):
                await fake.wait_until(lambda: False, what="anything")


async def test_disallowed_privileged_intent_stops_the_client(bare_bot) -> None:
    async with FakeDiscord.classroom(privileged_intents=0) as fake:
        bot = bare_bot(intents=discord.Intents.default() | discord.Intents(message_content=True))
        with pytest.raises(BotStoppedError) as failure:
            async with run_client(fake, bot):
                pass
    assert isinstance(failure.value.__cause__, discord.PrivilegedIntentsRequired)


async def test_unknown_routes_are_recorded_and_answered_404(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()
    async with run_client(fake, bot):
        with pytest.raises(discord.NotFound):
            await bot.http.request(Route("GET", "/skus/{sku_id}/subscriptions", sku_id=1))
    assert fake.unknown_routes == ["GET /api/v10/skus/1/subscriptions"]


async def test_answer_in_a_thread_and_continue_the_conversation(
    fake: FakeDiscord, bare_bot
) -> None:
    bot = bare_bot(intents=discord.Intents.default() | discord.Intents(message_content=True))

    @bot.tree.command()
    async def ask(interaction: discord.Interaction, question: str) -> None:
        """Ask the tutor."""
        await interaction.response.send_message(f"**{question}** A token is a piece of text.")
        answer = await interaction.original_response()
        thread = await answer.create_thread(name=question[:100])
        await thread.send("Ask follow-up questions here.")

    async def on_message(message: discord.Message) -> None:
        if message.author.bot or not isinstance(message.channel, discord.Thread):
            return
        if bot.user is not None and message.channel.owner_id == bot.user.id:
            await message.channel.send(f"About {message.content!r}: see lesson 2.")

    bot.add_listener(on_message)
    alice = fake.user("alice")
    async with run_client(fake, bot):
        reply = await (await fake.slash(alice, "ask", {"question": "What is a token?"})).response()
        thread = await fake.wait_until(lambda: reply.thread, what="a thread on the answer")
        await fake.wait_for_message(lambda m: m.channel is thread)
        await fake.user_says(alice, thread, "And an embedding?")
        follow_up = await fake.wait_for_message(
            lambda m: m.channel is thread and "About" in m.content
        )

    assert (
        thread.id == reply.id
        and thread.parent_id == reply.channel.id
        and thread.name == "What is a token?"
    )
    assert follow_up.content == "About 'And an embedding?': see lesson 2."
    assert [m.author.username for m in fake.messages_in(thread)] == [
        "tutorbot",
        "alice",
        "tutorbot",
    ]
    fake.assert_no_rejections()
