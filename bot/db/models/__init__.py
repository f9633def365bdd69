"""Every table. Importing this package registers all models on :data:`bot.db.base.Base`.

Each feature keeps its tables in its own module here (and its own Alembic migration); they are
imported automatically so Alembic and the models-match-migrations test see all of them.
"""

import importlib
import pkgutil

from bot.db.models.app_state import AppState
from bot.db.models.ask import AskLog
from bot.db.models.daily import (
    DailyAnswer,
    DailyPost,
    GuildAskChannel,
    GuildConfig,
    JobClaim,
    Schedule,
)
from bot.db.models.feedback import Feedback
from bot.db.models.learners import Guild, GuildMember, Learner
from bot.db.models.lessons import LessonPost, LessonProgress, SnippetView
from bot.db.models.quiz import QuizAnswer, QuizAttempt
from bot.db.models.review import Reminder, ReviewCard, ReviewLog

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "AppState",
    "AskLog",
    "DailyAnswer",
    "DailyPost",
    "Feedback",
    "Guild",
    "GuildAskChannel",
    "GuildConfig",
    "GuildMember",
    "JobClaim",
    "Learner",
    "LessonPost",
    "LessonProgress",
    "QuizAnswer",
    "QuizAttempt",
    "Reminder",
    "ReviewCard",
    "ReviewLog",
    "Schedule",
    "SnippetView",
]
