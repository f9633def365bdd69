"""Find the course passages that answer a question: BM25 and sentence embeddings, fused.

Lessons are split into passages (one per snippet; a snippet too long for the model is split at
paragraph boundaries into ``snippet-id#1``, ``snippet-id#2``...). Each passage is ranked two
ways, lexically with BM25 (``bm25s`` with the Snowball English stemmer) and by the cosine
similarity of its embedding with the question's (:mod:`bot.qa.embedder`), and the two rankings
are combined by reciprocal-rank fusion, which needs no calibration between the two scores.

Embedding the course takes a while (tens of seconds on two cores), so the vectors of the
passages and of their candidate answer sentences are cached in one ``.npz`` file whose name
holds a hash of exactly what was embedded (text and model): any change to the course gives a
new key and a rebuild. :meth:`Retriever.load` is synchronous; the bot calls it in a worker
thread so the Discord event loop never waits on it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import bm25s
import numpy as np
import Stemmer

from bot.content.markdown import strip_formatting
from bot.content.model import Course, Lesson, Snippet
from bot.qa.embedder import MODEL_SHA256, Embedder

log = logging.getLogger(__name__)

#: Bump when the way passages, sentences or embedded texts are made changes.
INDEX_FORMAT = 3
#: Passages longer than this many word-piece tokens (title included) are split, so that the
#: model (which reads at most 256) sees all of a passage and each vector stays focused.
MAX_PASSAGE_TOKENS = 200
#: Reciprocal-rank fusion: score = w_bm25 / (K + rank_bm25) + w_dense / (K + rank_dense).
RRF_K = 5.0
RRF_BM25_WEIGHT = 0.75
RRF_DENSE_WEIGHT = 1.0
#: How a passage's dense score mixes its own vector with its best sentence's.
DENSE_SENTENCE_WEIGHT = 0.3
#: A third ranking fused in: passages holding the question's rare course terms (see
#: :meth:`Retriever.course_terms`), and for "what is X" questions the passages that name X in
#: their title or define X in their opening sentences.
RRF_TERM_WEIGHT = 1.0
#: A question word is a rare course term when at most this share of the passages hold it (and
#: at least RARE_TERM_MIN_PASSAGES in a tiny course), and the course spells it like an acronym
#: or a model name (RLHF, LAION-5B): words the sentence embedding barely knows. (Ordinary words,
#: even rare or bold ones, are left to the embedding, which understands them.)
RARE_TERM_SHARE = 0.1
RARE_TERM_MIN_PASSAGES = 2

#: A fourth ranking fused in: the course's own questions in a learner's voice (the snippets'
#: ``phrasings`` and the quiz questions' stems and explanations, see :class:`Guide`), each
#: pointing at the snippet it is about. Only guides at least this close to the question count,
#: so a weak match never overrides a good passage.
GUIDE_MIN_COSINE = 0.65
RRF_GUIDE_WEIGHT = 0.5
#: A quiz explanation matched at least this closely is handed to the answerer to quote.
EXPLANATION_MIN_COSINE = 0.62

CACHE_PREFIX = "ask-index-"

Mode = Literal["fused", "bm25", "dense"]


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


@dataclass(frozen=True)
class Hit:
    """A passage found for a query."""

    passage: Passage
    score: float  # the ranking score of the mode used (fused by default); higher is better
    cosine: float  # cosine similarity of the passage's embedding with the query's
    bm25: float  # raw BM25 score (0 when no query term occurs in the passage)
    #: The question's rare course terms (stemmed) that this passage holds: the course covers them.
    terms: tuple[str, ...] = ()
    #: Cosine of the question with the closest guide (phrasing or quiz question) of this passage.
    guide: float = 0.0
    #: A quiz explanation of this passage matched closely enough to quote ("" if none).
    explanation: str = ""
    #: The question's acronyms and technical terms that the course never names (the same for
    #: every hit of a query): a strong sign that the question is about something else.
    absent: tuple[str, ...] = ()


@dataclass(frozen=True)
class Guide:
    """A text in a learner's voice that says what a snippet answers: one of the snippet's
    ``phrasings``, or the stem or the explanation of a quiz question about it.

    Guides are matched, never quoted, except a quiz explanation (``explanation``), which the
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


