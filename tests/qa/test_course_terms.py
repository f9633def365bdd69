"""Rare course terms and definition questions: an acronym the course teaches is answered from
the passage that holds it, a "what is X" question quotes the sentence that defines X, and a
question that merely shares a word with the course is still declined."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.content.loader import load_course
from bot.qa.local import answer_locally, is_supported
from bot.qa.retrieval import Retriever, defines, definition_subject

# Several passages on fine-tuning and chat models; only one holds the acronym "RLHF" (and its
# spelled-out name), the context-window passage states the definition once among sentences
# that are closer in wording to "windows", and "Berlin" occurs once, in an example.
TERMS_LESSON = """\
---
id: terms
title: Tuning chat models
summary: How chat models are tuned, and how much they read.
topics: [tuning]
---

## Learning from people {#terms.feedback}

Supervised examples only go so far, because many good answers are easier to recognise than to
write. So a further step is widely used: **reinforcement learning from human feedback (RLHF)**.
People compare two replies and pick the better one. A reward model learns their taste, and the
chat model is trained to please it.

## Instruction tuning {#terms.instructions}

A base model is trained further on pairs of instructions and good replies. After this step it
follows requests instead of just continuing the text. The pairs are written by people or
collected from earlier conversations.

## Working memory {#terms.window}

Windows keep growing with every new model generation. A bigger window costs more memory and
more time for every reply. The amount of text a model can consider in one go is its **context
window**. Old messages that fall outside the window are forgotten. Long windows let a model
read whole books.

## Everyday uses {#terms.uses}

Chat models answer questions such as "When did the Berlin Wall fall?" with a direct answer.
They also summarise long reports and draft emails. Many people use them every day at work.

## Safety {#terms.safety}

Chat models are tuned to refuse harmful requests. Testers try to make them misbehave before
release, and the findings shape the next round of tuning.
"""


@pytest.fixture(scope="module")
def terms_retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    """A one-lesson course about tuning chat models, indexed once."""
    lessons = tmp_path_factory.mktemp("terms-lessons")
    (lessons / "01-terms.md").write_text(TERMS_LESSON)
    return Retriever.load(load_course(Path(lessons)), tmp_path_factory.mktemp("terms-cache"))


@pytest.mark.parametrize("question", ["what does RLHF stand for", "whats rlhf"])
def test_an_acronym_question_is_answered_from_the_passage_holding_it(
    terms_retriever: Retriever, question: str
) -> None:
    """The acronym is a rare course term: the passage holding it ranks first and is quoted,
    with the sentence that spells it out."""
    hits = terms_retriever.search(question)
    assert hits[0].passage.id == "terms.feedback"
    assert hits[0].terms == ("rlhf",)
    answer = answer_locally(question, hits)
    assert answer.supported, answer.text
    assert "reinforcement learning from human feedback (RLHF)" in answer.text
    assert answer.citations[0].id == "terms.feedback"


def test_the_rare_term_is_what_makes_the_course_cover_it(terms_retriever: Retriever) -> None:
    """Without the rare-term evidence the same hits do not pass the support rule (the sentence
    embedding barely knows the acronym), with it they do."""
    question = "what does RLHF stand for"
    hits = terms_retriever.search(question)
    assert is_supported(hits)
    assert not is_supported([replace(h, terms=()) for h in hits])


def test_a_definition_question_quotes_the_defining_sentence(terms_retriever: Retriever) -> None:
    """Of five sentences about windows, the one saying what a context window is gets quoted."""
    question = "what is a context window?"
    answer = answer_locally(question, terms_retriever.search(question))
    assert answer.supported, answer.text
    assert "The amount of text a model can consider in one go is its context window." in (
        answer.text
    )


@pytest.mark.parametrize(
    "question",
    ["what's the weather like in Berlin tomorrow", "how do i get to berlin by train"],
)
def test_an_off_topic_question_sharing_a_course_word_is_declined(
    terms_retriever: Retriever, question: str
) -> None:
    """The word "Berlin" is rare in the course, but the course says nothing about the rest of the
    question: no rare-term support, and the answer declines."""
    assert terms_retriever.course_terms(question) == {}
    hits = terms_retriever.search(question)
    assert all(h.terms == () for h in hits)
    answer = answer_locally(question, hits)
    assert not answer.supported and answer.citations == ()


def test_common_words_are_not_course_terms(terms_retriever: Retriever) -> None:
    """Only words the course spells like an acronym or a model name count."""
    assert terms_retriever.course_terms("what is a reward model") == {}
    assert set(terms_retriever.course_terms("how is RLHF trained")) == {"rlhf"}


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("what is a transformer?", ("transform",)),
        ("What's MMLU", ("mmlu",)),
        ("whats a context window in an llm", ("context", "window")),
        ("what does RLHF stand for", ("rlhf",)),
        ("define perplexity", ("perplex",)),
        ("explain tokenization", ("token",)),
        ("what does hallucination mean?", ("hallucin",)),
        ("what is LAION-5B", ("laion-5b",)),
        ("who invented GANs", ()),
        ("how many subjects are in MMLU", ()),
        ("whats the diff between zero shot and few shot prompting", ()),
    ],
)
def test_definition_subject(question: str, subject: tuple[str, ...]) -> None:
    """Definition questions name their subject (stemmed); other questions have none."""
    assert definition_subject(question) == subject


@pytest.mark.parametrize(
    ("sentence", "subject", "previous", "holds"),
    [
        ("A transformer is built from many blocks.", ("transform",), "", True),
        ("Tokenization means breaking text into tokens.", ("token",), "", True),
        ("So a step is used: reinforcement learning from feedback (RLHF).", ("rlhf",), "", True),
        ("Perplexity (PPL) turns the NLL into a number.", ("perplex",), "", True),
        ("It uses LAION-5B, a public dataset of images.", ("laion-5b",), "", True),
        ("This is what is known as a foundation model.", ("foundat", "model"), "", True),
        ("They stand for Generative Pre-trained Transformer.", ("gpt",), "The letters GPT.", True),
        ("They stand for something else.", ("gpt",), "Models learn.", False),
        ("Windows keep growing every year.", ("context", "window"), "", False),
        ("Layer normalization helps a transformer train.", ("transform",), "", False),
    ],
)
def test_defines(sentence: str, subject: tuple[str, ...], previous: str, holds: bool) -> None:
    """The defining patterns: "X is/means", "(X)", "X (...)", "X, a ...", "known as X", "They
    stand for" after a sentence naming X; a mere mention is not a definition."""
    assert defines(sentence, subject, previous) is holds
