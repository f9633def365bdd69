"""Discord extensions: one package per feature, each with an async ``setup(bot)``.

Modules and packages whose names start with ``_`` are helpers shared by the extensions, not
extensions themselves. A new feature (``ask``, for instance) is a new package here; the bot
loads it at start-up without any other change.
"""

from __future__ import annotations

import pkgutil


def walk_extensions() -> list[str]:
    """The dotted names of every extension package, in a stable order."""
    return sorted(
        f"{__name__}.{module.name}"
        for module in pkgutil.iter_modules(__path__)
        if module.ispkg and not module.name.startswith("_")
    )
