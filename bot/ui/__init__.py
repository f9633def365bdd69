"""Discord rendering helpers: embeds, buttons, custom ids, charts and pagination.

Nothing here touches the database or calls a service: functions take course content and the
plain results services return, and give back Discord objects (or bytes) within Discord's limits.
"""
