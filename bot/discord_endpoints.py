"""Point discord.py at a Discord API and gateway other than discord.com (a fake, a proxy).

discord.py has no constructor argument for its endpoints: every REST call (webhooks and
interaction callbacks included) builds its URL from the class attribute ``Route.BASE`` when the
``Route`` is created, and a client that is not sharded automatically connects to
``DiscordWebSocket.DEFAULT_GATEWAY``. ``AutoShardedClient`` asks ``GET /gateway/bot`` for its URL
instead, so pointing ``Route.BASE`` at a server also points the sharded gateway at whatever that
server answers. Both attributes are process-wide, which is why this module is the one place that
touches them.
"""

from __future__ import annotations

from dataclasses import dataclass

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

#: Discord's own endpoints, what ``discord.api_base`` and an empty ``discord.gateway_url`` mean.
DISCORD_API_BASE = "https://discord.com/api/v10"
DISCORD_GATEWAY_URL = "wss://gateway.discord.gg/"


@dataclass(frozen=True)
class DiscordEndpoints:
    """Where discord.py sends REST requests and opens its gateway websocket."""

    api_base: str
    gateway_url: str


def current_endpoints() -> DiscordEndpoints:
    """The endpoints discord.py uses right now."""
    return DiscordEndpoints(api_base=Route.BASE, gateway_url=str(DiscordWebSocket.DEFAULT_GATEWAY))


def point_discord_py_at(api_base: str, gateway_url: str = "") -> DiscordEndpoints:
    """Make discord.py use ``api_base`` for REST and ``gateway_url`` for the gateway.

    ``api_base`` is the full prefix, API version included (``http://127.0.0.1:8080/api/v10``).
    An empty ``gateway_url`` means Discord's own gateway. Returns the endpoints in force before
    the call, so a caller (a test harness) can put them back.
    """
    api = yarl.URL(api_base)
    if api.scheme not in ("http", "https") or not api.host:
        raise ValueError(f"discord api_base must be an http(s) URL, not {api_base!r}")
    gateway = yarl.URL(gateway_url or DISCORD_GATEWAY_URL)
    if gateway.scheme not in ("ws", "wss") or not gateway.host:
        raise ValueError(f"discord gateway_url must be a ws(s) URL, not {gateway_url!r}")

    previous = current_endpoints()
    Route.BASE = api_base.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = gateway
    return previous
