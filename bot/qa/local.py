"""The offline answer: about 600 characters quoted from the course, or an honest "not covered".

No model here writes text. The answer is made of whole sentences copied from the passages that
retrieval found, chosen by their similarity to the question, so it can never state a fact the
course does not hold. When the best passages are too far from the question (or the message is
small talk or an attempt to give the bot instructions) it declines and names the nearest
lessons instead of quoting something beside the point.

Thresholds were tuned on the "tune" half of tests/ask/questions-*.toml with
``bench/ask_local.py --split tune --sweep``; the "report" half measures them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.qa.embedder import Embedder
from bot.qa.retrieval import (
    Hit,
    Passage,
    Sentence,
    candidate_sentences,
    content_words,
    defines,
    definition_subject,
    mentions,
)

#: A question is answered when its best passage reaches this cosine similarity...
SUPPORT_MIN_COSINE = 0.43
#: ... or reaches SUPPORT_LEXICAL_MIN_COSINE with a BM25 score of at least SUPPORT_MIN_BM25
#: (the words of the question really occur in it).
SUPPORT_LEXICAL_MIN_COSINE = 0.33
SUPPORT_MIN_BM25 = 3.3
#: ... or holds one of the question's rare course terms (an acronym such as RLHF that the
#: embedding barely knows, see Retriever.course_terms) and is at least not opposite in meaning.
#: (A bare "whats rlhf" can score near 0 against the very passage that defines RLHF.)
SUPPORT_TERM_MIN_COSINE = 0.0
#: ... or one of the course's own questions in a learner's voice (a guide) is this close to it.
SUPPORT_MIN_GUIDE = 0.62
#: A definition question whose subject holds a word the course never uses ("what is dropout")
#: is declined unless a passage is at least this close (the word may be a learner's synonym).
UNKNOWN_SUBJECT_MAX_COSINE = 0.5
#: A question holding a word that looks like jargon the course never uses ("pooling",
#: "xgboost": see Speller.unfamiliar) is declined unless a passage is at least this close, or
#: one of the course's own questions in a learner's voice (a guide) at least this close: the
#: word is then the learner's own ("paycheck"). Chosen on the tune half: off-course declined
#: 22/24 -> 24/24, in-course declined 1 -> 1.
UNFAMILIAR_MAX_COSINE = 0.5
UNFAMILIAR_MAX_GUIDE = 0.62
#: Sentences are quoted from the best passage, and from the next one when it is about as
#: close to the question (its cosine at most this much lower): they agree on the topic.
PASSAGES_QUOTED = 2
SECOND_PASSAGE_COSINE_SLACK = 0.03
#: An answer holds at most this many characters of quoted text (about five sentences); a
#: list introduced by a lead-in comes whole when it fits.
MAX_CHARS = 600
MAX_SENTENCES = 8
#: A sentence's score: its cosine similarity with the question, plus these bonuses.
LEXICAL_WEIGHT = 0.15  # x the share of the question's words that the sentence contains
EMPHASIS_WEIGHT = 0.15  # the author set a term in it in bold: it states a key point
NEW_EMPHASIS_WEIGHT = 0.10  # ... and that term is not just the question's own words
PASSAGE_RANK_PENALTY = 0.05  # per rank of its passage below the best one
#: A question asking for a number, a year, a name or a term ("how many", "when", "who", "what is
#: it called") prefers the sentences that hold that kind of answer (see answer_types).
ANSWER_TYPE_WEIGHT = 0.15
#: ... and when the best passage holds no sentence of that kind, a passage among the next ones
#: that does is quoted instead, if its cosine is at most this much lower.
ANSWER_TYPE_COSINE_SLACK = 0.05
ANSWER_TYPE_PASSAGES = 3
#: A definition question ("what is X", "define X", "what does X stand for") prefers sentences
#: that name X, and most of all those that define it ("X is...", "called X", "X (...)").
DEFINITION_MENTION_WEIGHT = 0.05
DEFINITION_WEIGHT = 0.2
#: A sentence sharing this share of its content words (or the other's, if fewer) with one
#: already quoted repeats it, and is left out (a quiz explanation often restates its passage).
REPEAT_SHARE = 0.7
#: Fragments this short are quoted only beside their neighbours, never chosen for themselves.
MIN_WORDS = 4
#: A question the course asks itself ("Why not just use whole words?") is quoted with this
#: many of the sentences after it in its paragraph (the answer), as many as fit.
ANSWERING_SENTENCES = 2
#: How many lessons a decline names.
LESSONS_NAMED = 2


@dataclass(frozen=True)
class LocalAnswer:
    """An answer made offline from the course text."""

    text: str  # the answer WITHOUT the "offline" label (adapters add the label)
    citations: tuple[Passage, ...]  # the passages quoted, best first ([n] in ``text``)
    supported: bool  # False: the course does not cover it; ``text`` names the nearest lessons


# --- messages that are not questions about the course ------------------------------------------

_GREETING_WORDS = frozenset(
    """hi hello hey hiya howdy yo sup hola bonjour morning afternoon evening good night thanks
    thank you thx ty cheers bye goodbye ok okay cool nice great there bot tutor tutorbot all
    everyone folks guys please lol haha how are what's whats up doing is it going who you
    u r a an the i am im i'm test testing ping""".split()
)
_INJECTION_RE = re.compile(
    r"""
    \b(ignore|disregard|forget|override|bypass)\b[^.?!]{0,40}
        \b(instructions?|prompts?|rules|guidelines|directions|context|above|previous|prior)\b
    | \byour\s+system\s+prompt\b
    | \b(reveal|print|show|repeat|leak)\b[^.?!]{0,30}\b(instructions|prompt|rules|api\s+key)\b
    | \byou\s+are\s+(now|no\s+longer)\b
    | \b(pretend|act)\s+(to\s+be|you\s+are|as\s+(if|a|an))\b
    | \b(jailbreak|developer\s+mode|dan\s+mode|do\s+anything\s+now)\b
    | \bnew\s+instructions?\b
    | </?\s*(system|instructions?|question)\s*>
    """,
    re.IGNORECASE | re.VERBOSE,
)
_WORD_RE = re.compile(r"[\w']+")