# --- Markdown to text ------------------------------------------------------------------------

_FENCE_RE = re.compile(r"^\s*(```|~~~)")
_LIST_RE = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s")
_TABLE_RE = re.compile(r"^\s*\|")
_QUOTE_RE = re.compile(r"^\s*>\s?")
_HTML_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
_STRESS_RE = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1|(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])")
_CODE_SPAN_RE = re.compile(r"`([^`]*)`")
_SPACES_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class Block:
    """A paragraph, list item or table of a passage, with its Markdown kind."""

    kind: Literal["text", "item", "table", "code", "heading"]
    markdown: str


def split_blocks(markdown: str) -> list[Block]:
    """Split Markdown into paragraphs, list items, tables, code blocks and headings."""
    blocks: list[Block] = []
    lines: list[str] = []
    kind: Literal["text", "item", "table", "code", "heading"] = "text"

    def flush() -> None:
        nonlocal lines
        if lines:
            joiner = "\n" if kind in ("code", "table") else " "
            blocks.append(Block(kind, joiner.join(lines).strip()))
        lines = []

    in_code = False
    for raw in _HTML_COMMENT_RE.sub("", markdown).splitlines():
        if in_code:
            lines.append(raw)
            if _FENCE_RE.match(raw):
                flush()
                in_code = False
            continue
        if _FENCE_RE.match(raw):
            flush()
            kind, in_code = "code", True
            lines.append(raw)
            continue
        if not raw.strip():
            flush()
            continue
        if _HEADING_RE.match(raw):
            flush()
            kind = "heading"
            lines.append(raw)
            flush()
            continue
        if _TABLE_RE.match(raw):
            if kind != "table":
                flush()
            kind = "table"
            lines.append(raw)
            continue
        if _LIST_RE.match(raw):
            flush()
            kind = "item"
            lines.append(_LIST_RE.sub("", raw, count=1).strip())
            continue
        if kind == "table" or (kind == "heading" and not lines):
            flush()
            kind = "text"
        if not lines:
            kind = "item" if kind == "item" and raw.startswith((" ", "\t")) else "text"
        lines.append(_QUOTE_RE.sub("", raw).strip())
    if in_code:  # an unclosed fence: still code, never prose
        kind = "code"
    flush()
    return blocks


def strip_inline(markdown: str, *, keep_code: bool = True) -> str:
    """Inline Markdown to readable text: emphasis and links dropped, whitespace collapsed.

    Inline code keeps its backticks when ``keep_code`` (Discord shows them as code).
    """
    text = strip_formatting(markdown)
    if not keep_code:
        text = _CODE_SPAN_RE.sub(r"\1", text)
    return _SPACES_RE.sub(" ", text).strip()


def plain_text(markdown: str) -> str:
    """A passage as plain prose for ranking: code and tables kept as text, formatting dropped."""
    parts = []
    for block in split_blocks(markdown):
        if block.kind == "code":
            body = [ln for ln in block.markdown.splitlines() if not _FENCE_RE.match(ln)]
            parts.append(" ".join(body))
        elif block.kind == "table":
            cells = [c.strip() for ln in block.markdown.splitlines() for c in ln.split("|")]
            parts.append(" ".join(c for c in cells if c and not set(c) <= set("-: ")))
        else:
            parts.append(strip_inline(block.markdown.lstrip("# "), keep_code=False))
    return "\n".join(p for p in parts if p)


