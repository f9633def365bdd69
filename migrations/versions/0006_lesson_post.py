"""lesson post: which learner each posted lesson page belongs to (buttons check it)

Revision ID: 0006_lesson_post
Revises: 0005_feedback_review
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_lesson_post"
down_revision: str | None = "0005_feedback_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lesson_post",
        sa.Column("message_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("learner_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"],
            name=op.f("fk_lesson_post_learner_id_learner"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_lesson_post")),
    )
    op.create_index(op.f("ix_lesson_post_learner_id"), "lesson_post", ["learner_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_lesson_post_learner_id"), table_name="lesson_post")
    op.drop_table("lesson_post")
