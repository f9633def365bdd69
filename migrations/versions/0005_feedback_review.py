"""feedback review: kinds, reasons and a resolve workflow; pseudonymous learners for /forget-me

Revision ID: 0005_feedback_review
Revises: 0004_daily_quiz
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_feedback_review"
down_revision: str | None = "0004_daily_quiz"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="lesson")
        )
        batch_op.add_column(sa.Column("reason", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("status", sa.String(length=12), nullable=False, server_default="open")
        )
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolved_by", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("resolution_note", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("reporter_notified_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_check_constraint(
            op.f("ck_feedback_kind"), "kind IN ('lesson', 'ask', 'question')"
        )
        batch_op.create_check_constraint(
            op.f("ck_feedback_status"), "status IN ('open', 'resolved')"
        )
        batch_op.create_index(
            "ix_feedback_guild_status_created", ["guild_id", "status", "created_at"], unique=False
        )
    # Rows written before this migration: an /ask rating or a question's feedback by context.
    op.execute("UPDATE feedback SET kind = 'ask' WHERE ask_log_id IS NOT NULL")
    op.execute(
        "UPDATE feedback SET kind = 'question' WHERE ask_log_id IS NULL AND question_id IS NOT NULL"
    )

    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pseudonym", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.drop_column("pseudonym")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_guild_status_created")
        batch_op.drop_constraint(op.f("ck_feedback_status"), type_="check")
        batch_op.drop_constraint(op.f("ck_feedback_kind"), type_="check")
        for column in ("reporter_notified_at", "resolution_note", "resolved_by", "resolved_at",
                       "status", "reason", "kind"):
            batch_op.drop_column(column)