_ABBREVIATIONS = frozenset(
    "e.g i.e etc vs cf al approx fig no dr mr mrs ms prof st jr sr inc ltd co corp".split()
)
_SENTENCE_END_RE = re.compile(r"[.!?…][\"'”’)\]*_]*\s+(?=[\"'“‘(\[*_]*[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping abbreviations (e.g., vs.) and decimals intact."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(text):
        end = match.start() + 1
        before = text[start:end].rstrip(".").split()
        word = before[-1].lower().strip("(\"'“") if before else ""
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            continue  # "e.g. GPT", "J. Smith": not the end of a sentence
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _is_label(marked: str, sentence: str) -> bool:
    """A line such as "**Mixtral 8x7B** (Mistral AI, 2023)": a heading in all but name.

    It opens in bold and ends without punctuation. A formula ("**a = b + c**") is kept.
    """
    ended = sentence.rstrip("\"”’')]").endswith((".", "!", "?", ":", ";", "…"))
    return marked.lstrip().startswith(("**", "__")) and not ended and "=" not in sentence


@dataclass(frozen=True)
class Sentence:
    """A sentence (or list item) of a passage that may be quoted, with its place in the text."""

    text: str  # verbatim, with emphasis and links stripped; inline code keeps its backticks
    block: int  # which paragraph or list item of the passage it belongs to
    item: bool  # it is (part of) a list item
    lead_in: bool  # it ends with ":" and introduces what follows (never quoted last)
    emphasis: tuple[str, ...]  # the terms the author set in bold or italics in it


@lru_cache(maxsize=4096)
def candidate_sentences(markdown: str) -> tuple[Sentence, ...]:
    """The prose sentences of a passage, in reading order: never code, tables or headings."""
    found: list[Sentence] = []
    for index, block in enumerate(split_blocks(markdown)):
        if block.kind not in ("text", "item"):
            continue
        # Split the Markdown, not the stripped text, to know which words the author stressed.
        for marked in split_sentences(block.markdown):
            sentence = strip_inline(marked)
            if sentence.count("`") % 2:
                continue  # a code span cut in two: not quotable
            if _is_label(marked, sentence):
                continue
            stressed = tuple(strip_inline(m.group(0)) for m in _STRESS_RE.finditer(marked))
            found.append(
                Sentence(sentence, index, block.kind == "item", sentence.endswith(":"), stressed)
            )
    return tuple(found)


_STEMMER = Stemmer.Stemmer("english")
_STEMMER_LOCK = threading.Lock()  # PyStemmer objects are not thread-safe
_WORD_RE = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
#: Words that say nothing about the topic, chat spellings included ("whats", "u", "r").
_FILLER = frozenset(
    """a an the is are was were be been being do does did done what which who whom whose why how
    when where of to in on for and or but with by from as at it its this that these those there
    their they them can could should would will shall may might must i you we he she me my your
    our us about into than then so if not no yes also just only more most much many any some
    such kind kinda sort like get gets got make makes made vs versus between u r ur im i'm ive
    whats what's dont don't doesnt isnt thats that's stuff thing things really actually pls
    please hey hi lol gonna wanna tell explain mean""".split()
)


# The plural of an acronym ("LLMs", "GPUs") is the acronym: the stemmer leaves "llms" alone.
_ACRONYM_PLURAL_RE = re.compile(r"\b([A-Z][A-Z0-9]+)['’]?s\b")


def content_words(text: str) -> frozenset[str]:
    """The stemmed words of ``text`` that carry meaning (for comparing a question with a text)."""
    text = _ACRONYM_PLURAL_RE.sub(r"\1", text)
    words = [w for w in _WORD_RE.findall(text.lower()) if w not in _FILLER and len(w) > 1]
    with _STEMMER_LOCK:
        return frozenset(_STEMMER.stemWords(words))


def _stems(words: Sequence[str]) -> list[str]:
    with _STEMMER_LOCK:
        return list(_STEMMER.stemWords(list(words)))


def term_words(text: str) -> frozenset[str]:
    """:func:`content_words`, plus each part of a hyphenated word ("laion-5b": "laion", "5b")."""
    words = content_words(text)
    parts = [p for w in words if "-" in w for p in w.split("-") if len(p) > 1 and p not in _FILLER]
    return words | frozenset(_stems(parts))


# An acronym or a model name as the course spells it: two capitals (RLHF, WordPiece) or letters
# with digits (GPT-3, LAION-5B). A capital at the start of a sentence says nothing.
_SPELT_AS_TERM_RE = re.compile(
    r"\b(?=[\w-]*[A-Z][\w-]*[A-Z])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\b"
    r"|\b(?=[\w-]*[A-Za-z])(?=[\w-]*\d)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\b"
)

_TERM_TOKEN_RE = re.compile(r"[A-Za-z0-9]+(?:[-.][A-Za-z0-9]+)*")
# A version or size after a name: GPT-4o, Llama3, LAION-5B, Claude 3.5 (the name is the term).
_VERSION_RE = re.compile(r"[-.]?v?\d+(?:\.\d+)*[a-z]{0,2}$", re.IGNORECASE)
#: Terms this short ("AI", "3D", "L1") say too little to decline on.
MIN_TERM_CHARS = 3


def _looks_like_term(token: str) -> bool:
    """Spelt like an acronym or a technical name: two capitals (RAG, XGBoost), letters with
    digits (word2vec) or a compound with a one-letter part (k-means, q-learning); not an
    everyday compound ("count-the-phrases").
    """
    letters = sum(c.isalpha() for c in token)
    if len(token) < MIN_TERM_CHARS or letters < 2:
        return False
    capitals = sum(c.isupper() for c in token)
    has_digit = any(c.isdigit() for c in token)
    one_letter_part = "-" in token and any(len(p) == 1 for p in token.split("-"))
    return capitals >= 2 or has_digit or one_letter_part


def _term_forms(token: str) -> frozenset[str]:
    """The ways a term may appear in the course: as written, without its version, without
    hyphens, and stemmed (lower case).
    """
    word = token.lower().strip(".-")
    bare = _VERSION_RE.sub("", word) or word
    forms = {word, bare, word.replace("-", ""), bare.replace("-", "")}
    forms |= set(_stems([f for f in forms if f]))
    return frozenset(f for f in forms if len(f) >= 2)


# "What is X", "what's X", "define X", "explain X", "what does X mean / stand for".
_DEFINITION_RE = re.compile(
    r"""^\W*(?:(?:so|ok|okay|hey|hi|hello)\W+)?
    (?: what\s*(?:'s|’s|s|\s+is|\s+are|\s+was|\s+were)\s+
            (?:meant\s+by\s+|the\s+meaning\s+of\s+|the\s+definition\s+of\s+)?
      | what\s+(?:does|do)\s+(?=.*\b(?:mean|stand\s+for|refer\s+to)\W*$)
      | (?:define|explain|describe)\s+ | (?:meaning|definition)\s+of\s+ )
    (?:an?\s+|the\s+)?(?P<subject>.+?)
    (?:\s+(?:actually\s+|even\s+)?(?:mean|means|stand\s+for|stands\s+for|refer\s+to))?
    \s*[?.!]*\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
# What follows the subject of a question but is not part of it: "perplexity in language models".
_SUBJECT_END_RE = re.compile(
    r"\s+(?:in|on|for|when|with|used|exactly|actually|again|and\s+(?:why|how|what))\b.*$",
    re.IGNORECASE,
)
# Words of the question's frame ("what does X stand for"), never a course term themselves.
_FRAME_WORDS = frozenset(
    _STEMMER.stemWords(
        "stand stands refer refers meaning means define definition call called name work".split()
    )
)
#: A definition question names at most this many content words as its subject.
MAX_SUBJECT_WORDS = 4


def definition_subject(question: str) -> tuple[str, ...]:
    """What a definition question asks about, as stems in order ("what is a context window?":
    ``("context", "window")``); empty when ``question`` is not a definition question.
    """
    match = _DEFINITION_RE.match(question.strip())
    if not match:
        return ()
    subject = _SUBJECT_END_RE.sub("", match.group("subject"))
    words = [w for w in _WORD_RE.findall(subject.lower()) if w not in _FILLER and len(w) > 1]
    if not words or len(words) > MAX_SUBJECT_WORDS:
        return ()
    return tuple(_stems(words))


_DEFINES_AFTER_RE = re.compile(
    r"^s?\W{0,3}(?:\([^)]*\)\W{0,3})?(?:is|are|was|were|means?|stands?\s+for|refers?\s+to)\b"
    r"|^s?\s*\(|^s?\s*,\s+(?:an?|the)\s",
    re.IGNORECASE,
)
_DEFINES_BEFORE_RE = re.compile(
    r"(?:\b(?:called|known\s+as|named|termed)(?:\s+(?:an?|the))?"
    r"|\b(?:is|are)\s+(?:its|their|the|an?))"
    r"\s*[\"'“‘]?$|\(\s*$",
    re.IGNORECASE,
)


def _subject_span(sentence: str, subject: Sequence[str]) -> tuple[int, int] | None:
    """Where the words of ``subject`` stand together in ``sentence`` (filler words skipped)."""
    found = [
        (m.start(), m.end(), m.group(0))
        for m in _WORD_RE.finditer(sentence.lower())
        if m.group(0) not in _FILLER and len(m.group(0)) > 1
    ]
    stems = _stems([w for _, _, w in found])
    n = len(subject)
    for i in range(len(stems) - n + 1):
        if tuple(stems[i : i + n]) == tuple(subject):
            return found[i][0], found[i + n - 1][1]
    return None


def mentions(sentence: str, subject: Sequence[str]) -> bool:
    """Whether ``sentence`` names ``subject`` (stems from :func:`definition_subject`)."""
    return bool(subject) and _subject_span(sentence, subject) is not None


_PRONOUN_RE = re.compile(r"^\W*(?:it|they|this|these)\b", re.IGNORECASE)


def defines(sentence: str, subject: Sequence[str], previous: str = "") -> bool:
    """Whether ``sentence`` defines ``subject``: "X is/are/means/stands for/refers to...",
    "... called X", "... is the X", "X, a ...", "X (...)" or "... (X)"; or, right after a
    ``previous`` sentence naming X, "It is/They stand for ...".
    """
    if not subject:
        return False
    pronoun = _PRONOUN_RE.match(sentence)
    if pronoun and mentions(previous, subject) and not mentions(sentence, subject):
        return bool(_DEFINES_AFTER_RE.match(sentence[pronoun.end() :].lstrip()))
    span = _subject_span(sentence, subject)
    if span is None:
        return False
    before, after = sentence[: span[0]], sentence[span[1] :]
    after = after.lstrip("\"'”’*_`")
    if _DEFINES_BEFORE_RE.search(before):
        return not before.rstrip().endswith("(") or after.lstrip().startswith(")")
    return bool(_DEFINES_AFTER_RE.match(after))


# --- building passages -------------------------------------------------------------------------


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
    if embedder.count_tokens(_embedding_text(whole)) <= MAX_PASSAGE_TOKENS:
        return [whole]
    # Pack whole paragraphs greedily, so each part reads well on its own.
    parts: list[str] = []
    paragraphs = _paragraphs(snippet.body)
    for paragraph in paragraphs:
        candidate = f"{parts[-1]}\n\n{paragraph}" if parts else paragraph
        probe = make(snippet.id, candidate)
        # A lead-in ("Four habits:") stays with what it introduces, and a list stays whole.
        joined = bool(parts) and (
            _ends_with_lead_in(parts[-1]) or (_is_list(parts[-1]) and _is_list(paragraph))
        )
        if joined or (
            parts and embedder.count_tokens(_embedding_text(probe)) <= MAX_PASSAGE_TOKENS
        ):
            parts[-1] = candidate
        else:
            parts.append(paragraph)
    if len(parts) == 1:
        return [whole]
    return [make(f"{snippet.id}#{i}", text) for i, text in enumerate(parts, start=1)]


def _ends_with_lead_in(markdown: str) -> bool:
    return markdown.rstrip().rstrip("*_").endswith(":")


def _is_list(markdown: str) -> bool:
    return all(_LIST_RE.match(line) for line in markdown.splitlines() if line.strip())


def _paragraphs(markdown: str) -> list[str]:
    """Markdown cut at blank lines, except inside a fenced code block."""
    paragraphs: list[list[str]] = [[]]
    in_code = False
    for line in markdown.splitlines():
        if _FENCE_RE.match(line):
            in_code = not in_code
        if not line.strip() and not in_code:
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        paragraphs[-1].append(line)
    return ["\n".join(p).strip() for p in paragraphs if p]


def build_passages(course: Course, embedder: Embedder) -> list[Passage]:
    """Every passage of the course, in course order."""
    return [
        passage
        for lesson in course.lessons
        for snippet in lesson.snippets
        for passage in _passages_of(lesson, snippet, embedder)
    ]


def _embedding_text(passage: Passage) -> str:
    # The titles add what a passage is about even when its text never says it in so many words.
    return f"{passage.title}. {plain_text(passage.text)}"


def _bm25_text(passage: Passage) -> str:
    return f"{passage.title}. {plain_text(passage.text)}"


# --- the index ---------------------------------------------------------------------------------


class _Lexical:
    """BM25 over stemmed words with English stop words removed."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._stemmer = Stemmer.Stemmer("english")
        self._lock = threading.Lock()  # PyStemmer objects are not thread-safe
        self._bm25 = bm25s.BM25()
        self._bm25.index(self.tokens(texts), show_progress=False)
        self._size = len(texts)

    def tokens(self, texts: Sequence[str]) -> list[list[str]]:
        with self._lock:
            return bm25s.tokenize(
                list(texts),
                stopwords="en",
                stemmer=self._stemmer,
                return_ids=False,
                show_progress=False,
            )

    def scores(self, query: str) -> np.ndarray:
        terms = [t for t in self.tokens([query])[0] if t]
        known = self._bm25.get_tokens_ids(terms)
        if not known:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(known), dtype=np.float32)


def _rrf_ranks(scores: np.ndarray, *, positive_only: bool) -> np.ndarray:
    """1-based ranks (ties share the better rank); ``inf`` for items that must not count."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    if positive_only:
        ranks[scores <= 0] = np.inf
    return ranks


class Retriever:
    """Ranks the course's passages for a question. Build it with :meth:`load`."""

    def __init__(
        self,
        passages: list[Passage],
        passage_vectors: np.ndarray,
        sentences: list[str],
        sentence_vectors: np.ndarray,
        sentence_passage: np.ndarray,
        embedder: Embedder,
        *,
        from_cache: bool,
        guides: Sequence[Guide] = (),
        guide_vectors: np.ndarray | None = None,
    ) -> None:
        self.passages = passages
        self.guides = list(guides)
        self.embedder = embedder
        #: Whether the vectors came from the disk cache (False: they were just computed).
        self.from_cache = from_cache
        self._passage_vectors = passage_vectors
        self._sentences = sentences
        self._sentence_vectors = sentence_vectors
        self._sentence_passage = sentence_passage
        self._lexical = _Lexical([_bm25_text(p) for p in passages])
        self._guide_vectors = (
            guide_vectors if guide_vectors is not None
            else np.zeros((0, passage_vectors.shape[1] if passage_vectors.ndim == 2 else 1),
                          dtype=np.float32)
        )
        self._guide_passage = self._place_guides()
        self._index_terms()
        # The answerer embeds candidate sentences of the top passages: hand it the cached ones.
        embedder.remember(sentences, sentence_vectors)

    @classmethod
    def load(
        cls,
        course: Course,
        cache_dir: Path,
        *,
        progress: bool = False,
        embedder: Embedder | None = None,
    ) -> Retriever:
        """Index ``course``, reusing the vectors cached in ``cache_dir`` when the course is unchanged.

        Synchronous and slow on a cold cache (the whole course is embedded, with a tqdm progress
        bar when ``progress``): call it in a worker thread from async code.
        """
        embedder = embedder or Embedder.shared()
        passages = build_passages(course, embedder)
        sentences: list[str] = []
        owners: list[int] = []
        for index, passage in enumerate(passages):
            for sentence in candidate_sentences(passage.text):
                sentences.append(sentence.text)
                owners.append(index)
        texts = [_embedding_text(p) for p in passages]
        guides = build_guides(course)
        guide_texts = [g.text for g in guides]
        key = _cache_key(texts, sentences, guide_texts)
        path = Path(cache_dir) / f"{CACHE_PREFIX}{key[:32]}.npz"
        rows = len(texts) + len(sentences) + len(guide_texts)
        vectors = _read_cache(path, key, rows)
        from_cache = vectors is not None
        if vectors is None:
            log.info(
                "Embedding %d passages, %d sentences and %d guides",
                len(texts), len(sentences), len(guide_texts),
            )
            vectors = embedder.embed(texts + sentences + guide_texts, progress=progress)
            _write_cache(path, key, vectors)
        ends = len(texts), len(texts) + len(sentences)
        return cls(
            passages,
            vectors[: ends[0]],
            sentences,
            vectors[ends[0] : ends[1]],
            np.asarray(owners, dtype=np.int64),
            embedder,
            from_cache=from_cache,
            guides=guides,
            guide_vectors=vectors[ends[1] :],
        )

    def _place_guides(self) -> np.ndarray:
        """For each guide, the passage it points at: the part of its snippet closest to it
        (-1 when the snippet has no passage, e.g. a question about a removed snippet).
        """
        parts: dict[str, list[int]] = {}
        for index, passage in enumerate(self.passages):
            parts.setdefault(passage.snippet_id, []).append(index)
        placed = np.full(len(self.guides), -1, dtype=np.int64)
        for g, guide in enumerate(self.guides):
            found = parts.get(guide.snippet_id, [])
            if len(found) == 1:
                placed[g] = found[0]
            elif found:
                scores = self._passage_vectors[found] @ self._guide_vectors[g]
                placed[g] = found[int(np.argmax(scores))]
        return placed

    def _index_terms(self) -> None:
        """Which passages hold each word, and which words the course writes as terms."""
        self._passage_terms: list[frozenset[str]] = []
        self._openings: list[tuple[str, ...]] = []  # title and first two sentences
        frequency: dict[str, int] = {}
        spelt_as_terms: set[str] = set()  # acronyms and model names
        for passage in self.passages:
            terms = term_words(_bm25_text(passage))
            self._passage_terms.append(terms)
            for term in terms:
                frequency[term] = frequency.get(term, 0) + 1
            sentences = candidate_sentences(passage.text)
            spelt = _SPELT_AS_TERM_RE.findall(f"{passage.title}. {plain_text(passage.text)}")
            spelt_as_terms |= term_words(" ".join(spelt))
            self._openings.append((passage.title, *(s.text for s in sentences[:2])))
        self._frequency = frequency
        self._spelt_as_terms = frozenset(spelt_as_terms)
        texts = [_bm25_text(p) for p in self.passages] + [g.text for g in self.guides]
        self._vocabulary = frozenset(
            form
            for text in texts
            for variant in (text, _ACRONYM_PLURAL_RE.sub(r"\1", text))
            for token in _TERM_TOKEN_RE.findall(variant)
            for form in _term_forms(token)
        )

    def absent_terms(self, query: str) -> tuple[str, ...]:
        """The acronyms and technical terms of ``query`` (RAG, XGBoost, word2vec, k-means) that
        the course never names, after normalising plurals, version numbers and hyphens.
        """
        found = []
        for token in _TERM_TOKEN_RE.findall(_ACRONYM_PLURAL_RE.sub(r"\1", query)):
            if _looks_like_term(token) and not _term_forms(token) & self._vocabulary:
                found.append(token)
        return tuple(found)

    def course_terms(self, query: str) -> dict[str, float]:
        """The rare course terms of ``query`` with their IDF: words that only a few passages
        hold and that the course spells like an acronym or a model name (RLHF, LAION-5B).

        Empty unless every content word of ``query`` occurs somewhere in the course: "weather
        in Berlin" names a rare course word, but the course says nothing about the weather.
        """
        words = content_words(query) - _FRAME_WORDS
        if not words or any(w not in self._frequency for w in words):
            return {}
        n = len(self.passages)
        limit = max(RARE_TERM_MIN_PASSAGES, RARE_TERM_SHARE * n)
        return {
            w: float(np.log(n / self._frequency[w]))
            for w in words
            if self._frequency[w] <= limit and w in self._spelt_as_terms
        }

    def _term_scores(self, query: str, rare: dict[str, float]) -> np.ndarray:
        """Per passage: the IDF of the rare terms it holds, plus a bonus when it opens on the
        subject of a definition question: 1 when one of its first sentences defines it, 0.5
        when only its title names it.
        """
        scores = np.zeros(len(self.passages), dtype=np.float64)
        subject = definition_subject(query)
        for i, terms in enumerate(self._passage_terms):
            scores[i] = sum(idf for term, idf in rare.items() if term in terms)
            if subject and terms.issuperset(subject):
                title, *opening = self._openings[i]
                if any(defines(s, subject) for s in opening):
                    scores[i] += 1.0
                elif mentions(title, subject):
                    scores[i] += 0.5
        return scores

    def search(self, query: str, k: int = 4, mode: Mode = "fused") -> list[Hit]:
        """The ``k`` best passages for ``query``, best first."""
        if not self.passages or k <= 0:
            return []
        cosine, bm25 = self._scores(query)
        rare = self.course_terms(query)
        guide, explanation = self._guides(query)
        absent = self.absent_terms(query)
        if mode == "bm25":
            score = bm25.astype(np.float64)
        elif mode == "dense":
            score = self._dense(cosine, query)
        else:
            score = self.fuse(self._dense(cosine, query), bm25)
            terms = self._term_scores(query, rare)
            score += RRF_TERM_WEIGHT / (RRF_K + _rrf_ranks(terms, positive_only=True))
            gated = np.where(guide >= GUIDE_MIN_COSINE, guide, 0.0)
            score += RRF_GUIDE_WEIGHT / (RRF_K + _rrf_ranks(gated, positive_only=True))
        # Ties (e.g. BM25 zero everywhere) fall back to the cosine.
        order = np.lexsort((-cosine, -score))[:k]
        return [
            Hit(
                self.passages[i],
                float(score[i]),
                float(cosine[i]),
                float(bm25[i]),
                tuple(sorted(t for t in rare if t in self._passage_terms[i])),
                float(guide[i]),
                explanation.get(int(i), ""),
                absent,
            )
            for i in order
        ]

    def _guides(self, query: str) -> tuple[np.ndarray, dict[int, str]]:
        """Per passage, the cosine of ``query`` with its closest guide; and for passages whose
        best quotable quiz explanation matches closely enough, that explanation.
        """
        best = np.zeros(len(self.passages), dtype=np.float64)
        if not self.guides:
            return best, {}
        similarity = self._guide_vectors @ self.embedder.embed_query(query)
        placed = self._guide_passage >= 0
        np.maximum.at(best, self._guide_passage[placed], similarity[placed])
        explanation: dict[int, tuple[float, str]] = {}
        for g in np.flatnonzero(similarity >= EXPLANATION_MIN_COSINE):
            guide, passage = self.guides[g], int(self._guide_passage[g])
            if guide.explanation and passage >= 0 and (
                passage not in explanation or explanation[passage][0] < similarity[g]
            ):
                explanation[passage] = (float(similarity[g]), guide.explanation)
        return best, {p: text for p, (_, text) in explanation.items()}

    def _scores(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        vector = self.embedder.embed_query(query)
        cosine = self._passage_vectors @ vector
        return cosine, self._lexical.scores(query)

    def _dense(self, cosine: np.ndarray, query: str) -> np.ndarray:
        if DENSE_SENTENCE_WEIGHT <= 0 or not self._sentences:
            return cosine
        vector = self.embedder.embed_query(query)
        best = np.full(len(self.passages), -1.0, dtype=np.float32)
        np.maximum.at(best, self._sentence_passage, self._sentence_vectors @ vector)
        best = np.where(best < -0.5, cosine, best)
        return (1 - DENSE_SENTENCE_WEIGHT) * cosine + DENSE_SENTENCE_WEIGHT * best

    @staticmethod
    def fuse(dense: np.ndarray, bm25: np.ndarray) -> np.ndarray:
        """Reciprocal-rank fusion of the dense and BM25 rankings."""
        dense_rank = _rrf_ranks(dense, positive_only=False)
        bm25_rank = _rrf_ranks(bm25, positive_only=True)
        return RRF_DENSE_WEIGHT / (RRF_K + dense_rank) + RRF_BM25_WEIGHT / (RRF_K + bm25_rank)


# --- the cache ---------------------------------------------------------------------------------


def _cache_key(
    passage_texts: Sequence[str], sentences: Sequence[str], guides: Sequence[str] = ()
) -> str:
    payload = json.dumps(
        {
            "format": INDEX_FORMAT,
            "model": MODEL_SHA256,
            "passages": list(passage_texts),
            "sentences": list(sentences),
            "guides": list(guides),
        },
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _read_cache(path: Path, key: str, rows: int) -> np.ndarray | None:
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            stored_key = str(data["key"])
            vectors = np.asarray(data["vectors"], dtype=np.float32)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("Ignoring the unreadable embedding cache %s: %s", path, exc)
        return None
    if stored_key != key or vectors.shape[0] != rows:
        log.warning("Ignoring the embedding cache %s: it does not match the course", path)
        return None
    return vectors


def _write_cache(path: Path, key: str, vectors: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a crash or a second process never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, key=np.array(key), vectors=vectors)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for old in path.parent.glob(f"{CACHE_PREFIX}*.npz"):
        if old != path:
            old.unlink(missing_ok=True)  # vectors of an older course: never read again