def is_small_talk(text: str) -> bool:
    """A greeting, thanks or "how are you" with nothing to look up."""
    words = [w.lower() for w in _WORD_RE.findall(text)]
    return all(w in _GREETING_WORDS for w in words)


def is_injection(text: str) -> bool:
    """Text that tries to give the bot instructions instead of asking about the course."""
    return bool(_INJECTION_RE.search(text))


# --- answering ---------------------------------------------------------------------------------


def is_supported(hits: list[Hit]) -> bool:
    """Whether the best passage is close enough to the question to quote from it."""
    if not hits:
        return False
    cosine = max(h.cosine for h in hits)
    bm25 = max(h.bm25 for h in hits)
    return (
        cosine >= SUPPORT_MIN_COSINE
        or hits[0].guide >= SUPPORT_MIN_GUIDE
        or (cosine >= SUPPORT_LEXICAL_MIN_COSINE and bm25 >= SUPPORT_MIN_BM25)
        or any(h.terms and h.cosine >= SUPPORT_TERM_MIN_COSINE for h in hits)
    )


def _unknown_subject(hits: list[Hit]) -> bool:
    """A definition question about a word the course never uses, with no passage very close."""
    return bool(hits[0].unknown) and max(h.cosine for h in hits) < UNKNOWN_SUBJECT_MAX_COSINE


def _unfamiliar(hits: list[Hit]) -> bool:
    """A question around a word that looks like jargon the course never uses, nothing close."""
    return (
        bool(hits[0].unfamiliar)
        and max(h.cosine for h in hits) < UNFAMILIAR_MAX_COSINE
        and hits[0].guide < UNFAMILIAR_MAX_GUIDE
    )


