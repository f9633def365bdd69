"""Retrieval over the fixture course: passages, the vector cache, and ranking."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.content.loader import load_course
from bot.content.model import Course
from bot.qa.embedder import Embedder
from bot.qa.retrieval import (
    CACHE_PREFIX,
    Retriever,
    candidate_sentences,
    split_sentences,
)

FIXTURE_LESSONS = Path(__file__).resolve().parent.parent / "fixtures" / "lessons"


def test_passages_carry_their_lesson(retriever: Retriever, course: Course) -> None:
    """One passage per (short) snippet, cited the way the course labels its lessons."""
    assert {p.snippet_id for p in retriever.passages} == set(course.snippets)
    passage = next(p for p in retriever.passages if p.id == "fx-nn.count")
    lesson = course.lesson("fx-nn")
    assert lesson is not None
    assert passage.citation == lesson.label == "Lesson 2 - Counting parameters"
    assert passage.lesson_number == 2 and passage.title == "Counting a layer"


@pytest.mark.parametrize(
    ("question", "lesson"),
    [
        ("How many parameters does a layer with 3 inputs and 5 outputs have?", "fx-nn"),
        ("what is a bias in a neuron", "fx-nn"),
        ("Is a spam filter generative or discriminative?", "fx-genai"),
        ("how does a model make brand new examples that look like its training data", "fx-genai"),
    ],
)
def test_finds_the_right_lesson(retriever: Retriever, question: str, lesson: str) -> None:
    """The best passage comes from the lesson that answers the question, in every mode."""
    for mode in ("fused", "bm25", "dense"):
        hits = retriever.search(question, k=3, mode=mode)
        assert hits[0].passage.lesson_id == lesson, (mode, [h.passage.id for h in hits])


def test_hits_are_ranked_and_scored(retriever: Retriever) -> None:
    """Hits come best first, with the cosine and BM25 of each; k bounds their number."""
    hits = retriever.search("weights and biases of a connection", k=4)
    assert len(hits) == 4
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].passage.id == "fx-nn.weights"
    assert hits[0].bm25 > 0 and 0 < hits[0].cosine <= 1
    assert retriever.search("weights", k=0) == []
    # A query with no word of the course still ranks by meaning, with BM25 at zero.
    assert all(h.bm25 == 0 for h in retriever.search("zzzz qqqq", k=2))


def test_second_load_reuses_the_cache(course: Course, tmp_path: Path) -> None:
    """The first load embeds the course and writes the cache; the second embeds nothing."""
    embedder = Embedder.shared()
    before = embedder.texts_embedded
    first = Retriever.load(course, tmp_path)
    embedded = embedder.texts_embedded - before
    assert not first.from_cache and embedded >= len(first.passages)
    assert len(list(tmp_path.glob(f"{CACHE_PREFIX}*.npz"))) == 1

    second = Retriever.load(course, tmp_path)
    assert second.from_cache
    assert embedder.texts_embedded == before + embedded  # nothing run through the model
    question = "how many parameters in all"
    assert [h.passage.id for h in second.search(question)] == [
        h.passage.id for h in first.search(question)
    ]


def test_changed_course_rebuilds_the_cache(tmp_path: Path) -> None:
    """Editing a snippet gives a new key: the vectors are rebuilt and the old file removed."""
    lessons = tmp_path / "lessons"
    shutil.copytree(FIXTURE_LESSONS, lessons)
    cache = tmp_path / "cache"
    Retriever.load(load_course(lessons), cache)
    old_files = set(cache.glob(f"{CACHE_PREFIX}*.npz"))

    page = lessons / "02-neural-networks.md"
    page.write_text(
        page.read_text().replace("54 parameters in all.", "54 parameters in all. Tiny!")
    )
    embedder = Embedder.shared()
    before = embedder.texts_embedded
    rebuilt = Retriever.load(load_course(lessons), cache)
    assert not rebuilt.from_cache and embedder.texts_embedded > before
    new_files = set(cache.glob(f"{CACHE_PREFIX}*.npz"))
    assert len(new_files) == 1 and not (new_files & old_files)


def test_a_damaged_cache_is_rebuilt(course: Course, tmp_path: Path) -> None:
    """A cache file that cannot be read is not trusted: the course is embedded again."""
    Retriever.load(course, tmp_path)
    (path,) = tmp_path.glob(f"{CACHE_PREFIX}*.npz")
    path.write_bytes(b"not an npz file")
    again = Retriever.load(course, tmp_path)
    assert not again.from_cache
    assert again.search("bias")[0].passage.lesson_id == "fx-nn"


def test_long_snippets_are_split_into_numbered_passages(tmp_path: Path) -> None:
    """A snippet longer than the model reads becomes passages ``id#1``, ``id#2``, in order."""
    lessons = tmp_path / "lessons"
    shutil.copytree(FIXTURE_LESSONS, lessons)
    paragraph = (
        "Attention lets every token weigh every other token when it updates its meaning, "
        "and several heads do this in parallel with their own learned weights. "
    )
    code = "```python\nheads = 8\n\nwidth = 512 // heads\n```"  # a blank line inside
    long_body = "\n\n".join(
        [f"Paragraph {i}. " + (paragraph * 2).strip() for i in range(1, 3)]
        + [code]
        + [f"Paragraph {i}. " + (paragraph * 2).strip() for i in range(3, 5)]
    )
    page = lessons / "01-generative-ai.md"
    page.write_text(page.read_text() + f"\n## A long snippet {{#fx-genai.long}}\n\n{long_body}\n")
    course = load_course(lessons)
    retriever = Retriever.load(course, tmp_path / "cache")
    parts = [p for p in retriever.passages if p.snippet_id == "fx-genai.long"]
    assert len(parts) >= 2
    assert [p.id for p in parts] == [f"fx-genai.long#{i}" for i in range(1, len(parts) + 1)]
    assert "\n\n".join(p.text for p in parts) == course.snippets["fx-genai.long"].body
    assert all(p.text.count("```") % 2 == 0 for p in parts)  # a code block is never cut


def test_sentences_skip_code_and_keep_abbreviations() -> None:
    """Quotable sentences: no code, tables or bold labels; "e.g." and decimals end nothing."""
    markdown = (
        "Models such as GPT-3.5 use **tokens**, e.g. pieces of words. They count them:\n\n"
        "```python\nprint('Not. A. Sentence.')\n```\n\n"
        "- A *list item* is quoted on its own.\n\n"
        "**Mixtral 8x7B** (a label, not a sentence)\n\n"
        "| a | table |\n|---|---|\n| is | skipped |\n"
    )
    sentences = candidate_sentences(markdown)
    texts = [s.text for s in sentences]
    assert texts == [
        "Models such as GPT-3.5 use tokens, e.g. pieces of words.",
        "They count them:",
        "A list item is quoted on its own.",
    ]
    assert sentences[0].emphasis == ("tokens",) and sentences[1].lead_in and sentences[2].item
    assert split_sentences("It works. Really? Yes!") == ["It works.", "Really?", "Yes!"]
