"""/ask end to end: the real bot against the fake Discord and the fake Anthropic API.

The answer streams into a public reply (at most one edit a second), ends with its sources and
👍/👎, continues in a thread, falls back to the labelled offline answer, and refuses a question
that is too long or too fast privately. Each test runs on SQLite and PostgreSQL; the fixtures
check that Discord refused nothing and that no message could ping anyone.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import AppContext
from bot.bot import TutorBot
from bot.db.models import Feedback
from bot.db.models.ask import AskLog
from bot.exts import _interactions
from bot.exts.ask._buttons import NOT_YOUR_ANSWER
from bot.exts.ask._cog import UNAVAILABLE
from bot.exts.ask._render import WRITING
from bot.runtime import CourseRuntime
from bot.services.tutor import OFFLINE_LABEL
from bot.settings import Settings, load_settings
from bot.ui import custom_ids as ids
from bot.ui.embeds import COURSE_COLOUR, INFO_COLOUR
from tests.exts.conftest import count, run, running_bot
from tests.fakeanthropic import TEST_API_KEY, FakeMessagesAPI, Reply, Status
from tests.fakediscord import FakeDiscord, FakeMessage
from tests.fakediscord._interactions import Interaction
from tests.fakediscord._world import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    CREATE_PUBLIC_THREADS,
    FakeChannel,
)

FIXTURE_LESSONS = Path(__file__).resolve().parents[2] / "fixtures" / "lessons"
QUESTION = "What is a parameter in a language model?"
UP, DOWN = "\U0001f44d Helpful", "\U0001f44e Not helpful"
#: Every edit of a reply comes at least this long after the previous one reached the fake (the
#: bot waits a second from the end of one edit; a little slack for the two clocks' rounding).
MIN_EDIT_GAP_S = 0.95


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeMessagesAPI]:
    """The fake Messages API on 127.0.0.1."""
    async with FakeMessagesAPI() as api:
        yield api


@pytest.fixture
def ask_options() -> dict[str, Any]:
    """``ask`` settings of a test (parametrize this name to change them); ``key=None``: no key."""
    return {}


@pytest.fixture
def settings(tmp_path: Path, fake_api: FakeMessagesAPI, ask_options: dict[str, Any]) -> Settings:
    """Test settings with the API key and the fake API; short deadlines (nothing hangs long)."""
    config = tmp_path / "config.toml"
    config.write_text("# empty: defaults only\n")
    options = {"timeout_s": 8, "stall_s": 1.5, **ask_options}
    key = options.pop("key", TEST_API_KEY)
    environ = {
        "TUTORBOT_PATHS__DATA_DIR": str(tmp_path / "data"),
        "TUTORBOT_PATHS__LESSONS_DIR": str(FIXTURE_LESSONS),
        "ANTHROPIC_BASE_URL": fake_api.base_url,
        **{f"TUTORBOT_ASK__{name.upper()}": str(value) for name, value in options.items()},
    }
    if key:
        environ["ANTHROPIC_API_KEY"] = key
    return load_settings(config, environ=environ)


@pytest.fixture
async def ready(fake: FakeDiscord, tutor: TutorBot, app: AppContext) -> TutorBot:
    """The bot, running, once its tutor has loaded (it starts loading when the bot starts)."""
    await app.tutor()
    fake.wait_timeout = 15  # answers stream for a few seconds in some tests
    return tutor


async def ask(
    fake: FakeDiscord,
    question: str = QUESTION,
    user: str = "alice",
    **where: Any,
) -> tuple[Interaction, FakeMessage]:
    """``user`` asks ``question``; the interaction and the final answer (with its buttons)."""
    handle = await fake.slash(fake.user(user), "ask", {"question": question}, **where)

    def final() -> FakeMessage | None:
        return next((m for m in reversed(handle.messages()) if m.buttons), None)

    return handle, await fake.wait_until(final, what="the final answer with its buttons")


async def thread_of(fake: FakeDiscord, message: FakeMessage) -> FakeChannel:
    """The thread started from ``message`` (waits for it)."""
    return await fake.wait_until(lambda: message.thread, what="the follow-up thread")


async def log_rows(app: AppContext) -> list[AskLog]:
    """Every ask_log row, oldest first."""
    async with app.db.sessions() as session:
        return list((await session.scalars(select(AskLog).order_by(AskLog.id))).all())


async def commands_finished() -> None:
    """Wait until the bot has finished running every slash command it received.

    discord.py runs each command in a task of this name; waiting for them is waiting for the
    bot's last request about the command, even one Discord refused.
    """
    running = [t for t in asyncio.all_tasks() if t.get_name() == "CommandTree-invoker"]
    await asyncio.gather(*running)


def version_text(version: dict[str, Any]) -> str:
    """The text of an earlier version of a message: content, descriptions and footers."""
    parts = [version.get("content") or ""]
    for embed in version.get("embeds") or []:
        parts += [embed.get("description") or "", (embed.get("footer") or {}).get("text") or ""]
    return "\n".join(parts)


def reply_edits(fake: FakeDiscord, handle: Interaction) -> list[float]:
    """When each edit of the interaction's reply reached the fake."""
    return [
        r.at
        for r in fake.requests
        if r.method == "PATCH" and handle.token in r.path and r.path.endswith("/@original")
    ]