def answer_locally(question: str, hits: list[Hit]) -> LocalAnswer:
    """Answer ``question`` by quoting the best sentences of ``hits`` (best passage first).

    Declines, naming the lessons of the nearest passages, when the course does not cover the
    question or the message is not a question about it.
    """
    text = question.strip()
    if not text or is_small_talk(text):
        return _decline(hits, _SMALL_TALK)
    if is_injection(text):
        return _decline(hits, _INJECTION)
    if not is_supported(hits) or (
        hits and (hits[0].absent or _unknown_subject(hits) or _unfamiliar(hits))
    ):
        return _decline(hits, _NOT_COVERED)
    text = hits[0].query or text  # as retrieval read it: short forms and typos spelt out
    quoted = _quoted_hits(text, hits)
    explanation = quoted[0].explanation if quoted[0] is hits[0] else ""
    if len(explanation) > MAX_CHARS:
        explanation = ""
    budget = MAX_CHARS - len(explanation)
    chosen = _choose_sentences(text, quoted, budget) if budget > 0 else []
    if explanation and _repeats(
        content_words(explanation), [content_words(q.sentence.text) for q in chosen]
    ):
        # The lesson says it too: quote the lesson's own words, with the room that frees.
        explanation = ""
        chosen = _choose_sentences(text, quoted)
    if not chosen and not explanation:
        return _decline(hits, _NOT_COVERED)
    return _compose(chosen, explanation, quoted[0].passage)


# Each decline: what to say, then how to name the nearest lessons.
_SMALL_TALK = (
    "Hello! I answer questions about the course by quoting its lessons.",
    " Ask me about any topic in them; {lessons} {is_are} a good place to start.",
)
_INJECTION = (
    "I can only answer questions about the course, from its lessons.",
    " The nearest {lesson_s} to your message {is_are} {lessons}.",
)
_NOT_COVERED = (
    "I could not find this in the course, so I won't guess.",
    " The nearest {lesson_s} {is_are} {lessons}.",
)


@dataclass(frozen=True)
class _Quote:
    passage: Passage
    rank: int  # of the passage among the hits, 0 = best
    position: int  # of the sentence in the passage
    sentence: Sentence


def _quoted_hits(question: str, hits: list[Hit]) -> list[Hit]:
    """The hits to quote from: the best ones, or a close runner-up that holds what is asked.

    The best hits are the best one, the next one when about as close, and the other parts of the
    best one's snippet among ``hits``.

    When the question asks for a name, a year or a number that the best hits do not hold and a
    close runner-up does ("who invented X": the passage that says who, not the one that best
    describes X), that runner-up alone.
    """
    wanted = answer_types(question) - {"term"}
    best = [
        hit for rank, hit in enumerate(hits[:PASSAGES_QUOTED])
        if rank == 0 or hit.cosine >= hits[0].cosine - SECOND_PASSAGE_COSINE_SLACK
    ]
    # A long snippet split into parts for the model is still one text: the other parts of the
    # best passage's snippet found among the hits may be quoted with it.
    best += [
        hit for hit in hits[1:]
        if hit.passage.snippet_id == hits[0].passage.snippet_id and hit not in best
    ]
    asked = content_words(question)
    if not wanted or any(_holds(hit, wanted, asked) for hit in best):
        return best
    for hit in hits[PASSAGES_QUOTED:ANSWER_TYPE_PASSAGES]:
        if hit.cosine >= best[0].cosine - ANSWER_TYPE_COSINE_SLACK and _holds(hit, wanted, asked):
            return [hit]
    return best


def _previous(candidates: list[_Quote], i: int) -> str:
    """The sentence before candidate ``i`` in the same paragraph ("" if none)."""
    before, here = (candidates[i - 1], candidates[i]) if i else (None, candidates[i])
    if before and before.passage == here.passage and before.sentence.block == here.sentence.block:
        return before.sentence.text
    return ""


