"""``python -m bot`` is the same as the ``tutorbot`` command."""

from bot.cli import main

raise SystemExit(main())
