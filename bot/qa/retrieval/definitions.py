"""Definition questions ("what is X?") and the sentences that define X.

Retrieval ranks the passages that open by defining a question's subject higher; the offline
answer prefers the sentences that name or define it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from bot.qa.retrieval.words import FILLER, WORD_RE, stems

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
    r"\s+(?:in|on|for|when|with|used|exactly|actually|even|again|and\s+(?:why|how|what))\b.*$",
    re.IGNORECASE,
)
#: A definition question names at most this many content words as its subject.
MAX_SUBJECT_WORDS = 4


def definition_subject(question: str) -> tuple[str, ...]:
    """What a definition question asks about, as stems in order.

    "what is a context window?" gives ``("context", "window")``; a question that is not a
    definition question gives ``()``.
    """
    match = _DEFINITION_RE.match(question.strip())
    if not match:
        return ()
    subject = _SUBJECT_END_RE.sub("", match.group("subject"))
    words = [w for w in WORD_RE.findall(subject.lower()) if w not in FILLER and len(w) > 1]
    if not words or len(words) > MAX_SUBJECT_WORDS:
        return ()
    return tuple(stems(words))


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


@lru_cache(maxsize=16384)
def _stemmed_words(sentence: str) -> tuple[tuple[tuple[int, int], ...], tuple[str, ...]]:
    """The content words of ``sentence``: their spans, and their stems.

    Cached: retrieval asks this of the same course sentences for every definition question.
    """
    found = [
        (m.start(), m.end(), m.group(0))
        for m in WORD_RE.finditer(sentence.lower())
        if m.group(0) not in FILLER and len(m.group(0)) > 1
    ]
    return tuple((a, b) for a, b, _ in found), tuple(stems([w for _, _, w in found]))


def _subject_span(sentence: str, subject: Sequence[str]) -> tuple[int, int] | None:
    """Where the words of ``subject`` stand together in ``sentence`` (filler words skipped)."""
    found, stemmed = _stemmed_words(sentence)
    n = len(subject)
    for i in range(len(stemmed) - n + 1):
        if tuple(stemmed[i : i + n]) == tuple(subject):
            return found[i][0], found[i + n - 1][1]
    return None


def mentions(sentence: str, subject: Sequence[str]) -> bool:
    """Whether ``sentence`` names ``subject`` (stems from :func:`definition_subject`)."""
    return bool(subject) and _subject_span(sentence, subject) is not None


_PRONOUN_RE = re.compile(r"^\W*(?:it|they|this|these)\b", re.IGNORECASE)


def defines(sentence: str, subject: Sequence[str], previous: str = "") -> bool:
    """Whether ``sentence`` defines ``subject``.

    "X is/are/means/stands for/refers to...", "... called X", "... is the X", "X, a ...",
    "X (...)" or "... (X)"; or, right after a ``previous`` sentence naming X, "It is/They stand
    for ...".
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