# A person's or a company's name: a capitalised word that is not an acronym ("AI", "GPT").
_PROPER_NAME_RE = re.compile(r"(?<=\s)[A-Z][a-z]+\b")


def _holds(hit: Hit, wanted: frozenset[str], asked: frozenset[str]) -> bool:
    """Whether a sentence of ``hit`` holds a ``wanted`` answer that the question does not."""
    for sentence in candidate_sentences(hit.passage.text):
        kinds = wanted & sentence_types(sentence.text)
        if kinds - {"name"}:
            return True
        if kinds and any(
            not content_words(name) <= asked for name in _PROPER_NAME_RE.findall(sentence.text)
        ):
            return True
    return False


_ANAPHORA = frozenset(
    "it its this these they them their that those such so but and or also both each".split()
)


def _repeats(words: frozenset[str], said: list[frozenset[str]]) -> bool:
    """Whether a sentence of ``words`` mostly repeats one already quoted (``said``)."""
    return any(
        len(words & other) >= REPEAT_SHARE * min(len(words), len(other))
        for other in said if words and other
    )


def _choose_sentences(question: str, hits: list[Hit], budget: int = MAX_CHARS) -> list[_Quote]:
    """The sentences to quote for ``question`` from ``hits``, within ``budget`` characters.

    A sentence that mostly repeats one already chosen is left out.
    """
    candidates = [
        _Quote(hit.passage, rank, position, sentence)
        for rank, hit in enumerate(hits)
        for position, sentence in enumerate(candidate_sentences(hit.passage.text))
    ]
    if not candidates:
        return []
    embedder = Embedder.shared()
    query = embedder.embed_query(question)
    scores = embedder.embed_known([c.sentence.text for c in candidates]) @ query
    question_words = content_words(question)
    wanted = answer_types(question)
    subject = definition_subject(question)
    for i, c in enumerate(candidates):
        words = content_words(c.sentence.text)
        stressed = content_words(" ".join(c.sentence.emphasis))
        overlap = len(question_words & words) / len(question_words) if question_words else 0.0
        scores[i] += (
            LEXICAL_WEIGHT * overlap
            + DEFINITION_MENTION_WEIGHT * mentions(c.sentence.text, subject)
            + DEFINITION_WEIGHT * defines(c.sentence.text, subject, _previous(candidates, i))
            + EMPHASIS_WEIGHT * bool(stressed)
            + NEW_EMPHASIS_WEIGHT * bool(stressed - question_words)
            + ANSWER_TYPE_WEIGHT * bool(wanted & sentence_types(c.sentence.text))
            - PASSAGE_RANK_PENALTY * c.rank
        )
    eligible = [i for i, c in enumerate(candidates) if len(c.sentence.text.split()) >= MIN_WORDS]
    chosen: set[int] = set()

    def size(group: set[int]) -> int:
        return sum(
            len(candidates[j].sentence.text) + len(candidates[j].sentence.code) + 1 for j in group
        )

    ranked = sorted(eligible, key=lambda i: -scores[i])
    # The best passage leads: its best sentence comes first, even when a runner-up's sentences
    # score higher, so the answer never drops the passage that ranked first.
    lead = next((i for i in ranked if candidates[i].rank == 0), None)
    if lead is not None:
        ranked.remove(lead)
        ranked.insert(0, lead)
    said: list[frozenset[str]] = []
    for i in ranked:
        if len(chosen) >= MAX_SENTENCES:
            break
        words = content_words(candidates[i].sentence.text)
        if i not in chosen and _repeats(words, said):
            continue
        group = _with_context(candidates, i, budget)
        if group and (not chosen or size(chosen | group) <= budget):
            chosen |= group
            said.extend(content_words(candidates[j].sentence.text) for j in group)
        if size(chosen) >= budget:
            break
    # Source by source (the best first; the parts of one snippet together, in course order),
    # and in the course's order inside each.
    first_rank: dict[str, int] = {}
    for c in candidates:
        first_rank.setdefault(c.passage.snippet_id, c.rank)

    def order(i: int) -> tuple[int, str, int]:
        c = candidates[i]
        return first_rank[c.passage.snippet_id], c.passage.id, c.position

    return [candidates[i] for i in sorted(chosen, key=order)]


