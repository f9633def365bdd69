"""daily quiz: guild settings, schedules, posts (the claim), answers, generic job claims

Daily answers are also quiz answers (``quiz_answer.daily_post_id``, no attempt), so points,
streaks and the leaderboard count them.

Revision ID: 0004_daily_quiz
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_daily_quiz"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "guild_config",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("moderator_role_id", sa.BigInteger(), nullable=True),
        sa.Column("maintainer_role_id", sa.BigInteger(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("notice_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("daily_token_budget", sa.Integer(), nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint(
            "daily_token_budget IS NULL OR daily_token_budget >= 0",
            name=op.f("ck_guild_config_budget_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["guild_id"], ["guild.id"], name=op.f("fk_guild_config_guild_id_guild"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_guild_config")),
    )
    op.create_table(
        "guild_ask_channel",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("channel_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"], ["guild.id"], name=op.f("fk_guild_ask_channel_guild_id_guild"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", "channel_id", name=op.f("pk_guild_ask_channel")),
    )
    op.create_table(
        "schedule",
        sa.Column("id", _BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("local_time", sa.Time(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("days", sa.SmallInteger(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("lesson_id", sa.String(length=48), nullable=True),
        sa.Column("close_after", sa.Integer(), nullable=False),
        sa.Column("reveal", sa.String(length=8), nullable=False),
        sa.Column("ping_role_id", sa.BigInteger(), nullable=True),
        sa.Column("use_thread", sa.Boolean(), nullable=False),
        sa.Column("paused_at", _TS, nullable=True),
        sa.Column("pause_reason", sa.String(length=300), nullable=True),
        sa.Column("skip_date", sa.Date(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint("source IN ('random', 'lesson', 'review')", name=op.f("ck_schedule_source")),
        sa.CheckConstraint("reveal IN ('instant', 'at_close')", name=op.f("ck_schedule_reveal")),
        sa.CheckConstraint("days BETWEEN 1 AND 127", name=op.f("ck_schedule_days")),
        sa.CheckConstraint("close_after BETWEEN 1 AND 10080", name=op.f("ck_schedule_close_after")),
        sa.CheckConstraint(
            "source <> 'lesson' OR lesson_id IS NOT NULL", name=op.f("ck_schedule_lesson_given")
        ),
        sa.ForeignKeyConstraint(
            ["guild_id"], ["guild.id"], name=op.f("fk_schedule_guild_id_guild"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule")),
    )
    with op.batch_alter_table("schedule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schedule_guild_id"), ["guild_id"], unique=False)

    op.create_table(
        "daily_post",
        sa.Column("id", _BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("schedule_id", _BIGINT_PK, nullable=True),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("question_id", sa.String(length=48), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("reveal", sa.String(length=8), nullable=False),
        sa.Column("ping_role_id", sa.BigInteger(), nullable=True),
        sa.Column("use_thread", sa.Boolean(), nullable=False),
        sa.Column("nonce", sa.String(length=25), nullable=False),
        sa.Column("due_at", _TS, nullable=False),
        sa.Column("claimed_at", _TS, nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("posted_at", _TS, nullable=True),
        sa.Column("closes_at", _TS, nullable=False),
        sa.Column("closed_at", _TS, nullable=True),
        sa.Column("results_message_id", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("failed_at", _TS, nullable=True),
        sa.CheckConstraint("reveal IN ('instant', 'at_close')", name=op.f("ck_daily_post_reveal")),
        sa.ForeignKeyConstraint(
            ["guild_id"], ["guild.id"], name=op.f("fk_daily_post_guild_id_guild"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["schedule.id"], name=op.f("fk_daily_post_schedule_id_schedule"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_post")),
        sa.UniqueConstraint("nonce", name=op.f("uq_daily_post_nonce")),
        sa.UniqueConstraint(
            "schedule_id", "local_date", name=op.f("uq_daily_post_schedule_id_local_date")
        ),
    )
    with op.batch_alter_table("daily_post", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_daily_post_guild_id"), ["guild_id"], unique=False)
        batch_op.create_index("ix_daily_post_open", ["closed_at", "closes_at"], unique=False)
        batch_op.create_index(
            "ix_daily_post_channel", ["channel_id", "question_id"], unique=False
        )

    op.create_table(
        "daily_answer",
        sa.Column("post_id", _BIGINT_PK, autoincrement=False, nullable=False),
        sa.Column("learner_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("choice_id", sa.String(length=16), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("answered_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_daily_answer_learner_id_learner"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["daily_post.id"], name=op.f("fk_daily_answer_post_id_daily_post"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", "learner_id", name=op.f("pk_daily_answer")),
    )
    op.create_table(
        "job_claim",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("claimed_at", _TS, nullable=False),
        sa.Column("done_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_job_claim")),
    )

    # A daily answer is also a quiz answer (no attempt, its post instead). Batch mode: SQLite
    # rebuilds the table to relax NOT NULL and add the foreign key.
    with op.batch_alter_table("quiz_answer", schema=None) as batch_op:
        batch_op.alter_column("attempt_id", existing_type=_BIGINT_PK, nullable=True)
        batch_op.add_column(sa.Column("daily_post_id", _BIGINT_PK, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_quiz_answer_daily_post_id_daily_post"),
            "daily_post",
            ["daily_post_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint(
            "attempt_or_post", "(attempt_id IS NOT NULL) OR (daily_post_id IS NOT NULL)"
        )


def downgrade() -> None:
    # Daily answers have no attempt: they go with the feature.
    op.execute("DELETE FROM quiz_answer WHERE attempt_id IS NULL")
    with op.batch_alter_table("quiz_answer", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_quiz_answer_attempt_or_post"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_quiz_answer_daily_post_id_daily_post"), type_="foreignkey"
        )
        batch_op.drop_column("daily_post_id")
        batch_op.alter_column("attempt_id", existing_type=_BIGINT_PK, nullable=False)

    op.drop_table("job_claim")
    op.drop_table("daily_answer")
    with op.batch_alter_table("daily_post", schema=None) as batch_op:
        batch_op.drop_index("ix_daily_post_channel")
        batch_op.drop_index("ix_daily_post_open")
        batch_op.drop_index(batch_op.f("ix_daily_post_guild_id"))
    op.drop_table("daily_post")
    with op.batch_alter_table("schedule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedule_guild_id"))
    op.drop_table("schedule")
    op.drop_table("guild_ask_channel")
    op.drop_table("guild_config")
