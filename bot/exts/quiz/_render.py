"""How a quiz looks on Discord: a question, a verdict, the final score, and their buttons."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.content.model import Lesson, Question, QuestionKind, Snippet
from bot.services.review import DEFAULT_REVIEWS
from bot.ui import custom_ids as ids
from bot.ui import embeds, views
from bot.ui.limits import MODAL_TITLE_MAX, TEXT_INPUT_LABEL_MAX
from bot.ui.text import one_line, percent, truncate, ts

if TYPE_CHECKING:  # result types only: rendering never calls a service
    from bot.services.quiz import AnswerResult, QuestionView, Score


def where_to_read(lesson: Lesson | None, snippet: Snippet | None) -> str:
    """``Lesson 2 - Tokens › Byte-pair encoding``: where the course explains something."""
    if lesson is None:
        return "the course (that part has moved; see /course)"
    if snippet is None:
        return lesson.label
    return f"{lesson.label} \u203a {snippet.title}"


def _question_body(question: Question, choices: Sequence[tuple[str, str]]) -> str:
    lines = [f"**{question.prompt}**"]
    if question.kind is QuestionKind.SINGLE:
        lines.append("")
        lines.extend(f"**{letter}.** {text}" for letter, text in choices)
    elif question.kind is QuestionKind.NUMERIC:
        unit = f" (in {question.unit})" if question.unit else ""
        lines.append("")
        lines.append(f"Answer with a number{unit}: press **Answer** and type it.")
    return "\n".join(lines)


def choice_letters(view: QuestionView) -> list[tuple[str, str]]:
    """``(letter, choice text)`` in the order this attempt shows the choices."""
    return [(embeds.LETTERS[i], choice.text) for i, choice in enumerate(view.choices)]


def quiz_question(view: QuestionView) -> discord.Embed:
    """A quiz question with its choices lettered in the attempt's order, under its lesson.

    A review's question (/review) is titled as such and says what its answer does.
    """
    lesson = view.lesson
    review = view.kind == "review"
    embed = embeds.embed(
        title=f"{'Review' if review else 'Question'} {view.number} of {view.total}",
        description=_question_body(view.question, choice_letters(view)),
    )
    if lesson is not None:
        embeds.author(embed, lesson.label)
    if review:
        return embeds.footer(embed, "Only you can see this review. Your answer decides when "
                             "this question comes back.")
    return embeds.footer(embed, "Only you can see this quiz. Every answer is saved as you go.")


def _given(result: AnswerResult) -> str:
    unit = result.question.unit
    if result.question.kind is QuestionKind.NUMERIC and unit:
        return f"{result.given} {unit}"
    return result.given


def verdict(result: AnswerResult) -> discord.Embed:
    """Right or wrong, the explanation, and where in the course to read more."""
    q = result.question
    title = "\u2705 Right!" if result.correct else "\u274c Not quite"
    lines = [f"**{q.prompt}**", f"Your answer: {_given(result)}"]
    if not result.correct:
        lines.append(f"Right answer: {q.answer_text}")
    lines += [
        "",
        q.explanation,
        "",
        f"\U0001f4d6 Read more: {where_to_read(result.lesson, result.snippet)}",
    ]
    if result.next_review is not None:
        lines.append(f"\U0001f501 Back for review {ts(result.next_review, 'R')}")
    embed = embeds.embed(
        title=title,
        description="\n".join(lines),
        colour=embeds.RIGHT_COLOUR if result.correct else embeds.WRONG_COLOUR,
    )
    score = result.score
    footer = f"Score so far: {score.correct} of {score.answered} right"
    if result.already_answered:
        footer = "You had already answered this question; your first answer counts. " + footer
    return embeds.footer(embed, footer)


def final_score(score: Score) -> discord.Embed:
    """The score at the end of a quiz, with what to do next."""
    share = score.correct / score.total if score.total else 0.0
    if score.total and score.correct == score.total:
        cheer = "A perfect score! \U0001f389"
    elif share >= 0.6:
        cheer = "Well done."
    else:
        cheer = "Read the parts linked above again, then try once more."
    about = f" on {score.lesson.label}" if score.lesson else ""
    if score.kind == "review":
        return embeds.embed(
            title=f"Review finished: {score.correct} of {score.total} right ({percent(share)})",
            description="Each question comes back just before you would forget it. Review "
            "more with the button below or /review; see how you are doing with /progress.",
            colour=embeds.RIGHT_COLOUR if share >= 0.6 else embeds.INFO_COLOUR,
        )
    embed = embeds.embed(
        title=f"Quiz finished: {score.correct} of {score.total} right ({percent(share)})",
        description=f"{cheer}\nTake another quiz{about} with the button below or /quiz; see "
        "how you are doing with /progress.",
        colour=embeds.RIGHT_COLOUR if share >= 0.6 else embeds.INFO_COLOUR,
    )
    return embed


def answer_embeds(result: AnswerResult) -> list[discord.Embed]:
    """After an answer: the verdict, then the next question (or the final score)."""
    if result.next_question is not None:
        return [verdict(result), quiz_question(result.next_question)]
    return [verdict(result), final_score(result.score)]


def _answer_buttons(view: QuestionView, learner_id: int, row: int) -> list[discord.ui.Button[Any]]:
    question = view.question
    if question.kind is QuestionKind.NUMERIC:
        ask = ids.AskNumber(learner_id, view.attempt_id, question.id)
        return [views.button("\u270f\ufe0f Answer", ask, style=discord.ButtonStyle.primary, row=row)]
    buttons = []
    for index, choice in enumerate(view.choices):
        label = embeds.LETTERS[index] if question.kind is QuestionKind.SINGLE else choice.text
        key = ids.Answer(learner_id, view.attempt_id, question.id, choice.id)
        buttons.append(views.button(label, key, style=discord.ButtonStyle.primary, row=row))
    return buttons


#: The buttons under a review's question (handled by the review extension).
KNOW_LABEL = "\U0001f9e0 I know this"
RESET_LABEL = "\u21ba Reset"


def _card_buttons(view: QuestionView, learner_id: int, row: int) -> list[discord.ui.Button[Any]]:
    """"I know this" and "Reset" under a review's question; nothing under a quiz's."""
    if view.kind != "review":
        return []
    key = view.question.id
    return [
        views.button(KNOW_LABEL, ids.ReviewCardAction(learner_id, view.attempt_id, key, "k"),
                     row=row),
        views.button(RESET_LABEL, ids.ReviewCardAction(learner_id, view.attempt_id, key, "r"),
                     row=row),
    ]


def question_buttons(view: QuestionView, learner_id: int) -> views.StaticView:
    """One button per choice (or one that opens the number modal); a review's card buttons."""
    return views.StaticView(*_answer_buttons(view, learner_id, row=0),
                            *_card_buttons(view, learner_id, row=1))