# Answer types: what a question asks for, and what a sentence must hold to give it. A "how many"
# question is answered by a sentence with a number in it; the embedding alone often prefers a
# sentence that repeats the question's topic without the figure.
_ASKS: dict[str, re.Pattern[str]] = {
    "number": re.compile(
        r"\bhow (?:many|much|big|large|long|old|fast|often|expensive|far)\b"
        r"|\bwhat (?:percentage|percent|share|fraction|number|size|proportion)\b",
        re.IGNORECASE,
    ),
    "year": re.compile(
        r"^\W*when\b|\b(?:what|which) year\b|\bwhen (?:was|were|did)\b", re.IGNORECASE
    ),
    "name": re.compile(
        r"^\W*who\b|\bwho (?:made|built|created|invented|released|introduced|developed|wrote)\b"
        r"|\bwhich (?:company|companies|labs?|organi[sz]ations?|team|person|researchers?)\b",
        re.IGNORECASE,
    ),
    "term": re.compile(
        r"\bwhat (?:do|does|did|would) (?:you|u|we|they|people|ppl|one) call\b|\bcalled\b"
        r"|\bwhat(?:'?s| is| was) (?:that|the name|the term|the word)\b|\bname (?:of|for)\b"
        r"|\bterm for\b|\bstand for\b",
        re.IGNORECASE,
    ),
}
_HOLDS: dict[str, re.Pattern[str]] = {
    "number": re.compile(
        r"\d|\b(?:hundred|thousand|million|billion|trillion|half|quarter|percent|dozen)s?\b",
        re.IGNORECASE,
    ),
    "year": re.compile(r"\b(?:1[89]|20)\d\d\b"),
    # A capitalised word inside the sentence (its first word is capitalised anyway).
    "name": re.compile(r"(?<=\s)(?:[A-Z][a-z]+|[A-Z]{2,})"),
    # A term being defined: "... feedback (RLHF)", "is called", "is known as", "stands for".
    "term": re.compile(
        r"\(\s*[A-Z][A-Za-z0-9-]*[A-Z0-9]s?\s*\)"
        r"|\b(?:called|known as|stands? for|refers? to|is the name)\b"
    ),
}


def answer_types(question: str) -> frozenset[str]:
    """What kind of answer ``question`` asks for: "number", "year", "name" and/or "term"."""
    return frozenset(kind for kind, pattern in _ASKS.items() if pattern.search(question))


def sentence_types(sentence: str) -> frozenset[str]:
    """The kinds of answer ``sentence`` holds: a number, a year, a proper name, a defined term."""
    return frozenset(kind for kind, pattern in _HOLDS.items() if pattern.search(sentence))


