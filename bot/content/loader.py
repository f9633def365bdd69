"""Load and validate the course from ``lessons/`` (see ``lessons/README.md`` for the format).

:func:`check_course` returns every problem it finds, each as ``file:line: message``, and never
raises on bad content; :func:`load_course` raises :class:`~bot.errors.CourseError` listing them.
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.content.lint import RULES, WAIVABLE, display_path
from bot.content.model import Choice, Course, Lesson, Question, QuestionKind, QuestionStyle, Snippet
from bot.errors import CourseError

SNIPPET_MAX_CHARS = 1500
TITLE_MAX_CHARS = 80
SUMMARY_MAX_CHARS = 200
PROMPT_MAX_CHARS = 300
EXPLANATION_MAX_CHARS = 1000
CHOICE_MAX_CHARS = 150
ID_MAX_CHARS = 48
CHOICE_ID_MAX_CHARS = 16
MIN_CHOICES, MAX_CHOICES = 2, 5
MAX_PHRASINGS = 8
PHRASING_MAX_CHARS = 200
REASON_MAX_CHARS = 300

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_FILE_RE = re.compile(r"^(\d{1,3})-[a-z0-9][a-z0-9-]*\.md$")
_HEADING_RE = re.compile(r"^##\s+(?P<title>.*?)\s*\{#(?P<id>[^}\s]*)\}\s*$")
_QUESTION_HEADER_RE = re.compile(r"^\s*\[\[\s*question\s*\]\]\s*(#.*)?$")
_SNIPPET_HEADER_RE = re.compile(r"^\s*\[\[\s*snippet\s*\]\]\s*(#.*)?$")
_TABLE_HEADER_RE = re.compile(r"^\s*\[")  # any [table] or [[array]] header ends a table
_TOML_LINE_RE = re.compile(r"at line (\d+)")


@dataclass
class _Report:
    """Collects problems as ``path:line: message`` strings."""

    root: Path
    problems: list[str] = field(default_factory=list)

    def add(self, path: Path, line: int, message: str) -> None:
        self.problems.append(f"{display_path(self.root, path)}:{line}: {message}")


def _check_id(report: _Report, path: Path, line: int, what: str, value: object, limit: int) -> bool:
    if not isinstance(value, str) or not value:
        report.add(path, line, f"{what} id is missing or not text")
        return False
    if not _ID_RE.match(value):
        report.add(
            path, line, f"{what} id {value!r} may use only lowercase letters, digits, '.', '-', '_'"
        )
        return False
    if len(value) > limit:
        report.add(path, line, f"{what} id {value!r} is longer than {limit} characters")
        return False
    return True


def _text(
    report: _Report, path: Path, line: int, where: str, value: object, limit: int
) -> str | None:
    if not isinstance(value, str) or not value.strip():
        report.add(path, line, f"{where} is missing or empty")
        return None
    if len(value) > limit:
        report.add(path, line, f"{where} is {len(value)} characters; the limit is {limit}")
    return value.strip()


def _parse_lesson_md(report: _Report, path: Path, number: int) -> Lesson | None:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        report.add(path, 1, "the file must start with front matter between '---' lines")
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        report.add(path, 1, "front matter is not closed with a '---' line")
        return None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line + 2) if mark is not None else 1
        report.add(path, line, f"front matter is not valid YAML: {getattr(exc, 'problem', exc)}")
        return None
    if not isinstance(meta, dict):
        report.add(path, 2, "front matter must be 'key: value' lines")
        return None

    def meta_line(key: str) -> int:
        for i in range(1, end):
            if lines[i].startswith(f"{key}:"):
                return i + 1
        return 1

    ok = _check_id(report, path, meta_line("id"), "lesson", meta.get("id"), ID_MAX_CHARS)
    title = _text(report, path, meta_line("title"), "title", meta.get("title"), TITLE_MAX_CHARS)
    summary = _text(
        report, path, meta_line("summary"), "summary", meta.get("summary"), SUMMARY_MAX_CHARS
    )
    if summary and "\n" in summary:
        report.add(path, meta_line("summary"), "summary must be one line")
    topics = meta.get("topics", [])
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        report.add(path, meta_line("topics"), "topics must be a list of topic keys")
        topics = []
    unknown = set(meta) - {"id", "title", "summary", "topics"}
    for key in sorted(unknown):
        report.add(path, meta_line(key), f"unknown front matter key {key!r}")

    lesson_id = meta.get("id") if ok else None
    snippets: list[Snippet] = []
    current: tuple[str, str, int] | None = None  # (id, title, heading line)
    body: list[str] = []

    def close_snippet() -> None:
        if current is None:
            return
        sid, stitle, sline = current
        content = "\n".join(body).strip()
        if not content:
            report.add(path, sline, f"snippet {sid!r} has no text")
        elif len(content) > SNIPPET_MAX_CHARS:
            report.add(
                path,
                sline,
                f"snippet {sid!r} is {len(content)} characters; the limit is {SNIPPET_MAX_CHARS} "
                "(one Discord embed): split it",
            )
        snippets.append(
            Snippet(
                id=sid,
                lesson_id=str(lesson_id),
                title=stitle,
                body=content,
                position=len(snippets),
                line=sline,
            )
        )

    in_code = False
    for index in range(end + 1, len(lines)):
        raw = lines[index]
        if raw.lstrip().startswith("```"):
            in_code = not in_code
        if not in_code and raw.startswith("## "):
            match = _HEADING_RE.match(raw)
            close_snippet()
            body = []
            if not match:
                report.add(path, index + 1, "a snippet heading must end with {#snippet-id}")
                current = None
                continue
            sid, stitle = match["id"], match["title"]
            if not stitle:
                report.add(path, index + 1, f"snippet {sid!r} has no title")
            if _check_id(report, path, index + 1, "snippet", sid, ID_MAX_CHARS):
                current = (sid, stitle, index + 1)
            else:
                current = None
            continue
        if current is None:
            if raw.strip() and not raw.startswith("## "):
                report.add(path, index + 1, "text before the first '## Title {#id}' heading")
                # Report once per stray block, not per line.
                while index + 1 < len(lines) and lines[index + 1].strip():
                    index += 1
            continue
        body.append(raw)
    close_snippet()
    if in_code:
        report.add(path, len(lines), "a code block (```) is never closed")
    if not snippets:
        report.add(path, end + 2, "the lesson has no snippets ('## Title {#snippet-id}')")
    if not (ok and title and summary):
        return None
    return Lesson(
        id=str(lesson_id),
        number=number,
        title=title,
        summary=summary,
        topics=tuple(topics),
        snippets=tuple(snippets),
        questions=(),
        source_file=path.name,
    )


def _header_lines(text: str, header: re.Pattern[str]) -> list[int]:
    """1-based line of each ``[[question]]`` (or ``[[snippet]]``) header, in order."""
    return [i + 1 for i, raw in enumerate(text.splitlines()) if header.match(raw)]


def _key_line(text: str, start: int, key: str) -> int:
    """The line of ``key = ...`` in the table that starts at ``start`` (or ``start``).

    ``start`` is 1-based, so ``lines[start]`` is the line after the header; 0 means the top level
    (before the first table).
    """
    lines = text.splitlines()
    for i in range(start, len(lines)):
        if _TABLE_HEADER_RE.match(lines[i]):
            break
        if re.match(rf"^\s*{re.escape(key)}\s*=", lines[i]):
            return i + 1
    return max(start, 1)


def _reason(
    report: _Report, path: Path, line: int, where: str, value: object
) -> str | None:
    """A required one-line justification (``reason``, ``lint_reason``)."""
    if not isinstance(value, str) or not value.strip():
        report.add(path, line, f"{where} is missing or empty: say why in a few words")
        return None
    if len(value) > REASON_MAX_CHARS:
        report.add(path, line, f"{where} is {len(value)} characters; the limit is "
                   f"{REASON_MAX_CHARS}")
    return value.strip()


def _lint_waiver(
    report: _Report, path: Path, at: Any, where: str, raw: dict[str, Any]
) -> tuple[frozenset[str], str]:
    """``lint_ignore`` + ``lint_reason`` of a question: known rules, always with a reason."""
    ignore, reason = raw.get("lint_ignore"), raw.get("lint_reason")
    if ignore is None:
        if reason is not None:
            report.add(path, at("lint_reason"), f"{where}: lint_reason without lint_ignore")
        return frozenset(), ""
    if not isinstance(ignore, list) or not ignore or not all(isinstance(r, str) for r in ignore):
        report.add(path, at("lint_ignore"),
                   f'{where}: lint_ignore must be a list of rule names, e.g. ["absolute"]')
        return frozenset(), ""
    rules: set[str] = set()
    for rule in ignore:
        if rule in rules:
            report.add(path, at("lint_ignore"), f"{where}: lint_ignore names {rule!r} twice")
        elif rule not in RULES:
            report.add(path, at("lint_ignore"), f"{where}: lint_ignore names unknown rule "
                       f"{rule!r}; rules: {', '.join(sorted(WAIVABLE))}")
        elif rule not in WAIVABLE:
            report.add(path, at("lint_ignore"), f"{where}: rule {rule!r} applies to a lesson or "
                       f"the course, not to one question, so a question cannot waive it")
        rules.add(rule)
    text = _reason(report, path, at("lint_reason" if "lint_reason" in raw else "lint_ignore"),
                   f"{where}: lint_reason (required with "
                   "lint_ignore)", reason)
    return frozenset(rules & WAIVABLE), text or ""


def _parse_question(
    report: _Report, path: Path, text: str, line: int, raw: Any, lesson: Lesson
) -> Question | None:
    def at(key: str) -> int:
        return _key_line(text, line, key)

    if not isinstance(raw, dict):
        report.add(path, line, "a question must be a table")
        return None
    allowed = {
        "id",
        "snippet",
        "kind",
        "prompt",
        "answer",
        "explanation",
        "choices",
        "tolerance",
        "unit",
        "style",
        "lint_ignore",
        "lint_reason",
    }
    for key in sorted(set(raw) - allowed):
        report.add(path, at(key), f"unknown question key {key!r}")
    qid = raw.get("id")
    if not _check_id(report, path, at("id"), "question", qid, ID_MAX_CHARS):
        return None
    assert isinstance(qid, str)
    where = f"question {qid!r}"
    try:
        kind = QuestionKind(str(raw.get("kind")))
    except ValueError:
        report.add(path, at("kind"), f"{where}: kind must be one of single, true_false, numeric")
        return None
    style: QuestionStyle | None = None
    if "style" in raw:
        try:
            style = QuestionStyle(raw["style"]) if isinstance(raw["style"], str) else None
        except ValueError:
            style = None
        if style is None:
            report.add(path, at("style"), f"{where}: style must be one of "
                       f"{', '.join(s.value for s in QuestionStyle)}")
    lint_ignore, lint_reason = _lint_waiver(report, path, at, where, raw)
    prompt = _text(
        report, path, at("prompt"), f"{where}: prompt", raw.get("prompt"), PROMPT_MAX_CHARS
    )
    explanation = _text(
        report,
        path,
        at("explanation"),
        f"{where}: explanation",
        raw.get("explanation"),
        EXPLANATION_MAX_CHARS,
    )
    snippet = raw.get("snippet")
    if not isinstance(snippet, str) or not snippet:
        report.add(path, at("snippet"), f"{where}: names no snippet (the snippet it tests)")
    elif snippet not in {s.id for s in lesson.snippets}:
        report.add(
            path,
            at("snippet"),
            f"{where}: snippet {snippet!r} does not exist in lesson {lesson.id!r}",
        )
    answer = raw.get("answer")
    choices: list[Choice] = []
    answer_choice: str | None = None
    answer_number: float | None = None
    tolerance = 0.0
    unit = raw.get("unit", "")
    if kind is QuestionKind.SINGLE:
        raw_choices = raw.get("choices")
        if not isinstance(raw_choices, list) or not (
            MIN_CHOICES <= len(raw_choices) <= MAX_CHOICES
        ):
            report.add(
                path, at("choices"), f"{where}: needs {MIN_CHOICES} to {MAX_CHOICES} choices"
            )
            raw_choices = raw_choices if isinstance(raw_choices, list) else []
        for item in raw_choices:
            if not isinstance(item, dict) or set(item) != {"id", "text"}:
                report.add(
                    path, at("choices"), f'{where}: each choice is {{ id = "...", text = "..." }}'
                )
                continue
            if _check_id(report, path, at("choices"), "choice", item["id"], CHOICE_ID_MAX_CHARS):
                ctext = _text(
                    report,
                    path,
                    at("choices"),
                    f"{where}: choice {item['id']!r} text",
                    item["text"],
                    CHOICE_MAX_CHARS,
                )
                if any(c.id == item["id"] for c in choices):
                    report.add(
                        path, at("choices"), f"{where}: choice id {item['id']!r} is used twice"
                    )
                else:
                    choices.append(Choice(id=item["id"], text=ctext or ""))
        if not isinstance(answer, str):
            report.add(path, at("answer"), f"{where}: answer must be the id of a choice")
        elif answer not in {c.id for c in choices}:
            report.add(path, at("answer"), f"{where}: answer {answer!r} is not one of its choices")
        else:
            answer_choice = answer
    elif kind is QuestionKind.TRUE_FALSE:
        if "choices" in raw:
            report.add(path, at("choices"), f"{where}: a true_false question has no choices")
        if not isinstance(answer, bool):
            report.add(path, at("answer"), f"{where}: answer must be true or false")
        else:
            answer_choice = "true" if answer else "false"
        choices = [Choice("true", "True"), Choice("false", "False")]
    else:
        if "choices" in raw:
            report.add(path, at("choices"), f"{where}: a numeric question has no choices")
        if (
            isinstance(answer, bool)
            or not isinstance(answer, int | float)
            or not math.isfinite(answer)
        ):
            report.add(path, at("answer"), f"{where}: answer must be a number")
        else:
            answer_number = float(answer)
        tol = raw.get("tolerance")
        if isinstance(tol, bool) or not isinstance(tol, int | float) or tol < 0:
            report.add(
                path,
                at("tolerance"),
                f"{where}: a numeric question needs tolerance = a number >= 0",
            )
        else:
            tolerance = float(tol)
        if not isinstance(unit, str):
            report.add(path, at("unit"), f"{where}: unit must be text")
            unit = ""
    if prompt is None or explanation is None or not isinstance(snippet, str):
        return None
    if answer_choice is None and answer_number is None:
        return None
    return Question(
        id=qid,
        lesson_id=lesson.id,
        snippet_id=snippet,
        kind=kind,
        prompt=prompt,
        explanation=explanation,
        choices=tuple(choices),
        answer_choice=answer_choice,
        answer_number=answer_number,
        tolerance=tolerance,
        unit=unit,
        style=style,
        lint_ignore=lint_ignore,
        lint_reason=lint_reason,
        line=line,
    )


@dataclass
class _Quiz:
    """What a quiz file adds to its lesson."""

    questions: list[Question] = field(default_factory=list)
    snippets: dict[str, Snippet] = field(default_factory=dict)  # snippets with [[snippet]] data
    retired: list[str] = field(default_factory=list)


def _phrasings(report: _Report, path: Path, line: int, where: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        report.add(path, line, f"{where}: phrasings must be a list of strings")
        return ()
    if not 1 <= len(value) <= MAX_PHRASINGS:
        report.add(path, line, f"{where}: give 1 to {MAX_PHRASINGS} phrasings, not {len(value)}")
    seen: set[str] = set()
    kept: list[str] = []
    for phrasing in value:
        text = " ".join(phrasing.split())
        key = text.casefold()
        if not text:
            report.add(path, line, f"{where}: a phrasing is empty")
        elif len(text) > PHRASING_MAX_CHARS:
            report.add(path, line, f"{where}: phrasing {text[:40]!r}... is {len(text)} "
                       f"characters; the limit is {PHRASING_MAX_CHARS}")
        elif key in seen:
            report.add(path, line, f"{where}: phrasing {text!r} is listed twice")
        else:
            seen.add(key)
            kept.append(text)
    return tuple(kept)


def _parse_snippet_meta(
    report: _Report, path: Path, text: str, line: int, raw: Any, lesson: Lesson, quiz: _Quiz
) -> None:
    """One ``[[snippet]]`` table: metadata for a snippet of this lesson."""

    def at(key: str) -> int:
        return _key_line(text, line, key)

    if not isinstance(raw, dict):
        report.add(path, line, "a [[snippet]] must be a table")
        return
    for key in sorted(set(raw) - {"id", "phrasings", "quiz", "reason"}):
        report.add(path, at(key), f"unknown snippet key {key!r} (id, phrasings, quiz, reason)")
    sid = raw.get("id")
    known = {s.id: s for s in lesson.snippets}
    if not isinstance(sid, str) or not sid:
        report.add(path, at("id"), "[[snippet]] needs id = the id of a snippet of this lesson")
        return
    if sid not in known:
        report.add(path, at("id"), f"[[snippet]] {sid!r} does not exist in lesson {lesson.id!r}")
        return
    if sid in quiz.snippets:
        report.add(path, at("id"), f"[[snippet]] {sid!r} is described twice: merge the tables")
        return
    where = f"snippet {sid!r}"
    phrasings: tuple[str, ...] = ()
    if "phrasings" in raw:
        phrasings = _phrasings(report, path, at("phrasings"), where, raw["phrasings"])
    testable = raw.get("quiz", True)
    if not isinstance(testable, bool):
        report.add(path, at("quiz"), f"{where}: quiz must be true or false")
        testable = True
    reason = ""
    if not testable:
        reason = _reason(report, path, at("reason") if "reason" in raw else at("quiz"),
                         f"{where}: reason (required with quiz = false)", raw.get("reason")) or ""
    elif "reason" in raw:
        report.add(path, at("reason"), f"{where}: reason is only for quiz = false")
    snippet = known[sid]
    quiz.snippets[sid] = Snippet(
        id=snippet.id,
        lesson_id=snippet.lesson_id,
        title=snippet.title,
        body=snippet.body,
        position=snippet.position,
        phrasings=phrasings,
        quiz=testable,
        quiz_reason=reason,
        line=snippet.line,
    )


def _parse_retired(report: _Report, path: Path, text: str, raw: object) -> list[str]:
    line = _key_line(text, 0, "retired")
    if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
        report.add(path, line, 'retired must be a list of question ids, e.g. ["demo.q3"]')
        return []
    retired: list[str] = []
    for qid in raw:
        if _check_id(report, path, line, "retired question", qid, ID_MAX_CHARS):
            if qid in retired:
                report.add(path, line, f"retired question id {qid!r} is listed twice")
            else:
                retired.append(qid)
    return retired


def _parse_quiz(report: _Report, path: Path, lesson: Lesson) -> _Quiz:
    quiz = _Quiz()
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE_RE.search(str(exc))
        report.add(path, int(found.group(1)) if found else 1, f"not valid TOML: {exc}")
        return quiz
    for key in sorted(set(data) - {"question", "snippet", "retired"}):
        report.add(path, _key_line(text, 0, key), f"unknown top-level key {key!r} (a quiz file "
                   "holds [[question]] and [[snippet]] tables and a retired = [...] list)")
    if "retired" in data:
        quiz.retired = _parse_retired(report, path, text, data["retired"])
    raw_snippets = data.get("snippet", [])
    if not isinstance(raw_snippets, list):
        report.add(path, _key_line(text, 0, "snippet"),
                   "snippet metadata must be written as [[snippet]] tables")
        raw_snippets = []
    snippet_lines = _header_lines(text, _SNIPPET_HEADER_RE)
    for index, raw in enumerate(raw_snippets):
        line = snippet_lines[index] if index < len(snippet_lines) else 1
        _parse_snippet_meta(report, path, text, line, raw, lesson, quiz)
    raw_questions = data.get("question", [])
    if not isinstance(raw_questions, list):
        report.add(path, 1, "questions must be written as [[question]] tables")
        return quiz
    header_lines = _header_lines(text, _QUESTION_HEADER_RE)
    for index, raw in enumerate(raw_questions):
        line = header_lines[index] if index < len(header_lines) else 1
        question = _parse_question(report, path, text, line, raw, lesson)
        if question is not None:
            quiz.questions.append(question)
    return quiz


def check_course(directory: Path | str) -> tuple[Course | None, list[str]]:
    """Parse and validate every lesson under ``directory``.

    Returns the course (``None`` when there are problems) and the list of problems, each as
    ``file:line: message``. Never raises for bad content; raises only if the folder is missing.
    """
    root = Path(directory)
    report = _Report(root=root)
    if not root.is_dir():
        return None, [f"{root}: no such folder"]
    lessons: list[Lesson] = []
    seen_numbers: dict[int, Path] = {}
    seen_ids: dict[str, str] = {}  # id -> where it was first defined
    retired_by: dict[Path, list[str]] = {}  # quiz file -> the question ids it retired
    digest = hashlib.sha256()
    md_files = sorted(root.glob("*.md"))
    lesson_files = [p for p in md_files if p.name.lower() != "readme.md"]
    for path in lesson_files:
        match = _FILE_RE.match(path.name)
        if not match:
            report.add(path, 1, "lesson files are named NN-slug.md (e.g. 07-pre-training.md)")
            continue
        number = int(match.group(1))
        if number in seen_numbers:
            report.add(
                path, 1, f"lesson number {number} is also used by {seen_numbers[number].name}"
            )
            continue
        seen_numbers[number] = path
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        lesson = _parse_lesson_md(report, path, number)
        quiz_path = path.with_name(path.stem + ".quiz.toml")
        if lesson is None:
            continue
        quiz = _Quiz()
        if quiz_path.exists():
            digest.update(quiz_path.name.encode() + b"\0" + quiz_path.read_bytes() + b"\0")
            quiz = _parse_quiz(report, quiz_path, lesson)
            retired_by[quiz_path] = quiz.retired
        questions = quiz.questions
        for kind, item_id, where in (
            [("lesson", lesson.id, path)]
            + [("snippet", s.id, path) for s in lesson.snippets]
            + [("question", q.id, quiz_path) for q in questions]
        ):
            if item_id in seen_ids:
                report.add(
                    where,
                    1 if kind == "lesson" else _find_line(where, item_id),
                    f"duplicate id {item_id!r} ({kind}); first defined in {seen_ids[item_id]}",
                )
            else:
                seen_ids[item_id] = where.name
        lessons.append(
            Lesson(
                id=lesson.id,
                number=lesson.number,
                title=lesson.title,
                summary=lesson.summary,
                topics=lesson.topics,
                snippets=tuple(quiz.snippets.get(s.id, s) for s in lesson.snippets),
                questions=tuple(questions),
                source_file=lesson.source_file,
                quiz_file=quiz_path.name if quiz_path.exists() else "",
                retired=tuple(quiz.retired),
            )
        )
    for quiz_path in sorted(root.glob("*.quiz.toml")):
        if not quiz_path.with_name(quiz_path.name.removesuffix(".quiz.toml") + ".md").exists():
            report.add(quiz_path, 1, "quiz file without a lesson file of the same name")
    _check_retired(report, retired_by, lessons)
    if not lesson_files:
        report.problems.append(f"{root}: no lesson files (NN-slug.md) found")
    if report.problems:
        return None, report.problems
    lessons.sort(key=lambda lesson: lesson.number)
    return Course(lessons=tuple(lessons), content_hash=digest.hexdigest()), []


def _check_retired(
    report: _Report, retired_by: dict[Path, list[str]], lessons: list[Lesson]
) -> None:
    """A retired question id is never reused, by any question of any lesson."""
    used = {q.id: (lesson, q) for lesson in lessons for q in lesson.questions}
    for quiz_path, retired in retired_by.items():
        for qid in retired:
            if qid in used:
                lesson, question = used[qid]
                report.add(
                    quiz_path.with_name(lesson.quiz_file) if lesson.quiz_file else quiz_path,
                    question.line or 1,
                    f"question id {qid!r} was retired in {quiz_path.name}: give this question "
                    "a new id (answers and review cards still point at the old one)",
                )


def _find_line(path: Path, needle: str) -> int:
    """The first line of ``path`` that mentions ``needle`` (for duplicate-id reports)."""
    try:
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if needle in raw:
                return number
    except OSError:
        pass
    return 1


def load_course(directory: Path | str) -> Course:
    """Load the course, raising :class:`CourseError` with every problem if it is invalid."""
    course, problems = check_course(directory)
    if course is None:
        raise CourseError(problems)
    return course
