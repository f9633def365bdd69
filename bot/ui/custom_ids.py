"""Custom ids of the bot's buttons and modals: everything a click needs, in 100 characters.

A button carries its whole state, so it keeps working after a restart (and in another process):
the handler registered for its pattern rebuilds what it needs from the id alone. The scheme is
``tb1:<kind>:<part>:<part>...``; ``tb1`` is the scheme's version, bumped if a kind's parts ever
change meaning, so an old button is recognised and refused politely instead of misread.

Discord and database ids (64-bit integers) are written in base 36 (at most 13 characters);
course ids are written as they are (lowercase letters, digits, ``.``, ``-``, ``_``, no ``:``).
The longest id, a quiz answer with the longest possible ids, is exactly 100 characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from bot.ui.limits import CUSTOM_ID_MAX

VERSION = "tb1"
#: Any custom id of ours, of any version: used to recognise stale buttons of older schemes.
OURS_RE = re.compile(r"^tb\d+:")

_INT = r"[0-9a-z]{1,13}"  # a non-negative 64-bit integer in base 36
_ID = r"[a-z0-9][a-z0-9._-]{0,47}"  # a lesson, snippet or question id (<= 48 characters)
_CHOICE = r"[a-z0-9][a-z0-9._-]{0,15}"  # a choice id (<= 16 characters)
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_MAX_INT = 2**64 - 1  # Discord ids are unsigned 64-bit
MAX_ROW_ID = 2**63 - 1  # database keys are signed 64-bit
ALL_LESSONS = "*"


def to_base36(number: int) -> str:
    """``number`` (0 to 2**64-1) in lowercase base 36."""
    if not 0 <= number <= _MAX_INT:
        raise ValueError(f"{number} is not a 64-bit unsigned integer")
    if number == 0:
        return "0"
    out = []
    while number:
        number, digit = divmod(number, 36)
        out.append(_DIGITS[digit])
    return "".join(reversed(out))


def from_base36(text: str, limit: int = _MAX_INT) -> int:
    """The integer written in base 36 by :func:`to_base36`; :class:`ValueError` above ``limit``."""
    number = int(text, 36)
    if number > limit:
        raise ValueError(f"{text!r} is out of range")
    return number


class CustomId:
    """Base of every custom id kind: a frozen dataclass with an ``encode``/``parse`` pair."""

    kind: ClassVar[str]
    #: The full regular expression of this kind, with one named group per part.
    pattern: ClassVar[str]

    def parts(self) -> tuple[str, ...]:
        """The parts after ``tb1:<kind>:``, already encoded."""
        raise NotImplementedError

    @classmethod
    def from_match(cls, match: re.Match[str]) -> CustomId:
        """Rebuild the value from a match of :attr:`pattern`."""
        raise NotImplementedError

    def encode(self) -> str:
        """The custom id; :class:`ValueError` if it would break the scheme or Discord's limit."""
        text = ":".join((VERSION, self.kind, *self.parts()))
        match = re.fullmatch(self.pattern, text)
        if match is None or len(text) > CUSTOM_ID_MAX:
            raise ValueError(f"cannot encode {self!r} as a custom id ({text!r})")
        return text

    def __str__(self) -> str:
        return self.encode()


def _pattern(kind: str, *parts: str) -> str:
    return ":".join((VERSION, kind, *parts))


@dataclass(frozen=True)
class PageStep(CustomId):
    """Previous / Next on a lesson page: move ``offset`` snippets from the one shown."""

    kind: ClassVar[str] = "pg"
    pattern: ClassVar[str] = _pattern(
        "pg", f"(?P<learner>{_INT})", f"(?P<snippet>{_ID})", "(?P<offset>-1|1)"
    )
    learner_id: int
    snippet_id: str
    offset: int

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (to_base36(self.learner_id), self.snippet_id, str(self.offset))

    @classmethod
    def from_match(cls, match: re.Match[str]) -> PageStep:
        """Rebuild the value from a match of :attr:`pattern`."""
        return cls(from_base36(match["learner"]), match["snippet"], int(match["offset"]))