def _with_context(candidates: list[_Quote], i: int, budget: int = MAX_CHARS) -> set[int]:
    """Sentence ``i`` with what it needs to be understood when quoted.

    A lead-in ("They are:") brings the list it introduces (as many items as fit in
    ``budget``, at least one); a list item brings its lead-in; a sentence opening with "It",
    "This", "They"... brings the sentence before it in the same paragraph.
    """
    group = {i}
    quote = candidates[i]

    def neighbour(j: int) -> _Quote | None:
        if 0 <= j < len(candidates) and candidates[j].passage == quote.passage:
            return candidates[j]
        return None

    before = neighbour(i - 1)
    first_word = (
        quote.sentence.text.split()[0].lower().strip("\"'“(") if quote.sentence.text else ""
    )
    if first_word in _ANAPHORA and before and before.sentence.block == quote.sentence.block:
        group.add(i - 1)
    if quote.sentence.text.endswith("?"):
        # The course asks a question ("Why not just use whole words?") to answer it next: the
        # question comes with the sentences that answer it, in its paragraph.
        used = len(quote.sentence.text) + 1
        for j in range(i + 1, i + 1 + ANSWERING_SENTENCES):
            q = neighbour(j)
            if q is None or q.sentence.block != quote.sentence.block:
                break
            if j > i + 1 and used + len(q.sentence.text) + 1 > budget:
                break
            group.add(j)
            used += len(q.sentence.text) + 1
        if len(group) == 1:
            return set()  # a question without its answer is not worth quoting
    if quote.sentence.item:  # an item quoted alone lacks what its list is about
        j = i - 1
        while (q := neighbour(j)) is not None and q.sentence.item:
            j -= 1
        q = neighbour(j)
        if q is not None and q.sentence.lead_in:
            group.add(j)
            quote, i = q, j  # and bring the list, as for a lead-in
    if quote.sentence.lead_in:
        if quote.sentence.code:  # it introduces a code block: quoted together, or not at all
            used = sum(len(candidates[k].sentence.text) + 1 for k in group)
            return group if used + len(quote.sentence.code) + 1 <= budget else set()
        if neighbour(i + 1) is None:
            return set()  # a lead-in with nothing after it is not worth quoting
        used = sum(len(candidates[k].sentence.text) + 1 for k in group)
        j = i + 1
        while (q := neighbour(j)) is not None and q.sentence.item:
            if j > i + 1 and used + len(q.sentence.text) + 1 > budget:
                break
            group.add(j)
            used += len(q.sentence.text) + 1
            j += 1
        if j == i + 1:
            group.add(i + 1)
    return group


def _compose(
    quotes: list[_Quote], explanation: str = "", explained: Passage | None = None
) -> LocalAnswer:
    # A quiz explanation that matched the question comes first, citing its passage; then
    # passage by passage (best first) and, inside one, in the course's own order; list items
    # stay list items and sentences of one paragraph stay one paragraph.
    citations: list[Passage] = []
    groups: list[list[str]] = []
    previous: _Quote | None = None
    if explanation and explained is not None:
        citations.append(explained)
        groups.append([explanation])
    for quote in quotes:
        # The parts of one long snippet are one source: one group, one citation.
        snippets = [p.snippet_id for p in citations]
        if quote.passage.snippet_id not in snippets:
            citations.append(quote.passage)
            groups.append([])
            snippets.append(quote.passage.snippet_id)
        lines = groups[snippets.index(quote.passage.snippet_id)]
        if previous is not None and previous.passage != quote.passage:
            previous = None
        sentence = quote.sentence
        if sentence.item:
            lines.append(f"- {sentence.text}")
        elif previous and not previous.sentence.item and previous.sentence.block == sentence.block:
            # An ellipsis marks sentences left out between two quoted ones.
            gap = " " if quote.position == previous.position + 1 else " … "
            lines[-1] += gap + sentence.text
        else:
            lines.append(sentence.text)
        if sentence.code:
            lines.append(sentence.code)  # a fenced block: on lines of its own
        previous = quote
    text = "\n\n".join(
        "\n".join(lines) + ("\n" if lines[-1].endswith("```") else " ") + f"[{n}]"
        for n, lines in enumerate(groups, start=1)
    )
    return LocalAnswer(text=text, citations=tuple(citations), supported=True)


def _decline(hits: list[Hit], message: tuple[str, str]) -> LocalAnswer:
    labels: list[str] = []
    for hit in hits:
        if hit.passage.citation not in labels:
            labels.append(hit.passage.citation)
        if len(labels) == LESSONS_NAMED:
            break
    text = message[0]
    if labels:
        named = " and ".join(f"**{label}**" for label in labels)
        several = len(labels) > 1
        text += message[1].format(
            lessons=named,
            lesson_s="lessons" if several else "lesson",
            is_are="are" if several else "is",
        )
    return LocalAnswer(text=text, citations=(), supported=False)
