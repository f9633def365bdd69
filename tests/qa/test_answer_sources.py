"""Offline answers quote the lesson's own words once, and a long snippet counts as one source."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.model import Course, Lesson, Snippet
from bot.qa.local import _choose_sentences, answer_locally
from bot.qa.retrieval import Hit, Passage, Retriever

FILLER_PARAGRAPH = (
    "Generating text is slow because a big model produces one token at a time, and every token "
    "needs a full pass through the whole network, which takes a while on any hardware. "
) * 3
DECODING = f"""{FILLER_PARAGRAPH}

Speculative decoding speeds this up with a small draft model that proposes the next tokens.

{FILLER_PARAGRAPH}

The big model checks the draft in one pass, so published results report speed-ups of around 2 to 3 times.
"""
OTHER = "Mixture of experts sends each token to a few experts, so compute per token stays small."


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    snippets = (
        Snippet("s.decoding", "s", "Speculative decoding", DECODING, 0),
        Snippet("s.moe", "s", "Mixture of experts", OTHER, 1),
    )
    course = Course((Lesson("s", 1, "Scale", "Scale.", (), snippets, ()),))
    return Retriever.load(course, tmp_path_factory.mktemp("sources"))


def _passage(retriever: Retriever, pid: str) -> Passage:
    return next(p for p in retriever.passages if p.id == pid)


def test_the_parts_of_one_long_snippet_are_quoted_as_one_source(retriever: Retriever) -> None:
    parts = [p.id for p in retriever.passages if p.snippet_id == "s.decoding"]
    assert len(parts) >= 2, "the snippet must be long enough to be split for the model"
    question = "how much faster is speculative decoding with a draft model"
    # The part that defines it ranks first, another snippet second, the part with the figure
    # third: the figure is still quoted, and under the same single citation.
    defining = next(pid for pid in parts if "draft model that proposes" in _passage(retriever, pid).text)
    figure = next(pid for pid in parts if "2 to 3 times" in _passage(retriever, pid).text)
    assert defining != figure
    hits = [
        Hit(_passage(retriever, defining), 1.0, 0.7, 6.0),
        Hit(_passage(retriever, "s.moe"), 0.9, 0.3, 1.0),
        Hit(_passage(retriever, figure), 0.8, 0.5, 4.0),
    ]
    answer = answer_locally(question, hits)
    assert answer.supported
    assert "2 to 3 times" in answer.text and "draft model that proposes" in answer.text
    assert [p.snippet_id for p in answer.citations] == ["s.decoding"]
    assert "[2]" not in answer.text
    # In the course's order inside the source: the definition before the figure.
    assert answer.text.index("draft model that proposes") < answer.text.index("2 to 3 times")


def test_an_explanation_the_lesson_repeats_gives_way_to_the_lesson_s_own_words(
    retriever: Retriever,
) -> None:
    moe = _passage(retriever, "s.moe")
    restated = "Each token goes to a few experts only, so the compute per token stays small."
    answer = answer_locally(
        "why is mixture of experts cheap to run", [Hit(moe, 1.0, 0.7, 5.0, explanation=restated)]
    )
    assert answer.supported
    assert OTHER in answer.text  # the lesson's sentence, verbatim
    assert restated not in answer.text  # not said twice in other words
    # An explanation that adds something the quoted sentences do not say is kept, first.
    adds = "Routers are trained together with the experts during pre-training runs."
    kept = answer_locally(
        "why is mixture of experts cheap to run", [Hit(moe, 1.0, 0.7, 5.0, explanation=adds)]
    )
    assert kept.text.startswith(adds)


def test_sentences_that_repeat_each_other_are_quoted_once(tmp_path: Path) -> None:
    twice = (
        "A reward model scores answers the way people would. "
        "In short, the reward model scores the answers the way people would score them. "
        "The LLM is then trained to earn high scores."
    )
    snippet = Snippet("r.rlhf", "r", "RLHF", twice, 0)
    retriever = Retriever.load(Course((Lesson("r", 1, "R", "R.", (), (snippet,), ()),)), tmp_path)
    answer = answer_locally("what does the reward model do", [Hit(retriever.passages[0], 1.0, 0.7, 5.0)])
    assert answer.supported
    assert answer.text.count("the way people would") == 1
    assert "earn high scores" in answer.text


def test_a_question_the_lesson_asks_itself_comes_with_its_answer(tmp_path: Path) -> None:
    text = (
        "Tokenization breaks text into tokens, whole words or pieces of words. "
        "Why not just use whole words? "
        "Sub-words keep the vocabulary manageable while still covering rare words and typos. "
        "Anything can be spelled out from smaller pieces.\n\n"
        "Different models use different tokenizers. What about emoji?"
    )
    snippet = Snippet("t.split", "t", "Tokenization", text, 0)
    retriever = Retriever.load(Course((Lesson("t", 1, "T", "T.", (), (snippet,), ()),)), tmp_path)
    hits = [Hit(retriever.passages[0], 1.0, 0.7, 5.0)]
    # Room for one sentence only: the question that matches best still brings its answer.
    chosen = [q.sentence.text for q in _choose_sentences("why not just use whole words", hits, 40)]
    assert chosen[:2] == [
        "Why not just use whole words?",
        "Sub-words keep the vocabulary manageable while still covering rare words and typos.",
    ]
    # A question with no answer after it in its paragraph is not quoted at all.
    chosen = [q.sentence.text for q in _choose_sentences("what about emoji", hits, 40)]
    assert chosen and "What about emoji?" not in chosen
