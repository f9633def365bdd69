"""Fixtures for the offline /ask path: one retriever over the fixture course per session."""

from __future__ import annotations

import pytest

from bot.content.model import Course
from bot.qa.retrieval import Retriever


@pytest.fixture(scope="session")
def retriever(course: Course, tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    """The fixture course indexed once (embedding it takes a few seconds)."""
    return Retriever.load(course, tmp_path_factory.mktemp("ask-cache"))