async def test_a_streamed_answer_ends_with_sources_buttons_and_a_thread(
    fake: FakeDiscord, ready: TutorBot, app: AppContext, fake_api: FakeMessagesAPI
) -> None:
    parts = [
        "A parameter is ",
        ("a number the model learns during training", 0),
        ". Large models have billions of them, and training tunes every one.",
    ]
    fake_api.script(Reply(parts=parts, chunk_chars=4, delay_s=0.1))
    deltas = sum(math.ceil(len(p if isinstance(p, str) else p[0]) / 4) for p in parts)

    handle, message = await ask(fake)

    assert not message.ephemeral and message.channel is fake.guild.channel("general")
    assert message.content == f"> {QUESTION}"
    embed = message.embed
    assert embed["description"] == (
        "A parameter is a number the model learns during training [1]. Large models have "
        "billions of them, and training tunes every one."
    )
    assert embed["color"] == COURSE_COLOUR.value
    cited = fake_api.requests[0].search_results[0]["title"]  # "Lesson 1 - ...: <snippet title>"
    assert cited.startswith("Lesson ")
    [sources] = embed["fields"]
    assert (sources["name"], sources["value"]) == ("Sources", f"**[1]** {cited}")
    assert [b["label"] for b in message.buttons] == [UP, DOWN]
    assert "Follow up with /ask in the thread under this answer" in embed["footer"]["text"]

    # The answer streamed: partial versions were shown, at most one edit a second.
    partials = [v for v in message.versions if WRITING in version_text(v)]
    assert partials and all(not v.get("components") for v in partials)
    edits = reply_edits(fake, handle)
    gaps = [later - earlier for earlier, later in pairwise(edits)]
    assert len(edits) >= 2 and min(gaps) >= MIN_EDIT_GAP_S, gaps
    assert len(edits) < deltas  # fewer edits than streamed pieces: they were coalesced

    # A public thread from the answer; the answer was logged as its first turn.
    thread = await thread_of(fake, message)
    assert thread.name == f"Follow-up: {QUESTION}" and thread.id == message.id
    [row] = await log_rows(app)
    assert (row.engine, row.fallback_reason, row.answer) == ("llm", None, embed["description"])
    assert (row.guild_id, row.channel_id, row.thread_id) == (
        fake.guild.id,
        message.channel.id,
        thread.id,
    )
    assert row.learner_id == fake.user("alice").id
    # The question reached Claude as asked, the key never reached Discord.
    assert QUESTION in fake_api.requests[0].last_user_content[-1]["text"]
    assert all(TEST_API_KEY not in m.text for m in fake.messages.values())


