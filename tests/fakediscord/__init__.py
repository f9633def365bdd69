"""A fake Discord on 127.0.0.1 that the real, unmodified discord.py client runs against.

REST under ``/api/v10`` and the gateway at ``/gateway`` (JSON text frames), over real sockets.
The fake answers like Discord, including its errors (message limits, a second or late
interaction response), and keeps everything the bot sent so a test can assert on it::

    async with FakeDiscord.classroom() as fake:
        async with run_client(fake, bot):
            reply = await (await fake.slash(fake.user("alice"), "ping")).response()
            assert reply.content == "pong"
"""

from ._errors import DiscordError
from ._gateway import GatewaySession
from ._interactions import (
    BotStoppedError,
    FakeDiscordTimeoutError,
    FakeModal,
    Interaction,
    Rejection,
    UnexpectedResponseError,
)
from ._rest import RequestRecord, SyncCall, Upload
from ._server import FakeDiscord, ScenarioError
from ._world import (
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
)
from .harness import RunningClient, run_client

__all__ = [
    "BotStoppedError",
    "DiscordError",
    "FakeAttachment",
    "FakeChannel",
    "FakeDiscord",
    "FakeDiscordTimeoutError",
    "FakeGuild",
    "FakeMember",
    "FakeMessage",
    "FakeModal",
    "FakeRole",
    "FakeUser",
    "GatewaySession",
    "Interaction",
    "Rejection",
    "RequestRecord",
    "RunningClient",
    "ScenarioError",
    "SyncCall",
    "UnexpectedResponseError",
    "Upload",
    "run_client",
]