@dataclass(frozen=True)
class MarkDone(CustomId):
    """Mark done on a lesson page: finish the lesson of the snippet shown."""

    kind: ClassVar[str] = "dn"
    pattern: ClassVar[str] = _pattern("dn", f"(?P<learner>{_INT})", f"(?P<snippet>{_ID})")
    learner_id: int
    snippet_id: str

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (to_base36(self.learner_id), self.snippet_id)

    @classmethod
    def from_match(cls, match: re.Match[str]) -> MarkDone:
        """Rebuild the value from a match of :attr:`pattern`."""
        return cls(from_base36(match["learner"]), match["snippet"])


@dataclass(frozen=True)
class OpenSnippet(CustomId):
    """Open a lesson page at a snippet, for whoever clicks (``Read this part`` after a quiz)."""

    kind: ClassVar[str] = "rd"
    pattern: ClassVar[str] = _pattern("rd", f"(?P<snippet>{_ID})")
    snippet_id: str

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (self.snippet_id,)

    @classmethod
    def from_match(cls, match: re.Match[str]) -> OpenSnippet:
        """Rebuild the value from a match of :attr:`pattern`."""
        return cls(match["snippet"])


@dataclass(frozen=True)
class CoursePage(CustomId):
    """A page of the /course overview (long courses span several pages)."""

    kind: ClassVar[str] = "cp"
    pattern: ClassVar[str] = _pattern("cp", f"(?P<learner>{_INT})", r"(?P<page>\d{1,3})")
    learner_id: int
    page: int

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (to_base36(self.learner_id), str(self.page))

    @classmethod
    def from_match(cls, match: re.Match[str]) -> CoursePage:
        """Rebuild the value from a match of :attr:`pattern`."""
        return cls(from_base36(match["learner"]), int(match["page"]))


@dataclass(frozen=True)
class QuizMe(CustomId):
    """Start a quiz for whoever clicks: on one lesson, or on the whole course (``*``)."""

    kind: ClassVar[str] = "qm"
    pattern: ClassVar[str] = _pattern("qm", rf"(?P<lesson>{_ID}|\*)")
    lesson_id: str | None  # None: questions from the whole course

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (self.lesson_id or ALL_LESSONS,)

    @classmethod
    def from_match(cls, match: re.Match[str]) -> QuizMe:
        """Rebuild the value from a match of :attr:`pattern`."""
        lesson = match["lesson"]
        return cls(None if lesson == ALL_LESSONS else lesson)


@dataclass(frozen=True)
class Answer(CustomId):
    """A choice button of a quiz question."""

    kind: ClassVar[str] = "qa"
    pattern: ClassVar[str] = _pattern(
        "qa",
        f"(?P<learner>{_INT})",
        f"(?P<attempt>{_INT})",
        f"(?P<question>{_ID})",
        f"(?P<choice>{_CHOICE})",
    )
    learner_id: int
    attempt_id: int
    question_id: str
    choice_id: str

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (
            to_base36(self.learner_id),
            to_base36(self.attempt_id),
            self.question_id,
            self.choice_id,
        )

    @classmethod
    def from_match(cls, match: re.Match[str]) -> Answer:
        """Rebuild the value from a match of :attr:`pattern`."""
        return cls(
            from_base36(match["learner"]),
            from_base36(match["attempt"], MAX_ROW_ID),
            match["question"],
            match["choice"],
        )


@dataclass(frozen=True)
class AskNumber(CustomId):
    """The button of a numeric question: opens a modal to type the number."""

    kind: ClassVar[str] = "qn"
    pattern: ClassVar[str] = _pattern(
        "qn", f"(?P<learner>{_INT})", f"(?P<attempt>{_INT})", f"(?P<question>{_ID})"
    )
    learner_id: int
    attempt_id: int
    question_id: str

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (to_base36(self.learner_id), to_base36(self.attempt_id), self.question_id)

    @classmethod
    def from_match(cls, match: re.Match[str]) -> AskNumber:
        """Rebuild the value from a match of :attr:`pattern`."""
        return cls(
            from_base36(match["learner"]),
            from_base36(match["attempt"], MAX_ROW_ID),
            match["question"],
        )