async def test_a_follow_up_in_the_thread_sends_the_earlier_turn(
    fake: FakeDiscord, ready: TutorBot, app: AppContext, fake_api: FakeMessagesAPI
) -> None:
    fake_api.script(
        Reply(parts=[("A parameter is a learned number.", 0)]),
        Reply(parts=[("Yes: GPT-3 has about 175 billion.", 0)]),
    )
    _, first = await ask(fake)
    thread = await thread_of(fake, first)

    _, follow_up = await ask(fake, "How many does GPT-3 have?", user="bob", channel=thread)

    assert follow_up.channel is thread and follow_up.embed["description"] == (
        "Yes: GPT-3 has about 175 billion. [1]"
    )
    assert "Follow up with /ask in this thread" in follow_up.embed["footer"]["text"]
    history = fake_api.requests[1].body["messages"]
    assert [m["role"] for m in history] == ["user", "assistant", "user"]
    assert QUESTION in history[0]["content"]
    assert history[1]["content"] == "A parameter is a learned number. [1]"
    assert "How many does GPT-3 have?" in history[2]["content"][-1]["text"]
    assert len(fake.threads()) == 1  # no thread inside the thread
    rows = await log_rows(app)
    assert [r.thread_id for r in rows] == [thread.id, thread.id]
    assert rows[1].channel_id == fake.guild.channel("general").id
    # A new question in the channel starts a conversation of its own.
    fake_api.script(Reply(parts=["Another answer."]))
    _, other = await ask(fake, "What is a distribution?")
    await thread_of(fake, other)
    assert len(fake_api.requests[2].body["messages"]) == 1


async def test_an_overloaded_api_gives_the_labelled_offline_answer(
    fake: FakeDiscord, ready: TutorBot, app: AppContext, fake_api: FakeMessagesAPI
) -> None:
    fake_api.script(Status(529), Status(529), Status(529))
    _, message = await ask(fake)
    embed = message.embed
    assert embed["description"].startswith(OFFLINE_LABEL + "\n\n")
    assert embed["color"] == INFO_COLOUR.value
    assert embed["footer"]["text"].startswith("Offline answer")
    assert embed["fields"][0]["name"] == "Sources" and "[1]" in embed["description"]
    assert [b["label"] for b in message.buttons] == [UP, DOWN]
    await thread_of(fake, message)
    [row] = await log_rows(app)
    assert (row.engine, row.fallback_reason) == ("local", "overloaded")


async def test_the_offline_answer_replaces_a_partial_answer(
    fake: FakeDiscord, ready: TutorBot, app: AppContext, fake_api: FakeMessagesAPI
) -> None:
    # Half an answer streams for two seconds, then the API says it is overloaded.
    fake_api.script(
        Reply(
            parts=["Half an answer that goes on"],
            chunk_chars=3,
            delay_s=0.2,
            then="error",
            error_type="overloaded_error",
        )
    )
    _, message = await ask(fake)
    assert any("Half an" in version_text(v) for v in message.versions)
    assert message.embed["description"].startswith(OFFLINE_LABEL)
    assert "Half an" not in message.text
    await thread_of(fake, message)
    [row] = await log_rows(app)
    assert (row.engine, row.fallback_reason) == ("local", "stream_error")


@pytest.mark.parametrize("ask_options", [{"engine": "llm"}])
async def test_with_claude_required_a_failure_is_said_in_the_reply(
    fake: FakeDiscord, ready: TutorBot, app: AppContext, fake_api: FakeMessagesAPI
) -> None:
    fake_api.script(Status(529), Status(529), Status(529))
    handle = await fake.slash(fake.user("alice"), "ask", {"question": QUESTION})
    reply = await fake.wait_until(
        lambda: next((m for m in handle.messages() if "cannot answer" in m.text), None),
        what="the reply saying why there is no answer",
    )
    assert not reply.ephemeral and reply.content.startswith(f"> {QUESTION}\n")
    assert "The online tutor cannot answer right now: the Anthropic API failed" in reply.content
    assert not reply.embeds and not reply.buttons and fake.threads() == []
    [row] = await log_rows(app)
    assert (row.engine, row.answer, row.fallback_reason) == ("llm", None, "overloaded")


