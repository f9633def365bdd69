"""``/forget-me``: remove a learner's identity and free text, keep the course statistics true.

What happens, in one transaction:

1. A fresh pseudonymous learner is created for this learner alone (a random negative id, no
   name, ``pseudonym=True``). Item analysis groups answers by person, so every forgotten learner
   gets their own pseudonym, never a shared one.
2. Rows that carry statistics (quiz attempts and answers, reading progress, ``/ask`` log rows,
   ratings) are moved to the pseudonym **before** the learner row is deleted, because foreign
   keys cascade: deleting first would delete the statistics too.
3. Free text is removed: feedback comments are blanked (a comment-only row is deleted), ``/ask``
   questions and answers are blanked.
4. Rows that exist only to identify the learner (guild membership, and any table a later
   feature registers with :data:`DELETE`) are deleted, then the learner row.

Every table with a column naming a learner must appear in :data:`LEARNER_COLUMNS` with what to do
with it; a test walks the schema and fails on any column that is not there, so a new feature
cannot forget to forget. Messages already posted in Discord stay: the bot cannot edit what other
people's clients show, and says so.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import Base
from bot.db.models import Feedback, Learner
from bot.db.models.ask import AskLog


class Policy(StrEnum):
    """What forgetting does with a column that names the learner."""

    MOVE = "move"  # statistics: reassign to the learner's pseudonym
    DELETE = "delete"  # identity only: delete the row
    NULL = "null"  # a reference to a person (e.g. who resolved something): set NULL
    NOBODY = "nobody"  # a required reference to a person (who made a schedule): set to 0


#: (table, column) -> policy. Columns with a foreign key to ``learner.id`` and columns holding a
#: Discord user id by another name. A later feature adds its own tables here.
LEARNER_COLUMNS: dict[tuple[str, str], Policy] = {
    ("quiz_attempt", "learner_id"): Policy.MOVE,
    ("quiz_answer", "learner_id"): Policy.MOVE,
    ("lesson_progress", "learner_id"): Policy.MOVE,
    ("snippet_view", "learner_id"): Policy.MOVE,
    ("ask_log", "learner_id"): Policy.MOVE,
    ("feedback", "learner_id"): Policy.MOVE,
    ("feedback", "resolved_by"): Policy.NULL,
    ("guild_member", "learner_id"): Policy.DELETE,
    ("lesson_post", "learner_id"): Policy.DELETE,  # which lesson message is whose
    # Daily quizzes (migration 0004): answers are statistics; a moderator's schedules stay with
    # the guild, only the link to who made them goes (failure notices then go to the channel).
    ("daily_answer", "learner_id"): Policy.MOVE,
    ("schedule", "created_by"): Policy.NOBODY,
    # Spaced repetition (migration 0007): a learner's memory of each question, its review log
    # and their reminder settings describe that person, not a question: deleted, not moved.
    ("review_card", "learner_id"): Policy.DELETE,
    ("review_log", "learner_id"): Policy.DELETE,
    ("reminder", "learner_id"): Policy.DELETE,
}

#: Column names (besides foreign keys to learner.id) that hold a person's Discord user id.
PERSON_COLUMN_NAMES = {"learner_id", "user_id", "created_by", "resolved_by", "member_id"}


@dataclass
class Forgotten:
    """What was removed or anonymised, for the confirmation message."""

    learner_id: int
    existed: bool
    moved: dict[str, int] = field(default_factory=dict)  # table -> rows kept as statistics
    deleted: dict[str, int] = field(default_factory=dict)  # table -> rows deleted
    comments_removed: int = 0
    questions_blanked: int = 0

    def summary(self) -> str:
        """A sentence or two a learner can read."""
        if not self.existed:
            return "I had nothing stored about you, so there was nothing to forget."
        answers = self.moved.get("quiz_answer", 0)
        parts = [
            "Done: your name, server memberships and everything you wrote (feedback comments "
            f"and /ask questions: {self.comments_removed + self.questions_blanked}) are deleted.",
            f"Your {answers} quiz answer(s) stay in the course statistics under an anonymous id "
            "that is not linked to you and never appears on a leaderboard.",
            "Messages already posted in Discord stay where they are; delete them there if you "
            "want them gone.",
        ]
        if self.deleted.get("review_card") or self.deleted.get("reminder"):
            parts.insert(2, "Your review schedule and reminder settings are deleted.")
        return " ".join(parts)


def person_columns(table: Table) -> list[str]:
    """The columns of ``table`` that name a learner or another person."""
    found = []
    for column in table.columns:
        refers = any(fk.column.table.name == "learner" for fk in column.foreign_keys)
        if refers or column.name in PERSON_COLUMN_NAMES:
            found.append(column.name)
    return found


def unregistered_person_columns() -> list[tuple[str, str]]:
    """Person columns of the schema with no policy in :data:`LEARNER_COLUMNS`."""
    missing = []
    for table in Base.metadata.sorted_tables:
        if table.name == "learner":
            continue
        for column in person_columns(table):
            if (table.name, column) not in LEARNER_COLUMNS:
                missing.append((table.name, column))
    return missing


async def forget_learner(session: AsyncSession, learner_id: int) -> Forgotten:
    """Forget ``learner_id`` (see the module docstring). Idempotent: a second call finds nothing."""
    result = Forgotten(learner_id=learner_id, existed=False)
    learner = await session.get(Learner, learner_id)
    if learner is None or learner.pseudonym:
        return result
    result.existed = True

    pseudonym_id = -secrets.randbelow(2**62) - 1
    session.add(Learner(id=pseudonym_id, display_name="", pseudonym=True,
                        timezone=learner.timezone))
    await session.flush()

    # Free text first, while the rows still name the learner.
    comment_only = await session.execute(
        delete(Feedback).where(Feedback.learner_id == learner_id, Feedback.rating.is_(None))
    )
    with_rating = await session.execute(
        update(Feedback)
        .where(Feedback.learner_id == learner_id, Feedback.comment.is_not(None))
        .values(comment=None)
    )
    result.comments_removed = (comment_only.rowcount or 0) + (with_rating.rowcount or 0)  # type: ignore[attr-defined]
    blanked = await session.execute(
        update(AskLog)
        .where(AskLog.learner_id == learner_id)
        .values(question="", answer=None)
    )
    result.questions_blanked = blanked.rowcount or 0  # type: ignore[attr-defined]

    tables = {t.name: t for t in Base.metadata.sorted_tables}
    for (table_name, column_name), policy in LEARNER_COLUMNS.items():
        table = tables.get(table_name)
        if table is None:
            continue
        column = table.c[column_name]
        if policy is Policy.MOVE:
            done = await session.execute(
                update(table).where(column == learner_id).values({column_name: pseudonym_id})
            )
            if done.rowcount:  # type: ignore[attr-defined]
                result.moved[table_name] = done.rowcount  # type: ignore[attr-defined]
        elif policy in (Policy.NULL, Policy.NOBODY):
            value = None if policy is Policy.NULL else 0
            await session.execute(
                update(table).where(column == learner_id).values({column_name: value})
            )
        else:
            done = await session.execute(delete(table).where(column == learner_id))
            if done.rowcount:  # type: ignore[attr-defined]
                result.deleted[table_name] = done.rowcount  # type: ignore[attr-defined]

    await session.execute(delete(Learner).where(Learner.id == learner_id))
    result.deleted["learner"] = 1
    return result


async def rows_naming(session: AsyncSession, learner_id: int) -> dict[str, int]:
    """How many rows of each table still name ``learner_id`` (for tests and ``tutorbot forget``)."""
    counts: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        columns = person_columns(table) + (["id"] if table.name == "learner" else [])
        for name in columns:
            count = await session.scalar(
                select(func.count()).select_from(table).where(table.c[name] == learner_id)
            )
            if count:
                counts[f"{table.name}.{name}"] = int(count)
    return counts
