"""Find the course passages that answer a question: BM25 and sentence embeddings, fused.

Every public name is importable from here (``from bot.qa.retrieval import Retriever``); the
modules hold one concern each:

- :mod:`.text`: Markdown to plain prose, blocks, paragraphs and quotable sentences;
- :mod:`.words`: stemmed content words, and how the course spells its terms (acronyms, model
  names, versions);
- :mod:`.definitions`: "what is X?" questions and the sentences that define X;
- :mod:`.passages`: the course cut into passages (one per snippet, long ones split at
  paragraphs);
- :mod:`.guides`: the course's own questions in a learner's voice (phrasings, quiz stems and
  explanations), matched to passages;
- :mod:`.lexical`: BM25;
- :mod:`.vocabulary`: the course's rare terms, and the terms of a question it never names (an
  off-course signal);
- :mod:`.fusion`: reciprocal-rank fusion of the rankings;
- :mod:`.cache`: the vectors on disk, keyed by a hash of what was embedded;
- :mod:`.index`: :class:`Retriever`, which builds all of it (:meth:`Retriever.load`, synchronous:
  the bot calls it in a worker thread) and ranks passages (:meth:`Retriever.search`).

The offline answer assembled from the passages found is :mod:`bot.qa.local`.
"""

from bot.qa.retrieval.cache import CACHE_PREFIX, INDEX_FORMAT
from bot.qa.retrieval.definitions import MAX_SUBJECT_WORDS, defines, definition_subject, mentions
from bot.qa.retrieval.fusion import (
    DENSE_SENTENCE_WEIGHT,
    RRF_BM25_WEIGHT,
    RRF_DENSE_WEIGHT,
    RRF_GUIDE_WEIGHT,
    RRF_K,
    RRF_STRONG_GUIDE_WEIGHT,
    RRF_TERM_WEIGHT,
)
from bot.qa.retrieval.guides import (
    EXPLANATION_MIN_COSINE,
    GUIDE_MIN_COSINE,
    STRONG_GUIDE_MIN_COSINE,
    Guide,
    build_guides,
    quotable_explanation,
)
from bot.qa.retrieval.index import Hit, Mode, Retriever
from bot.qa.retrieval.passages import MAX_PASSAGE_TOKENS, Passage, build_passages
from bot.qa.retrieval.text import (
    Block,
    Sentence,
    candidate_sentences,
    plain_text,
    split_blocks,
    split_sentences,
    strip_inline,
)
from bot.qa.retrieval.vocabulary import (
    MIN_UNKNOWN_CHARS,
    RARE_TERM_MIN_PASSAGES,
    RARE_TERM_SHARE,
    CourseVocabulary,
)
from bot.qa.retrieval.words import MIN_TERM_CHARS, content_words, term_words

__all__ = [
    "CACHE_PREFIX",
    "DENSE_SENTENCE_WEIGHT",
    "EXPLANATION_MIN_COSINE",
    "GUIDE_MIN_COSINE",
    "INDEX_FORMAT",
    "MAX_PASSAGE_TOKENS",
    "MAX_SUBJECT_WORDS",
    "MIN_TERM_CHARS",
    "MIN_UNKNOWN_CHARS",
    "RARE_TERM_MIN_PASSAGES",
    "RARE_TERM_SHARE",
    "RRF_BM25_WEIGHT",
    "RRF_DENSE_WEIGHT",
    "RRF_GUIDE_WEIGHT",
    "RRF_K",
    "RRF_STRONG_GUIDE_WEIGHT",
    "RRF_TERM_WEIGHT",
    "STRONG_GUIDE_MIN_COSINE",
    "Block",
    "CourseVocabulary",
    "Guide",
    "Hit",
    "Mode",
    "Passage",
    "Retriever",
    "Sentence",
    "build_guides",
    "build_passages",
    "candidate_sentences",
    "content_words",
    "defines",
    "definition_subject",
    "mentions",
    "plain_text",
    "quotable_explanation",
    "split_blocks",
    "split_sentences",
    "strip_inline",
    "term_words",
]
