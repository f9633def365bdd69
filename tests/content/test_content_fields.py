"""The content fields of issue 14: snippet phrasings and quiz flags, question style and waivers,
retired question ids. Each is read onto the model, and each mistake is an error with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.loader import check_course, load_course
from bot.content.model import QuestionStyle

LESSON = """\
---
id: demo
title: Demo lesson
summary: A lesson for tests.
topics: [tokenization]
---

## First part {#demo.one}

Some text.

## Second part {#demo.two}

More text.
"""

QUESTION = """\
[[question]]
id = "demo.q1"
snippet = "demo.one"
kind = "single"
prompt = "Pick one"
answer = "a"
explanation = "Because."
choices = [
  { id = "a", text = "A" },
  { id = "b", text = "B" },
]
"""

SNIPPETS = """\
retired = ["demo.q0"]

[[snippet]]
id = "demo.one"
phrasings = ["what is the first part", "tell me about part one"]

[[snippet]]
id = "demo.two"
quiz = false
reason = "a summary of the lesson, nothing new to test"

"""


def _write(folder: Path, quiz: str, lesson: str = LESSON, name: str = "01-demo") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(lesson)
    (folder / f"{name}.quiz.toml").write_text(quiz)
    return folder


def test_snippet_metadata_and_question_fields_reach_the_model(tmp_path: Path) -> None:
    quiz = SNIPPETS + QUESTION.replace(
        'kind = "single"\n',
        'kind = "single"\nstyle = "scenario"\nlint_ignore = ["absolute"]\n'
        'lint_reason = "the absolute is the point being taught"\n',
    )
    course = load_course(_write(tmp_path, quiz))
    one, two = course.snippets["demo.one"], course.snippets["demo.two"]
    assert one.phrasings == ("what is the first part", "tell me about part one")
    assert one.quiz is True and one.quiz_reason == ""
    assert two.phrasings == () and two.quiz is False
    assert two.quiz_reason == "a summary of the lesson, nothing new to test"
    assert (one.line, two.line) == (8, 12)  # heading lines in the lesson file, for warnings
    question = course.questions["demo.q1"]
    assert question.style is QuestionStyle.SCENARIO
    assert question.lint_ignore == frozenset({"absolute"})
    assert question.lint_reason == "the absolute is the point being taught"
    assert question.line == 12
    lesson = course.lessons[0]
    assert lesson.retired == ("demo.q0",) and lesson.quiz_file == "01-demo.quiz.toml"


def test_without_the_new_fields_everything_keeps_its_defaults(tmp_path: Path) -> None:
    course = load_course(_write(tmp_path, QUESTION))
    snippet, question = course.snippets["demo.one"], course.questions["demo.q1"]
    assert (snippet.phrasings, snippet.quiz) == ((), True)
    assert (question.style, question.lint_ignore, question.lint_reason) == (None, frozenset(), "")
    assert course.lessons[0].retired == ()


def test_phrasings_are_whitespace_normalised(tmp_path: Path) -> None:
    quiz = '[[snippet]]\nid = "demo.one"\nphrasings = ["  what   is\\tBPE "]\n\n' + QUESTION
    course = load_course(_write(tmp_path, quiz))
    assert course.snippets["demo.one"].phrasings == ("what is BPE",)


def _snippet(body: str) -> str:
    return '[[snippet]]\nid = "demo.one"\n' + body + "\n" + QUESTION


@pytest.mark.parametrize(
    ("quiz", "expected"),
    [
        (_snippet('phrasings = ["what is it", "What  is IT"]'),
         "01-demo.quiz.toml:3: snippet 'demo.one': phrasing 'What is IT' is listed twice"),
        (_snippet("phrasings = []"),
         "01-demo.quiz.toml:3: snippet 'demo.one': give 1 to 8 phrasings, not 0"),
        (_snippet("phrasings = [" + ", ".join(f'"q{i}"' for i in range(9)) + "]"),
         "01-demo.quiz.toml:3: snippet 'demo.one': give 1 to 8 phrasings, not 9"),
        (_snippet('phrasings = ["' + "x" * 201 + '"]'),
         "01-demo.quiz.toml:3: snippet 'demo.one': phrasing 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'"
         "... is 201 characters; the limit is 200"),
        (_snippet('phrasings = ["ok", 3]'),
         "01-demo.quiz.toml:3: snippet 'demo.one': phrasings must be a list of strings"),
        (_snippet('phrasings = ["ok", ""]'),
         "01-demo.quiz.toml:3: snippet 'demo.one': a phrasing is empty"),
        (_snippet("quiz = false"),
         "01-demo.quiz.toml:3: snippet 'demo.one': reason (required with quiz = false) is missing"),
        (_snippet('quiz = false\nreason = "  "'),
         "01-demo.quiz.toml:4: snippet 'demo.one': reason (required with quiz = false) is missing"),
        (_snippet('reason = "why"'),
         "01-demo.quiz.toml:3: snippet 'demo.one': reason is only for quiz = false"),
        (_snippet('quiz = "no"'),
         "01-demo.quiz.toml:3: snippet 'demo.one': quiz must be true or false"),
        (_snippet('phrasing = ["typo"]'),
         "01-demo.quiz.toml:3: unknown snippet key 'phrasing'"),
        ('[[snippet]]\nid = "demo.nine"\n\n' + QUESTION,
         "01-demo.quiz.toml:2: [[snippet]] 'demo.nine' does not exist in lesson 'demo'"),
        ('[[snippet]]\nphrasings = ["x"]\n\n' + QUESTION,
         "01-demo.quiz.toml:1: [[snippet]] needs id = the id of a snippet of this lesson"),
        ('[[snippet]]\nid = "demo.one"\n\n[[snippet]]\nid = "demo.one"\n\n' + QUESTION,
         "01-demo.quiz.toml:5: [[snippet]] 'demo.one' is described twice"),
        ('snippet = "demo.one"\n\n' + QUESTION,
         "01-demo.quiz.toml:1: snippet metadata must be written as [[snippet]] tables"),
        (QUESTION.replace('kind = "single"', 'kind = "single"\nstyle = "trick"'),
         "01-demo.quiz.toml:5: question 'demo.q1': style must be one of recall, concept, scenario,"
         " calculation"),
        (QUESTION.replace('kind = "single"', 'kind = "single"\nlint_ignore = ["absolute"]'),
         "01-demo.quiz.toml:5: question 'demo.q1': lint_reason (required with lint_ignore) is"),
        (QUESTION.replace('kind = "single"', 'kind = "single"\nlint_reason = "because"'),
         "01-demo.quiz.toml:5: question 'demo.q1': lint_reason without lint_ignore"),
        (QUESTION.replace('kind = "single"',
                          'kind = "single"\nlint_ignore = ["nope"]\nlint_reason = "x"'),
         "01-demo.quiz.toml:5: question 'demo.q1': lint_ignore names unknown rule 'nope'"),
        (QUESTION.replace('kind = "single"',
                          'kind = "single"\nlint_ignore = ["keyed-longest"]\nlint_reason = "x"'),
         "01-demo.quiz.toml:5: question 'demo.q1': rule 'keyed-longest' applies to a lesson"),
        (QUESTION.replace('kind = "single"', 'kind = "single"\nlint_ignore = "absolute"\n'
                          'lint_reason = "x"'),
         "01-demo.quiz.toml:5: question 'demo.q1': lint_ignore must be a list of rule names"),
        ('retired = "demo.q0"\n' + QUESTION,
         "01-demo.quiz.toml:1: retired must be a list of question ids"),
        ('retired = ["demo.q0", "demo.q0"]\n' + QUESTION,
         "01-demo.quiz.toml:1: retired question id 'demo.q0' is listed twice"),
        ('retired = ["demo.q1"]\n' + QUESTION,
         "01-demo.quiz.toml:2: question id 'demo.q1' was retired in 01-demo.quiz.toml"),
        ('retire = ["demo.q0"]\n' + QUESTION,
         "01-demo.quiz.toml:1: unknown top-level key 'retire'"),
    ],
    ids=["dup-phrasing", "no-phrasings", "nine-phrasings", "long-phrasing", "non-text-phrasing",
         "empty-phrasing", "no-reason", "blank-reason", "reason-without-quiz-false", "bad-quiz",
         "unknown-key", "unknown-snippet", "no-id", "twice", "not-a-table", "bad-style",
         "waiver-without-reason", "reason-without-waiver", "unknown-rule", "lesson-rule",
         "waiver-not-a-list", "retired-not-a-list", "retired-twice", "retired-reused",
         "unknown-top-level"],
)
def test_each_mistake_in_the_new_fields_is_an_error_with_file_and_line(
    tmp_path: Path, quiz: str, expected: str
) -> None:
    course, problems = check_course(_write(tmp_path, quiz))
    assert course is None
    assert any(expected in p for p in problems), problems


def test_a_retired_id_is_never_reused_by_another_lesson(tmp_path: Path) -> None:
    other = LESSON.replace("id: demo", "id: other").replace("demo.", "other.")
    _write(tmp_path, 'retired = ["other.q1"]\n' + QUESTION)
    _write(tmp_path, QUESTION.replace("demo.", "other."), lesson=other, name="02-other")
    course, problems = check_course(tmp_path)
    assert course is None
    assert len(problems) == 1, problems
    assert problems[0].endswith(
        "02-other.quiz.toml:1: question id 'other.q1' was retired in 01-demo.quiz.toml: give "
        "this question a new id (answers and review cards still point at the old one)"
    )
