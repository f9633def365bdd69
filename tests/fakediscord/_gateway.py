"""The gateway: one websocket per shard, speaking Discord's JSON protocol in text frames."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections import deque
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from ._server import FakeDiscord

log = logging.getLogger("fakediscord.gateway")

# Opcodes.
DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
PRESENCE_UPDATE = 3
VOICE_STATE_UPDATE = 4
RESUME = 6
RECONNECT = 7
REQUEST_GUILD_MEMBERS = 8
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11

# Intents.
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT

HEARTBEAT_INTERVAL_MS = 41250
#: Dispatches kept per session so a resumed session can be replayed what it missed.
REPLAY_BUFFER = 2000


class GatewaySession:
    """One identified gateway session (a shard), surviving reconnects until it is invalidated."""

    def __init__(self, *, shard_id: int, shard_count: int, intents: int) -> None:
        self.session_id = secrets.token_hex(16)
        self.shard_id = shard_id
        self.shard_count = shard_count
        self.intents = intents
        self.seq = 0
        self.ws: web.WebSocketResponse | None = None
        self.resumable = True
        self.resumed = asyncio.Event()
        self._sent: deque[tuple[int, str]] = deque(maxlen=REPLAY_BUFFER)
        self._lock = asyncio.Lock()

    @property
    def live(self) -> bool:
        """Connected and able to receive dispatches."""
        return self.ws is not None and not self.ws.closed

    def wants(self, intent: int) -> bool:
        """The session identified with this intent."""
        return bool(self.intents & intent)

    def owns_guild(self, guild_id: int | None) -> bool:
        """Discord's shard formula; DMs belong to shard 0."""
        if guild_id is None:
            return self.shard_id == 0
        return (guild_id >> 22) % self.shard_count == self.shard_id

    async def send(self, payload: dict[str, Any]) -> None:
        """Send a non-dispatch frame (HELLO, ACK, RECONNECT...)."""
        ws = self.ws
        if ws is not None and not ws.closed:
            async with self._lock:
                await ws.send_str(json.dumps(payload))

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send an event with the next sequence number (buffered for RESUME)."""
        self.seq += 1
        frame = json.dumps({"op": DISPATCH, "t": event, "s": self.seq, "d": data})
        self._sent.append((self.seq, frame))
        ws = self.ws
        if ws is not None and not ws.closed:
            async with self._lock:
                await ws.send_str(frame)

    async def replay_after(self, seq: int) -> None:
        """Re-send every buffered dispatch after ``seq`` (a RESUME)."""
        for number, frame in list(self._sent):
            if number > seq and self.ws is not None:
                async with self._lock:
                    await self.ws.send_str(frame)

    def __repr__(self) -> str:
        state = "live" if self.live else "detached"
        return f"<GatewaySession shard {self.shard_id}/{self.shard_count} {state} seq={self.seq}>"


async def gateway_handler(fake: FakeDiscord, request: web.Request) -> web.WebSocketResponse:
    """Serve one websocket connection: HELLO, then IDENTIFY or RESUME, then heartbeats."""
    if fake.gateway_down:
        raise web.HTTPServiceUnavailable()
    ws = web.WebSocketResponse(max_msg_size=0)
    await ws.prepare(request)
    fake._connections.add(ws)
    session: GatewaySession | None = None
    send_lock = asyncio.Lock()

    async def send(payload: dict[str, Any]) -> None:
        if session is not None and session.ws is ws:
            await session.send(payload)
        elif not ws.closed:
            async with send_lock:
                await ws.send_str(json.dumps(payload))

    try:
        await send({"op": HELLO, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}})
        async for message in ws:
            if message.type is WSMsgType.BINARY:
                # discord.py only ever sends text; binary is ETF, which this fake does not speak.
                await ws.close(code=4002, message=b"Error while decoding payload.")
                break
            if message.type is not WSMsgType.TEXT:
                continue
            try:
                payload = json.loads(message.data)
                op = payload["op"]
            except (ValueError, KeyError, TypeError):
                await ws.close(code=4002, message=b"Error while decoding payload.")
                break
            data = payload.get("d")
            if op == HEARTBEAT:
                await send({"op": HEARTBEAT_ACK})
            elif op == IDENTIFY:
                if session is not None:
                    await ws.close(code=4005, message=b"Already authenticated.")
                    break
                session = await _identify(fake, ws, data)
                if session is None:
                    break
            elif op == RESUME:
                session = await _resume(fake, ws, data)
                if session is None:
                    break
            elif op == REQUEST_GUILD_MEMBERS:
                if session is None:
                    await ws.close(code=4003, message=b"Not authenticated.")
                    break
                await _members_chunk(fake, session, data)
            elif op in (PRESENCE_UPDATE, VOICE_STATE_UPDATE):
                pass
            else:
                log.warning("fake gateway: unknown opcode %s: %s", op, payload)
                await ws.close(code=4001, message=b"Unknown opcode.")
                break
    finally:
        fake._connections.discard(ws)
        if session is not None and session.ws is ws:
            session.ws = None
            # A client that closes with 1000/1001 ends its session (Discord invalidates it);
            # any other close (discord.py uses 4000 to reconnect) may be resumed.
            if ws.close_code in (1000, 1001):
                session.resumable = False
            fake._changes.notify()
    return ws


async def _identify(
    fake: FakeDiscord, ws: web.WebSocketResponse, data: dict[str, Any]
) -> GatewaySession | None:
    if data.get("token") != fake.token:
        await ws.close(code=4004, message=b"Authentication failed.")
        return None
    intents = data.get("intents")
    if intents is None:
        await ws.close(code=4013, message=b"Invalid intent(s).")
        return None
    if intents & PRIVILEGED & ~fake.privileged_intents:
        await ws.close(code=4014, message=b"Disallowed intent(s).")
        return None
    shard_id, shard_count = data.get("shard") or [0, 1]
    if not 0 <= shard_id < shard_count:
        await ws.close(code=4010, message=b"Invalid shard.")
        return None
    session = GatewaySession(shard_id=shard_id, shard_count=shard_count, intents=intents)
    session.ws = ws
    fake.identify_count += 1
    guilds = [g for g in fake.guilds.values() if session.owns_guild(g.id)]
    ready = {
        "v": 10,
        "user": {**fake.bot_user.payload(), "verified": True, "mfa_enabled": False, "email": None},
        "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
        "session_id": session.session_id,
        "session_type": "normal",
        "resume_gateway_url": fake.gateway_url,
        "shard": [shard_id, shard_count],
        "application": {"id": str(fake.application_id), "flags": fake.application_flags},
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": ["frankfurt"],
        "user_settings": {},
        "auth": {},
    }
    await session.dispatch("READY", ready)
    for guild in guilds:
        await session.dispatch(
            "GUILD_CREATE",
            guild.payload(with_members=session.wants(GUILD_MEMBERS), bot_user_id=fake.bot_user.id),
        )
    fake.sessions.append(session)
    fake._changes.notify()
    return session


async def _resume(
    fake: FakeDiscord, ws: web.WebSocketResponse, data: dict[str, Any]
) -> GatewaySession | None:
    session = next((s for s in fake.sessions if s.session_id == data.get("session_id")), None)
    if data.get("token") != fake.token:
        await ws.close(code=4004, message=b"Authentication failed.")
        return None
    if session is None or not session.resumable:
        await ws.send_str(json.dumps({"op": INVALID_SESSION, "d": False}))
        return None
    old, session.ws = session.ws, ws
    if old is not None and not old.closed:
        # The client gave up on that socket before we noticed it closing.
        await old.close(code=4000)
    await session.replay_after(int(data.get("seq") or 0))
    await session.dispatch("RESUMED", {})
    fake.resume_count += 1
    session.resumed.set()
    fake._changes.notify()
    return session


async def _members_chunk(fake: FakeDiscord, session: GatewaySession, data: dict[str, Any]) -> None:
    guild_ids = data.get("guild_id")
    for gid in guild_ids if isinstance(guild_ids, list) else [guild_ids]:
        guild = fake.guilds.get(int(gid or 0))
        if guild is None:
            continue
        members = list(guild.members.values())
        if data.get("user_ids"):
            wanted = {int(u) for u in data["user_ids"]}
            members = [m for m in members if m.user.id in wanted]
        elif data.get("query"):
            query = str(data["query"]).lower()
            members = [m for m in members if m.user.username.lower().startswith(query)]
        limit = data.get("limit") or 0
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [m.payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await session.dispatch("GUILD_MEMBERS_CHUNK", chunk)
