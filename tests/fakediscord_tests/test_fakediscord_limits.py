"""The fake refuses what Discord refuses, with Discord's status, code and error paths."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
import pytest
from discord.http import Route

from tests.fakediscord import FakeDiscord, UnexpectedResponseError, run_client


def button(custom_id: str, label: str = "ok") -> dict[str, Any]:
    return {"type": 2, "style": 1, "custom_id": custom_id, "label": label}


def row(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(components)}


def string_select(options: int, label: str = "o") -> dict[str, Any]:
    return {
        "type": 3,
        "custom_id": "pick",
        "options": [{"label": label, "value": f"v{i}"} for i in range(options)],
    }


BAD_MESSAGES: list[tuple[str, dict[str, Any], str]] = [
    ("content over 2000", {"content": "x" * 2001}, "content"),
    ("11 embeds", {"embeds": [{"title": "t"}] * 11}, "embeds"),
    ("embed title over 256", {"embeds": [{"title": "x" * 257}]}, "embeds.0.title"),
    ("description over 4096", {"embeds": [{"description": "x" * 4097}]}, "embeds.0.description"),
    ("26 fields", {"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}, "embeds.0.fields"),
    (
        "field name over 256",
        {"embeds": [{"fields": [{"name": "x" * 257, "value": "v"}]}]},
        "embeds.0.fields.0.name",
    ),
    (
        "field value over 1024",
        {"embeds": [{"fields": [{"name": "n", "value": "x" * 1025}]}]},
        "embeds.0.fields.0.value",
    ),
    (
        "empty field value",
        {"embeds": [{"fields": [{"name": "n", "value": ""}]}]},
        "embeds.0.fields.0.value",
    ),
    ("footer over 2048", {"embeds": [{"footer": {"text": "x" * 2049}}]}, "embeds.0.footer.text"),
    ("author over 256", {"embeds": [{"author": {"name": "x" * 257}}]}, "embeds.0.author.name"),
    ("embeds over 6000 in total", {"embeds": [{"description": "x" * 3001}] * 2}, "embeds"),
    ("6 action rows", {"components": [row(button(f"b{i}")) for i in range(6)]}, "components"),
    (
        "6 buttons in a row",
        {"components": [row(*(button(f"b{i}") for i in range(6)))]},
        "components.0.components",
    ),
    (
        "custom_id over 100",
        {"components": [row(button("x" * 101))]},
        "components.0.components.0.custom_id",
    ),
    (
        "label over 80",
        {"components": [row(button("b", "x" * 81))]},
        "components.0.components.0.label",
    ),
    (
        "duplicate custom_id",
        {"components": [row(button("b"), button("b"))]},
        "components.0.components.1.custom_id",
    ),
    (
        "26 select options",
        {"components": [row(string_select(26))]},
        "components.0.components.0.options",
    ),
    (
        "option label over 100",
        {"components": [row(string_select(1, "x" * 101))]},
        "components.0.components.0.options.0.label",
    ),
    (
        "select beside a button",
        {"components": [row(string_select(2), button("b"))]},
        "components.0.components",
    ),
]


@pytest.mark.parametrize(
    ("payload", "path"), [c[1:] for c in BAD_MESSAGES], ids=[c[0] for c in BAD_MESSAGES]
)
async def test_channel_message_over_a_limit_is_rejected(
    fake: FakeDiscord, bare_bot, payload: dict[str, Any], path: str
) -> None:
    bot = bare_bot()
    channel = fake.guild.channel("general")
    async with run_client(fake, bot):
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel.id)
        with pytest.raises(discord.HTTPException) as failure:
            await bot.http.request(route, json=payload)
        # The limit is exclusive: one less is accepted.
    assert (failure.value.status, failure.value.code) == (400, 50035)
    assert f"In {path}:" in failure.value.text
    assert fake.messages_in(channel) == []


async def test_limits_are_inclusive(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()
    channel = fake.guild.channel("general")
    at_the_limit = {
        "content": "x" * 2000,
        "embeds": [
            {
                "title": "x" * 256,
                "description": "x" * 4096,
                "fields": [{"name": "n", "value": "x" * 1024}] * 1,
            }
        ],
        "components": [row(*(button(f"b{r}{i}", "x" * 80) for i in range(5))) for r in range(4)]
        + [row(string_select(25, "x" * 100))],
    }
    async with run_client(fake, bot):
        await bot.http.request(
            Route("POST", "/channels/{channel_id}/messages", channel_id=channel.id),
            json=at_the_limit,
        )
    [message] = fake.messages_in(channel)
    assert len(message.content) == 2000 and len(message.buttons) == 20
    fake.assert_no_rejections()


async def test_empty_message_is_rejected(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()
    channel = fake.guild.channel("general")
    async with run_client(fake, bot):
        with pytest.raises(discord.HTTPException) as failure:
            await bot.http.request(
                Route("POST", "/channels/{channel_id}/messages", channel_id=channel.id),
                json={"content": " "},
            )
    assert (failure.value.status, failure.value.code) == (400, 50006)


class TooLongTitle(discord.ui.Modal, title="x" * 46):
    answer: discord.ui.TextInput[TooLongTitle] = discord.ui.TextInput(label="Answer")


class TooLongLabel(discord.ui.Modal, title="Feedback"):
    answer: discord.ui.TextInput[TooLongLabel] = discord.ui.TextInput(label="x" * 46)


@pytest.mark.parametrize(
    ("modal_class", "path"),
    [(TooLongTitle, "data.title"), (TooLongLabel, "data.components.0.components.0.label")],
    ids=["title over 45", "text input label over 45"],
)
async def test_modal_over_a_limit_is_rejected(
    fake: FakeDiscord, bare_bot, modal_class: type[discord.ui.Modal], path: str
) -> None:
    bot = bare_bot()

    @bot.tree.command()
    async def feedback(interaction: discord.Interaction) -> None:
        """Open a modal Discord refuses."""
        await interaction.response.send_modal(modal_class())

    async with run_client(fake, bot):
        handle = await fake.slash(fake.user("alice"), "feedback")
        failure = await asyncio.wait_for(bot.errors.get(), 5)
    assert isinstance(failure, discord.HTTPException)
    assert (failure.status, failure.code) == (400, 50035) and f"In {path}:" in failure.text
    assert not handle.acknowledged


async def test_too_many_autocomplete_choices_are_rejected(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()

    @bot.tree.command()
    async def lesson(interaction: discord.Interaction, name: str) -> None:
        """Open a lesson."""
        await interaction.response.send_message(name)

    @lesson.autocomplete("name")
    async def names(
        interaction: discord.Interaction, current: str
    ) -> list[discord.app_commands.Choice[str]]:
        return [discord.app_commands.Choice(name=f"lesson {i}", value=str(i)) for i in range(26)]

    async with run_client(fake, bot):
        with pytest.raises(UnexpectedResponseError, match="Must be 25 or fewer"):
            await fake.autocomplete(fake.user("alice"), "lesson", "name", "")


async def test_invalid_command_sync_is_rejected(fake: FakeDiscord, bare_bot) -> None:
    bot = bare_bot()
    async with run_client(fake, bot):
        assert bot.application_id is not None
        with pytest.raises(discord.HTTPException) as failure:
            await bot.http.bulk_upsert_global_commands(
                bot.application_id, [{"name": "lesson", "description": "x" * 101, "type": 1}]
            )
    assert (failure.value.status, failure.value.code) == (400, 50035)
    assert "In 0.description:" in failure.value.text


async def test_global_rate_limit_answers_429_that_discord_py_obeys(bare_bot) -> None:
    async with FakeDiscord.classroom(global_rate_limit=10) as fake:
        bot = bare_bot()
        channel = fake.guild.channel("general")
        async with run_client(fake, bot):
            target = bot.get_channel(channel.id)
            assert isinstance(target, discord.TextChannel)
            await asyncio.gather(*(target.send(f"message {i}") for i in range(15)))
    assert len(fake.messages_in(channel)) == 15
    assert fake.rate_limited_count > 0
