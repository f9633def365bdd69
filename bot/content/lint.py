"""The item-writing linter: warnings about quiz questions that can be answered by guessing.

The loader (:mod:`bot.content.loader`) reports *errors*: content the bot cannot serve. This module
reports *warnings*: content the bot can serve but that tests test-taking rather than
understanding. Each warning names a rule from :data:`RULES`; ``tutorbot lessons check --strict``
fails on any warning. A question waives a rule with ``lint_ignore = ["rule"]`` and a
``lint_reason``; a snippet that teaches no testable fact says ``quiz = false`` with a ``reason``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.content.model import Course, Question, QuestionKind, QuestionStyle


@dataclass(frozen=True, slots=True)
class Rule:
    """One item-writing rule: its name, why it matters, and whether one question may waive it."""

    name: str
    why: str
    per_question: bool  # True: a question can waive it with lint_ignore


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule("keyed-longest", "learners learn that the longest choice is usually right", False),
        Rule("keyed-shortest", "learners learn that the shortest choice is usually right", False),
        Rule("true-false-balance",
             "an unbalanced true/false set rewards always guessing the majority answer", False),
        Rule("absolute",
             "words like 'always' or 'never' mark a statement as false without any knowledge",
             True),
        Rule("duplicate-stem",
             "the same question twice counts one fact double and wastes the learner's time", True),
        Rule("stem-gives-answer",
             "a stem that contains its answer is answered by matching words, not by knowing",
             True),
        Rule("throwaway-choice",
             "a filler choice reused across questions is a distractor nobody picks", True),
        Rule("untested-snippet",
             "a snippet that teaches a fact but has no question is never checked or reviewed",
             False),
        Rule("no-reasoning-question",
             "a lesson with only recall questions never asks the learner to apply the idea",
             False),
        Rule("explanation-cites-options",
             "choices are shuffled and /ask quotes explanations alone, so 'option B' means nothing",
             True),
    )
}

WAIVABLE = frozenset(name for name, rule in RULES.items() if rule.per_question)
REASONING_STYLES = frozenset({QuestionStyle.SCENARIO, QuestionStyle.CALCULATION})

# A share above this of single-choice questions keying the strictly longest (or shortest)
# choice is a tell; by chance it would be about 1 / (number of choices).
MAX_KEYED_EXTREME_SHARE = 1 / 3
TRUE_SHARE_RANGE = (0.40, 0.60)
DUPLICATE_JACCARD = 0.6

# Words that make a true/false statement sound false to a test-wise learner.
ABSOLUTES = (
    "always", "never", "only", "no longer", "any longer", "simply", "all", "none", "every",
    "everything", "nothing", "nobody", "completely", "entirely", "totally", "impossible",
    "guaranteed", "guarantees", "exclusively", "solely", "merely", "purely",
)
_ABSOLUTE_RE = re.compile(r"\b(" + "|".join(re.escape(w) for w in ABSOLUTES) + r")\b",
                          re.IGNORECASE)

# Explanation phrases that only make sense next to a fixed, lettered list of choices.
_CITES_OPTIONS_RE = re.compile(
    r"\b(?i:options?|choices?|answers?)\s+(?:[A-E]|\([A-Ea-e]\))(?![\w'-])"
    r"|(?i:\b(?:the\s+)?other\s+(?:options|choices)\b)"
    r"|(?i:\b(?:both|all|none|neither|either)\s+of\s+the\s+(?:above|options|choices)\b)"
    r"|(?i:\bthe\s+(?:first|second|third|fourth|fifth|last)\s+(?:option|choice)\b)"
    r"|(?i:\b(?:options?|choices?)\s+above\b)"
)
_OF_THE_ABOVE_RE = re.compile(r"\b(?:all|none|both|neither)\s+of\s+the\s+above\b", re.IGNORECASE)

# Function words ignored when comparing stems and looking for the answer in a stem.
STOPWORDS = frozenset("""
a an and are as at be been being but by can could did do does doing for from had has have how
if in into is it its itself of on or so than that the their them then there these they this
those to was were what when where which while who whom whose why will with would you your
about after before between during each most more much other over per some such through under
up very one not no yes true false statement following best describes describe correct
""".split())

_TOKEN_RE = re.compile(r"[a-z0-9]+(?:[-.'][a-z0-9]+)*")
_NUMBER_RE = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\w])")


def _tokens(text: str) -> list[str]:
    """Lowercase word tokens, with a plural 's' dropped so 'billions' matches 'billion'."""
    words = _TOKEN_RE.findall(text.casefold().replace("\u2019", "'"))
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is"))
            and w not in STOPWORDS else w for w in words]


def content_tokens(text: str) -> frozenset[str]:
    """The set of meaningful words of ``text`` (the measure behind duplicate stems)."""
    return frozenset(t for t in _tokens(text) if t not in STOPWORDS)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Token-set Jaccard similarity: shared words over all words (0 when both are empty)."""
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def _normal(text: str) -> str:
    return " ".join(_tokens(text))


