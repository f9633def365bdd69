"""Answer-type matching: a question asking for a number, a year, a name or a term prefers the
sentences that hold one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.loader import load_course
from bot.qa.local import answer_locally, answer_types, sentence_types
from bot.qa.retrieval import Retriever

# One passage of six sentences: only three can be quoted, and the one with the figure is not the
# closest to the question in wording.
CONTEXT_LESSON = """\
---
id: ctx
title: Context windows
summary: How much text a model reads at once.
topics: [context-window]
---

## The context window {#ctx.window}

The context window is how much text a language model can read at once. A longer window lets the
model keep a whole document in view while it writes. Text that falls outside the window is simply
not seen by the model. Early GPT models could read 2,048 tokens at a time. Newer models read far
more text than that, so they can follow long conversations. Long windows also make it possible to
summarise whole reports in one go.

## Training data {#ctx.data}

Language models learn from large collections of text gathered from books and the web. The text is
cleaned before training so that duplicates and spam are removed.
"""


@pytest.fixture(scope="module")
def context_retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    """A one-lesson course about context windows, indexed once."""
    lessons = tmp_path_factory.mktemp("ctx-lessons")
    (lessons / "01-context.md").write_text(CONTEXT_LESSON)
    return Retriever.load(load_course(Path(lessons)), tmp_path_factory.mktemp("ctx-cache"))


def test_a_how_long_question_quotes_the_sentence_with_the_number(
    context_retriever: Retriever,
) -> None:
    """Of six sentences on the topic, the one stating the figure is among those quoted.

    (Without the answer-type bonus the three closest sentences in meaning are quoted instead.)
    """
    question = "how long a text can a model read at once"
    answer = answer_locally(question, context_retriever.search(question))
    assert answer.supported, answer.text
    assert "2,048 tokens" in answer.text
    assert answer.citations[0].id == "ctx.window"


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("how many parameters did gpt-3 have?", {"number"}),
        ("What percentage of questions does random guessing get right?", {"number"}),
        ("when was the transformer introduced", {"year"}),
        ("In what year did GPT-2 come out?", {"year"}),
        ("who invented GANs?", {"name"}),
        ("which company makes Claude", {"name"}),
        ("what does GPT stand for", {"term"}),
        ("what do u call a model before fine-tuning", {"term"}),
        ("whats that trick where humans rate the replies", {"term"}),
        ("what is a token?", set()),
        ("why do models hallucinate", set()),
        ("what happens when the prompt is too long", set()),  # "when" inside, not a date
    ],
)
def test_answer_types_of_questions(question: str, kinds: set[str]) -> None:
    """Only questions that ask for a figure, a date, a name or a term get a type."""
    assert answer_types(question) == kinds


@pytest.mark.parametrize(
    ("sentence", "kind", "holds"),
    [
        ("GPT-3 has about 175 billion parameters.", "number", True),
        ("Most models today go beyond half a trillion parameters.", "number", True),
        ("A parameter is a number the model learns.", "number", False),
        ("The transformer was introduced in 2017.", "year", True),
        ("It had about 117 million parameters.", "year", False),
        ("GANs were introduced by Ian Goodfellow and colleagues.", "name", True),
        ("Models learn from data.", "name", False),
        ("A further step is reinforcement learning from human feedback (RLHF).", "term", True),
        ("This is what is known as a foundation model.", "term", True),
        ("The model learns to predict the next word (roughly).", "term", False),
    ],
)
def test_sentence_types(sentence: str, kind: str, holds: bool) -> None:
    """A sentence holds a number, a year, a name or a defined term only when it really does."""
    assert (kind in sentence_types(sentence)) is holds
