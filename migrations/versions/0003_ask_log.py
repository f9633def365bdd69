"""ask log: every /ask question and answer, and feedback on answers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ask_log",
        sa.Column("id", _BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("learner_id", sa.BigInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("engine", sa.String(length=8), nullable=False),
        sa.Column("fallback_reason", sa.String(length=32), nullable=True),
        sa.Column("model", sa.String(length=64), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_read_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_write_tokens", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("engine IN ('llm', 'local')", name=op.f("ck_ask_log_engine")),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learner.id"],
            name=op.f("fk_ask_log_learner_id_learner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ask_log")),
    )
    with op.batch_alter_table("ask_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ask_log_learner_id"), ["learner_id"], unique=False)
        batch_op.create_index("ix_ask_log_guild_created", ["guild_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_ask_log_thread_created", ["thread_id", "created_at"], unique=False
        )

    # Feedback (thumbs up/down) on an answer points at its log row. Batch mode: SQLite cannot
    # add a foreign key to an existing table, so Alembic rebuilds it there.
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ask_log_id", _BIGINT_PK, nullable=True))
        batch_op.create_index(batch_op.f("ix_feedback_ask_log_id"), ["ask_log_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_feedback_ask_log_id_ask_log"),
            "ask_log",
            ["ask_log_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_feedback_ask_log_id_ask_log"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_feedback_ask_log_id"))
        batch_op.drop_column("ask_log_id")

    with op.batch_alter_table("ask_log", schema=None) as batch_op:
        batch_op.drop_index("ix_ask_log_thread_created")
        batch_op.drop_index("ix_ask_log_guild_created")
        batch_op.drop_index(batch_op.f("ix_ask_log_learner_id"))

    op.drop_table("ask_log")
