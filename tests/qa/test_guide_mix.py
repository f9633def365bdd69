"""A phrasing written for a passage counts in its dense score even below the guide gate."""

from __future__ import annotations

from pathlib import Path

from bot.content.model import Course, Lesson, Snippet
from bot.qa.retrieval import Retriever
from bot.qa.retrieval.guides import GUIDE_MIN_COSINE

TEMPERATURE = (
    "Sampling temperature scales the probabilities before a token is drawn. "
    "A higher temperature spreads the choice over more tokens."
)
BENCHMARKS = "A benchmark poses every model identical fixed problems, so that results can be compared fairly."


def test_a_learner_phrasing_below_the_gate_still_leads_to_its_passage(tmp_path: Path) -> None:
    snippets = (
        Snippet("s.temp", "s", "Sampling temperature", TEMPERATURE, 0,
                phrasings=("why does the chatbot give me a different answer every time",)),
        Snippet("s.bench", "s", "Benchmarks", BENCHMARKS, 1),
    )
    retriever = Retriever.load(Course((Lesson("s", 1, "S", "S.", (), snippets, ()),)), tmp_path)
    question = "why do i get different answers to the same question"
    hits = {hit.passage.snippet_id: hit for hit in retriever.search(question, 2)}
    temperature, benchmarks = hits["s.temp"], hits["s.bench"]
    # The set-up: no shared words, the benchmark prose a little closer than the temperature
    # prose, and the phrasing close but under the gate of the guide ranking.
    assert temperature.bm25 == benchmarks.bm25 == 0
    assert benchmarks.cosine > temperature.cosine
    assert 0.5 < temperature.guide < GUIDE_MIN_COSINE
    # The phrasing's share of the dense score puts its passage first.
    assert retriever.search(question, 1)[0].passage.snippet_id == "s.temp"
