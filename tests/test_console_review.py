"""The console's /review: due questions, know/reset, nothing due, new questions."""

from __future__ import annotations

from datetime import timedelta

from bot.app import AppContext
from bot.console import Console
from bot.db.base import utcnow
from bot.services.memory import FirstAnswer, MemoryModel


async def test_console_review(app: AppContext) -> None:
    console = Console(app, 1, "you")
    out = await console.handle("/review")
    assert "Nothing to review yet" in out and "type `new`" in out
    async with app.db.sessions.begin() as session:
        for question, days in (("fx-genai.q1", 30), ("fx-nn.q3", 20), ("fx-nn.q2", 10)):
            await MemoryModel(fuzz=False).record(await session.connection(), [
                FirstAnswer(1, question, True, utcnow() - timedelta(days=days), "quiz")])
    out = await console.handle("/review")
    assert out.startswith("3 question(s) due") and "Review 1/3: " in out
    assert "know = I know this" in out
    out = await console.handle("a")  # fx-genai.q1: single choice, answer a or not
    assert "Back for review in " in out and "Review 2/3: " in out
    out = await console.handle("know")
    assert "won't come back for review" in out and "Review 2/2: " in out
    out = await console.handle("reset")
    assert out.startswith("Reset:") and "Review 2/2: " in out
    out = await console.handle("a")  # fx-nn.q2, single choice
    assert "Review finished: " in out
    out = await console.handle("/review")
    assert "Nothing to review right now. Your next review is in " in out
    out = await console.handle("new")
    assert "Question 1/" in out