@dataclass(frozen=True)
class NumberAnswer(CustomId):
    """The modal in which a learner types a numeric answer."""

    kind: ClassVar[str] = "qv"
    pattern: ClassVar[str] = _pattern(
        "qv", f"(?P<learner>{_INT})", f"(?P<attempt>{_INT})", f"(?P<question>{_ID})"
    )
    learner_id: int
    attempt_id: int
    question_id: str

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (to_base36(self.learner_id), to_base36(self.attempt_id), self.question_id)

    @classmethod
    def from_match(cls, match: re.Match[str]) -> NumberAnswer:
        """Rebuild the value from a match of :attr:`pattern`."""
        return cls(
            from_base36(match["learner"]),
            from_base36(match["attempt"], MAX_ROW_ID),
            match["question"],
        )


@dataclass(frozen=True)
class RateAnswer(CustomId):
    """👍 (``1``) or 👎 (``-1``) under an /ask answer: the asker's rating of the logged answer."""

    kind: ClassVar[str] = "ar"
    pattern: ClassVar[str] = _pattern(
        "ar", f"(?P<asker>{_INT})", f"(?P<answer>{_INT})", "(?P<rating>-1|1)"
    )
    asker_id: int
    ask_log_id: int
    rating: int

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (to_base36(self.asker_id), to_base36(self.ask_log_id), str(self.rating))

    @classmethod
    def from_match(cls, match: re.Match[str]) -> RateAnswer:
        """Rebuild the value from a match of :attr:`pattern`."""
        return cls(
            from_base36(match["asker"]),
            from_base36(match["answer"], MAX_ROW_ID),
            int(match["rating"]),
        )


_REASON = r"[a-z_]{1,16}"


@dataclass(frozen=True)
class FeedbackForm(CustomId):
    """The /feedback modal: a rating and a comment on a lesson (``*``: the course)."""

    kind: ClassVar[str] = "ff"
    pattern: ClassVar[str] = _pattern("ff", rf"(?P<lesson>{_ID}|\*)")
    lesson_id: str | None

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (self.lesson_id or ALL_LESSONS,)

    @classmethod
    def from_match(cls, match: re.Match[str]) -> FeedbackForm:
        """Rebuild the value from a match of :attr:`pattern`."""
        lesson = match["lesson"]
        return cls(None if lesson == ALL_LESSONS else lesson)


@dataclass(frozen=True)
class ReportQuestion(CustomId):
    """"Report this question" under a verdict; ``attempt`` 0 when no attempt is involved."""

    kind: ClassVar[str] = "rq"
    pattern: ClassVar[str] = _pattern("rq", f"(?P<attempt>{_INT})", f"(?P<question>{_ID})")
    attempt_id: int
    question_id: str

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (to_base36(self.attempt_id), self.question_id)

    @classmethod
    def from_match(cls, match: re.Match[str]) -> ReportQuestion:
        """Rebuild the value from a match of :attr:`pattern`."""
        return cls(from_base36(match["attempt"], MAX_ROW_ID), match["question"])


@dataclass(frozen=True)
class ReportReason(CustomId):
    """A reason button of a report (opens the comment modal); also the modal's own id."""

    kind: ClassVar[str] = "rr"
    pattern: ClassVar[str] = _pattern(
        "rr", f"(?P<attempt>{_INT})", f"(?P<question>{_ID})", f"(?P<reason>{_REASON})"
    )
    attempt_id: int
    question_id: str
    reason: str

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (to_base36(self.attempt_id), self.question_id, self.reason)

    @classmethod
    def from_match(cls, match: re.Match[str]) -> ReportReason:
        """Rebuild the value from a match of :attr:`pattern`."""
        return cls(from_base36(match["attempt"], MAX_ROW_ID), match["question"], match["reason"])


@dataclass(frozen=True)
class ReportForm(ReportReason):
    """The comment modal of a question report (same parts as its reason button)."""

    kind: ClassVar[str] = "rf"
    pattern: ClassVar[str] = _pattern(
        "rf", f"(?P<attempt>{_INT})", f"(?P<question>{_ID})", f"(?P<reason>{_REASON})"
    )


