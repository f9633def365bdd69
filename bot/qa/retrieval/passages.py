"""Passages: the pieces of the course that retrieval ranks and answers quote.

One passage per snippet; a snippet too long for the model is split at paragraph boundaries into
``snippet-id#1``, ``snippet-id#2``... (a lead-in stays with its list, and a list stays whole).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.content.model import Course, Lesson, Snippet
from bot.qa.embedder import Embedder
from bot.qa.retrieval.text import ends_with_lead_in, is_list, paragraphs, plain_text

#: Passages longer than this many word-piece tokens (title included) are split, so that the
#: model (which reads at most 256) sees all of a passage and each vector stays focused.
MAX_PASSAGE_TOKENS = 200


@dataclass(frozen=True)
class Passage:
    """A piece of the course that can be retrieved and quoted."""

    id: str  # unique; the snippet id, or "snippet-id#2" for a part of a long snippet
    snippet_id: str
    lesson_id: str
    lesson_number: int
    lesson_title: str
    title: str  # the snippet's title
    text: str  # Markdown, as written by the course author

    @property
    def citation(self) -> str:
        """How answers cite it: ``Lesson 7 - Pre-training`` (the same as ``Lesson.label``)."""
        return f"Lesson {self.lesson_number} - {self.lesson_title}"


def _passages_of(lesson: Lesson, snippet: Snippet, embedder: Embedder) -> list[Passage]:
    def make(pid: str, text: str) -> Passage:
        return Passage(
            id=pid,
            snippet_id=snippet.id,
            lesson_id=lesson.id,
            lesson_number=lesson.number,
            lesson_title=lesson.title,
            title=snippet.title,
            text=text,
        )

    whole = make(snippet.id, snippet.body)
    if embedder.count_tokens(embedding_text(whole)) <= MAX_PASSAGE_TOKENS:
        return [whole]
    # Pack whole paragraphs greedily, so each part reads well on its own.
    parts: list[str] = []
    for paragraph in paragraphs(snippet.body):
        candidate = f"{parts[-1]}\n\n{paragraph}" if parts else paragraph
        probe = make(snippet.id, candidate)
        # A lead-in ("Four habits:") stays with what it introduces, and a list stays whole.
        joined = bool(parts) and (
            ends_with_lead_in(parts[-1]) or (is_list(parts[-1]) and is_list(paragraph))
        )
        if joined or (
            parts and embedder.count_tokens(embedding_text(probe)) <= MAX_PASSAGE_TOKENS
        ):
            parts[-1] = candidate
        else:
            parts.append(paragraph)
    if len(parts) == 1:
        return [whole]
    return [make(f"{snippet.id}#{i}", text) for i, text in enumerate(parts, start=1)]


def build_passages(course: Course, embedder: Embedder) -> list[Passage]:
    """Every passage of the course, in course order."""
    return [
        passage
        for lesson in course.lessons
        for snippet in lesson.snippets
        for passage in _passages_of(lesson, snippet, embedder)
    ]


def embedding_text(passage: Passage) -> str:
    """What is embedded for ``passage``: its title, then its text as plain prose."""
    # The titles add what a passage is about even when its text never says it in so many words.
    return f"{passage.title}. {plain_text(passage.text)}"


def bm25_text(passage: Passage) -> str:
    """What BM25 and the course vocabulary read of ``passage``: its title and plain text."""
    return f"{passage.title}. {plain_text(passage.text)}"