async def test_a_reply_deleted_while_streaming_ends_quietly(
    fake: FakeDiscord, ready: TutorBot, app: AppContext, fake_api: FakeMessagesAPI
) -> None:
    fake_api.script(
        Reply(parts=[("A parameter is a number the model learns.", 0)], chunk_chars=4,
              delay_s=0.15)
    )
    handle = await fake.slash(fake.user("alice"), "ask", {"question": QUESTION})
    partial = await fake.wait_until(
        lambda: next((m for m in handle.messages() if WRITING in m.text), None),
        what="a partial answer",
    )
    partial.deleted = True  # a moderator deletes the reply while the answer is written
    await commands_finished()
    # Discord said "Unknown Message" to the edits; the bot stopped there: no thread, no apology.
    assert fake.rejections and {(r.status, r.code) for r in fake.rejections} == {(404, 10008)}
    fake.rejections.clear()
    assert fake.threads() == [] and len(handle.messages()) == 1
    [row] = await log_rows(app)
    assert row.answer == "A parameter is a number the model learns. [1]"  # still logged


@pytest.mark.parametrize("ask_options", [{"key": None}])
async def test_without_an_api_key_the_answer_is_offline(
    fake: FakeDiscord, ready: TutorBot, app: AppContext, fake_api: FakeMessagesAPI
) -> None:
    _, message = await ask(fake)
    assert message.embed["description"].startswith(OFFLINE_LABEL)
    assert fake_api.requests == []
    await thread_of(fake, message)
    [row] = await log_rows(app)
    assert (row.engine, row.fallback_reason) == ("local", "no_key")


@pytest.mark.parametrize("ask_options", [{"max_question_chars": 40}])
async def test_a_question_too_long_is_refused_privately(
    fake: FakeDiscord, ready: TutorBot, app: AppContext, fake_api: FakeMessagesAPI
) -> None:
    question = "Why " + "really " * 10 + "do models have parameters?"
    handle = await fake.slash(fake.user("alice"), "ask", {"question": question})
    reply = await handle.response()
    assert await handle.acknowledgement() == 4  # answered at once, nothing deferred
    assert reply.ephemeral
    assert f"Please keep questions under 40 characters (yours has {len(question)})" in reply.text
    assert await count(app, AskLog) == 0 and fake_api.requests == []
    assert fake.threads() == []


@pytest.mark.parametrize("ask_options", [{"rate_limit_count": 1, "rate_limit_window_s": 3600}])
async def test_asking_too_fast_is_refused_privately(
    fake: FakeDiscord, ready: TutorBot, app: AppContext, fake_api: FakeMessagesAPI
) -> None:
    _, first = await ask(fake)
    await thread_of(fake, first)
    handle = await fake.slash(fake.user("alice"), "ask", {"question": "And biases?"})
    reply = await handle.response()
    assert reply.ephemeral and "You're asking quickly" in reply.text
    assert await handle.acknowledgement() == 4
    assert await count(app, AskLog) == 1 and len(fake_api.requests) == 1
    # Someone else may still ask.
    _, other = await ask(fake, user="bob")
    await thread_of(fake, other)
    assert await count(app, AskLog) == 2


@pytest.mark.parametrize("ask_options", [{"rate_limit_count": 1, "rate_limit_window_s": 3600}])
async def test_ask_is_admitted_once_and_runs_in_one_turn(
    fake: FakeDiscord, ready: TutorBot, app: AppContext, fake_api: FakeMessagesAPI
) -> None:
    # With one question allowed, a second admission of the same question would refuse it.
    before = dict(_interactions.STATS.started)
    failed = _interactions.STATS.failed["/ask"]
    _, first = await ask(fake)
    await thread_of(fake, first)
    await commands_finished()
    assert _interactions.STATS.started["/ask"] == before.get("/ask", 0) + 1
    assert _interactions.STATS.failed["/ask"] == failed and _interactions.STATS.seconds["/ask"] > 0
    # A refusal is counted too, as a failed /ask.
    handle = await fake.slash(fake.user("alice"), "ask", {"question": "And biases?"})
    assert "You're asking quickly" in (await handle.response()).text
    await fake.wait_until(lambda: _interactions.STATS.failed["/ask"] == failed + 1,
                          what="the refusal was counted")
    await commands_finished()
    assert app.admission.in_flight == 0