def display_path(root: Path, path: Path) -> str:
    """How warnings and errors show a file: relative to the folder above the lessons folder."""
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


@dataclass(frozen=True, slots=True)
class LintWarning:
    """One warning: where, which rule, what is wrong."""

    file: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        """``file:line: [rule] message — why it matters``."""
        return f"{self.file}:{self.line}: [{self.rule}] {self.message} \u2014 {RULES[self.rule].why}"


@dataclass
class LessonFigures:
    """Item-writing figures of one lesson (or of the whole course)."""

    name: str
    questions: int = 0
    single: int = 0
    keyed_longest: list[str] = field(default_factory=list)
    keyed_shortest: list[str] = field(default_factory=list)
    true_false: int = 0
    true_count: int = 0
    numeric: int = 0
    reasoning: int = 0  # numeric, or style scenario / calculation

    def longest_share(self) -> float:
        """Share of single-choice questions whose key is the strictly longest choice."""
        return len(self.keyed_longest) / self.single if self.single else 0.0

    def shortest_share(self) -> float:
        """Share of single-choice questions whose key is the strictly shortest choice."""
        return len(self.keyed_shortest) / self.single if self.single else 0.0

    def true_share(self) -> float:
        """Share of true/false statements that are true."""
        return self.true_count / self.true_false if self.true_false else 0.0


