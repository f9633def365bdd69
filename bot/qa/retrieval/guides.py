"""Guides: the course's own questions in a learner's voice, each pointing at its snippet.

A guide is one of a snippet's ``phrasings`` (written by the course authors), or the stem or the
explanation of a quiz question about the snippet. Retrieval fuses in the passages whose guides
are close to the question (gated, so a weak match never overrides a good passage), and a quiz
explanation matched closely enough is handed to the answerer to quote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.content.model import Course
from bot.qa.retrieval.passages import Passage
from bot.qa.retrieval.text import strip_inline

#: Only guides at least this close to the question count in the ranking.
GUIDE_MIN_COSINE = 0.65
#: A guide this close all but repeats the question: its passage gets a second, stronger vote.
STRONG_GUIDE_MIN_COSINE = 0.78
#: A quiz explanation matched at least this closely is handed to the answerer to quote.
EXPLANATION_MIN_COSINE = 0.62


@dataclass(frozen=True)
class Guide:
    """A text in a learner's voice that says what a snippet answers.

    One of the snippet's ``phrasings``, or the stem or the explanation of a quiz question about
    it. Guides are matched, never quoted, except a quiz explanation (``explanation``), which the
    course author wrote as a true statement. Stems are never quoted: a true/false stem may be
    false on purpose.
    """

    snippet_id: str
    text: str  # what is matched against the question
    explanation: str = ""  # the quotable explanation of the quiz question ("" for phrasings)


# An explanation that leans on the choices ("the other options...") says nothing on its own.
_LEANS_ON_CHOICES_RE = re.compile(
    r"\b(?:options?|choices?|distractors?)\b|\b(?:true|false)\b|\bthe statement\b"
    r"|\b(?:this|that|the) (?:answer|question)\b",
    re.IGNORECASE,
)


def quotable_explanation(explanation: str) -> str:
    """``explanation`` as plain text if it reads on its own, else ""."""
    text = strip_inline(explanation)
    if not text or _LEANS_ON_CHOICES_RE.search(text):
        return ""
    return text


def build_guides(course: Course) -> list[Guide]:
    """Every guide of the course, in course order."""
    guides: list[Guide] = []
    for lesson in course.lessons:
        for snippet in lesson.snippets:
            guides.extend(Guide(snippet.id, p) for p in snippet.phrasings if p.strip())
        for question in lesson.questions:
            explanation = quotable_explanation(question.explanation)
            guides.append(Guide(question.snippet_id, strip_inline(question.prompt), explanation))
            if question.explanation.strip():
                guides.append(Guide(question.snippet_id, strip_inline(question.explanation),
                                    explanation))
    return guides


def place_guides(
    guides: Sequence[Guide],
    guide_vectors: np.ndarray,
    passages: Sequence[Passage],
    passage_vectors: np.ndarray,
) -> np.ndarray:
    """For each guide, the passage it points at.

    The part of its snippet closest to it; -1 when the snippet has no passage (e.g. a question
    about a removed snippet).
    """
    parts: dict[str, list[int]] = {}
    for index, passage in enumerate(passages):
        parts.setdefault(passage.snippet_id, []).append(index)
    placed = np.full(len(guides), -1, dtype=np.int64)
    for g, guide in enumerate(guides):
        found = parts.get(guide.snippet_id, [])
        if len(found) == 1:
            placed[g] = found[0]
        elif found:
            scores = passage_vectors[found] @ guide_vectors[g]
            placed[g] = found[int(np.argmax(scores))]
    return placed


def match_guides(
    guides: Sequence[Guide],
    similarity: np.ndarray,
    guide_passage: np.ndarray,
    passage_count: int,
) -> tuple[np.ndarray, dict[int, str]]:
    """Per passage, the question's cosine with its closest guide; and the explanations to quote.

    ``similarity[g]`` is the question's cosine with guide ``g``, placed on passage
    ``guide_passage[g]`` (:func:`place_guides`). The explanations are, for each passage whose
    best quotable quiz explanation matches at least ``EXPLANATION_MIN_COSINE``, that explanation.
    """
    best = np.zeros(passage_count, dtype=np.float64)
    if not guides:
        return best, {}
    placed = guide_passage >= 0
    np.maximum.at(best, guide_passage[placed], similarity[placed])
    explanation: dict[int, tuple[float, str]] = {}
    for g in np.flatnonzero(similarity >= EXPLANATION_MIN_COSINE):
        guide, passage = guides[int(g)], int(guide_passage[g])
        if guide.explanation and passage >= 0 and (
            passage not in explanation or explanation[passage][0] < similarity[g]
        ):
            explanation[passage] = (float(similarity[g]), guide.explanation)
    return best, {p: text for p, (_, text) in explanation.items()}