def after_answer(result: AnswerResult, learner_id: int) -> views.StaticView:
    """Under a verdict: the next question's buttons, or Quiz again; and Read this part."""
    items: list[discord.ui.Item[Any]] = []
    if result.next_question is not None:
        items += _answer_buttons(result.next_question, learner_id, row=0)
        items += _card_buttons(result.next_question, learner_id, row=2)
    elif result.score.kind == "review":
        items.append(views.button("\U0001f501 Review more", ids.StartReview(DEFAULT_REVIEWS),
                                  style=discord.ButtonStyle.primary, row=0))
    else:
        lesson = result.score.lesson
        items.append(
            views.button(
                "\U0001f501 Quiz again",
                ids.QuizMe(lesson.id if lesson else None),
                style=discord.ButtonStyle.primary,
                row=0,
            )
        )
    if result.snippet is not None:
        items.append(
            views.button(
                f"\U0001f4d6 Read: {result.snippet.title}",
                ids.OpenSnippet(result.snippet.id),
                row=1,
            )
        )
    # Every question can be reported once its verdict and explanation are on screen.
    items.append(
        views.button(
            REPORT_LABEL, ids.ReportQuestion(result.score.attempt_id, result.question.id), row=1
        )
    )
    return views.StaticView(*items)


#: The label of the button that reports the question just answered.
REPORT_LABEL = "\u2691 Report this question"


def number_modal(key: ids.NumberAnswer, question: Question) -> discord.ui.Modal:
    """The modal in which a learner types a numeric answer (titled with the question).

    Like :class:`StaticView` it is marked finished, so its submission is handled by the quiz
    extension's listener (on custom id alone), which also works after a restart.
    """
    modal = discord.ui.Modal(
        title=truncate(one_line(question.prompt), MODAL_TITLE_MAX),
        custom_id=key.encode(),
        timeout=None,
    )
    unit = question.unit
    label = f"Your answer ({unit})" if unit else "Your answer"
    modal.add_item(
        discord.ui.TextInput(
            label=truncate(label, TEXT_INPUT_LABEL_MAX),
            custom_id=views.NUMBER_INPUT_ID,
            placeholder="A number, e.g. 42 or 0.5",
            max_length=views.NUMBER_INPUT_MAX,
            required=True,
        )
    )
    modal.stop()
    return modal
