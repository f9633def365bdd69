"""Fusing rankings: reciprocal-rank fusion of the dense, BM25, term and guide rankings.

Reciprocal-rank fusion needs no calibration between scores of different kinds: each ranking
adds ``weight / (RRF_K + rank)`` to a passage's score.
"""

from __future__ import annotations

import numpy as np

#: Reciprocal-rank fusion: score = w_bm25 / (K + rank_bm25) + w_dense / (K + rank_dense).
RRF_K = 5.0
RRF_BM25_WEIGHT = 0.75
RRF_DENSE_WEIGHT = 1.0
#: How a passage's dense score mixes its own vector with its best sentence's.
DENSE_SENTENCE_WEIGHT = 0.3
#: How much of a passage's dense score, in the fused ranking, is the question's cosine with the
#: closest of its guides (the phrasings and quiz questions written for it, see
#: :mod:`bot.qa.retrieval.guides`), ungated: a learner's wording is often nearer a phrasing than
#: the lesson's prose. Chosen on the tune half (key fact 46 -> 48/53 for any weight from 0.35 to
#: 0.5; 0.65 and more fell to 44).
DENSE_GUIDE_WEIGHT = 0.4
#: A third ranking fused in: passages holding the question's rare course terms (see
#: :meth:`CourseVocabulary.course_terms`), and for "what is X" questions the passages that name
#: X in their title or define X in their opening sentences.
RRF_TERM_WEIGHT = 1.0
#: A fourth ranking fused in: the course's own questions in a learner's voice (see
#: :mod:`bot.qa.retrieval.guides`), gated by ``GUIDE_MIN_COSINE`` there.
RRF_GUIDE_WEIGHT = 0.5
#: ... and once more for the guides at least ``STRONG_GUIDE_MIN_COSINE`` close: a question that
#: all but repeats one of the course's own questions is about that question's passage.
RRF_STRONG_GUIDE_WEIGHT = 1.0


def rrf_ranks(scores: np.ndarray, *, positive_only: bool) -> np.ndarray:
    """1-based ranks (ties share the better rank); ``inf`` for items that must not count."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    if positive_only:
        ranks[scores <= 0] = np.inf
    return ranks


def rrf(weight: float, scores: np.ndarray, *, positive_only: bool) -> np.ndarray:
    """One ranking's share of the fused score: ``weight / (RRF_K + rank)``."""
    return weight / (RRF_K + rrf_ranks(scores, positive_only=positive_only))


def fuse(dense: np.ndarray, bm25: np.ndarray) -> np.ndarray:
    """Reciprocal-rank fusion of the dense and BM25 rankings."""
    return rrf(RRF_DENSE_WEIGHT, dense, positive_only=False) + rrf(
        RRF_BM25_WEIGHT, bm25, positive_only=True
    )


def dense_scores(
    cosine: np.ndarray, sentence_cosine: np.ndarray, sentence_passage: np.ndarray
) -> np.ndarray:
    """Per passage, its own cosine mixed with its best sentence's (``DENSE_SENTENCE_WEIGHT``).

    ``sentence_cosine[j]`` is the question's cosine with sentence ``j`` of passage
    ``sentence_passage[j]``; a passage without sentences keeps its own cosine.
    """
    if DENSE_SENTENCE_WEIGHT <= 0 or not len(sentence_cosine):
        return cosine
    best = np.full(len(cosine), -1.0, dtype=np.float32)
    np.maximum.at(best, sentence_passage, sentence_cosine)
    best = np.where(best < -0.5, cosine, best)
    return (1 - DENSE_SENTENCE_WEIGHT) * cosine + DENSE_SENTENCE_WEIGHT * best


def with_guides(dense: np.ndarray, guide: np.ndarray) -> np.ndarray:
    """Dense scores mixed with each passage's closest guide (``DENSE_GUIDE_WEIGHT``).

    ``guide[i]`` is the question's cosine with the closest guide of passage ``i`` (0 for a
    passage without guides).
    """
    if DENSE_GUIDE_WEIGHT <= 0 or not len(guide):
        return dense
    return (1 - DENSE_GUIDE_WEIGHT) * dense + DENSE_GUIDE_WEIGHT * guide
