"""Custom ids: every kind round-trips, the longest possible id fits Discord's 100 characters."""

from __future__ import annotations

import pytest

from bot.content.loader import CHOICE_ID_MAX_CHARS, ID_MAX_CHARS
from bot.ui import custom_ids as ids
from bot.ui.limits import CUSTOM_ID_MAX

MAX_DISCORD_ID = 2**64 - 1
MAX_ROW_ID = 2**63 - 1
LONG_ID = "q" * (ID_MAX_CHARS - 2) + ".9"  # 48 characters, the longest a course id may be
LONG_CHOICE = "c" * CHOICE_ID_MAX_CHARS

EXAMPLES: list[ids.CustomId] = [
    ids.PageStep(80351110224678912, "tokens.bpe", 1),
    ids.PageStep(1, "a", -1),
    ids.MarkDone(80351110224678912, "tokens.bpe"),
    ids.OpenSnippet("tokens.bpe"),
    ids.CoursePage(42, 3),
    ids.QuizMe("tokens"),
    ids.QuizMe(None),
    ids.Answer(80351110224678912, 7, "tokens.q1", "bpe"),
    ids.AskNumber(80351110224678912, 7, "nn.q4"),
    ids.NumberAnswer(80351110224678912, 7, "nn.q4"),
    ids.RateAnswer(80351110224678912, 7, 1),
    ids.RateAnswer(1, 1, -1),
    ids.DailyChoice(7, "bpe"),
    ids.DailyClosed(7),
    ids.FeedbackForm("tokens"),
    ids.FeedbackForm(None),
    ids.ReportQuestion(7, "tokens.q1"),
    ids.ReportReason(7, "tokens.q1", "wrong_key"),
    ids.ReportForm(7, "tokens.q1", "unclear"),
    ids.TellWhy(7),
    ids.TellWhy(7, True),
    ids.FeedbackPageKey("tokens", "report", "open", 2),
    ids.FeedbackPageKey(None, None, None, 0),
    ids.ForgetMe(),
    ids.ReminderAction(80351110224678912, "snooze"),
    ids.ReviewCardAction(80351110224678912, 7, "tokens.q1", "k"),
    ids.ReviewCardAction(1, 1, "tokens.q1", "r"),
    ids.StartReview(5),
    ids.NewQuestions(20),
]

LONGEST: list[ids.CustomId] = [
    ids.PageStep(MAX_DISCORD_ID, LONG_ID, -1),
    ids.MarkDone(MAX_DISCORD_ID, LONG_ID),
    ids.OpenSnippet(LONG_ID),
    ids.CoursePage(MAX_DISCORD_ID, 999),
    ids.QuizMe(LONG_ID),
    ids.Answer(MAX_DISCORD_ID, MAX_ROW_ID, LONG_ID, LONG_CHOICE),
    ids.AskNumber(MAX_DISCORD_ID, MAX_ROW_ID, LONG_ID),
    ids.NumberAnswer(MAX_DISCORD_ID, MAX_ROW_ID, LONG_ID),
    ids.RateAnswer(MAX_DISCORD_ID, MAX_ROW_ID, -1),
    ids.DailyChoice(MAX_ROW_ID, LONG_CHOICE),
    ids.DailyClosed(MAX_ROW_ID),
    ids.ReminderAction(MAX_DISCORD_ID, "review"),
    ids.ReviewCardAction(MAX_DISCORD_ID, MAX_ROW_ID, LONG_ID, "k"),
    ids.StartReview(99),
]


@pytest.mark.parametrize("value", EXAMPLES + LONGEST, ids=repr)
def test_every_kind_round_trips(value: ids.CustomId) -> None:
    encoded = value.encode()
    assert encoded.startswith(f"{ids.VERSION}:{value.kind}:")
    assert ids.decode(encoded) == value
    assert ids.has_handler(encoded) and ids.is_ours(encoded)


@pytest.mark.parametrize("value", LONGEST, ids=repr)
def test_the_longest_possible_ids_fit_discords_limit(value: ids.CustomId) -> None:
    assert len(value.encode()) <= CUSTOM_ID_MAX


def test_a_quiz_answer_with_the_longest_ids_is_exactly_at_the_limit() -> None:
    # The tightest kind: if ids ever grow, this fails before Discord refuses a quiz.
    longest = ids.Answer(MAX_DISCORD_ID, MAX_ROW_ID, LONG_ID, LONG_CHOICE).encode()
    assert len(longest) == CUSTOM_ID_MAX


def test_every_kind_is_listed_once_with_a_distinct_code() -> None:
    codes = [kind.kind for kind in ids.KINDS]
    assert len(codes) == len(set(codes))
    assert {type(value) for value in EXAMPLES} == set(ids.KINDS)


@pytest.mark.parametrize(
    "value",
    [
        ids.PageStep(1, "Not An Id", 1),  # ids are lowercase
        ids.PageStep(1, "a:b", 1),  # a colon would split the id
        ids.PageStep(1, "a", 2),  # pages move one snippet at a time
        ids.PageStep(-1, "a", 1),
        ids.PageStep(2**64, "a", 1),
        ids.Answer(1, 1, LONG_ID + "x", "a"),
        ids.Answer(1, 1, "q", LONG_CHOICE + "x"),
        ids.QuizMe("-lesson"),
        ids.RateAnswer(1, 1, 2),  # a rating is a thumb up or down
    ],
    ids=repr,
)
def test_values_outside_the_scheme_are_refused_when_encoding(value: ids.CustomId) -> None:
    with pytest.raises(ValueError):
        value.encode()


@pytest.mark.parametrize(
    "custom_id",
    [
        "",
        "hello",
        "tb0:pg:1:a:1",  # an older scheme
        "tb2:pg:1:a:1",  # a newer one
        "tb1:zz:1:a",  # an unknown kind
        "tb1:pg:1:a",  # a part missing
        "tb1:pg:1:a:1:extra",
        "tb1:pg:1:A:1",
        "tb1:qa:1:zzzzzzzzzzzzz:q:c",  # attempt id beyond a 64-bit key
        "tb1:pg:zzzzzzzzzzzzz:a:1",  # user id beyond 64 bits
        "tb1:qa:1:1:q:c" + "c" * 200,
        "tb1:ar:1:zzzzzzzzzzzzz:1",  # an answer id beyond a 64-bit key
        "tb1:ar:1:1:0",  # neither up nor down
    ],
)
def test_anything_else_decodes_to_none(custom_id: str) -> None:
    assert ids.decode(custom_id) is None


def test_stale_ids_are_recognised_as_ours_but_without_a_handler() -> None:
    assert ids.is_ours("tb0:pg:1:a:1") and not ids.has_handler("tb0:pg:1:a:1")
    assert not ids.is_ours("some-other-bot:button")


@pytest.mark.parametrize("number", [0, 1, 35, 36, 80351110224678912, MAX_DISCORD_ID])
def test_base36_round_trips(number: int) -> None:
    assert ids.from_base36(ids.to_base36(number)) == number
    assert len(ids.to_base36(number)) <= 13
