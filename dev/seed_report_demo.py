"""Seed a throwaway database with simulated learners, then write the maintainers' report from it.

Not part of CI: a demonstration for maintainers (and for the issue note) of what
``tutorbot report`` shows on a course with real traffic. Learners get an ability, questions a
difficulty (a one-parameter logistic model), and answers are drawn from it through the real quiz
service; one question is made to look mis-keyed (strong learners "miss" it) and one is made too
easy, so the report has something to flag. Feedback and /ask rows are added too.

    .venv/bin/python dev/seed_report_demo.py --out /tmp/report-demo [--learners 300]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import tempfile
from pathlib import Path

from bot.app import AppContext, build_app
from bot.content.model import QuestionKind
from bot.db.models import QuizAttempt
from bot.db.models.ask import AskLog
from bot.report.data import gather
from bot.report.render import write_report
from bot.services.feedback import FeedbackContext
from bot.settings import load_settings

GUILD = 424242


async def answer(app: AppContext, rng: random.Random, attempt_id: int, learner: int, qid: str,
                 ability: float, difficulty: float, *, flip: bool) -> None:
    """One simulated answer (right with a logistic chance; ``flip`` inverts it)."""
    question = app.course.questions[qid]
    p_right = 1 / (1 + math.exp(-(ability - difficulty)))
    right = rng.random() < (1 - p_right if flip else p_right)
    async with app.db.sessions.begin() as session:
        if question.kind is QuestionKind.NUMERIC:
            assert question.answer_number is not None
            value = question.answer_number + (0 if right else 7 + question.tolerance)
            await app.services.quiz.record_answer(session, attempt_id, learner, qid, value=value)
        else:
            wrong = [c.id for c in question.choices if c.id != question.answer_choice]
            choice = question.answer_choice if right else rng.choice(wrong)
            await app.services.quiz.record_answer(session, attempt_id, learner, qid,
                                                  choice_id=choice)


async def seed_and_report(out: Path, learners: int, seed: int) -> None:
    """Seed a fresh SQLite database in a temporary folder and write the report to ``out``."""
    rng = random.Random(seed)
    folder = Path(tempfile.mkdtemp(prefix="tutorbot-demo-"))
    (folder / "config.toml").write_text("")
    settings = load_settings(folder / "config.toml",
                             environ={"TUTORBOT_PATHS__DATA_DIR": str(folder / "data")})
    app = await build_app(settings)
    course = app.course
    questions = list(course.questions.values())
    difficulty = {q.id: rng.gauss(0.0, 1.0) for q in questions}
    choice_qs = [q for q in questions if q.kind is not QuestionKind.NUMERIC]
    miskeyed, too_easy = choice_qs[3].id, choice_qs[7].id
    difficulty[too_easy] = -4.0
    try:
        for learner in range(1, learners + 1):
            ability = rng.gauss(0.0, 1.2)
            async with app.db.sessions.begin() as session:
                await app.services.learners.ensure(session, learner, f"learner{learner}",
                                                   guild_id=GUILD)
            for _ in range(rng.randint(1, 2)):  # one or two quizzes of 20 questions
                async with app.db.sessions.begin() as session:
                    view = await app.services.quiz.start(
                        session, learner, guild_id=GUILD, lesson_id=None, count=20,
                        rng=random.Random(rng.random()),
                    )
                    attempt = await session.get(QuizAttempt, view.attempt_id)
                    assert attempt is not None
                    question_ids = list(attempt.question_ids)
                for qid in question_ids:
                    await answer(app, rng, view.attempt_id, learner, qid,
                                 ability, difficulty[qid], flip=qid == miskeyed)
            async with app.db.sessions.begin() as session:
                for lesson in rng.sample(course.lessons, k=3):
                    await app.services.course.open_lesson(session, learner, lesson.id)
                    if rng.random() < 0.6:
                        await app.services.course.mark_done(session, learner, lesson.id)
                if rng.random() < 0.3:
                    lesson = rng.choice(course.lessons)
                    await app.services.feedback.record(
                        session, learner, rating=rng.choice([2, 3, 4, 4, 5, 5]),
                        comment=rng.choice([None, "More examples please", "Clear, thanks!"]),
                        context=FeedbackContext(lesson_id=lesson.id, guild_id=GUILD),
                    )
                if rng.random() < 0.1:
                    await app.services.feedback.record(
                        session, learner, reason="wrong_answer", comment="I think the key is wrong",
                        context=FeedbackContext(question_id=miskeyed, guild_id=GUILD),
                    )
                for question in rng.sample(["how do I train a cnn on images",
                                            "how do i train a CNN on pictures",
                                            "what is perplexity", "who invented k-means"], k=1):
                    covered = question == "what is perplexity"
                    session.add(AskLog(
                        learner_id=learner, guild_id=GUILD, question=question,
                        answer="..." if covered else "The course does not cover this.",
                        engine="local", fallback_reason="no_api_key", latency_ms=20,
                        citations=["evaluation.perplexity"] if covered else [],
                    ))
        async with app.db.sessions() as session:
            from bot.qa.embedder import Embedder

            data = await gather(session, course, embed=Embedder.shared().embed)
        files = write_report(data, out)
    finally:
        await app.close()
    print(f"seeded {learners} learners; wrote {len(files)} files to {out}")
    print(f"made to look mis-keyed: {miskeyed}; made too easy: {too_easy}")
    print(f"flagged: {[(i.question_id, i.flag_codes) for i in data.flagged]}")


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(seed_and_report(args.out, args.learners, args.seed))


if __name__ == "__main__":
    main()
