"""The content format and its validator: every problem with file and line, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.content.loader import check_course, load_course
from bot.content.model import QuestionKind
from bot.errors import CourseError
from bot.settings import PROJECT_ROOT

FIXTURES = Path(__file__).parent.parent / "fixtures" / "lessons"

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

QUIZ = """\
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


def _write(folder: Path, lesson: str = LESSON, quiz: str | None = QUIZ,
           name: str = "01-demo") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(lesson)
    if quiz is not None:
        (folder / f"{name}.quiz.toml").write_text(quiz)
    return folder


def _run_check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "lessons", "check", str(folder)],
        capture_output=True, text=True, timeout=60, check=False,
    )


@pytest.mark.parametrize("folder", [FIXTURES, PROJECT_ROOT / "lessons"], ids=["fixtures", "live"])
def test_the_shipped_content_passes_the_check(folder: Path) -> None:
    result = _run_check(folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


def test_a_valid_lesson_loads_with_its_ids(tmp_path: Path) -> None:
    course = load_course(_write(tmp_path))
    lesson = course.lessons[0]
    assert (lesson.id, lesson.number, lesson.label) == ("demo", 1, "Lesson 1 - Demo lesson")
    assert [s.id for s in lesson.snippets] == ["demo.one", "demo.two"]
    question = course.questions["demo.q1"]
    assert question.kind is QuestionKind.SINGLE and question.answer_choice == "a"
    assert course.content_hash


def test_the_content_hash_changes_with_the_text(tmp_path: Path) -> None:
    first = load_course(_write(tmp_path / "a")).content_hash
    second = load_course(_write(tmp_path / "b", LESSON.replace("More text", "Other"))).content_hash
    assert first != second


@pytest.mark.parametrize(
    ("lesson", "quiz", "expected"),
    [
        (LESSON, QUIZ.replace('answer = "a"', 'answer = "c"'),
         "01-demo.quiz.toml:6: question 'demo.q1': answer 'c' is not one of its choices"),
        (LESSON, QUIZ.replace('snippet = "demo.one"', 'snippet = "demo.nine"'),
         "01-demo.quiz.toml:3: question 'demo.q1': snippet 'demo.nine' does not exist"),
        (LESSON.replace("{#demo.two}", "{#demo.one}"), QUIZ,
         "duplicate id 'demo.one' (snippet)"),
        (LESSON.replace("Some text.", "x" * 1501), QUIZ,
         "01-demo.md:8: snippet 'demo.one' is 1501 characters; the limit is 1500"),
        (LESSON, QUIZ + QUIZ.replace("Pick one", "Again"),
         "duplicate id 'demo.q1' (question)"),
        (LESSON, QUIZ.replace('kind = "single"', 'kind = "essay"'),
         "01-demo.quiz.toml:4: question 'demo.q1': kind must be one of"),
        (LESSON, '[[question]]\nid = "demo.q2"\nsnippet = "demo.one"\nkind = "numeric"\n'
                 'prompt = "How many?"\nanswer = 3\nexplanation = "Three."\n',
         "01-demo.quiz.toml:1: question 'demo.q2': a numeric question needs tolerance"),
        (LESSON, '[[question]]\nid = "demo.q2"\nsnippet = "demo.one"\nkind = "true_false"\n'
                 'prompt = "Yes?"\nanswer = "yes"\nexplanation = "No."\n',
         "01-demo.quiz.toml:6: question 'demo.q2': answer must be true or false"),
        (LESSON, "[[question]\nid = 1\n", "01-demo.quiz.toml:1: not valid TOML"),
        (LESSON.replace("id: demo", "id: Demo Lesson"), QUIZ,
         "01-demo.md:2: lesson id 'Demo Lesson' may use only"),
        (LESSON.replace("## Second part {#demo.two}", "## Second part"), QUIZ,
         "01-demo.md:12: a snippet heading must end with {#snippet-id}"),
        (LESSON.replace("---\nid", "id", 1), QUIZ, "01-demo.md:1: the file must start with front"),
    ],
    ids=["bad-answer", "missing-snippet", "dup-snippet", "too-long", "dup-question", "bad-kind",
         "no-tolerance", "bad-bool", "bad-toml", "bad-id", "bad-heading", "no-front-matter"],
)
def test_each_problem_is_reported_with_file_and_line(
    tmp_path: Path, lesson: str, quiz: str, expected: str
) -> None:
    course, problems = check_course(_write(tmp_path, lesson, quiz))
    assert course is None
    assert any(expected in p for p in problems), problems


def test_the_command_lists_problems_and_exits_non_zero_without_a_traceback(tmp_path: Path) -> None:
    folder = _write(tmp_path, LESSON, QUIZ.replace('answer = "a"', 'answer = "zz"'))
    result = _run_check(folder)
    assert result.returncode == 1
    assert "01-demo.quiz.toml:6:" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_load_course_raises_a_readable_error(tmp_path: Path) -> None:
    with pytest.raises(CourseError, match=r"01-demo\.md:1"):
        load_course(_write(tmp_path, "no front matter\n", None))