@dataclass(frozen=True)
class TellWhy(CustomId):
    """"Tell us why" after a 👎 on an /ask answer; also the id of its comment modal (``form``)."""

    kind: ClassVar[str] = "tw"
    pattern: ClassVar[str] = _pattern("tw", f"(?P<answer>{_INT})", "(?P<form>[bm])")
    ask_log_id: int
    form: bool = False  # False: the button; True: the modal it opens

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (to_base36(self.ask_log_id), "m" if self.form else "b")

    @classmethod
    def from_match(cls, match: re.Match[str]) -> TellWhy:
        """Rebuild the value from a match of :attr:`pattern`."""
        return cls(from_base36(match["answer"], MAX_ROW_ID), match["form"] == "m")


@dataclass(frozen=True)
class FeedbackPageKey(CustomId):
    """A page of /maintain feedback list: the filters and the page (the clicker is re-checked)."""

    kind: ClassVar[str] = "mp"
    pattern: ClassVar[str] = _pattern(
        "mp", rf"(?P<lesson>{_ID}|\*)", r"(?P<fkind>[a-z]{1,10}|\*)",
        r"(?P<status>[a-z]{1,10}|\*)", r"(?P<page>\d{1,4})",
    )
    lesson_id: str | None
    feedback_kind: str | None
    status: str | None
    page: int

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (self.lesson_id or ALL_LESSONS, self.feedback_kind or ALL_LESSONS,
                self.status or ALL_LESSONS, str(self.page))

    @classmethod
    def from_match(cls, match: re.Match[str]) -> FeedbackPageKey:
        """Rebuild the value from a match of :attr:`pattern`."""
        def opt(value: str) -> str | None:
            return None if value == ALL_LESSONS else value

        return cls(opt(match["lesson"]), opt(match["fkind"]), opt(match["status"]),
                   int(match["page"]))


@dataclass(frozen=True)
class ForgetMe(CustomId):
    """The confirmation of /forget-me. It carries nothing: it always acts on whoever clicks."""

    kind: ClassVar[str] = "fg"
    pattern: ClassVar[str] = _pattern("fg", "(?P<confirm>y)")

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return ("y",)

    @classmethod
    def from_match(cls, match: re.Match[str]) -> ForgetMe:
        """Rebuild the value from a match of :attr:`pattern`."""
        return cls()


@dataclass(frozen=True)
class DailyChoice(CustomId):
    """A choice button of a posted daily quiz: anyone may answer, once.

    It carries the post (the claim) id, so the leader can recognise its own post in the
    channel's history after a crash; who may answer and whether the post is open come from the
    ``daily_post`` row, never from the id.
    """

    kind: ClassVar[str] = "dq"
    pattern: ClassVar[str] = _pattern("dq", f"(?P<post>{_INT})", f"(?P<choice>{_CHOICE})")
    post_id: int
    choice_id: str

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (to_base36(self.post_id), self.choice_id)

    @classmethod
    def from_match(cls, match: re.Match[str]) -> DailyChoice:
        """Rebuild the value from a match of :attr:`pattern`."""
        return cls(from_base36(match["post"], MAX_ROW_ID), match["choice"])


@dataclass(frozen=True)
class DailyClosed(CustomId):
    """The disabled "closed" button of a daily quiz that no longer takes answers."""

    kind: ClassVar[str] = "dx"
    pattern: ClassVar[str] = _pattern("dx", f"(?P<post>{_INT})")
    post_id: int

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (to_base36(self.post_id),)

    @classmethod
    def from_match(cls, match: re.Match[str]) -> DailyClosed:
        """Rebuild the value from a match of :attr:`pattern`."""
        return cls(from_base36(match["post"], MAX_ROW_ID))


@dataclass(frozen=True)
class ReminderAction(CustomId):
    """A button of a review reminder DM: review now, snooze 1 h, or turn reminders off.

    It names the learner it was sent to; the click is refused for anyone else, and what the
    action may do (snooze once a day, reminders on) comes from the ``reminder`` row.
    """

    kind: ClassVar[str] = "rm"
    pattern: ClassVar[str] = _pattern(
        "rm", f"(?P<learner>{_INT})", "(?P<action>review|snooze|off)"
    )
    learner_id: int
    action: str

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (to_base36(self.learner_id), self.action)

    @classmethod
    def from_match(cls, match: re.Match[str]) -> ReminderAction:
        """Rebuild the value from a match of :attr:`pattern`."""
        return cls(from_base36(match["learner"]), match["action"])


