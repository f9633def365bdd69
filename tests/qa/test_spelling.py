"""Learners' spellings: short forms spelt out and typos of course words corrected, never more."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.content.model import Course, Lesson, Snippet
from bot.qa.local import answer_locally
from bot.qa.retrieval import Retriever
from bot.qa.retrieval.spelling import Speller, edit_distance, expand_short_forms
from bot.qa.retrieval.words import FILLER

COURSE_TEXT = [
    "Models hallucinate: they state false things with confidence.",
    "A model has parameters, learned numbers, and a vocabulary of tokens.",
    "The difference between a tokenizer and an embedding.",
    "A transformer is built from blocks.",
]
#: Stands in for the embedding model's vocabulary of whole words.
COMMON = {"cooking", "looking", "table", "cable", "layers", "model", "tokens"}


@pytest.fixture
def speller() -> Speller:
    return Speller(COURSE_TEXT, COMMON.__contains__)


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("why does it halucinate", "why does it hallucinate"),  # a letter missing
        ("how many paramters", "how many parameters"),
        ("whats the diffrence", "whats the difference"),
        ("tokeniser or tokenizer", "tokenizer or tokenizer"),  # British spelling: one edit
        ("what are params and vocab", "what are parameters and vocabulary"),  # short forms
        ("the OG transformer", "the original transformer"),
        ("wat is a transfomer", "what is a transformer"),  # a chat spelling and a typo
    ],
)
def test_typos_of_course_words_and_short_forms_are_read_in_the_course_spelling(
    speller: Speller, typed: str, read: str
) -> None:
    assert speller.normalise(typed) == read


@pytest.mark.parametrize(
    "text",
    [
        "cooking rice",  # a real word one edit from a course word ("looking" is not in it)
        "the tabel of contents",  # a typo, but of no course word
        "what is bleu",  # too short to correct: many words are one edit away
        "hallucinate with parameters",  # course words stay as they are
        "use paramsets and diffs",  # short forms only as whole words
    ],
)
def test_real_words_short_words_and_course_words_are_left_alone(
    speller: Speller, text: str
) -> None:
    assert speller.normalise(text) == text


def test_edit_distance_counts_a_swap_as_one_edit() -> None:
    assert edit_distance("form", "from") == 1
    assert edit_distance("parameters", "paramters") == 1
    assert edit_distance("abc", "xyzabc", limit=2) == 3  # past the limit
    assert expand_short_forms("Params, vocab!") == "parameters, vocabulary!"


def test_a_question_with_a_typo_finds_and_quotes_its_passage(tmp_path: Path) -> None:
    snippets = (
        Snippet("c.hall", "c", "Hallucinations", COURSE_TEXT[0], 0),
        Snippet("c.params", "c", "Parameters", COURSE_TEXT[1], 1),
        Snippet("c.tok", "c", "Tokenizers", COURSE_TEXT[2], 2),
    )
    retriever = Retriever.load(Course((Lesson("c", 1, "C", "C.", (), snippets, ()),)), tmp_path)
    hits = retriever.search("why do models halucinate")
    assert hits[0].passage.snippet_id == "c.hall"
    assert hits[0].query == "why do models hallucinate"
    answer = answer_locally("why do models halucinate", hits)
    assert answer.supported and "hallucinate" in answer.text


def test_jargon_the_course_never_uses_is_unfamiliar_everyday_words_are_not(
    speller: Speller,
) -> None:
    """Unknown to the course and not a whole word of the model's vocabulary: jargon."""
    assert speller.unfamiliar("what do pooling layers do, and xgboost?", FILLER) == ("pooling", "xgboost")
    # Course words in any form, chat spellings, real words and "gpt's" are not.
    assert speller.unfamiliar("how does it hallucinate when cooking, wht about model's tokens", FILLER) == ()
    assert speller.unfamiliar("parameter's") == ()


def test_a_question_around_unfamiliar_jargon_is_declined_unless_a_passage_is_close(
    tmp_path: Path,
) -> None:
    snippets = (
        Snippet("c.hall", "c", "Hallucinations", COURSE_TEXT[0], 0),
        Snippet("c.params", "c", "Parameters", COURSE_TEXT[1], 1),
    )
    retriever = Retriever.load(Course((Lesson("c", 1, "C", "C.", (), snippets, ()),)), tmp_path)
    question = "how many parameters does a dropout layer switch off"
    hits = retriever.search(question)
    assert hits[0].unfamiliar == ("dropout",)
    assert hits[0].bm25 > 0  # "parameters" matches: only the jargon says it is off-course
    assert not answer_locally(question, hits).supported
    # The same question when a passage is very close to it is answered, and so is one that all
    # but repeats one of the course's own questions (the odd word is the learner's own).
    close = [replace(hit, cosine=0.8) for hit in hits]
    assert answer_locally(question, close).supported
    guided = [replace(hits[0], guide=0.7), *hits[1:]]
    assert answer_locally(question, guided).supported
