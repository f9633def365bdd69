"""Every table. Importing this package registers all models on :data:`bot.db.base.Base`.

Each feature keeps its tables in its own module here (and its own Alembic migration); they are
imported automatically so Alembic and the models-match-migrations test see all of them.
"""

import importlib
import pkgutil

from bot.db.models.core import (
    Feedback,
    Guild,
    GuildMember,
    Learner,
    LessonProgress,
    QuizAnswer,
    QuizAttempt,
    SnippetView,
)

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "Feedback",
    "Guild",
    "GuildMember",
    "Learner",
    "LessonProgress",
    "QuizAnswer",
    "QuizAttempt",
    "SnippetView",
]