async def test_the_asker_rates_once_and_may_change_their_mind(
    fake: FakeDiscord, ready: TutorBot, app: AppContext
) -> None:
    _, message = await ask(fake)
    await thread_of(fake, message)
    [row] = await log_rows(app)
    alice = fake.user("alice")

    thanks = await (await fake.click(message, label=UP, user=alice)).response()
    assert thanks.ephemeral and "Glad it helped" in thanks.text
    again = await (await fake.click(message, label=DOWN, user=alice)).response()
    assert again.ephemeral and "Thanks for telling us" in again.text

    async with app.db.sessions() as session:
        ratings = [
            (f.learner_id, f.ask_log_id, f.rating, f.guild_id)
            for f in await session.scalars(select(Feedback))
        ]
    assert ratings == [(alice.id, row.id, -1, fake.guild.id)]


async def test_only_the_asker_can_rate(fake: FakeDiscord, ready: TutorBot, app: AppContext) -> None:
    _, message = await ask(fake)
    await thread_of(fake, message)
    note = await (await fake.click(message, label=UP, user=fake.user("bob"))).response()
    assert note.ephemeral and note.text == NOT_YOUR_ANSWER
    assert await count(app, Feedback) == 0


async def test_a_forged_rating_id_cannot_rate_someone_elses_answer(
    fake: FakeDiscord, ready: TutorBot, app: AppContext
) -> None:
    _, message = await ask(fake)  # alice asks
    await thread_of(fake, message)
    [row] = await log_rows(app)
    bob = fake.user("bob")
    up = ids.decode(message.button(UP)["custom_id"])
    assert up == ids.RateAnswer(fake.user("alice").id, row.id, 1)
    # Bob's tampered client shows the button with his own id as the asker's, and he clicks it.
    message.button(UP)["custom_id"] = ids.RateAnswer(bob.id, row.id, 1).encode()
    note = await (await fake.click(message, label=UP, user=bob)).response()
    assert note.ephemeral and note.text == NOT_YOUR_ANSWER
    assert await count(app, Feedback) == 0
    # The asker's own click still counts.
    await (await fake.click(message, label=DOWN, user=fake.user("alice"))).response()
    async with app.db.sessions() as session:
        assert [(f.learner_id, f.ask_log_id) for f in await session.scalars(select(Feedback))] == [
            (fake.user("alice").id, row.id)
        ]


async def test_in_a_dm_the_answer_stands_without_a_thread(
    fake: FakeDiscord, ready: TutorBot, app: AppContext, fake_api: FakeMessagesAPI
) -> None:
    fake_api.script(Reply(parts=[("A parameter is a learned number.", 0)]))
    _, message = await ask(fake, dm=True)
    assert message.channel.is_dm and message.embed["fields"][0]["name"] == "Sources"
    assert "thread" not in message.embed["footer"]["text"]
    await (await fake.click(message, label=UP, user=fake.user("alice"))).response()
    [row] = await log_rows(app)
    assert (row.guild_id, row.thread_id) == (None, None)
    assert fake.threads() == [] and await count(app, Feedback) == 1


async def test_without_the_thread_permission_the_answer_stands_alone(
    fake: FakeDiscord, app: AppContext
) -> None:
    fake.set_bot_permissions(fake.guild, ALL_PERMISSIONS & ~CREATE_PUBLIC_THREADS & ~ADMINISTRATOR)
    fake.guild.everyone.permissions &= ~CREATE_PUBLIC_THREADS
    async with running_bot(fake, app):
        await app.tutor()
        _, message = await ask(fake)
        assert [b["label"] for b in message.buttons] == [UP, DOWN]
        assert "thread" not in message.embed["footer"]["text"]
    assert fake.threads() == [] and message.thread is None
    [row] = await log_rows(app)
    assert row.thread_id is None


async def test_mentions_in_a_question_ping_no_one(
    fake: FakeDiscord, ready: TutorBot, fake_api: FakeMessagesAPI
) -> None:
    bob = fake.user("bob")
    question = f"@everyone and <@{bob.id}>, what is a parameter?"
    fake_api.script(Reply(parts=[f"Hello @everyone and <@{bob.id}>! A parameter is a number."]))
    handle, message = await ask(fake, question)
    assert "@everyone" in message.content and f"<@{bob.id}>" in message.content
    await thread_of(fake, message)
    for shown in handle.messages():
        assert shown.allowed_mentions == {"parse": []}
        assert not shown.mentions and not shown.mention_everyone and not shown.mention_role_ids


