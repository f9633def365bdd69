"""Issue 13's levers: the course's own questions as an index, whole lists, absent terms."""

from __future__ import annotations

import pytest

from bot.content.model import Course, Lesson, Question, QuestionKind, Snippet
from bot.qa.local import MAX_CHARS, _choose_sentences, answer_locally
from bot.qa.retrieval import Hit, Retriever, build_guides, content_words, quotable_explanation

TIPS = """A good prompt pays off. Four habits help, each shown as a before and an after:

- **Be specific.** Ask for a clear topic and a length, and you get a focused reply back.
- **Give the model a role.** A role sets the level, the vocabulary and the style of the reply.
- **Ask for step-by-step reasoning.** Working through steps reduces mistakes on hard problems.
- **Show an example.** One example pins down exactly the format you want to get back.
"""
TEMPERATURE = "Sampling temperature scales the probabilities before a token is drawn. A low temperature makes the model pick the likeliest token almost every time."


def _course() -> Course:
    snippets = (
        Snippet("p.tips", "p", "Writing better prompts", TIPS, 0,
                phrasings=("how can i get better answers out of the bot",)),
        Snippet("p.temp", "p", "Temperature", TEMPERATURE, 1),
    )
    questions = (
        Question("p.q1", "p", "p.temp", QuestionKind.TRUE_FALSE,
                 "A low temperature makes replies more random.",
                 "False: a low temperature makes the model pick the likeliest token almost "
                 "every time.", answer_choice="false"),
        Question("p.q2", "p", "p.temp", QuestionKind.SINGLE,
                 "Why would you turn the sampling temperature down?",
                 "Turning the temperature down makes replies more predictable, because the "
                 "likeliest token is chosen almost every time.", answer_choice="a"),
    )
    lesson = Lesson("p", 1, "Prompts", "Prompts.", (), snippets, questions)
    return Course((lesson,))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    return Retriever.load(_course(), tmp_path_factory.mktemp("guides"))


def test_guides_are_phrasings_stems_and_quotable_explanations_only() -> None:
    guides = build_guides(_course())
    assert (guides[0].snippet_id, guides[0].text[:20]) == ("p.tips", "how can i get better")
    # The true/false explanation leans on "False": matched, never quoted.
    assert all("False:" not in g.explanation for g in guides)
    assert any(g.explanation.startswith("Turning the temperature down") for g in guides)
    assert quotable_explanation("The other options describe fine-tuning.") == ""
    assert quotable_explanation("A **token** is a piece of text.") == "A token is a piece of text."


def test_a_lead_in_comes_with_its_whole_list(small: Retriever) -> None:
    question = "give me a tip for prompting"
    answer = answer_locally(question, small.search(question))
    assert answer.supported
    assert "Four habits help" in answer.text
    for habit in ("Be specific.", "Give the model a role.", "Show an example."):
        assert habit in answer.text
    assert len(answer.text) <= MAX_CHARS + len(" [1]")


def test_a_close_quiz_question_brings_its_explanation(small: Retriever) -> None:
    question = "why would i turn the temperature down"
    [best, *_] = small.search(question)
    assert best.passage.snippet_id == "p.temp" and best.guide >= 0.62
    answer = answer_locally(question, small.search(question))
    assert answer.text.startswith("Turning the temperature down makes replies more predictable")
    assert [p.snippet_id for p in answer.citations][:1] == ["p.temp"]


@pytest.mark.parametrize(
    ("question", "absent"),
    [
        ("how does XGBoost pick its trees", ("XGBoost",)),
        ("explain word2vec and k-means", ("word2vec", "k-means")),
        ("do CNNs use attention", ("CNN",)),
        ("what is a good prompt", ()),
        ("count-the-words style models, how did they work", ()),  # an everyday compound
        ("what is AI", ()),  # too short to judge
    ],
)
def test_terms_the_course_never_names(small: Retriever, question: str, absent: tuple[str, ...]) -> None:
    assert small.absent_terms(question) == absent


def test_versions_and_plurals_of_course_terms_are_known(retriever: Retriever) -> None:
    # The fixture course names GPT-3: other versions are the same model family.
    assert retriever.absent_terms("is GPT-4o bigger than GPT3?") == ()
    assert retriever.absent_terms("are there GPT-3s") == ()
    # "LLMs" is the plural of "LLM", not a rarer course term of its own.
    assert content_words("LLMs") == content_words("LLM") == content_words("llm")


def test_a_question_about_an_absent_term_is_declined(retriever: Retriever) -> None:
    question = "how many parameters does an XGBoost model have"
    hits = retriever.search(question)
    assert hits[0].absent == ("XGBoost",)
    assert not answer_locally(question, hits).supported




CODE = '''Here is a complete program that prints a reply:

```python
import anthropic

client = anthropic.Anthropic()
message = client.messages.create(model="m", max_tokens=100, messages=[])
```

It reads your key from the environment.
'''


def test_a_lead_in_to_a_code_block_is_quoted_with_the_code_or_not_at_all(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    snippet = Snippet("api.first", "api", "Your first request", CODE, 0)
    course = Course((Lesson("api", 1, "API", "API.", (), (snippet,), ()),))
    retriever = Retriever.load(course, tmp_path_factory.mktemp("code"))
    question = "how do i call claude from python code"
    hits = [Hit(retriever.passages[0], 1.0, 0.6, 5.0)]  # found, and close enough to quote
    answer = answer_locally(question, hits)
    assert answer.supported
    lead = answer.text.index("Here is a complete program that prints a reply:")
    # The fenced block follows its lead-in, whole, and closes on a line of its own.
    assert answer.text[lead:].startswith(
        "Here is a complete program that prints a reply:\n```python\nimport anthropic"
    )
    assert "client.messages.create(" in answer.text
    assert "messages=[])\n```\n" in answer.text
    # With no room for the code, the lead-in is not quoted alone.
    squeezed = _choose_sentences(question, hits, budget=80)
    assert squeezed and all(not q.sentence.lead_in for q in squeezed)
