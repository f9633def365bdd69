"""spaced repetition: FSRS memory cards, review logs, review reminders (issue 11)

A card is one learner's memory of one question (``last_review`` is its compare-and-set
column); every update of a card writes a review log; a reminder row is a learner's opt-in
daily DM. ``/forget-me`` deletes all three. A quiz attempt gains its kind: ``review`` for the
attempts /review starts (their answers are logged with source ``review``).

Revision ID: 0007_spaced_repetition
Revises: 0006_lesson_post
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_spaced_repetition"
down_revision: str | None = "0006_lesson_post"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("quiz_attempt", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=8), nullable=False, server_default="quiz")
        )
        batch_op.create_check_constraint("kind", "kind IN ('quiz', 'review')")

    op.create_table(
        "review_card",
        sa.Column("learner_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("question_id", sa.String(length=48), nullable=False),
        sa.Column("due", _TS, nullable=False),
        sa.Column("stability", sa.Float(), nullable=True),
        sa.Column("difficulty", sa.Float(), nullable=True),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("last_review", _TS, nullable=True),
        sa.Column("reps", sa.Integer(), nullable=False),
        sa.Column("lapses", sa.Integer(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint("state BETWEEN 1 AND 3", name=op.f("ck_review_card_state")),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_review_card_learner_id_learner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("learner_id", "question_id", name=op.f("pk_review_card")),
    )
    op.create_index("ix_review_card_learner_due", "review_card", ["learner_id", "due"])

    op.create_table(
        "review_log",
        sa.Column("id", _BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("learner_id", sa.BigInteger(), nullable=False),
        sa.Column("question_id", sa.String(length=48), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("reviewed_at", _TS, nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("due_before", _TS, nullable=True),
        sa.Column("due_after", _TS, nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("rating BETWEEN 1 AND 4", name=op.f("ck_review_log_rating")),
        sa.CheckConstraint(
            "source IN ('quiz', 'daily', 'review')", name=op.f("ck_review_log_source")
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_review_log_learner_id_learner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_log")),
    )
    op.create_index(
        "ix_review_log_learner_reviewed", "review_log", ["learner_id", "reviewed_at"]
    )

    op.create_table(
        "reminder",
        sa.Column("learner_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("local_time", sa.Time(), nullable=False),
        sa.Column("min_due", sa.Integer(), nullable=False),
        sa.Column("snoozed_until", _TS, nullable=True),
        sa.Column("resent_on", sa.Date(), nullable=True),
        sa.Column("off_reason", sa.String(length=32), nullable=True),
        sa.Column("notice_pending", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint("min_due >= 1", name=op.f("ck_reminder_min_due_positive")),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_reminder_learner_id_learner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("learner_id", name=op.f("pk_reminder")),
    )


def downgrade() -> None:
    op.drop_table("reminder")
    op.drop_index("ix_review_log_learner_reviewed", table_name="review_log")
    op.drop_table("review_log")
    op.drop_index("ix_review_card_learner_due", table_name="review_card")
    op.drop_table("review_card")
    with op.batch_alter_table("quiz_attempt", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_quiz_attempt_kind"), type_="check")
        batch_op.drop_column("kind")