async def test_a_long_answer_continues_in_pages_within_discords_limits(
    fake: FakeDiscord, ready: TutorBot, fake_api: FakeMessagesAPI
) -> None:
    paragraphs = [f"Paragraph {n}: " + "a parameter is a learned number. " * 40 for n in range(9)]
    long_answer = "\n\n".join(p.strip() for p in paragraphs)
    assert len(long_answer) > 2 * 4096
    fake_api.script(Reply(parts=[(long_answer, 0)], chunk_chars=400))
    handle, last = await ask(fake)
    messages = handle.messages()
    assert len(messages) == 3 and last is messages[-1]
    assert messages[0].content == f"> {QUESTION}" and not messages[0].buttons
    pages = [m.embed["description"] for m in messages]
    assert all(len(page) <= 4096 for page in pages)
    # Cut between paragraphs, nothing lost; the sources and buttons close the answer.
    assert "\n\n".join(pages) == long_answer + " [1]"
    assert [m.embed["footer"]["text"][:11] for m in messages] == [
        "Part 1 of 3",
        "Part 2 of 3",
        "Part 3 of 3",
    ]
    assert "fields" not in messages[0].embed and last.embed["fields"][0]["name"] == "Sources"
    assert [b["label"] for b in last.buttons] == [UP, DOWN]
    await thread_of(fake, messages[0])


async def test_a_tutor_that_cannot_load_is_reported_privately(
    fake: FakeDiscord, app: AppContext, errors_expected: None
) -> None:
    # A data folder whose name the file system refuses: the course index cannot be read.
    paths = app.settings.paths.model_copy(
        update={"data_dir": app.settings.paths.data_dir / ("x" * 300)}
    )
    settings = app.settings.model_copy(update={"paths": paths})
    broken = AppContext(
        settings=settings, db=app.db, runtime=CourseRuntime.build(app.course, settings)
    )
    async with running_bot(fake, broken):
        reply = await run(fake, "alice", "ask", {"question": QUESTION})
        assert reply.ephemeral and UNAVAILABLE in reply.text
        assert (await run(fake, "alice", "help")).ephemeral  # everything else still works
    assert await count(app, AskLog) == 0


async def test_help_lists_ask(fake: FakeDiscord, tutor: TutorBot) -> None:
    shown = (await run(fake, "alice", "help")).text
    assert "/ask <question>" in shown
    assert "Ask the tutor about the course; the answer is public, with its sources." in shown


async def test_answers_are_counted_by_engine_and_fallback_with_the_tokens_spent(
    fake: FakeDiscord, ready: TutorBot, app: AppContext, fake_api: FakeMessagesAPI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def metric(name: str, **labels: str) -> float:
        return app.observer.metrics.registry.get_sample_value(name, labels) or 0.0

    fake_api.script(Reply(parts=["A parameter is ", ("a number the model learns", 0), "."]))
    await ask(fake)
    fake_api.script(Status(529), Status(529), Status(529))
    await ask(fake, user="bob")
    await commands_finished()
    rows = await log_rows(app)
    assert metric("tutorbot_ask_answers_total", engine="llm", fallback="none") == 1
    assert metric("tutorbot_ask_answers_total", engine="local", fallback="overloaded") == 1
    assert metric("tutorbot_ask_tokens_total", kind="input") == rows[0].input_tokens > 0
    assert metric("tutorbot_ask_tokens_total", kind="output") == rows[0].output_tokens > 0
    lines = [r.getMessage() for r in caplog.records
             if r.name == "tutorbot.events" and "command=/ask" in r.getMessage()]
    assert len(lines) == 2
    assert "engine=llm" in lines[0] and "fallback=-" in lines[0] and "outcome=ok" in lines[0]
    assert "engine=local" in lines[1] and "fallback=overloaded" in lines[1]
