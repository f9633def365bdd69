"""course engine: learners, guilds, progress, quiz attempts, feedback

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guild",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guild")),
    )
    op.create_table(
        "learner",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("current_lesson_id", sa.String(length=48), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learner")),
    )
    op.create_table(
        "guild_member",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("learner_id", sa.BigInteger(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guild.id"],
            name=op.f("fk_guild_member_guild_id_guild"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learner.id"],
            name=op.f("fk_guild_member_learner_id_learner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", "learner_id", name=op.f("pk_guild_member")),
    )
    op.create_table(
        "lesson_progress",
        sa.Column("learner_id", sa.BigInteger(), nullable=False),
        sa.Column("lesson_id", sa.String(length=48), nullable=False),
        sa.Column("last_snippet_id", sa.String(length=48), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learner.id"],
            name=op.f("fk_lesson_progress_learner_id_learner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("learner_id", "lesson_id", name=op.f("pk_lesson_progress")),
    )
    op.create_table(
        "quiz_attempt",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("learner_id", sa.BigInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("lesson_id", sa.String(length=48), nullable=True),
        sa.Column("question_ids", sa.JSON(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learner.id"],
            name=op.f("fk_quiz_attempt_learner_id_learner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_attempt")),
    )
    with op.batch_alter_table("quiz_attempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quiz_attempt_learner_id"), ["learner_id"], unique=False
        )

    op.create_table(
        "snippet_view",
        sa.Column("learner_id", sa.BigInteger(), nullable=False),
        sa.Column("snippet_id", sa.String(length=48), nullable=False),
        sa.Column("lesson_id", sa.String(length=48), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learner.id"],
            name=op.f("fk_snippet_view_learner_id_learner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("learner_id", "snippet_id", name=op.f("pk_snippet_view")),
    )
    op.create_table(
        "quiz_answer",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "attempt_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("learner_id", sa.BigInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("lesson_id", sa.String(length=48), nullable=False),
        sa.Column("question_id", sa.String(length=48), nullable=False),
        sa.Column("choice_id", sa.String(length=16), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(choice_id IS NOT NULL) OR (value IS NOT NULL)",
            name=op.f("ck_quiz_answer_choice_or_value"),
        ),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["quiz_attempt.id"],
            name=op.f("fk_quiz_answer_attempt_id_quiz_attempt"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learner.id"],
            name=op.f("fk_quiz_answer_learner_id_learner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_answer")),
        sa.UniqueConstraint(
            "attempt_id", "question_id", name=op.f("uq_quiz_answer_attempt_id_question_id")
        ),
    )
    with op.batch_alter_table("quiz_answer", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quiz_answer_guild_correct", ["guild_id", "correct", "learner_id"], unique=False
        )
        batch_op.create_index(
            "ix_quiz_answer_learner_answered", ["learner_id", "answered_at"], unique=False
        )

    op.create_table(
        "feedback",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("learner_id", sa.BigInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("lesson_id", sa.String(length=48), nullable=True),
        sa.Column("snippet_id", sa.String(length=48), nullable=True),
        sa.Column("question_id", sa.String(length=48), nullable=True),
        sa.Column(
            "quiz_answer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(rating IS NOT NULL) OR (comment IS NOT NULL)",
            name=op.f("ck_feedback_rating_or_comment"),
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learner.id"],
            name=op.f("fk_feedback_learner_id_learner"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quiz_answer_id"],
            ["quiz_answer.id"],
            name=op.f("fk_feedback_quiz_answer_id_quiz_answer"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_learner_id"), ["learner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_lesson_id"), ["lesson_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_question_id"), ["question_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_question_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_lesson_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_learner_id"))

    op.drop_table("feedback")
    with op.batch_alter_table("quiz_answer", schema=None) as batch_op:
        batch_op.drop_index("ix_quiz_answer_learner_answered")
        batch_op.drop_index("ix_quiz_answer_guild_correct")

    op.drop_table("quiz_answer")
    op.drop_table("snippet_view")
    with op.batch_alter_table("quiz_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_attempt_learner_id"))

    op.drop_table("quiz_attempt")
    op.drop_table("lesson_progress")
    op.drop_table("guild_member")
    op.drop_table("learner")
    op.drop_table("guild")