@dataclass
class LintReport:
    """Every warning, and the figures authors steer by."""

    warnings: list[LintWarning] = field(default_factory=list)
    course: LessonFigures = field(default_factory=lambda: LessonFigures("course"))
    lessons: list[LessonFigures] = field(default_factory=list)
    absolutes: int = 0  # true/false statements with an absolute word (waived ones included)
    duplicate_pairs: int = 0
    untested_snippets: list[str] = field(default_factory=list)
    lessons_without_numeric: list[str] = field(default_factory=list)
    lessons_without_reasoning: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The figures as a few lines of text (printed after the warnings)."""
        c = self.course
        lines = [
            f"Quiz figures ({c.questions} questions, {c.single} single-choice, "
            f"{c.true_false} true/false, {c.numeric} numeric):",
            f"  key is the strictly longest choice:  {len(c.keyed_longest)}/{c.single} = "
            f"{c.longest_share():.0%} (limit {MAX_KEYED_EXTREME_SHARE:.0%}, per lesson too)",
            f"  key is the strictly shortest choice: {len(c.keyed_shortest)}/{c.single} = "
            f"{c.shortest_share():.0%} (limit {MAX_KEYED_EXTREME_SHARE:.0%}, per lesson too)",
            f"  true/false answered true:            {c.true_count}/{c.true_false} = "
            f"{c.true_share():.0%} (aim {TRUE_SHARE_RANGE[0]:.0%}-{TRUE_SHARE_RANGE[1]:.0%})",
            f"  true/false statements with absolutes: {self.absolutes}",
            f"  near-duplicate stem pairs:           {self.duplicate_pairs}",
            f"  snippets without a question:         {len(self.untested_snippets)}"
            + (f" ({', '.join(self.untested_snippets)})" if self.untested_snippets else ""),
            f"  lessons without a numeric question:  {len(self.lessons_without_numeric)}"
            + (f" ({', '.join(self.lessons_without_numeric)})"
               if self.lessons_without_numeric else ""),
            f"  ... nor a scenario/calculation one:  {len(self.lessons_without_reasoning)}"
            + (f" ({', '.join(self.lessons_without_reasoning)})"
               if self.lessons_without_reasoning else ""),
            "  per lesson: single (longest/shortest) | true/false (true) | numeric, reasoning",
        ]
        for f in self.lessons:
            lines.append(
                f"    {f.name:<14} {f.single:>2} ({len(f.keyed_longest)}/{len(f.keyed_shortest)})"
                f" | {f.true_false:>2} ({f.true_count}) | {f.numeric}, {f.reasoning}"
            )
        return "\n".join(lines)


def _extremes(question: Question) -> tuple[bool, bool]:
    """Whether the key is the strictly longest, and the strictly shortest, choice."""
    key = question.choice(question.answer_choice or "")
    others = [len(c.text.strip()) for c in question.choices if c.id != question.answer_choice]
    if key is None or not others:
        return False, False
    length = len(key.text.strip())
    return length > max(others), length < min(others)


def _numbers(text: str) -> set[float]:
    found = set()
    for raw in _NUMBER_RE.findall(text):
        try:
            found.add(float(raw.replace(",", "")))
        except ValueError:
            continue
    return found


def _gives_answer(question: Question) -> str | None:
    """What of the answer the stem already contains, if anything."""
    if question.kind is QuestionKind.NUMERIC:
        value = question.answer_number
        if value is not None and value in _numbers(question.prompt):
            return f"the number {value:g}"
        return None
    if question.kind is not QuestionKind.SINGLE:
        return None
    key = question.choice(question.answer_choice or "")
    if key is None:
        return None
    stem = f" {_normal(question.prompt)} "
    phrase = _normal(key.text)
    if len(phrase) >= 3 and f" {phrase} " in stem:
        return f"the keyed choice {key.text!r}"
    stem_words = content_tokens(question.prompt)
    key_words = content_tokens(key.text)
    if not key_words or not key_words <= stem_words:
        return None
    # Every meaningful word of the key is in the stem; a tell only if no distractor echoes it.
    if any(content_tokens(c.text) <= stem_words for c in question.choices if c.id != key.id):
        return None
    return f"every word of the keyed choice {key.text!r}"


def lint_course(course: Course, root: Path) -> LintReport:
    """Item-writing warnings about ``course``, loaded from the folder ``root``."""
    report = LintReport()
    shown: dict[str, tuple[str, str]] = {}  # lesson id -> (lesson file, quiz file) as displayed
    for lesson in course.lessons:
        quiz = lesson.quiz_file or lesson.source_file.removesuffix(".md") + ".quiz.toml"
        shown[lesson.id] = (display_path(root, root / lesson.source_file),
                            display_path(root, root / quiz))

    def warn(question: Question | None, file: str, line: int, rule: str, message: str) -> None:
        if question is not None and rule in question.lint_ignore:
            return
        report.warnings.append(LintWarning(file, line, rule, message))

    for lesson in course.lessons:
        md, quiz = shown[lesson.id]
        figures = LessonFigures(lesson.id)
        for question in lesson.questions:
            _count(figures, question)
            _count(report.course, question)
            if question.kind is QuestionKind.TRUE_FALSE:
                words = sorted({m.group(1).lower() for m in _ABSOLUTE_RE.finditer(question.prompt)})
                if words:
                    report.absolutes += 1
                    warn(question, quiz, question.line, "absolute",
                         f"{question.id}: the statement says {', '.join(repr(w) for w in words)}")
            given = _gives_answer(question)
            if given:
                warn(question, quiz, question.line, "stem-gives-answer",
                     f"{question.id}: the stem already contains {given}")
            cited = _CITES_OPTIONS_RE.search(question.explanation)
            if cited:
                warn(question, quiz, question.line, "explanation-cites-options",
                     f"{question.id}: the explanation says {cited.group(0)!r}; name the idea "
                     "instead")
        report.lessons.append(figures)
        for rule, keyed in (("keyed-longest", figures.keyed_longest),
                            ("keyed-shortest", figures.keyed_shortest)):
            if figures.single and len(keyed) / figures.single > MAX_KEYED_EXTREME_SHARE:
                which = rule.removeprefix("keyed-")
                warn(None, quiz, 1, rule,
                     f"lesson {lesson.id}: {len(keyed)} of {figures.single} single-choice "
                     f"questions key the strictly {which} choice ({len(keyed) / figures.single:.0%}"
                     f", limit {MAX_KEYED_EXTREME_SHARE:.0%}): {', '.join(keyed)}")
        tested = {q.snippet_id for q in lesson.questions}
        for snippet in lesson.snippets:
            if snippet.quiz and snippet.id not in tested:
                report.untested_snippets.append(snippet.id)
                warn(None, md, snippet.line or 1, "untested-snippet",
                     f"snippet {snippet.id} has no question: add one, or mark it in the quiz "
                     "file with [[snippet]] quiz = false and a reason")
        if not figures.numeric:
            report.lessons_without_numeric.append(lesson.id)
        if not figures.reasoning:
            report.lessons_without_reasoning.append(lesson.id)
            warn(None, quiz, 1, "no-reasoning-question",
                 f"lesson {lesson.id} has no numeric question and no style = \"scenario\" or "
                 "\"calculation\" question")

    where = display_path(root, root)
    total = report.course
    for rule, keyed in (("keyed-longest", total.keyed_longest),
                        ("keyed-shortest", total.keyed_shortest)):
        if total.single and len(keyed) / total.single > MAX_KEYED_EXTREME_SHARE:
            warn(None, where, 1, rule,
                 f"across the course {len(keyed)} of {total.single} single-choice questions key "
                 f"the strictly {rule.removeprefix('keyed-')} choice "
                 f"({len(keyed) / total.single:.0%}, limit {MAX_KEYED_EXTREME_SHARE:.0%})")
    low, high = TRUE_SHARE_RANGE
    if total.true_false and not low <= total.true_share() <= high:
        warn(None, where, 1, "true-false-balance",
             f"across the course {total.true_count} of {total.true_false} true/false statements "
             f"are true ({total.true_share():.0%}; keep it within {low:.0%}-{high:.0%})")
    _duplicates(course, shown, report, warn)
    _throwaways(course, shown, warn)
    return report


def _count(figures: LessonFigures, question: Question) -> None:
    figures.questions += 1
    if question.kind is QuestionKind.SINGLE:
        figures.single += 1
        longest, shortest = _extremes(question)
        if longest:
            figures.keyed_longest.append(question.id)
        if shortest:
            figures.keyed_shortest.append(question.id)
    elif question.kind is QuestionKind.TRUE_FALSE:
        figures.true_false += 1
        figures.true_count += question.answer_choice == "true"
    if question.kind is QuestionKind.NUMERIC:
        figures.numeric += 1
    if question.kind is QuestionKind.NUMERIC or question.style in REASONING_STYLES:
        figures.reasoning += 1


def _duplicates(course: Course, shown: dict[str, tuple[str, str]], report: LintReport,
                warn: Callable[[Question | None, str, int, str, str], None]) -> None:
    questions = list(course.questions.values())
    words = [content_tokens(q.prompt) for q in questions]
    for j, later in enumerate(questions):
        for i in range(j):
            earlier = questions[i]
            score = jaccard(words[i], words[j])
            if score < DUPLICATE_JACCARD:
                continue
            report.duplicate_pairs += 1
            if "duplicate-stem" in earlier.lint_ignore:
                continue
            warn(later, shown[later.lesson_id][1], later.line, "duplicate-stem",
                 f"{later.id} asks nearly what {earlier.id} asks "
                 f"({shown[earlier.lesson_id][1]}:{earlier.line}; word overlap {score:.2f})")


def _throwaways(course: Course, shown: dict[str, tuple[str, str]],
                warn: Callable[[Question | None, str, int, str, str], None]) -> None:
    first_seen: dict[str, Question] = {}
    for question in course.questions.values():
        if question.kind is not QuestionKind.SINGLE:
            continue
        for choice in question.choices:
            if choice.id == question.answer_choice:
                continue
            where = shown[question.lesson_id][1]
            if _OF_THE_ABOVE_RE.search(choice.text):
                warn(question, where, question.line, "throwaway-choice",
                     f"{question.id}: choice {choice.text!r} means nothing when choices are "
                     "shuffled")
                continue
            key = _normal(choice.text)
            if key in first_seen and first_seen[key].id != question.id:
                other = first_seen[key]
                warn(question, where, question.line, "throwaway-choice",
                     f"{question.id}: distractor {choice.text!r} is also a distractor of "
                     f"{other.id}")
            else:
                first_seen.setdefault(key, question)