@dataclass(frozen=True)
class ReviewCardAction(CustomId):
    """"I know this" (``k``: suspend) or "Reset" (``r``) on a question of a review."""

    kind: ClassVar[str] = "rc"
    pattern: ClassVar[str] = _pattern(
        "rc", f"(?P<learner>{_INT})", f"(?P<attempt>{_INT})", f"(?P<question>{_ID})",
        "(?P<action>[kr])",
    )
    learner_id: int
    attempt_id: int
    question_id: str
    action: str  # 'k' suspend, 'r' reset

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (to_base36(self.learner_id), to_base36(self.attempt_id), self.question_id,
                self.action)

    @classmethod
    def from_match(cls, match: re.Match[str]) -> ReviewCardAction:
        """Rebuild the value from a match of :attr:`pattern`."""
        return cls(from_base36(match["learner"]), from_base36(match["attempt"], MAX_ROW_ID),
                   match["question"], match["action"])


@dataclass(frozen=True)
class StartReview(CustomId):
    """Start a review of up to ``count`` due questions, for whoever clicks (a reminder's too)."""

    kind: ClassVar[str] = "rs"
    pattern: ClassVar[str] = _pattern("rs", r"(?P<count>[1-9]\d?)")
    count: int

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (str(self.count),)

    @classmethod
    def from_match(cls, match: re.Match[str]) -> StartReview:
        """Rebuild the value from a match of :attr:`pattern`."""
        return cls(int(match["count"]))


@dataclass(frozen=True)
class NewQuestions(CustomId):
    """A quiz of ``count`` questions the clicker has never answered."""

    kind: ClassVar[str] = "nq"
    pattern: ClassVar[str] = _pattern("nq", r"(?P<count>[1-9]\d?)")
    count: int

    def parts(self) -> tuple[str, ...]:
        """The fields after the kind, as they appear in the id."""
        return (str(self.count),)

    @classmethod
    def from_match(cls, match: re.Match[str]) -> NewQuestions:
        """Rebuild the value from a match of :attr:`pattern`."""
        return cls(int(match["count"]))


KINDS: tuple[type[CustomId], ...] = (
    PageStep,
    MarkDone,
    OpenSnippet,
    CoursePage,
    QuizMe,
    Answer,
    AskNumber,
    NumberAnswer,
    RateAnswer,
    FeedbackForm,
    ReportQuestion,
    ReportReason,
    ReportForm,
    TellWhy,
    FeedbackPageKey,
    ForgetMe,
    DailyChoice,
    DailyClosed,
    ReminderAction,
    ReviewCardAction,
    StartReview,
    NewQuestions,
)
_COMPILED = {cls.kind: (cls, re.compile(cls.pattern)) for cls in KINDS}


def _match(custom_id: str) -> tuple[type[CustomId], re.Match[str]] | None:
    if len(custom_id) > CUSTOM_ID_MAX:
        return None
    head = custom_id.split(":", 2)
    if len(head) < 3 or head[0] != VERSION or head[1] not in _COMPILED:
        return None
    cls, regex = _COMPILED[head[1]]
    match = regex.fullmatch(custom_id)
    return (cls, match) if match else None


def decode(custom_id: str) -> CustomId | None:
    """The value a custom id of the current scheme carries; ``None`` for anything else."""
    found = _match(custom_id)
    if found is None:
        return None
    cls, match = found
    try:
        return cls.from_match(match)
    except ValueError:  # well-formed but out of range: forged or corrupted
        return None


def parse_match(cls: type[CustomId], match: re.Match[str]) -> CustomId | None:
    """``cls.from_match(match)``, or ``None`` when a number in it is out of range."""
    try:
        return cls.from_match(match)
    except ValueError:
        return None


def has_handler(custom_id: str) -> bool:
    """Whether the id has the shape of a kind of the current scheme (a handler will take it)."""
    return _match(custom_id) is not None


def is_ours(custom_id: str) -> bool:
    """Whether a custom id was made by this bot (of any scheme version)."""
    return bool(OURS_RE.match(custom_id))
