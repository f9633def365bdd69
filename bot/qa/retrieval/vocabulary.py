"""The course's vocabulary: its rare terms, and the terms of a question it never names.

Two signals the sentence embedding misses. A question naming a rare course term (an acronym or
a model name such as RLHF or LAION-5B, which the embedding barely knows) is about the few
passages that hold it. A question naming an acronym or technical term the course never uses
(RAG, XGBoost, k-means) is most likely about something the course does not teach.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

from bot.qa.retrieval.definitions import defines, definition_subject, mentions
from bot.qa.retrieval.guides import Guide
from bot.qa.retrieval.passages import Passage, bm25_text
from bot.qa.retrieval.text import candidate_sentences, plain_text
from bot.qa.retrieval.words import (
    ACRONYM_PLURAL_RE,
    FRAME_WORDS,
    SPELT_AS_TERM_RE,
    TERM_TOKEN_RE,
    WORD_RE,
    content_words,
    looks_like_term,
    term_forms,
    term_words,
)

#: A question word is a rare course term when at most this share of the passages hold it (and
#: at least RARE_TERM_MIN_PASSAGES in a tiny course), and the course spells it like an acronym
#: or a model name (RLHF, LAION-5B): words the sentence embedding barely knows. (Ordinary words,
#: even rare or bold ones, are left to the embedding, which understands them.)
RARE_TERM_SHARE = 0.1
RARE_TERM_MIN_PASSAGES = 2
#: A definition subject's word shorter than this is never taken for an unknown subject.
MIN_UNKNOWN_CHARS = 4


class CourseVocabulary:
    """Which passages hold each word, and which words the course writes as terms."""

    def __init__(self, passages: Sequence[Passage], guides: Sequence[Guide]) -> None:
        self._count = len(passages)
        #: The term words of each passage (stemmed), in passage order.
        self.passage_terms: list[frozenset[str]] = []
        self._openings: list[tuple[str, ...]] = []  # title and first two sentences
        frequency: dict[str, int] = {}
        spelt_as_terms: set[str] = set()  # acronyms and model names
        for passage in passages:
            terms = term_words(bm25_text(passage))
            self.passage_terms.append(terms)
            for term in terms:
                frequency[term] = frequency.get(term, 0) + 1
            sentences = candidate_sentences(passage.text)
            spelt = SPELT_AS_TERM_RE.findall(f"{passage.title}. {plain_text(passage.text)}")
            spelt_as_terms |= term_words(" ".join(spelt))
            self._openings.append((passage.title, *(s.text for s in sentences[:2])))
        self._frequency = frequency
        texts = [bm25_text(p) for p in passages] + [g.text for g in guides]
        #: Every stemmed content word of the course's passages and guides.
        self._words = frozenset(frequency).union(*(content_words(g.text) for g in guides))
        #: Every word of the course as written (lower case), sorted: for prefix look-ups.
        self._spellings = sorted(
            {w for text in texts for w in WORD_RE.findall(text.lower())}
        )
        self._spelt_as_terms = frozenset(spelt_as_terms)
        # Each distinct token once: the course repeats its words tens of thousands of times.
        tokens = {
            token
            for text in texts
            for variant in (text, ACRONYM_PLURAL_RE.sub(r"\1", text))
            for token in TERM_TOKEN_RE.findall(variant)
        }
        self._vocabulary = frozenset(form for token in tokens for form in term_forms(token))

    def absent_terms(self, query: str) -> tuple[str, ...]:
        """The acronyms and technical terms of ``query`` that the course never names.

        RAG, XGBoost, word2vec, k-means..., after normalising plurals, version numbers and
        hyphens.
        """
        found = []
        for token in TERM_TOKEN_RE.findall(ACRONYM_PLURAL_RE.sub(r"\1", query)):
            if looks_like_term(token) and not term_forms(token) & self._vocabulary:
                found.append(token)
        return tuple(found)

    def unknown_subject(self, query: str) -> tuple[str, ...]:
        """The words of a definition question's subject that the course never uses.

        "what is dropout?" asks about a word no lesson or quiz question holds: the course does not
        cover it, however close the rest of the question is. Short words ("sd", "hw") are left
        out: they are more often chat abbreviations than subjects.
        """
        subject = definition_subject(query)
        return tuple(
            word for word in subject
            if len(word) >= MIN_UNKNOWN_CHARS
            and word not in self._words
            and not self._shortens_a_course_word(word)
        )

    def _shortens_a_course_word(self, stem: str) -> bool:
        """Whether ``stem`` begins a word of the course, as a clipped word does.

        "norm", "param" and "vocab" are clipped "normalization", "parameter", "vocabulary".
        """
        at = bisect.bisect_left(self._spellings, stem)
        return at < len(self._spellings) and self._spellings[at].startswith(stem)

    def course_terms(self, query: str) -> dict[str, float]:
        """The rare course terms of ``query`` with their IDF.

        Words that only a few passages hold and that the course spells like an acronym or a
        model name (RLHF, LAION-5B). Empty unless every content word of ``query`` occurs
        somewhere in the course: "weather in Berlin" names a rare course word, but the course
        says nothing about the weather.
        """
        words = content_words(query) - FRAME_WORDS
        if not words or any(w not in self._frequency for w in words):
            return {}
        n = self._count
        limit = max(RARE_TERM_MIN_PASSAGES, RARE_TERM_SHARE * n)
        return {
            w: float(np.log(n / self._frequency[w]))
            for w in words
            if self._frequency[w] <= limit and w in self._spelt_as_terms
        }

    def term_scores(self, query: str, rare: dict[str, float]) -> np.ndarray:
        """Per passage: the IDF of the rare terms it holds, plus a definition bonus.

        For a definition question, a passage gets 1 when one of its first sentences defines the
        question's subject, and 0.5 when only its title names it.
        """
        scores = np.zeros(self._count, dtype=np.float64)
        subject = definition_subject(query)
        for i, terms in enumerate(self.passage_terms):
            scores[i] = sum(idf for term, idf in rare.items() if term in terms)
            if subject and terms.issuperset(subject):
                title, *opening = self._openings[i]
                if any(defines(s, subject) for s in opening):
                    scores[i] += 1.0
                elif mentions(title, subject):
                    scores[i] += 0.5
        return scores
