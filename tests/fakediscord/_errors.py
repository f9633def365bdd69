"""Discord's HTTP errors, with the JSON bodies discord.py turns into ``HTTPException``."""

from __future__ import annotations

from typing import Any


class DiscordError(Exception):
    """An error response exactly as Discord would send it (status, JSON code, message, errors)."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} (error code: {code}): {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """The JSON body Discord sends."""
        payload: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors is not None:
            payload["errors"] = self.errors
        return payload


class FormErrors:
    """Collects field errors, then raises one ``50035 Invalid Form Body`` holding them all.

    Paths are dotted (``embeds.0.fields.3.value``), as Discord nests them in ``errors``.
    """

    def __init__(self, prefix: str = "") -> None:
        self.tree: dict[str, Any] = {}
        self.count = 0
        self.prefix = prefix

    def add(self, path: str, code: str, message: str) -> None:
        """Record that the field at ``path`` is invalid."""
        node = self.tree
        full = f"{self.prefix}.{path}" if self.prefix else path
        for part in full.split("."):
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": code, "message": message})
        self.count += 1

    def too_long(self, path: str, value: Any, limit: int) -> None:
        """Record an error if ``value`` (a string or list) is longer than ``limit``."""
        if value is not None and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def length_between(self, path: str, value: Any, low: int, high: int) -> None:
        """Record an error unless ``low <= len(value) <= high``."""
        if value is None or not low <= len(value) <= high:
            self.add(
                path,
                "BASE_TYPE_BAD_LENGTH",
                f"Must be between {low} and {high} in length.",
            )

    def required(self, path: str, value: Any) -> bool:
        """Record an error if ``value`` is missing or empty; True when it is present."""
        if value is None or value == "" or value == []:
            self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
            return False
        return True

    def raise_if_any(self) -> None:
        """Raise the collected errors as one ``DiscordError``."""
        if self.count:
            raise DiscordError(400, 50035, "Invalid Form Body", self.tree)


def unknown(what: str) -> DiscordError:
    """``404 Unknown <what>`` with Discord's code for it."""
    codes = {
        "Channel": 10003,
        "Guild": 10004,
        "Member": 10007,
        "Message": 10008,
        "Role": 10011,
        "User": 10013,
        "Webhook": 10015,
        "Application": 10002,
        "interaction": 10062,
        "application command": 10063,
    }
    return DiscordError(404, codes[what], f"Unknown {what}")


ALREADY_ACKNOWLEDGED = (400, 40060, "Interaction has already been acknowledged.")
CANNOT_SEND_EMPTY = (400, 50006, "Cannot send an empty message")
CANNOT_DM = (403, 50007, "Cannot send messages to this user")
MISSING_PERMISSIONS = (403, 50013, "Missing Permissions")
MISSING_ACCESS = (403, 50001, "Missing Access")
WRONG_CHANNEL_TYPE = (400, 50024, "Cannot execute action on this channel type")
NOT_AUTHOR = (403, 50005, "Cannot edit a message authored by another user")
UNAUTHORIZED = (401, 0, "401: Unauthorized")
TOO_LARGE = (413, 40005, "Request entity too large")
THREAD_EXISTS = (400, 160004, "A thread has already been created for this message")


def error(spec: tuple[int, int, str]) -> DiscordError:
    """A ``DiscordError`` from one of the constants above."""
    return DiscordError(*spec)
