"""Buttons and modals of the bot's messages, each carrying its state in its custom id.

Clicks are handled by :class:`discord.ui.DynamicItem` classes the Discord extensions register
at start-up, matched on the custom id alone; so the views built here have no callbacks and are
never kept in memory (see :class:`StaticView`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.content.model import Question, QuestionKind
from bot.ui import custom_ids as ids
from bot.ui.embeds import LETTERS
from bot.ui.limits import BUTTON_LABEL_MAX, MODAL_TITLE_MAX, TEXT_INPUT_LABEL_MAX
from bot.ui.text import one_line, truncate

if TYPE_CHECKING:  # result types only: the ui never calls a service
    from bot.services.course import Page
    from bot.services.quiz import AnswerResult, QuestionView

#: The text input of the numeric-answer modal.
NUMBER_INPUT_ID = "value"
NUMBER_INPUT_MAX = 40


class StaticView(discord.ui.View):
    """A row of buttons that discord.py sends but does not keep.

    The view is marked finished as it is built, which tells discord.py not to store it per
    message: its clicks go to the DynamicItems registered for its custom ids (which also serve
    messages sent before a restart), so a stored copy would only grow memory forever.
    """

    def __init__(self, *items: discord.ui.Item[Any]) -> None:
        super().__init__(timeout=None)
        for item in items:
            self.add_item(item)
        self.stop()


def button(
    label: str,
    custom_id: ids.CustomId,
    *,
    style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    disabled: bool = False,
    row: int | None = None,
) -> discord.ui.Button[Any]:
    """A button with a label cut to Discord's limit and an encoded custom id."""
    return discord.ui.Button(
        label=truncate(label, BUTTON_LABEL_MAX),
        custom_id=custom_id.encode(),
        style=style,
        disabled=disabled,
        row=row,
    )


def lesson_page(page: Page, learner_id: int) -> StaticView:
    """Previous / Next / Mark done / Quiz me under a lesson page."""
    snippet_id = page.snippet.id
    if page.has_next:
        next_label, next_disabled = "Next \u25b6", False
    elif page.next_lesson is not None:
        next_label, next_disabled = "Next lesson \u25b6", False
    else:
        next_label, next_disabled = "End of the course", page.lesson_done
        if not page.lesson_done:
            next_label = "Finish the course \u2713"
    return StaticView(
        button(
            "\u25c0 Previous",
            ids.PageStep(learner_id, snippet_id, -1),
            disabled=not page.has_previous,
        ),
        button(
            next_label,
            ids.PageStep(learner_id, snippet_id, 1),
            style=discord.ButtonStyle.primary,
            disabled=next_disabled,
        ),
        button(
            "\u2713 Done" if page.lesson_done else "\u2713 Mark done",
            ids.MarkDone(learner_id, snippet_id),
            style=discord.ButtonStyle.success,
            disabled=page.lesson_done,
        ),
        button(
            "\u2753 Quiz me",
            ids.QuizMe(page.lesson.id),
            disabled=not page.lesson.questions,
        ),
    )


def course_pages(learner_id: int, page: int, count: int) -> StaticView | None:
    """◀ ▶ under a course overview of several pages; ``None`` for a single page."""
    if count <= 1:
        return None
    return StaticView(
        button("\u25c0", ids.CoursePage(learner_id, max(page - 1, 0)), disabled=page <= 0),
        button(
            "\u25b6",
            ids.CoursePage(learner_id, min(page + 1, count - 1)),
            disabled=page >= count - 1,
        ),
    )


def _answer_buttons(view: QuestionView, learner_id: int, row: int) -> list[discord.ui.Button[Any]]:
    question = view.question
    if question.kind is QuestionKind.NUMERIC:
        ask = ids.AskNumber(learner_id, view.attempt_id, question.id)
        return [button("\u270f\ufe0f Answer", ask, style=discord.ButtonStyle.primary, row=row)]
    buttons = []
    for index, choice in enumerate(view.choices):
        label = LETTERS[index] if question.kind is QuestionKind.SINGLE else choice.text
        key = ids.Answer(learner_id, view.attempt_id, question.id, choice.id)
        buttons.append(button(label, key, style=discord.ButtonStyle.primary, row=row))
    return buttons


def quiz_question(view: QuestionView, learner_id: int) -> StaticView:
    """One button per choice (or one that opens the number modal)."""
    return StaticView(*_answer_buttons(view, learner_id, row=0))


def after_answer(result: AnswerResult, learner_id: int) -> StaticView:
    """Under a verdict: the next question's buttons, or Quiz again; and Read this part."""
    items: list[discord.ui.Item[Any]] = []
    if result.next_question is not None:
        items += _answer_buttons(result.next_question, learner_id, row=0)
    else:
        lesson = result.score.lesson
        items.append(
            button(
                "\U0001f501 Quiz again",
                ids.QuizMe(lesson.id if lesson else None),
                style=discord.ButtonStyle.primary,
                row=0,
            )
        )
    if result.snippet is not None:
        items.append(
            button(
                f"\U0001f4d6 Read: {result.snippet.title}",
                ids.OpenSnippet(result.snippet.id),
                row=1,
            )
        )
    return StaticView(*items)


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
            custom_id=NUMBER_INPUT_ID,
            placeholder="A number, e.g. 42 or 0.5",
            max_length=NUMBER_INPUT_MAX,
            required=True,
        )
    )
    modal.stop()
    return modal


def submitted_value(data: Any, input_id: str = NUMBER_INPUT_ID) -> str | None:
    """The text typed into ``input_id`` in a modal submission's raw ``data``.

    Handles both shapes Discord sends: inputs inside action rows, and inputs inside labels.
    """
    stack = list((data or {}).get("components") or [])
    while stack:
        component = stack.pop(0)
        if not isinstance(component, dict):
            continue
        if component.get("custom_id") == input_id and "value" in component:
            value = component["value"]
            return value if isinstance(value, str) else None
        stack.extend(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            stack.append(component["component"])
    return None
