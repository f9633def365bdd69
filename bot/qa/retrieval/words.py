"""Words: the stemmed content words of a text, and how the course spells its terms.

A question and a passage are compared on their content words (stemmed with the Snowball English
stemmer, filler and chat spellings dropped). Acronyms and model names (RLHF, LAION-5B, GPT-4o)
are recognised by their spelling, and each term has the forms it may take in the course
(without its version, without hyphens, stemmed).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from functools import lru_cache

import Stemmer

_STEMMER = Stemmer.Stemmer("english")
_STEMMER_LOCK = threading.Lock()  # PyStemmer objects are not thread-safe
#: A word as compared: lower case letters and digits, inner hyphens and apostrophes kept.
WORD_RE = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
#: Words that say nothing about the topic, chat spellings included ("whats", "u", "r").
FILLER = frozenset(
    """a an the is are was were be been being do does did done what which who whom whose why how
    when where of to in on for and or but with by from as at it its this that these those there
    their they them can could should would will shall may might must i you we he she me my your
    our us about into than then so if not no yes also just only more most much many any some
    such kind kinda sort like get gets got make makes made vs versus between u r ur im i'm ive
    whats what's dont don't doesnt isnt thats that's stuff thing things really actually pls
    please hey hi lol gonna wanna tell explain mean""".split()
)


#: The plural of an acronym ("LLMs", "GPUs") is the acronym: the stemmer leaves "llms" alone.
ACRONYM_PLURAL_RE = re.compile(r"\b([A-Z][A-Z0-9]+)['’]?s\b")


def stems(words: Sequence[str]) -> list[str]:
    """The Snowball English stems of ``words``, in order."""
    with _STEMMER_LOCK:
        return list(_STEMMER.stemWords(list(words)))


@lru_cache(maxsize=16384)
def content_words(text: str) -> frozenset[str]:
    """The stemmed words of ``text`` that carry meaning (for comparing a question with a text).

    Cached: the answerer compares every question with the same course sentences.
    """
    text = ACRONYM_PLURAL_RE.sub(r"\1", text)
    words = [w for w in WORD_RE.findall(text.lower()) if w not in FILLER and len(w) > 1]
    return frozenset(stems(words))


def term_words(text: str) -> frozenset[str]:
    """:func:`content_words`, plus each part of a hyphenated word ("laion-5b": "laion", "5b")."""
    words = content_words(text)
    parts = [p for w in words if "-" in w for p in w.split("-") if len(p) > 1 and p not in FILLER]
    return words | frozenset(stems(parts))


#: Words of a question's frame ("what does X stand for", "who invented X"), never a course
#: term themselves.
FRAME_WORDS = frozenset(
    stems(
        """stand stands refer refers meaning means define definition call called name work
        invented invent created made built introduced developed released wrote came"""
        .split()
    )
)

#: An acronym or a model name as the course spells it: two capitals (RLHF, WordPiece) or
#: letters with digits (GPT-3, LAION-5B). A capital at the start of a sentence says nothing.
SPELT_AS_TERM_RE = re.compile(
    r"\b(?=[\w-]*[A-Z][\w-]*[A-Z])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\b"
    r"|\b(?=[\w-]*[A-Za-z])(?=[\w-]*\d)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\b"
)

#: A token that may be a term: letters and digits joined by hyphens or dots (GPT-3.5).
TERM_TOKEN_RE = re.compile(r"[A-Za-z0-9]+(?:[-.][A-Za-z0-9]+)*")
# A version or size after a name: GPT-4o, Llama3, LAION-5B, Claude 3.5 (the name is the term).
_VERSION_RE = re.compile(r"[-.]?v?\d+(?:\.\d+)*[a-z]{0,2}$", re.IGNORECASE)
#: Terms this short ("AI", "3D", "L1") say too little to decline on.
MIN_TERM_CHARS = 3


def looks_like_term(token: str) -> bool:
    """Spelt like an acronym or a technical name.

    Two capitals (RAG, XGBoost), letters with digits (word2vec) or a compound with a one-letter
    part (k-means, q-learning); not an everyday compound ("count-the-phrases").
    """
    letters = sum(c.isalpha() for c in token)
    if len(token) < MIN_TERM_CHARS or letters < 2:
        return False
    capitals = sum(c.isupper() for c in token)
    has_digit = any(c.isdigit() for c in token)
    one_letter_part = "-" in token and any(len(p) == 1 for p in token.split("-"))
    return capitals >= 2 or has_digit or one_letter_part


def term_forms(token: str) -> frozenset[str]:
    """The ways a term may appear in the course (lower case).

    As written, without its version, without hyphens, and stemmed.
    """
    word = token.lower().strip(".-")
    bare = _VERSION_RE.sub("", word) or word
    forms = {word, bare, word.replace("-", ""), bare.replace("-", "")}
    forms |= set(stems([f for f in forms if f]))
    return frozenset(f for f in forms if len(f) >= 2)
