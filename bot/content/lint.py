"""The item-writing linter: warnings about quiz questions that can be answered by guessing.

The loader (:mod:`bot.content.loader`) reports *errors*: content the bot cannot serve. This module
reports *warnings*: content the bot can serve but that tests test-taking rather than
understanding. Each warning names a rule from :data:`RULES`; ``tutorbot lessons check --strict``
fails on any warning. A question waives a rule with ``lint_ignore = ["rule"]`` and a
``lint_reason``; a snippet that teaches no testable fact says ``quiz = false`` with a ``reason``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    """One item-writing rule: its name, why it matters, and whether one question may waive it."""

    name: str
    why: str
    per_question: bool  # True: a question can waive it with lint_ignore


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule("keyed-longest", "learners learn that the longest choice is usually right", False),
        Rule("keyed-shortest", "learners learn that the shortest choice is usually right", False),
        Rule("true-false-balance",
             "an unbalanced true/false set rewards always guessing the majority answer", False),
        Rule("absolute",
             "words like 'always' or 'never' mark a statement as false without any knowledge",
             True),
        Rule("duplicate-stem",
             "the same question twice counts one fact double and wastes the learner's time", True),
        Rule("stem-gives-answer",
             "a stem that contains its answer is answered by matching words, not by knowing",
             True),
        Rule("throwaway-choice",
             "a filler choice reused across questions is a distractor nobody picks", True),
        Rule("untested-snippet",
             "a snippet that teaches a fact but has no question is never checked or reviewed",
             False),
        Rule("no-reasoning-question",
             "a lesson with only recall questions never asks the learner to apply the idea",
             False),
        Rule("explanation-cites-options",
             "choices are shuffled and /ask quotes explanations alone, so 'option B' means nothing",
             True),
    )
}

WAIVABLE = frozenset(name for name, rule in RULES.items() if rule.per_question)
