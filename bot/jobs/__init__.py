"""Background jobs run by one leader process (issue 9): the runner lands here next.

For now: :mod:`bot.jobs.ports`, the :class:`~bot.jobs.ports.Publisher` port through which jobs
reach Discord (implemented by the Discord adapter). Nothing here imports ``discord``.
"""
