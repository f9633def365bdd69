"""The live course covers every topic the course promises, in the promised size and shape.

This is the one test that reads ``lessons/`` rather than the fixtures: it checks the content.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from bot.content.loader import load_course
from bot.content.model import Course, QuestionKind
from bot.settings import PROJECT_ROOT

# Every topic the course sources teach (issue "The course"), as topic keys used in front matter.
REQUIRED_TOPICS = """
generative-vs-discriminative llm-parameters three-drivers scaling-laws emergent-abilities
pretraining next-token-prediction self-supervised-learning foundation-models fine-tuning rlhf
alignment prompts context-window in-context-learning prompt-tips neural-network-basics
weights-biases-activations parameter-counting statistical-vs-neural-lm tokenization bpe wordpiece
sentencepiece embeddings positional-encoding transformer attention multi-head-attention
encoder-decoder layer-norm transformers-vs-lstm evaluation negative-log-likelihood perplexity mmlu
model-landscape gpt-series palm-gemini llama claude mixture-of-experts licences training-cost
compute-optimal speculative-decoding gans vaes diffusion-models stable-diffusion latent-space u-net
laion-5b training-loss other-modalities audio video code-generation 3d multimodal llm-applications
image-generation-applications limits-and-impact hallucinations bias cost energy jobs synthetic-data
llm-api-python
""".split()


@pytest.fixture(scope="module")
def live() -> Course:
    return load_course(PROJECT_ROOT / "lessons")


def test_every_topic_is_covered_and_every_key_is_known(live: Course) -> None:
    covered = {topic for lesson in live.lessons for topic in lesson.topics}
    assert sorted(set(REQUIRED_TOPICS) - covered) == []
    assert sorted(covered - set(REQUIRED_TOPICS)) == []


def test_topic_list_matches_the_authors_guide() -> None:
    guide = (PROJECT_ROOT / "lessons" / "README.md").read_text()
    listed = set(re.findall(r"[a-z0-9-]+", guide.split("## Topic keys", 1)[1].split("\n\n", 2)[2]))
    assert set(REQUIRED_TOPICS) <= listed


def test_size_and_shape(live: Course) -> None:
    assert len(live.lessons) >= 15
    assert len(live.questions) >= 180
    for lesson in live.lessons:
        assert 4 <= len(lesson.snippets) <= 10, lesson.id
        assert len(lesson.questions) >= 6, lesson.id
        kinds = {q.kind for q in lesson.questions}
        assert {QuestionKind.SINGLE, QuestionKind.TRUE_FALSE} <= kinds, lesson.id
        assert lesson.summary and "\n" not in lesson.summary
    assert any(q.kind is QuestionKind.NUMERIC for q in live.questions.values())


def test_key_figures_are_stated_plainly_in_the_text(live: Course) -> None:
    """Facts learners ask about must be findable by a search over the course text."""
    text = " ".join(s.body for s in live.snippets.values())
    for fact in ["175 billion", "2017", "LAION-5B", "2014", "Mixtral 8x7B", "MMLU", "perplexity",
                 "54", "$100 million",
                 # As corrected by issue 14: each figure with what it means.
                 "45 TB", "570 GB", "PaLM", "540 billion", "5.85 billion", "RoPE", "causal",
                 "Schaeffer", "claude-haiku-5-5"]:
        assert fact.lower() in text.lower(), fact


def test_facts_corrected_by_issue_14_stay_corrected(live: Course) -> None:
    text = " ".join(s.body for s in live.snippets.values()).lower()
    for wrong in ["every generative model is a deep learning model",
                  "models today go beyond **half a trillion", "your-model-id"]:
        assert wrong not in text, wrong


def test_the_course_passes_the_strict_item_writing_check() -> None:
    """Issue 14: the quiz tests understanding, not guessing (see lessons/README.md)."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "lessons", "check", "--strict",
         str(PROJECT_ROOT / "lessons")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
