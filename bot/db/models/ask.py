"""The /ask log: every question and its answer, for maintainers and for the token budget.

Each row says which engine answered (``llm`` or ``local``), why the local model stood in
(``fallback_reason``), what the call cost in tokens, how long the learner waited, and which
course passages the answer cited. A guild's daily token budget is the sum of these rows, so
several bot processes share one budget through the database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK, UTCDateTime, utcnow


class AskLog(Base):
    """One /ask question (or console question) and what the tutor answered."""

    __tablename__ = "ask_log"
    __table_args__ = (
        CheckConstraint("engine IN ('llm', 'local')", name="engine"),
        # The daily token budget sums a guild's rows of one day.
        Index("ix_ask_log_guild_created", "guild_id", "created_at"),
        # A thread's conversation is read back in order.
        Index("ix_ask_log_thread_created", "thread_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    learner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("learner.id", ondelete="CASCADE"), index=True
    )
    guild_id: Mapped[int | None] = mapped_column(BigInteger)  # NULL in DMs and the console
    channel_id: Mapped[int | None] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)  # NULL: no answer could be given
    engine: Mapped[str] = mapped_column(String(8))
    fallback_reason: Mapped[str | None] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(64))  # NULL when Claude was not called
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int] = mapped_column(Integer)
    # Passage ids (e.g. ``tokens.bpe``) in the order the answer cites them.
    citations: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)



__all__ = ["AskLog"]
