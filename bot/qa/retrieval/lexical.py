"""Lexical ranking: BM25 (``bm25s``) over stemmed words with English stop words removed."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer


class Lexical:
    """BM25 over stemmed words with English stop words removed."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._stemmer = Stemmer.Stemmer("english")
        self._lock = threading.Lock()  # PyStemmer objects are not thread-safe
        self._bm25 = bm25s.BM25()
        self._bm25.index(self.tokens(texts), show_progress=False)
        self._size = len(texts)

    def tokens(self, texts: Sequence[str]) -> list[list[str]]:
        """The BM25 tokens of each text: stemmed, stop words removed."""
        with self._lock:
            return bm25s.tokenize(
                list(texts),
                stopwords="en",
                stemmer=self._stemmer,
                return_ids=False,
                show_progress=False,
            )

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every indexed text for ``query`` (0 where no term occurs)."""
        terms = [t for t in self.tokens([query])[0] if t]
        known = self._bm25.get_tokens_ids(terms)
        if not known:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(known), dtype=np.float32)
