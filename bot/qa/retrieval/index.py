"""The index: :class:`Retriever` ranks the course's passages for a question.

Each passage is ranked four ways and the rankings are fused (:mod:`.fusion`): lexically with
BM25 (:mod:`.lexical`), by the cosine similarity of its embedding (and its best sentence's) with
the question's (:mod:`bot.qa.embedder`), by the question's rare course terms and definition
subject (:mod:`.vocabulary`), and by the course's own questions in a learner's voice
(:mod:`.guides`). :meth:`Retriever.load` builds it, from the vector cache (:mod:`.cache`) when
the course is unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from bot.content.model import Course
from bot.qa.embedder import Embedder
from bot.qa.retrieval.cache import cache_key, cache_path, read_cache, write_cache
from bot.qa.retrieval.fusion import (
    DENSE_SENTENCE_WEIGHT,
    RRF_GUIDE_WEIGHT,
    RRF_STRONG_GUIDE_WEIGHT,
    RRF_TERM_WEIGHT,
    dense_scores,
    fuse,
    rrf,
    with_guides,
)
from bot.qa.retrieval.guides import (
    GUIDE_MIN_COSINE,
    STRONG_GUIDE_MIN_COSINE,
    Guide,
    build_guides,
    match_guides,
    place_guides,
)
from bot.qa.retrieval.lexical import Lexical
from bot.qa.retrieval.passages import Passage, bm25_text, build_passages, embedding_text
from bot.qa.retrieval.spelling import Speller
from bot.qa.retrieval.text import candidate_sentences, plain_text
from bot.qa.retrieval.vocabulary import CourseVocabulary
from bot.qa.retrieval.words import FILLER, stems

log = logging.getLogger(__name__)

Mode = Literal["fused", "bm25", "dense"]


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
    #: The words of a definition question's subject ("what is dropout") that the course never
    #: uses (stemmed; the same for every hit of a query).
    unknown: tuple[str, ...] = ()
    #: The question as it was ranked: short forms spelt out, typos of course words corrected
    #: (the same for every hit of a query; see :mod:`.spelling`).
    query: str = ""
    #: Words of the question that look like jargon the course never uses ("pooling", "xgboost":
    #: see :meth:`.spelling.Speller.unfamiliar`; the same for every hit of a query).
    unfamiliar: tuple[str, ...] = ()


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
        self._lexical = Lexical([bm25_text(p) for p in passages])
        self._guide_vectors = (
            guide_vectors if guide_vectors is not None
            else np.zeros((0, passage_vectors.shape[1] if passage_vectors.ndim == 2 else 1),
                          dtype=np.float32)
        )
        self._guide_passage = place_guides(
            self.guides, self._guide_vectors, passages, passage_vectors
        )
        self._vocabulary = CourseVocabulary(passages, self.guides)
        self._speller = Speller(
            [text for p in passages for text in (p.title, plain_text(p.text))]
            + [g.text for g in self.guides],
            # A whole word of the model's vocabulary ([CLS] word [SEP]) is a real word.
            lambda word: embedder.count_tokens(word) == 3,
            lambda word: stems([word])[0],
        )
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
        texts = [embedding_text(p) for p in passages]
        guides = build_guides(course)
        guide_texts = [g.text for g in guides]
        key = cache_key(texts, sentences, guide_texts)
        path = cache_path(cache_dir, key)
        rows = len(texts) + len(sentences) + len(guide_texts)
        vectors = read_cache(path, key, rows)
        from_cache = vectors is not None
        if vectors is None:
            log.info(
                "Embedding %d passages, %d sentences and %d guides",
                len(texts), len(sentences), len(guide_texts),
            )
            vectors = embedder.embed(texts + sentences + guide_texts, progress=progress)
            write_cache(path, key, vectors)
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

    def absent_terms(self, query: str) -> tuple[str, ...]:
        """The acronyms and technical terms of ``query`` that the course never names.

        See :meth:`CourseVocabulary.absent_terms`.
        """
        return self._vocabulary.absent_terms(query)

    def course_terms(self, query: str) -> dict[str, float]:
        """The rare course terms of ``query`` with their IDF.

        See :meth:`CourseVocabulary.course_terms`.
        """
        return self._vocabulary.course_terms(query)

    def normalise(self, query: str) -> str:
        """``query`` in the course's spelling (:meth:`.spelling.Speller.normalise`)."""
        return self._speller.normalise(query)

    def search(self, query: str, k: int = 4, mode: Mode = "fused") -> list[Hit]:
        """The ``k`` best passages for ``query``, best first.

        The query is read in the course's spelling first (:meth:`normalise`).
        """
        if not self.passages or k <= 0:
            return []
        query = self.normalise(query)
        vector = self.embedder.embed_query(query)
        cosine = self._passage_vectors @ vector
        bm25 = self._lexical.scores(query)
        rare = self.course_terms(query)
        guide, explanation = match_guides(
            self.guides,
            self._guide_vectors @ vector if self.guides else np.zeros(0),
            self._guide_passage,
            len(self.passages),
        )
        absent = self.absent_terms(query)
        unknown = self._vocabulary.unknown_subject(query)
        unfamiliar = self._speller.unfamiliar(query, FILLER)
        if mode == "bm25":
            score = bm25.astype(np.float64)
        elif mode == "dense":
            score = self._dense(cosine, vector)
        else:
            score = fuse(with_guides(self._dense(cosine, vector), guide), bm25)
            terms = self._vocabulary.term_scores(query, rare)
            score += rrf(RRF_TERM_WEIGHT, terms, positive_only=True)
            gated = np.where(guide >= GUIDE_MIN_COSINE, guide, 0.0)
            score += rrf(RRF_GUIDE_WEIGHT, gated, positive_only=True)
            strong = np.where(guide >= STRONG_GUIDE_MIN_COSINE, guide, 0.0)
            score += rrf(RRF_STRONG_GUIDE_WEIGHT, strong, positive_only=True)
        # Ties (e.g. BM25 zero everywhere) fall back to the cosine.
        order = np.lexsort((-cosine, -score))[:k]
        passage_terms = self._vocabulary.passage_terms
        return [
            Hit(
                self.passages[i],
                float(score[i]),
                float(cosine[i]),
                float(bm25[i]),
                tuple(sorted(t for t in rare if t in passage_terms[i])),
                float(guide[i]),
                explanation.get(int(i), ""),
                absent,
                unknown,
                query,
                unfamiliar,
            )
            for i in order
        ]

    def _dense(self, cosine: np.ndarray, vector: np.ndarray) -> np.ndarray:
        if DENSE_SENTENCE_WEIGHT <= 0 or not self._sentences:
            return cosine
        return dense_scores(cosine, self._sentence_vectors @ vector, self._sentence_passage)

    @staticmethod
    def fuse(dense: np.ndarray, bm25: np.ndarray) -> np.ndarray:
        """Reciprocal-rank fusion of the dense and BM25 rankings (:func:`.fusion.fuse`)."""
        return fuse(dense, bm25)
