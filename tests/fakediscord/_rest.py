"""Discord's REST API as the fake serves it: routes, validation, and the records they leave."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from . import _limits
from ._errors import (
    ALREADY_ACKNOWLEDGED,
    CANNOT_DM,
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    NOT_AUTHOR,
    THREAD_EXISTS,
    TOO_LARGE,
    UNAUTHORIZED,
    WRONG_CHANNEL_TYPE,
    DiscordError,
    FormErrors,
    error,
    unknown,
)
from ._gateway import gateway_handler
from ._ids import iso_now
from ._interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    UPDATE_MESSAGE,
    FakeModal,
    Interaction,
    Rejection,
)
from ._limits import FLAG_EPHEMERAL, FLAG_LOADING
from ._world import (
    ATTACH_FILES,
    CREATE_PRIVATE_THREADS,
    CREATE_PUBLIC_THREADS,
    GUILD_ANNOUNCEMENT,
    GUILD_TEXT,
    MANAGE_MESSAGES,
    MANAGE_THREADS,
    MESSAGEABLE_TYPES,
    MSG_CHAT_INPUT_COMMAND,
    MSG_DEFAULT,
    MSG_REPLY,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    FakeChannel,
    FakeGuild,
    FakeMessage,
    FakeUser,
)

if TYPE_CHECKING:
    from ._server import FakeDiscord

log = logging.getLogger("fakediscord")

API_PREFIX = "/api/v10"

# The interaction a request concerns, for the middleware's record of a rejection. A handler
# runs in its middleware's task, so what the handler sets here the middleware reads back.
_current_interaction: contextvars.ContextVar[Interaction | None] = contextvars.ContextVar(
    "fake_discord_interaction", default=None
)


@dataclass
class Upload:
    """One file part of a multipart request."""

    field: str
    filename: str
    content_type: str | None
    data: bytes


@dataclass
class SyncCall:
    """One bulk overwrite of application commands (what ``tree.sync()`` sends)."""

    guild_id: int | None
    names: list[str]


@dataclass
class RequestRecord:
    """One REST request the fake served."""

    method: str
    path: str
    status: int
    at: float


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py decodes JSON only when Content-Type is exactly "application/json";
    # aiohttp's json_response would add "; charset=utf-8".
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


def _no_content() -> web.Response:
    return web.Response(status=204)


class RestApi:
    """The HTTP side of a ``FakeDiscord``: one handler per Discord route the bot uses."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self._window_start = 0.0
        self._window_count = 0

    def application(self) -> web.Application:
        """The aiohttp application serving REST, the gateway and attachment downloads."""
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        self._add_routes(app)
        return app

    # ------------------------------------------------------------------ HTTP plumbing

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path
        response: web.StreamResponse
        _current_interaction.set(None)
        try:
            limited = None
            if path.startswith(API_PREFIX):
                self._check_auth(request)
                limited = self._rate_limited(path)
            response = limited if limited is not None else await handler(request)
        except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
            route = f"{request.method} {path}"
            log.error("FAKE DISCORD: UNKNOWN ROUTE %s — answering 404", route)
            self.fake.unknown_routes.append(route)
            response = _json({"message": "404: Not Found", "code": 0}, status=404)
        except DiscordError as exc:
            interaction = _current_interaction.get()
            rejection = Rejection(
                request.method,
                path,
                exc.status,
                exc.code,
                exc.message,
                exc.errors,
                interaction.id if interaction else None,
            )
            self.fake.rejections.append(rejection)
            if interaction is not None:
                interaction.rejections.append(rejection)
            log.info("fake discord rejected %s", rejection)
            self.fake._changes.notify()
            response = _json(exc.body(), status=exc.status)
        if path.startswith(API_PREFIX):
            self.fake.requests.append(
                RequestRecord(request.method, path, response.status, time.monotonic())
            )
            if self.fake.tracking and response.status != 429 and self._from_bot(request):
                self.fake._unconsumed[(request.method, path)] += 1
        # Real Discord answers through Google's front end; discord.py treats a 429 without
        # "Via" as a Cloudflare ban.
        response.headers["Via"] = "1.1 google"
        return response

    @staticmethod
    def _from_bot(request: web.Request) -> bool:
        # Only the bot knows interaction tokens; its other requests carry discord.py's agent.
        tokened = request.path.startswith(
            (f"{API_PREFIX}/interactions/", f"{API_PREFIX}/webhooks/")
        )
        return tokened or request.headers.get("User-Agent", "").startswith("DiscordBot (")

    def _check_auth(self, request: web.Request) -> None:
        header = request.headers.get("Authorization")
        tokened = request.path.startswith(
            (f"{API_PREFIX}/interactions/", f"{API_PREFIX}/webhooks/")
        )
        if header is None and tokened:
            return
        if header != f"Bot {self.fake.token}":
            raise error(UNAUTHORIZED)

    def _rate_limited(self, path: str) -> web.Response | None:
        if self.fake.global_rate_limit is None or path.startswith(f"{API_PREFIX}/interactions/"):
            return None
        now = time.monotonic()
        if now - self._window_start >= 1.0:
            self._window_start, self._window_count = now, 0
        self._window_count += 1
        if self._window_count <= self.fake.global_rate_limit:
            return None
        self.fake.rate_limited_count += 1
        retry_after = round(1.0 - (now - self._window_start), 3)
        response = _json(
            {"message": "You are being rate limited.", "retry_after": retry_after, "global": True},
            status=429,
        )
        response.headers["Retry-After"] = str(max(1, round(retry_after)))
        response.headers["X-RateLimit-Global"] = "true"
        response.headers["X-RateLimit-Scope"] = "global"
        return response

    async def _read_body(self, request: web.Request) -> tuple[dict[str, Any], list[Upload]]:
        if request.content_type == "multipart/form-data":
            body: dict[str, Any] = {}
            uploads: list[Upload] = []
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                elif part.filename:
                    data = bytes(await part.read())
                    if len(data) > self.fake.attachment_size_limit:
                        raise error(TOO_LARGE)
                    content_type = part.headers.get("Content-Type")
                    uploads.append(Upload(part.name or "", part.filename, content_type, data))
            return body, uploads
        body = await self._read_json(request)
        if not isinstance(body, dict):
            raise DiscordError(400, 50109, "The request body contains invalid JSON.")
        return body, []

    async def _read_json(self, request: web.Request) -> Any:
        if not request.can_read_body:
            return {}
        text = await request.text()
        if not text:
            return {}
        try:
            return json.loads(text)
        except ValueError as exc:
            raise DiscordError(400, 50109, "The request body contains invalid JSON.") from exc

    def _add_routes(self, app: web.Application) -> None:
        p = API_PREFIX
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{channel}/{id}/{filename}", self._get_attachment)
        routes: list[tuple[str, str, Any]] = [
            ("GET", "/users/@me", self._get_me),
            ("GET", "/users/{user_id}", self._get_user),
            ("POST", "/users/@me/channels", self._create_dm),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/applications/@me", self._get_application),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", "/applications/{app}/commands", self._get_commands),
            ("PUT", "/applications/{app}/commands", self._put_commands),
            ("POST", "/applications/{app}/commands", self._post_command),
            ("GET", "/applications/{app}/guilds/{guild_id}/commands", self._get_commands),
            ("PUT", "/applications/{app}/guilds/{guild_id}/commands", self._put_commands),
            ("POST", "/applications/{app}/guilds/{guild_id}/commands", self._post_command),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._callback),
            ("POST", "/webhooks/{app}/{token}", self._followup),
            ("GET", "/webhooks/{app}/{token}/messages/{message_id}", self._webhook_get),
            ("PATCH", "/webhooks/{app}/{token}/messages/{message_id}", self._webhook_edit),
            ("DELETE", "/webhooks/{app}/{token}/messages/{message_id}", self._webhook_delete),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("PATCH", "/channels/{channel_id}", self._edit_channel),
            ("GET", "/channels/{channel_id}/messages", self._get_messages),
            ("POST", "/channels/{channel_id}/messages", self._post_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_message),
            (
                "POST",
                "/channels/{channel_id}/messages/{message_id}/threads",
                self._thread_from_message,
            ),
            ("POST", "/channels/{channel_id}/threads", self._thread_without_message),
            ("PUT", "/channels/{channel_id}/thread-members/{user_id}", self._join_thread),
            ("DELETE", "/channels/{channel_id}/thread-members/{user_id}", self._leave_thread),
            ("POST", "/channels/{channel_id}/typing", self._typing),
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user_id}",
                self._react,
            ),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user_id}",
                self._unreact,
            ),
            ("GET", "/guilds/{guild_id}", self._get_guild),
            ("GET", "/guilds/{guild_id}/channels", self._get_guild_channels),
            ("GET", "/guilds/{guild_id}/roles", self._get_roles),
            ("GET", "/guilds/{guild_id}/members", self._get_members),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member),
            ("GET", "/guilds/{guild_id}/threads/active", self._get_active_threads),
        ]
        for method, route, handler in routes:
            app.router.add_route(method, p + route, handler)

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        return await gateway_handler(self.fake, request)

    # ------------------------------------------------------------------ lookups

    def _user(self, user_id: str) -> FakeUser:
        user = self.fake.users.get(self.fake.bot_user.id if user_id == "@me" else int(user_id))
        if user is None:
            raise unknown("User")
        return user

    def _guild(self, request: web.Request) -> FakeGuild:
        guild = self.fake.guilds.get(int(request.match_info["guild_id"]))
        if guild is None:
            raise unknown("Guild")
        return guild

    def _channel(self, request: web.Request) -> FakeChannel:
        channel = self.fake.channels.get(int(request.match_info["channel_id"]))
        if channel is None:
            raise unknown("Channel")
        if channel.guild_id is not None:
            guild = self.fake.guilds[channel.guild_id]
            if not guild.channel_permissions_of(self.fake.bot_user.id, channel) & VIEW_CHANNEL:
                raise error(MISSING_ACCESS)
        return channel

    def _channel_message(self, request: web.Request, channel: FakeChannel) -> FakeMessage:
        message = self.fake.messages.get(int(request.match_info["message_id"]))
        if (
            message is None
            or message.channel is not channel
            or message.deleted
            or message.ephemeral
        ):
            raise unknown("Message")
        return message

    def _require(self, channel: FakeChannel, permission: int) -> None:
        if channel.guild_id is None:
            return
        guild = self.fake.guilds[channel.guild_id]
        if not guild.channel_permissions_of(self.fake.bot_user.id, channel) & permission:
            raise error(MISSING_PERMISSIONS)

    def _check_app(self, request: web.Request) -> None:
        if request.match_info["app"] != str(self.fake.application_id):
            raise error(MISSING_ACCESS)

    # ------------------------------------------------------------------ users, app, gateway

    async def _get_me(self, request: web.Request) -> web.Response:
        return _json(
            {
                **self.fake.bot_user.payload(),
                "verified": True,
                "mfa_enabled": False,
                "email": None,
                "locale": "en-US",
            }
        )

    async def _get_user(self, request: web.Request) -> web.Response:
        return _json(self._user(request.match_info["user_id"]).payload())

    async def _get_application(self, request: web.Request) -> web.Response:
        return _json(
            {
                "id": str(self.fake.application_id),
                "name": self.fake.bot_user.username,
                "description": "A tutor for Generative AI fundamentals",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": self.fake.owner.payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": self.fake.application_flags,
                "bot": self.fake.bot_user.payload(),
                "summary": "",
                "tags": [],
                "install_params": None,
                "approximate_guild_count": len(self.fake.guilds),
                "integration_types_config": {"0": {}},
            }
        )

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return _json({"url": self.fake.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        return _json(
            {
                "url": self.fake.gateway_url,
                "shards": self.fake.shard_count,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000 - self.fake.identify_count,
                    "reset_after": 14_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def _create_dm(self, request: web.Request) -> web.Response:
        body, _ = await self._read_body(request)
        user = self.fake.users.get(int(body.get("recipient_id") or 0))
        if user is None:
            raise unknown("User")
        if user.bot:
            raise error(CANNOT_DM)
        return _json(self.fake.dm_channel(user).payload())

    async def _get_attachment(self, request: web.Request) -> web.Response:
        attachment = self.fake.attachments.get(int(request.match_info["id"]))
        if attachment is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=attachment.data,
            headers={"Content-Type": attachment.content_type or "application/octet-stream"},
        )

    # ------------------------------------------------------------------ application commands

    def _command_scope(self, request: web.Request) -> int | None:
        self._check_app(request)
        if "guild_id" not in request.match_info:
            return None
        guild = self._guild(request)
        return guild.id

    def _command_payload(
        self, scope: int | None, body: Mapping[str, Any], old: dict[str, Any] | None
    ) -> dict[str, Any]:
        kind = body.get("type", 1)
        command = {
            "id": old["id"] if old else str(self.fake.ids.next()),
            "application_id": str(self.fake.application_id),
            "version": str(self.fake.ids.next()),
            "type": kind,
            "name": body["name"],
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description", "") if kind == 1 else "",
            "description_localizations": body.get("description_localizations"),
            "options": body.get("options") or [],
            "default_member_permissions": body.get("default_member_permissions"),
            "dm_permission": body.get("dm_permission", True),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
            "nsfw": body.get("nsfw", False),
        }
        if scope is not None:
            command["guild_id"] = str(scope)
        return command

    async def _get_commands(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        return _json(list(self.fake._commands.get(scope, {}).values()))

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        commands: Any = await self._read_json(request)
        _limits.check_commands(commands)
        old = self.fake._commands.get(scope, {})
        new: dict[tuple[int, str], dict[str, Any]] = {}
        for command in commands:
            key = (command.get("type", 1), command["name"])
            new[key] = self._command_payload(scope, command, old.get(key))
        self.fake._commands[scope] = new
        self.fake.sync_calls.append(SyncCall(scope, [name for (_, name) in new]))
        self.fake._changes.notify()
        return _json(list(new.values()))

    async def _post_command(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        body, _ = await self._read_body(request)
        _limits.check_commands([body])
        store = self.fake._commands.setdefault(scope, {})
        key = (body.get("type", 1), body["name"])
        command = self._command_payload(scope, body, store.get(key))
        created = key not in store
        store[key] = command
        self.fake._changes.notify()
        return _json(command, status=201 if created else 200)

    # ------------------------------------------------------------------ interaction responses

    def _interaction_for_token(self, request: web.Request) -> Interaction:
        if "app" in request.match_info:
            self._check_app(request)
        interaction = self.fake._interactions_by_token.get(request.match_info["token"])
        if interaction is None:
            raise unknown("Webhook")
        _current_interaction.set(interaction)
        if time.perf_counter() - interaction.dispatched_perf > self.fake.token_lifetime:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        if not interaction.acknowledged:
            # Followups and edits exist only once the interaction was acknowledged.
            raise unknown("Webhook")
        return interaction

    async def _callback(self, request: web.Request) -> web.Response:
        interaction = self.fake.interactions.get(int(request.match_info["interaction_id"]))
        if interaction is None or interaction.token != request.match_info["token"]:
            raise unknown("interaction")
        _current_interaction.set(interaction)
        body, uploads = await self._read_body(request)
        loop = asyncio.get_running_loop()
        if interaction.acknowledged:
            raise error(ALREADY_ACKNOWLEDGED)
        if (
            interaction.expired
            or loop.time() - interaction.dispatched_at > self.fake.response_deadline
        ):
            interaction.expired = True
            raise unknown("interaction")
        kind = body.get("type")
        data = body.get("data") or {}
        allowed = {
            APPLICATION_COMMAND: (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL),
            MESSAGE_COMPONENT: (
                CHANNEL_MESSAGE,
                DEFERRED_CHANNEL_MESSAGE,
                DEFERRED_UPDATE_MESSAGE,
                UPDATE_MESSAGE,
                MODAL,
            ),
            AUTOCOMPLETE: (AUTOCOMPLETE_RESULT,),
            MODAL_SUBMIT: (
                CHANNEL_MESSAGE,
                DEFERRED_CHANNEL_MESSAGE,
                DEFERRED_UPDATE_MESSAGE,
                UPDATE_MESSAGE,
            ),
        }[interaction.type]
        if kind not in allowed or (
            kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) and interaction.source_message is None
        ):
            errors = FormErrors()
            errors.add(
                "type",
                "INTERACTION_CALLBACK_TYPE_INVALID",
                f"Interaction callback type {kind} is not valid for this interaction",
            )
            errors.raise_if_any()

        resource_message: FakeMessage | None = None
        if kind == CHANNEL_MESSAGE:
            _limits.check_message(data, creating=True, files=len(uploads), prefix="data")
            msg_type = (
                MSG_CHAT_INPUT_COMMAND if interaction.type == APPLICATION_COMMAND else MSG_DEFAULT
            )
            resource_message = self.fake._store_message(
                interaction.channel,
                self.fake.bot_user,
                data,
                uploads,
                msg_type=msg_type,
                interaction=interaction,
            )
            interaction.original = resource_message
        elif kind == DEFERRED_CHANNEL_MESSAGE:
            flags = FLAG_LOADING | ((data.get("flags") or 0) & FLAG_EPHEMERAL)
            msg_type = (
                MSG_CHAT_INPUT_COMMAND if interaction.type == APPLICATION_COMMAND else MSG_DEFAULT
            )
            resource_message = self.fake._store_message(
                interaction.channel,
                self.fake.bot_user,
                {},
                [],
                msg_type=msg_type,
                flags=flags,
                interaction=interaction,
            )
            interaction.original = resource_message
        elif kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            interaction.original = interaction.source_message
            if kind == UPDATE_MESSAGE:
                assert interaction.source_message is not None
                _limits.check_message(data, creating=False, files=len(uploads), prefix="data")
                self.fake._fill(interaction.source_message, data, uploads, editing=True)
                resource_message = interaction.source_message
        elif kind == AUTOCOMPLETE_RESULT:
            _limits.check_choices(data)
            interaction.autocomplete_choices = list(data["choices"])
        elif kind == MODAL:
            _limits.check_modal(data)
            interaction.opened_modal = FakeModal(
                data["custom_id"], data["title"], data["components"], interaction
            )

        interaction.callback_type = kind
        interaction.callback_data = data
        interaction.acked_perf = time.perf_counter()
        if resource_message is not None and kind in (CHANNEL_MESSAGE, UPDATE_MESSAGE):
            interaction.deliveries.append(resource_message)
        self.fake._changes.notify()
        if resource_message is not None:
            await self.fake._announce(
                "MESSAGE_CREATE" if kind != UPDATE_MESSAGE else "MESSAGE_UPDATE", resource_message
            )

        answer: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(
                    interaction.original and interaction.original.ephemeral
                ),
            }
        }
        if interaction.original is not None and kind != MODAL:
            answer["interaction"]["response_message_id"] = str(interaction.original.id)
        if resource_message is not None:
            answer["resource"] = {
                "type": kind,
                "message": self.fake._message_payload(resource_message),
            }
        return _json(answer)

    async def _followup(self, request: web.Request) -> web.StreamResponse:
        interaction = self._interaction_for_token(request)
        body, uploads = await self._read_body(request)
        _limits.check_message(body, creating=True, files=len(uploads))
        original = interaction.original
        if (
            interaction.callback_type == DEFERRED_CHANNEL_MESSAGE
            and original is not None
            and original.loading
        ):
            # Discord: the first followup after a "thinking" defer replaces the loading message.
            self.fake._fill(original, body, uploads, editing=True)
            original.flags &= ~FLAG_LOADING
            original.edited_timestamp = None
            message = original
            await self.fake._announce("MESSAGE_UPDATE", message)
        else:
            msg_type = (
                MSG_CHAT_INPUT_COMMAND if interaction.type == APPLICATION_COMMAND else MSG_DEFAULT
            )
            message = self.fake._store_message(
                interaction.channel,
                self.fake.bot_user,
                body,
                uploads,
                msg_type=msg_type,
                interaction=interaction,
                flags=(body.get("flags") or 0),
            )
            interaction.followups.append(message)
            await self.fake._announce("MESSAGE_CREATE", message)
        interaction.deliveries.append(message)
        self.fake._changes.notify()
        if request.query.get("wait") in ("1", "true", "True"):
            return _json(self.fake._message_payload(message))
        return _no_content()

    def _webhook_message(self, request: web.Request, interaction: Interaction) -> FakeMessage:
        message_id = request.match_info["message_id"]
        if message_id == "@original":
            message = interaction.original
        else:
            message = self.fake.messages.get(int(message_id))
            mine = message is not None and (
                message.interaction_id == interaction.id or message is interaction.original
            )
            message = message if mine else None
        if message is None or message.deleted:
            raise unknown("Message")
        return message

    async def _webhook_get(self, request: web.Request) -> web.Response:
        interaction = self._interaction_for_token(request)
        return _json(self.fake._message_payload(self._webhook_message(request, interaction)))

    async def _webhook_edit(self, request: web.Request) -> web.Response:
        interaction = self._interaction_for_token(request)
        message = self._webhook_message(request, interaction)
        body, uploads = await self._read_body(request)
        # Editing a "thinking" message gives it its first content, so it must not be empty.
        _limits.check_message(body, creating=message.loading, files=len(uploads))
        self.fake._fill(message, body, uploads, editing=True)
        message.flags &= ~FLAG_LOADING
        interaction.deliveries.append(message)
        self.fake._changes.notify()
        await self.fake._announce("MESSAGE_UPDATE", message)
        return _json(self.fake._message_payload(message))

    async def _webhook_delete(self, request: web.Request) -> web.Response:
        interaction = self._interaction_for_token(request)
        message = self._webhook_message(request, interaction)
        message.deleted = True
        self.fake._changes.notify()
        await self.fake._announce("MESSAGE_DELETE", message)
        return _no_content()

    # ------------------------------------------------------------------ channels and messages

    async def _get_channel(self, request: web.Request) -> web.Response:
        return _json(self._channel(request).payload())

    async def _edit_channel(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        body, _ = await self._read_body(request)
        if channel.is_thread:
            if channel.owner_id != self.fake.bot_user.id or body.get("locked") is not None:
                self._require(channel, MANAGE_THREADS)
            if "name" in body:
                _limits.check_thread_name(body["name"])
                channel.name = body["name"]
            if "archived" in body:
                channel.archived = bool(body["archived"])
                channel.archive_timestamp = iso_now()
            if "locked" in body:
                channel.locked = bool(body["locked"])
            if "auto_archive_duration" in body:
                channel.auto_archive_duration = int(body["auto_archive_duration"])
            await self.fake._announce_thread("THREAD_UPDATE", channel)
        else:
            channel.name = body.get("name", channel.name)
            channel.topic = body.get("topic", channel.topic)
        self.fake._changes.notify()
        return _json(channel.payload())

    async def _get_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self._require(channel, READ_MESSAGE_HISTORY)
        limit = int(request.query.get("limit", 50))
        if not 1 <= limit <= 100:
            errors = FormErrors()
            errors.add("limit", "NUMBER_TYPE_MAX", "int value should be <= 100 and >= 1.")
            errors.raise_if_any()
        messages = self.fake.messages_in(channel)
        if "before" in request.query:
            messages = [m for m in messages if m.id < int(request.query["before"])]
        if "after" in request.query:
            after = int(request.query["after"])
            messages = [m for m in messages if m.id > after][:limit]
        elif "around" in request.query:
            around = int(request.query["around"])
            older = [m for m in messages if m.id <= around][-(limit // 2 + 1) :]
            newer = [m for m in messages if m.id > around][: limit - len(older)]
            messages = older + newer
        messages = messages[-limit:]
        return _json([self.fake._message_payload(m) for m in reversed(messages)])

    async def _get_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self._require(channel, READ_MESSAGE_HISTORY)
        return _json(self.fake._message_payload(self._channel_message(request, channel)))

    def _check_can_post(self, channel: FakeChannel, uploads: list[Upload]) -> None:
        if channel.type not in MESSAGEABLE_TYPES:
            raise error(WRONG_CHANNEL_TYPE)
        if channel.is_dm:
            assert channel.recipient is not None
            if not channel.recipient.dms_open or channel.recipient.bot:
                raise error(CANNOT_DM)
            return
        self._require(channel, SEND_MESSAGES_IN_THREADS if channel.is_thread else SEND_MESSAGES)
        if uploads:
            self._require(channel, ATTACH_FILES)
        if channel.is_thread and channel.locked:
            self._require(channel, MANAGE_THREADS)

    async def _post_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        body, uploads = await self._read_body(request)
        self._check_can_post(channel, uploads)
        _limits.check_message(body, creating=True, files=len(uploads))
        reference = body.get("message_reference")
        if reference is not None:
            referenced = self.fake.messages.get(int(reference.get("message_id") or 0))
            if referenced is None or referenced.deleted:
                if reference.get("fail_if_not_exists", True):
                    errors = FormErrors()
                    errors.add(
                        "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                    )
                    errors.raise_if_any()
                body = {**body, "message_reference": None}
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            # Discord returns the message already made with this nonce (same author, channel,
            # within a few minutes) instead of posting a second one.
            earlier = self.fake._nonced.get((channel.id, str(nonce)))
            if earlier is not None and not earlier[0].deleted and (
                time.monotonic() - earlier[1] <= self.fake.nonce_window
            ):
                self.fake.nonce_hits += 1
                return _json(self.fake._message_payload(earlier[0]))
        if channel.is_thread and channel.archived:
            channel.archived = False  # posting in an archived, unlocked thread reopens it
            await self.fake._announce_thread("THREAD_UPDATE", channel)
        message = self.fake._store_message(
            channel,
            self.fake.bot_user,
            body,
            uploads,
            msg_type=MSG_REPLY if reference else MSG_DEFAULT,
            flags=(body.get("flags") or 0) & ~FLAG_EPHEMERAL,
        )
        if nonce is not None and body.get("enforce_nonce"):
            self.fake._nonced[(channel.id, str(nonce))] = (message, time.monotonic())
        await self.fake._announce("MESSAGE_CREATE", message)
        return _json(self.fake._message_payload(message))

    async def _edit_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._channel_message(request, channel)
        if message.author is not self.fake.bot_user:
            raise error(NOT_AUTHOR)
        body, uploads = await self._read_body(request)
        _limits.check_message(body, creating=False, files=len(uploads))
        self.fake._fill(message, body, uploads, editing=True)
        self.fake._changes.notify()
        await self.fake._announce("MESSAGE_UPDATE", message)
        return _json(self.fake._message_payload(message))

    async def _delete_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._channel_message(request, channel)
        if message.author is not self.fake.bot_user:
            self._require(channel, MANAGE_MESSAGES)
        message.deleted = True
        self.fake._changes.notify()
        await self.fake._announce("MESSAGE_DELETE", message)
        return _no_content()

    def _new_thread(
        self, parent: FakeChannel, thread_id: int, kind: int, body: Mapping[str, Any]
    ) -> FakeChannel:
        _limits.check_thread_name(body.get("name"))
        assert parent.guild_id is not None
        thread = FakeChannel(
            thread_id,
            kind,
            body["name"],
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=self.fake.bot_user.id,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
        )
        thread.thread_member_ids.add(self.fake.bot_user.id)
        self.fake.guilds[parent.guild_id].channels[thread.id] = thread
        self.fake.channels[thread.id] = thread
        return thread

    async def _thread_from_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        if channel.type not in (GUILD_TEXT, GUILD_ANNOUNCEMENT):
            raise error(WRONG_CHANNEL_TYPE)
        message = self._channel_message(request, channel)
        if message.thread is not None:
            raise error(THREAD_EXISTS)
        self._require(channel, CREATE_PUBLIC_THREADS)
        body, _ = await self._read_body(request)
        kind = 10 if channel.type == GUILD_ANNOUNCEMENT else PUBLIC_THREAD
        # A thread started from a message has the message's id.
        thread = self._new_thread(channel, message.id, kind, body)
        thread.starter_message_id = message.id
        message.thread = thread
        self.fake._changes.notify()
        await self.fake._announce_thread("THREAD_CREATE", thread, created=True)
        return _json(thread.payload(), status=201)

    async def _thread_without_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        if channel.type not in (GUILD_TEXT, GUILD_ANNOUNCEMENT):
            raise error(WRONG_CHANNEL_TYPE)
        body, _ = await self._read_body(request)
        kind = int(body.get("type") or PRIVATE_THREAD)
        self._require(
            channel, CREATE_PRIVATE_THREADS if kind == PRIVATE_THREAD else CREATE_PUBLIC_THREADS
        )
        thread = self._new_thread(channel, self.fake.ids.next(), kind, body)
        self.fake._changes.notify()
        await self.fake._announce_thread("THREAD_CREATE", thread, created=True)
        return _json(thread.payload(), status=201)

    def _thread(self, request: web.Request) -> FakeChannel:
        thread = self._channel(request)
        if not thread.is_thread:
            raise error(WRONG_CHANNEL_TYPE)
        return thread

    async def _join_thread(self, request: web.Request) -> web.Response:
        thread = self._thread(request)
        user = self._user(request.match_info["user_id"])
        if user is not self.fake.bot_user:
            assert thread.guild_id is not None
            if user.id not in self.fake.guilds[thread.guild_id].members:
                raise unknown("Member")
            if thread.type == PRIVATE_THREAD and thread.owner_id != self.fake.bot_user.id:
                self._require(thread, MANAGE_THREADS)
        thread.thread_member_ids.add(user.id)
        self.fake._changes.notify()
        return _no_content()

    async def _leave_thread(self, request: web.Request) -> web.Response:
        thread = self._thread(request)
        user = self._user(request.match_info["user_id"])
        if user is not self.fake.bot_user:
            self._require(thread, MANAGE_THREADS)
        thread.thread_member_ids.discard(user.id)
        self.fake._changes.notify()
        return _no_content()

    async def _typing(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self._check_can_post(channel, [])
        self.fake.typing.append(channel.id)
        return _no_content()

    async def _react(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._channel_message(request, channel)
        if request.match_info["user_id"] != "@me":
            raise web.HTTPMethodNotAllowed(request.method, ["DELETE"])
        self._require(channel, READ_MESSAGE_HISTORY)
        emoji = request.match_info["emoji"]
        message.reactions.setdefault(emoji, set()).add(self.fake.bot_user.id)
        self.fake._changes.notify()
        return _no_content()

    async def _unreact(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._channel_message(request, channel)
        who = request.match_info["user_id"]
        user_id = self.fake.bot_user.id if who == "@me" else int(who)
        if user_id != self.fake.bot_user.id:
            self._require(channel, MANAGE_MESSAGES)
        message.reactions.get(request.match_info["emoji"], set()).discard(user_id)
        self.fake._changes.notify()
        return _no_content()

    # ------------------------------------------------------------------ guilds

    async def _get_guild(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        payload = guild.payload(with_members=False, bot_user_id=self.fake.bot_user.id)
        for key in (
            "members",
            "channels",
            "threads",
            "presences",
            "voice_states",
            "joined_at",
            "large",
            "member_count",
        ):
            payload.pop(key, None)
        return _json(payload)

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        return _json([c.payload() for c in guild.channels.values() if not c.is_thread])

    async def _get_roles(self, request: web.Request) -> web.Response:
        return _json([r.payload() for r in self._guild(request).roles.values()])

    async def _get_members(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        limit = int(request.query.get("limit", 1))
        after = int(request.query.get("after", 0))
        members = sorted(
            (m for m in guild.members.values() if m.user.id > after), key=lambda m: m.user.id
        )
        return _json([m.payload() for m in members[:limit]])

    async def _get_member(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        member = guild.members.get(int(request.match_info["user_id"]))
        if member is None:
            raise unknown("Member")
        return _json(member.payload())

    async def _get_active_threads(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        threads = [t for t in guild.threads if not t.archived]
        members = [
            {
                "id": str(t.id),
                "user_id": str(self.fake.bot_user.id),
                "join_timestamp": iso_now(),
                "flags": 0,
            }
            for t in threads
            if self.fake.bot_user.id in t.thread_member_ids
        ]
        return _json({"threads": [t.payload() for t in threads], "members": members})
