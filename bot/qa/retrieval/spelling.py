"""Learners' spellings: chat short forms spelt out, and typos of course words corrected.

Learners write "params", "og transformer" and "halucinate". The sentence embedding splits an
unknown spelling into meaningless word pieces and BM25 never matches it, so the question is
read in the course's own spelling before it is ranked:

- a short form from :data:`SHORT_FORMS` is spelt out ("vocab" -> "vocabulary");
- a word that is neither a course word nor a whole word of the embedding model's vocabulary,
  and is one or two edits away from a course word, becomes that word ("paramters" ->
  "parameters"). A real English word ("cooking", whole in the model's vocabulary) is never
  changed, so a question about something else does not turn into a course question.

Edits are found with a deletion index (the "symmetric delete" idea of SymSpell): every course
word is filed under itself and each string one deletion away from it; a typo shares one of
those keys with its word whenever they are one insertion, deletion, substitution or swap apart.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

#: Chat short forms learners use for course words, lower case; spelt out before ranking.
SHORT_FORMS: dict[str, str] = {
    "wat": "what",
    "wht": "what",
    "cuz": "because",
    "param": "parameter",
    "params": "parameters",
    "vocab": "vocabulary",
    "og": "original",
    "diff": "difference",
    "pic": "picture",
    "pics": "pictures",
    "img": "image",
    "imgs": "images",
    "info": "information",
    "convo": "conversation",
    "convos": "conversations",
    "msg": "message",
    "msgs": "messages",
    "txt": "text",
    "genai": "generative AI",
    "nn": "neural network",
    "nns": "neural networks",
    "gpt2": "GPT-2",
    "gpt3": "GPT-3",
    "gpt4": "GPT-4",
    "finetune": "fine-tune",
    "finetuned": "fine-tuned",
    "finetuning": "fine-tuning",
    "pretrain": "pre-train",
    "pretrained": "pre-trained",
    "pretraining": "pre-training",
    "ctx": "context",
    "attn": "attention",
    "seq": "sequence",
    "dims": "dimensions",
    "approx": "approximately",
    "ppl": "people",
    "bc": "because",
    "abt": "about",
    "w/": "with",
}
_SHORT_FORM_RE = re.compile(
    r"(?<![\w-])(" + "|".join(re.escape(k) for k in sorted(SHORT_FORMS, key=len, reverse=True))
    + r")(?![\w-])",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
#: Chat spellings that are not topic words (see :meth:`Speller.unfamiliar`).
CHAT_WORDS = frozenset(
    """wht wat hows whys wheres werent wasnt arent isnt wont cant didnt doesnt dont shouldnt
    wouldnt couldnt havent hasnt aint ais thx pls plz tmrw idk imo imho btw lol omg tbh ngl
    irl rn ya yall gonna gotta wanna kinda sorta""".split()
)
#: British "-ise" spellings, for comparing with the course's "-ize" ones.
_AMERICAN_RE = re.compile(r"is(?=e|es|ed|ing|ation|ations|er|ers)$")
#: A word shorter than this is never taken for an unfamiliar topic word.
MIN_UNFAMILIAR_CHARS = 3
#: Words shorter than this are never corrected: too many course words are one edit away.
MIN_TYPO_CHARS = 5
#: Words at least this long may be two edits away from their course word; shorter ones one.
TWO_EDITS_CHARS = 8


def expand_short_forms(text: str) -> str:
    """``text`` with the chat short forms of :data:`SHORT_FORMS` spelt out."""
    return _SHORT_FORM_RE.sub(lambda m: SHORT_FORMS[m.group(1).lower()], text)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal-string-alignment distance of ``a`` and ``b`` (``limit + 1`` once past ``limit``)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


class Speller:
    """Reads a question in the course's spelling (see the module docstring)."""

    def __init__(
        self,
        texts: Iterable[str],
        is_common_word: Callable[[str], bool],
        stem: Callable[[str], str] = lambda word: word,
    ) -> None:
        self._count: Counter[str] = Counter(
            w.lower() for text in texts for w in _WORD_RE.findall(text)
        )
        self._stem = stem
        self._stems = frozenset(stem(word) for word in self._count)
        self._is_common_word = is_common_word
        self._index: dict[str, set[str]] = {}
        for word in self._count:
            if len(word) >= MIN_TYPO_CHARS - 1:
                for key in _deletes(word) | {word}:
                    self._index.setdefault(key, set()).add(word)

    def correct(self, word: str) -> str | None:
        """The course word ``word`` is a typo of, or None (a course word, or a real word)."""
        lower = word.lower()
        if (
            len(lower) < MIN_TYPO_CHARS
            or lower in self._count
            or lower in SHORT_FORMS
            or self._is_common_word(lower)
        ):
            return None
        limit = 2 if len(lower) >= TWO_EDITS_CHARS else 1
        found: set[str] = set()
        for key in _deletes(lower) | {lower}:
            found |= self._index.get(key, set())
        best: tuple[int, int, str] | None = None
        for candidate in found:
            distance = edit_distance(lower, candidate, limit)
            if distance <= limit:
                rank = (distance, -self._count[candidate], candidate)
                best = rank if best is None or rank < best else best
        return best[2] if best else None

    def unfamiliar(self, text: str, filler: frozenset[str] = frozenset()) -> tuple[str, ...]:
        """The words of ``text`` (read in the course's spelling) that look like unknown jargon.

        Words the course never uses (in any form with the same stem) that are not whole words of
        the embedding model's vocabulary either: "pooling", "xgboost", "dropout", "sourdough".
        Everyday words ("cooking", "trash") are whole words of that vocabulary; typos of course
        words were corrected by :meth:`normalise` first. A question built around such a word is
        most likely about something the course does not teach.
        """
        found: list[str] = []
        for match in _WORD_RE.finditer(text):
            word = match.group(0).lower().replace("'", "")
            if (
                len(word) < MIN_UNFAMILIAR_CHARS
                or word in filler
                or word in CHAT_WORDS
                or word in self._count
                or self._stem(word) in self._stems
                or self._stem(_AMERICAN_RE.sub("iz", word)) in self._stems  # customise
                or (word.endswith("s") and word[:-1] in self._count)  # "gpt's": gpts
                or self._is_common_word(word)
                or (word.endswith("s") and self._is_common_word(word[:-1]))
            ):
                continue
            found.append(word)
        return tuple(dict.fromkeys(found))

    def normalise(self, text: str) -> str:
        """``text`` with short forms spelt out and typos of course words corrected."""
        text = expand_short_forms(text)
        return _WORD_RE.sub(lambda m: self.correct(m.group(0)) or m.group(0), text)
