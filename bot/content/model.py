"""The course as plain, immutable data: lessons made of snippets, and quiz questions.

Every id is written by the course author and never derived from a position or a title, so a
learner's progress survives edits to the text. Loading and validation live in
:mod:`bot.content.loader`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property


class QuestionKind(StrEnum):
    """How a question is answered."""

    SINGLE = "single"  # one choice among several
    TRUE_FALSE = "true_false"
    NUMERIC = "numeric"  # a number, within a stated tolerance


class QuestionStyle(StrEnum):
    """What a question asks of the learner (optional; see ``lessons/README.md``).

    The item-writing linter counts ``scenario`` and ``calculation`` questions, like numeric
    ones, as questions that test reasoning rather than recall.
    """

    RECALL = "recall"  # remember a stated fact or definition
    CONCEPT = "concept"  # explain why or how something works
    SCENARIO = "scenario"  # apply an idea to a concrete situation the lesson did not spell out
    CALCULATION = "calculation"  # work a number out (count, cost, perplexity, tokens, ...)


@dataclass(frozen=True, slots=True)
class Choice:
    """One possible answer to a single-choice or true/false question."""

    id: str
    text: str


@dataclass(frozen=True, slots=True)
class Snippet:
    """A short piece of a lesson that fits one Discord embed."""

    id: str
    lesson_id: str
    title: str
    body: str
    position: int  # 0-based, within its lesson (for display only: never stored)
    # From the lesson's ``[[snippet]]`` table in its quiz file (all optional):
    phrasings: tuple[str, ...] = ()  # how learners ask about this snippet, for /ask
    quiz: bool = True  # False: teaches no testable fact, so no question is expected
    quiz_reason: str = ""  # why ``quiz`` is False (required then)
    line: int = field(default=0, compare=False)  # 1-based heading line in the lesson file


@dataclass(frozen=True, slots=True)
class Question:
    """A quiz question. ``answer`` is a choice id, or a float for numeric questions."""

    id: str
    lesson_id: str
    snippet_id: str
    kind: QuestionKind
    prompt: str
    explanation: str
    choices: tuple[Choice, ...] = ()
    answer_choice: str | None = None
    answer_number: float | None = None
    tolerance: float = 0.0
    unit: str = ""
    style: QuestionStyle | None = None
    lint_ignore: frozenset[str] = frozenset()  # item-writing warnings waived for this question
    lint_reason: str = ""  # why they are waived (required with ``lint_ignore``)
    line: int = field(default=0, compare=False)  # 1-based ``[[question]]`` line in the quiz file

    def choice(self, choice_id: str) -> Choice | None:
        """The choice with this id, if the question has one."""
        return next((c for c in self.choices if c.id == choice_id), None)

    def is_correct_choice(self, choice_id: str) -> bool:
        """Exact comparison of ids: never a substring or case-folded match."""
        return self.answer_choice is not None and choice_id == self.answer_choice

    def is_correct_number(self, value: float) -> bool:
        """Whether ``value`` lies within the stated tolerance of the answer."""
        if self.answer_number is None or not math.isfinite(value):
            return False
        # A tiny epsilon absorbs float noise such as 0.1 + 0.2 without widening real tolerances.
        slack = self.tolerance + 1e-9 * max(1.0, abs(self.answer_number))
        return abs(value - self.answer_number) <= slack

    @property
    def answer_text(self) -> str:
        """The right answer as a learner would read it."""
        if self.kind is QuestionKind.NUMERIC:
            assert self.answer_number is not None
            number = f"{self.answer_number:g}"
            tol = f" (± {self.tolerance:g})" if self.tolerance else ""
            return f"{number}{' ' + self.unit if self.unit else ''}{tol}"
        chosen = self.choice(self.answer_choice or "")
        return chosen.text if chosen else ""


@dataclass(frozen=True, slots=True)
class Lesson:
    """One lesson: ordered snippets and the questions that test them."""

    id: str
    number: int  # from the file name prefix: the order learners see
    title: str
    summary: str
    topics: tuple[str, ...]
    snippets: tuple[Snippet, ...]
    questions: tuple[Question, ...]
    source_file: str = ""
    quiz_file: str = ""  # name of the quiz file beside it, if there is one
    retired: tuple[str, ...] = ()  # question ids this lesson once used: never to be reused

    @property
    def label(self) -> str:
        """How the course cites this lesson, e.g. ``Lesson 7 - Pre-training``."""
        return f"Lesson {self.number} - {self.title}"


@dataclass(frozen=True)
class Course:
    """The whole course, with lookups by id."""

    lessons: tuple[Lesson, ...]
    content_hash: str = ""
    _by_id: dict[str, Lesson] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update({lesson.id: lesson for lesson in self.lessons})

    @cached_property
    def snippets(self) -> dict[str, Snippet]:
        """Every snippet by id."""
        return {s.id: s for lesson in self.lessons for s in lesson.snippets}

    @cached_property
    def questions(self) -> dict[str, Question]:
        """Every question by id."""
        return {q.id: q for lesson in self.lessons for q in lesson.questions}

    def lesson(self, lesson_id: str) -> Lesson | None:
        """The lesson with this id, or ``None``."""
        return self._by_id.get(lesson_id)

    def lesson_of(self, snippet_id: str) -> Lesson | None:
        """The lesson a snippet belongs to."""
        snippet = self.snippets.get(snippet_id)
        return self._by_id.get(snippet.lesson_id) if snippet else None

    def next_lesson(self, lesson_id: str) -> Lesson | None:
        """The lesson after this one, or ``None`` at the end of the course."""
        ids = [lesson.id for lesson in self.lessons]
        if lesson_id not in ids:
            return None
        index = ids.index(lesson_id) + 1
        return self.lessons[index] if index < len(self.lessons) else None

    def find_lesson(self, text: str) -> Lesson | None:
        """Resolve what a learner typed: an id, a number, or a title (case-insensitive).

        Exact matches win; otherwise a unique prefix of a title is accepted.
        """
        needle = text.strip().casefold()
        if not needle:
            return None
        for lesson in self.lessons:
            if needle in (lesson.id.casefold(), lesson.title.casefold(), str(lesson.number)):
                return lesson
        starts = [lesson for lesson in self.lessons if lesson.title.casefold().startswith(needle)]
        return starts[0] if len(starts) == 1 else None

    def search_lessons(self, text: str, limit: int = 25) -> list[Lesson]:
        """Lessons whose number, id or title contains ``text`` (for autocomplete)."""
        needle = text.strip().casefold()
        if not needle:
            return list(self.lessons[:limit])
        hits = [
            lesson
            for lesson in self.lessons
            if needle in lesson.title.casefold()
            or needle in lesson.id.casefold()
            or needle == str(lesson.number)
        ]
        return hits[:limit]
