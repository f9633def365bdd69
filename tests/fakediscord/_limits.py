"""Discord's documented limits on what a bot sends, checked as Discord checks them.

Every function collects all problems of one request and raises a single ``50035 Invalid Form
Body`` (or the specific code Discord uses), so a bot bug shows up in a test as the same
``discord.HTTPException`` it would get in production.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._errors import CANNOT_SEND_EMPTY, DiscordError, FormErrors, error

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
ACTION_ROWS_MAX = 5
ROW_BUTTONS_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
SELECT_OPTIONS_MAX = 25
SELECT_OPTION_TEXT_MAX = 100
SELECT_PLACEHOLDER_MAX = 150
MODAL_TITLE_MAX = 45
MODAL_COMPONENTS_MAX = 5
TEXT_INPUT_LABEL_MAX = 45
LABEL_DESCRIPTION_MAX = 100
TEXT_INPUT_VALUE_MAX = 4000
TEXT_INPUT_PLACEHOLDER_MAX = 100
V2_COMPONENTS_MAX = 40
V2_TEXT_MAX = 4000
AUTOCOMPLETE_CHOICES_MAX = 25
CHOICE_TEXT_MAX = 100
COMMAND_NAME_RE = re.compile(r"^[-_'\w]{1,32}$")
COMMAND_DESCRIPTION_MAX = 100
COMMAND_OPTIONS_MAX = 25
COMMAND_TOTAL_CHARS_MAX = 4000
CHAT_INPUT_COMMANDS_MAX = 100
CONTEXT_MENU_COMMANDS_MAX = 15
THREAD_NAME_MAX = 100

FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_IS_VOICE_MESSAGE = 1 << 13
FLAG_COMPONENTS_V2 = 1 << 15
_SENDABLE_FLAGS = (
    FLAG_SUPPRESS_EMBEDS
    | FLAG_EPHEMERAL
    | FLAG_SUPPRESS_NOTIFICATIONS
    | FLAG_IS_VOICE_MESSAGE
    | FLAG_COMPONENTS_V2
)

# Component types.
ACTION_ROW = 1
BUTTON = 2
STRING_SELECT = 3
TEXT_INPUT = 4
AUTO_SELECTS = (5, 6, 7, 8)  # user, role, mentionable, channel
SELECTS = (STRING_SELECT, *AUTO_SELECTS)
SECTION = 9
TEXT_DISPLAY = 10
THUMBNAIL = 11
MEDIA_GALLERY = 12
FILE = 13
SEPARATOR = 14
CONTAINER = 17
LABEL = 18
FILE_UPLOAD = 19
LINK_STYLE = 5
PREMIUM_STYLE = 6
_URL_RE = re.compile(r"^(https?|attachment)://\S+$")


def _embed_size(embed: Mapping[str, Any]) -> int:
    size = len(embed.get("title") or "") + len(embed.get("description") or "")
    for field in embed.get("fields") or []:
        size += len(str(field.get("name") or "")) + len(str(field.get("value") or ""))
    size += len((embed.get("footer") or {}).get("text") or "")
    size += len((embed.get("author") or {}).get("name") or "")
    return size


def _check_url(errors: FormErrors, path: str, url: Any) -> None:
    if url is not None and not (isinstance(url, str) and _URL_RE.match(url)):
        errors.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")


def check_embeds(errors: FormErrors, embeds: Any) -> None:
    """Embed count, per-field limits and the 6,000-character total of one message."""
    if not isinstance(embeds, list):
        errors.add("embeds", "LIST_TYPE_CONVERT", "Must be an array.")
        return
    errors.too_long("embeds", embeds, EMBEDS_MAX)
    total = 0
    for i, embed in enumerate(embeds):
        path = f"embeds.{i}"
        if not isinstance(embed, dict):
            errors.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        errors.too_long(f"{path}.title", embed.get("title"), EMBED_TITLE_MAX)
        errors.too_long(f"{path}.description", embed.get("description"), EMBED_DESCRIPTION_MAX)
        fields = embed.get("fields") or []
        errors.too_long(f"{path}.fields", fields, EMBED_FIELDS_MAX)
        for j, field in enumerate(fields):
            if errors.required(f"{path}.fields.{j}.name", field.get("name")):
                errors.too_long(f"{path}.fields.{j}.name", str(field["name"]), EMBED_FIELD_NAME_MAX)
            if errors.required(f"{path}.fields.{j}.value", field.get("value")):
                errors.too_long(
                    f"{path}.fields.{j}.value", str(field["value"]), EMBED_FIELD_VALUE_MAX
                )
        footer = embed.get("footer")
        if footer is not None and errors.required(f"{path}.footer.text", footer.get("text")):
            errors.too_long(f"{path}.footer.text", footer["text"], EMBED_FOOTER_MAX)
            _check_url(errors, f"{path}.footer.icon_url", footer.get("icon_url"))
        author = embed.get("author")
        if author is not None and errors.required(f"{path}.author.name", author.get("name")):
            errors.too_long(f"{path}.author.name", author["name"], EMBED_AUTHOR_MAX)
            _check_url(errors, f"{path}.author.url", author.get("url"))
        _check_url(errors, f"{path}.url", embed.get("url"))
        for key in ("image", "thumbnail"):
            if embed.get(key) is not None:
                _check_url(errors, f"{path}.{key}.url", embed[key].get("url"))
        color = embed.get("color")
        if color is not None and not (isinstance(color, int) and 0 <= color <= 0xFFFFFF):
            errors.add(f"{path}.color", "NUMBER_TYPE_MAX", "int value should be <= 16777215.")
        total += _embed_size(embed)
    if total > EMBED_TOTAL_MAX:
        errors.add("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


class _ComponentChecker:
    """Checks one message's (or modal's) component tree; remembers custom ids for duplicates."""

    def __init__(self, errors: FormErrors) -> None:
        self.errors = errors
        self.custom_ids: set[str] = set()
        self.count = 0
        self.text_chars = 0

    def custom_id(self, path: str, component: Mapping[str, Any]) -> None:
        custom_id = component.get("custom_id")
        if not self.errors.required(f"{path}.custom_id", custom_id) or not isinstance(
            custom_id, str
        ):
            return
        self.errors.too_long(f"{path}.custom_id", custom_id, CUSTOM_ID_MAX)
        if custom_id in self.custom_ids:
            self.errors.add(
                f"{path}.custom_id",
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        self.custom_ids.add(custom_id)

    def button(self, path: str, button: Mapping[str, Any]) -> None:
        style = button.get("style")
        if style not in (1, 2, 3, 4, 5, 6):
            self.errors.add(
                f"{path}.style", "BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3, 4, 5, 6)."
            )
        if style == LINK_STYLE:
            self.errors.required(f"{path}.url", button.get("url"))
            _check_url(self.errors, f"{path}.url", button.get("url"))
            if button.get("custom_id") is not None:
                self.errors.add(
                    f"{path}.custom_id",
                    "BUTTON_CUSTOM_ID_INVALID",
                    "A link button cannot have a custom id",
                )
        elif style != PREMIUM_STYLE:
            self.custom_id(path, button)
            if button.get("url") is not None:
                self.errors.add(
                    f"{path}.url", "BUTTON_URL_INVALID", "Only link buttons can have a url"
                )
        self.errors.too_long(f"{path}.label", button.get("label"), BUTTON_LABEL_MAX)
        if style != PREMIUM_STYLE and not button.get("label") and not button.get("emoji"):
            self.errors.add(
                f"{path}.label",
                "BUTTON_LABEL_OR_EMOJI_REQUIRED",
                "A button needs a label or an emoji",
            )

    def select(self, path: str, select: Mapping[str, Any]) -> None:
        self.custom_id(path, select)
        self.errors.too_long(
            f"{path}.placeholder", select.get("placeholder"), SELECT_PLACEHOLDER_MAX
        )
        min_values = select.get("min_values", 1)
        max_values = select.get("max_values", 1)
        if not 0 <= min_values <= 25:
            self.errors.add(f"{path}.min_values", "NUMBER_TYPE_MAX", "int value should be <= 25.")
        if not 1 <= max_values <= 25:
            self.errors.add(f"{path}.max_values", "NUMBER_TYPE_MAX", "int value should be <= 25.")
        if min_values > max_values:
            self.errors.add(
                f"{path}.min_values",
                "SELECT_COMPONENT_MIN_MAX_INVALID",
                "min_values must be less than or equal to max_values",
            )
        if select.get("type") == STRING_SELECT:
            options = select.get("options") or []
            self.errors.length_between(f"{path}.options", options, 1, SELECT_OPTIONS_MAX)
            if options and max_values > len(options):
                self.errors.add(
                    f"{path}.max_values",
                    "SELECT_COMPONENT_MAX_VALUES_EXCEEDED",
                    "max_values must be less than or equal to the number of options",
                )
            values: set[str] = set()
            for k, option in enumerate(options):
                opt_path = f"{path}.options.{k}"
                if self.errors.required(f"{opt_path}.label", option.get("label")):
                    self.errors.too_long(
                        f"{opt_path}.label", option["label"], SELECT_OPTION_TEXT_MAX
                    )
                if self.errors.required(f"{opt_path}.value", option.get("value")):
                    self.errors.too_long(
                        f"{opt_path}.value", option["value"], SELECT_OPTION_TEXT_MAX
                    )
                    if option["value"] in values:
                        self.errors.add(
                            f"{opt_path}.value",
                            "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
                            "Select component option values must be unique",
                        )
                    values.add(option["value"])
                self.errors.too_long(
                    f"{opt_path}.description", option.get("description"), SELECT_OPTION_TEXT_MAX
                )

    def text_input(self, path: str, text_input: Mapping[str, Any], *, needs_label: bool) -> None:
        self.custom_id(path, text_input)
        if text_input.get("style") not in (1, 2):
            self.errors.add(f"{path}.style", "BASE_TYPE_CHOICES", "Value must be one of (1, 2).")
        if needs_label and self.errors.required(f"{path}.label", text_input.get("label")):
            self.errors.too_long(f"{path}.label", text_input["label"], TEXT_INPUT_LABEL_MAX)
        self.errors.too_long(f"{path}.value", text_input.get("value"), TEXT_INPUT_VALUE_MAX)
        self.errors.too_long(
            f"{path}.placeholder", text_input.get("placeholder"), TEXT_INPUT_PLACEHOLDER_MAX
        )
        low = text_input.get("min_length")
        high = text_input.get("max_length")
        if low is not None and not 0 <= low <= TEXT_INPUT_VALUE_MAX:
            self.errors.add(f"{path}.min_length", "NUMBER_TYPE_MAX", "int value should be <= 4000.")
        if high is not None and not 1 <= high <= TEXT_INPUT_VALUE_MAX:
            self.errors.add(f"{path}.max_length", "NUMBER_TYPE_MAX", "int value should be <= 4000.")
        if low is not None and high is not None and low > high:
            self.errors.add(
                f"{path}.min_length",
                "TEXT_INPUT_MIN_MAX_INVALID",
                "min_length must be less than or equal to max_length",
            )

    def action_row(self, path: str, row: Mapping[str, Any]) -> None:
        children = row.get("components") or []
        if not children:
            self.errors.add(f"{path}.components", "BASE_TYPE_REQUIRED", "This field is required")
            return
        kinds = {child.get("type") for child in children}
        if kinds & set(SELECTS) and len(children) > 1:
            self.errors.add(
                f"{path}.components",
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        self.errors.too_long(f"{path}.components", children, ROW_BUTTONS_MAX)
        for i, child in enumerate(children):
            self.count += 1
            child_path = f"{path}.components.{i}"
            kind = child.get("type")
            if kind == BUTTON:
                self.button(child_path, child)
            elif kind in SELECTS:
                self.select(child_path, child)
            else:
                self.errors.add(
                    f"{child_path}.type",
                    "UNION_TYPE_CHOICES",
                    'Value of field "type" must be one of (2, 3, 5, 6, 7, 8).',
                )

    def v2(self, path: str, component: Mapping[str, Any]) -> None:
        """One component of a Components V2 (layout) message."""
        self.count += 1
        kind = component.get("type")
        if kind == ACTION_ROW:
            self.action_row(path, component)
        elif kind == TEXT_DISPLAY:
            if self.errors.required(f"{path}.content", component.get("content")):
                self.text_chars += len(component["content"])
        elif kind == SECTION:
            children = component.get("components") or []
            self.errors.length_between(f"{path}.components", children, 1, 3)
            for i, child in enumerate(children):
                self.v2(f"{path}.components.{i}", child)
            accessory = component.get("accessory")
            if self.errors.required(f"{path}.accessory", accessory) and isinstance(accessory, dict):
                self.v2(f"{path}.accessory", accessory)
        elif kind == CONTAINER:
            for i, child in enumerate(component.get("components") or []):
                self.v2(f"{path}.components.{i}", child)
        elif kind == BUTTON:
            self.button(path, component)
        elif kind in (THUMBNAIL, MEDIA_GALLERY, FILE, SEPARATOR):
            pass
        else:
            self.errors.add(f"{path}.type", "UNION_TYPE_CHOICES", "Invalid component type")


def check_components(errors: FormErrors, components: Any, flags: int) -> None:
    """Action rows, buttons and selects of a message (or a Components V2 layout)."""
    if not isinstance(components, list):
        errors.add("components", "LIST_TYPE_CONVERT", "Must be an array.")
        return
    checker = _ComponentChecker(errors)
    if flags & FLAG_COMPONENTS_V2:
        for i, component in enumerate(components):
            checker.v2(f"components.{i}", component)
        if checker.count > V2_COMPONENTS_MAX:
            errors.add(
                "components",
                "COMPONENT_MAX_TOTAL_COMPONENTS_EXCEEDED",
                f"The message has more than {V2_COMPONENTS_MAX} components",
            )
        if checker.text_chars > V2_TEXT_MAX:
            errors.add(
                "components",
                "COMPONENT_MAX_TEXT_LENGTH_EXCEEDED",
                f"The message's text displays exceed {V2_TEXT_MAX} characters",
            )
        return
    errors.too_long("components", components, ACTION_ROWS_MAX)
    for i, row in enumerate(components):
        if row.get("type") != ACTION_ROW:
            errors.add(
                f"components.{i}.type",
                "UNION_TYPE_CHOICES",
                'Value of field "type" must be one of (1,).',
            )
            continue
        checker.action_row(f"components.{i}", row)


def check_message(
    body: Mapping[str, Any],
    *,
    creating: bool,
    files: int = 0,
    existing_attachments: int = 0,
    prefix: str = "",
) -> None:
    """A message body (channel post, interaction response, followup or edit).

    ``creating`` is False for edits, which may leave everything empty-but-present. ``prefix``
    nests the error paths (``data`` for an interaction callback, as Discord does).
    """
    errors = FormErrors(prefix)
    flags = body.get("flags") or 0
    content = body.get("content")
    if content is not None:
        if not isinstance(content, str):
            errors.add("content", "STRING_TYPE_CONVERT", "Could not interpret value as string.")
        else:
            errors.too_long("content", content, CONTENT_MAX)
    if body.get("embeds") is not None:
        check_embeds(errors, body["embeds"])
    if body.get("components") is not None:
        check_components(errors, body["components"], flags)
    if flags & ~_SENDABLE_FLAGS:
        errors.add("flags", "MESSAGE_FLAGS_INVALID", "Invalid message flags")
    if flags & FLAG_COMPONENTS_V2 and (content or body.get("embeds")):
        errors.add(
            "content",
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used when using "
            "MessageFlags.IS_COMPONENTS_V2",
        )
    mentions = body.get("allowed_mentions")
    if mentions is not None:
        parse = mentions.get("parse", [])
        for key in parse:
            if key not in ("users", "roles", "everyone"):
                errors.add(
                    "allowed_mentions.parse",
                    "BASE_TYPE_CHOICES",
                    "Value must be one of ('users', 'roles', 'everyone').",
                )
        for key in ("users", "roles"):
            if key in parse and mentions.get(key):
                errors.add(
                    f"allowed_mentions.{key}",
                    "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    f'parse:["{key}"] and {key}: [ids...] are mutually exclusive.',
                )
            errors.too_long(f"allowed_mentions.{key}", mentions.get(key), 100)
    errors.raise_if_any()
    if creating:
        has_content = isinstance(content, str) and content.strip() != ""
        if not (
            has_content
            or body.get("embeds")
            or body.get("components")
            or body.get("sticker_ids")
            or body.get("poll")
            or files
            or existing_attachments
        ):
            raise error(CANNOT_SEND_EMPTY)


def check_modal(data: Mapping[str, Any]) -> None:
    """The ``data`` of a type 9 (modal) interaction response."""
    errors = FormErrors()
    if errors.required("data.title", data.get("title")):
        errors.too_long("data.title", data["title"], MODAL_TITLE_MAX)
    if errors.required("data.custom_id", data.get("custom_id")):
        errors.too_long("data.custom_id", data["custom_id"], CUSTOM_ID_MAX)
    components = data.get("components") or []
    errors.length_between("data.components", components, 1, MODAL_COMPONENTS_MAX)
    checker = _ComponentChecker(errors)
    for i, component in enumerate(components):
        path = f"data.components.{i}"
        kind = component.get("type")
        if kind == ACTION_ROW:
            children = component.get("components") or []
            errors.length_between(f"{path}.components", children, 1, 1)
            for j, child in enumerate(children):
                child_path = f"{path}.components.{j}"
                if child.get("type") == TEXT_INPUT:
                    checker.text_input(child_path, child, needs_label=True)
                elif child.get("type") in SELECTS:
                    checker.select(child_path, child)
                else:
                    errors.add(f"{child_path}.type", "UNION_TYPE_CHOICES", "Invalid component type")
        elif kind == LABEL:
            if errors.required(f"{path}.label", component.get("label")):
                errors.too_long(f"{path}.label", component["label"], TEXT_INPUT_LABEL_MAX)
            errors.too_long(
                f"{path}.description", component.get("description"), LABEL_DESCRIPTION_MAX
            )
            child = component.get("component") or {}
            if child.get("type") == TEXT_INPUT:
                checker.text_input(f"{path}.component", child, needs_label=False)
            elif child.get("type") in SELECTS:
                checker.select(f"{path}.component", child)
            elif child.get("type") == FILE_UPLOAD:
                checker.custom_id(f"{path}.component", child)
            else:
                errors.add(f"{path}.component.type", "UNION_TYPE_CHOICES", "Invalid component type")
        elif kind == TEXT_DISPLAY:
            errors.required(f"{path}.content", component.get("content"))
        else:
            errors.add(f"{path}.type", "UNION_TYPE_CHOICES", "Invalid component type")
    errors.raise_if_any()


def check_choices(data: Mapping[str, Any]) -> None:
    """The ``data`` of a type 8 (autocomplete result) interaction response."""
    errors = FormErrors()
    choices = data.get("choices")
    if not isinstance(choices, list):
        errors.add("data.choices", "BASE_TYPE_REQUIRED", "This field is required")
        errors.raise_if_any()
        return
    errors.too_long("data.choices", choices, AUTOCOMPLETE_CHOICES_MAX)
    for i, choice in enumerate(choices):
        if errors.required(f"data.choices.{i}.name", choice.get("name")):
            errors.length_between(f"data.choices.{i}.name", choice["name"], 1, CHOICE_TEXT_MAX)
        value = choice.get("value")
        if isinstance(value, str):
            errors.length_between(f"data.choices.{i}.value", value, 1, CHOICE_TEXT_MAX)
        elif not isinstance(value, int | float):
            errors.add(f"data.choices.{i}.value", "BASE_TYPE_REQUIRED", "This field is required")
    errors.raise_if_any()


def _command_chars(node: Mapping[str, Any]) -> int:
    total = len(node.get("name") or "") + len(node.get("description") or "")
    for choice in node.get("choices") or []:
        total += len(choice.get("name") or "") + len(str(choice.get("value") or ""))
    for option in node.get("options") or []:
        total += _command_chars(option)
    return total


def _check_option(errors: FormErrors, path: str, option: Mapping[str, Any]) -> None:
    name = option.get("name") or ""
    if not COMMAND_NAME_RE.match(name) or name != name.lower():
        errors.add(f"{path}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    errors.length_between(
        f"{path}.description", option.get("description") or "", 1, COMMAND_DESCRIPTION_MAX
    )
    kind = option.get("type")
    if kind not in range(1, 12):
        errors.add(f"{path}.type", "BASE_TYPE_CHOICES", "Value must be one of (1..11).")
    choices = option.get("choices") or []
    errors.too_long(f"{path}.choices", choices, AUTOCOMPLETE_CHOICES_MAX)
    if choices and option.get("autocomplete"):
        errors.add(
            f"{path}.autocomplete",
            "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
            "Autocomplete cannot be set on an option with choices",
        )
    for k, choice in enumerate(choices):
        errors.length_between(
            f"{path}.choices.{k}.name", choice.get("name") or "", 1, CHOICE_TEXT_MAX
        )
        if isinstance(choice.get("value"), str):
            errors.length_between(f"{path}.choices.{k}.value", choice["value"], 1, CHOICE_TEXT_MAX)
    if option.get("min_length") is not None and not 0 <= option["min_length"] <= 6000:
        errors.add(f"{path}.min_length", "NUMBER_TYPE_MAX", "int value should be <= 6000.")
    if option.get("max_length") is not None and not 1 <= option["max_length"] <= 6000:
        errors.add(f"{path}.max_length", "NUMBER_TYPE_MAX", "int value should be <= 6000.")
    children = option.get("options") or []
    if kind in (1, 2):
        _check_options(errors, path, children)


def _check_options(errors: FormErrors, path: str, options: list[Mapping[str, Any]]) -> None:
    errors.too_long(f"{path}.options", options, COMMAND_OPTIONS_MAX)
    seen_optional = False
    names: set[str] = set()
    for i, option in enumerate(options):
        option_path = f"{path}.options.{i}"
        _check_option(errors, option_path, option)
        if option.get("name") in names:
            errors.add(
                f"{option_path}.name",
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
        names.add(option.get("name") or "")
        if option.get("type") in (1, 2):
            continue
        if option.get("required"):
            if seen_optional:
                errors.add(
                    f"{option_path}.required",
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True


def check_commands(commands: Any) -> None:
    """A bulk overwrite of application commands (``tree.sync()``)."""
    errors = FormErrors()
    if not isinstance(commands, list):
        errors.add("_root", "LIST_TYPE_CONVERT", "Must be an array.")
        errors.raise_if_any()
        return
    seen: set[tuple[int, str]] = set()
    per_type: dict[int, int] = {}
    for i, command in enumerate(commands):
        path = str(i)
        kind = command.get("type", 1)
        per_type[kind] = per_type.get(kind, 0) + 1
        name = command.get("name") or ""
        if kind == 1:
            if not COMMAND_NAME_RE.match(name) or name != name.lower():
                errors.add(
                    f"{path}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
                )
            errors.length_between(
                f"{path}.description", command.get("description") or "", 1, COMMAND_DESCRIPTION_MAX
            )
            _check_options(errors, path, command.get("options") or [])
            if _command_chars(command) > COMMAND_TOTAL_CHARS_MAX:
                errors.add(
                    path,
                    "APPLICATION_COMMAND_TOO_LARGE",
                    f"Command exceeds maximum size ({COMMAND_TOTAL_CHARS_MAX})",
                )
        else:
            errors.length_between(f"{path}.name", name, 1, 32)
        if (kind, name) in seen:
            errors.add(
                f"{path}.name",
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                f"Application command names must be unique (duplicate: {name})",
            )
        seen.add((kind, name))
    if per_type.get(1, 0) > CHAT_INPUT_COMMANDS_MAX:
        errors.add(
            "_root",
            "APPLICATION_COMMAND_TOO_MANY",
            "Maximum number of application commands reached (100)",
        )
    for kind in (2, 3):
        if per_type.get(kind, 0) > CONTEXT_MENU_COMMANDS_MAX:
            errors.add(
                "_root",
                "APPLICATION_COMMAND_TOO_MANY",
                "Maximum number of context menu commands reached (15)",
            )
    errors.raise_if_any()


def check_thread_name(name: Any) -> None:
    """A thread's name: 1 to 100 characters."""
    errors = FormErrors()
    if errors.required("name", name):
        errors.length_between("name", name, 1, THREAD_NAME_MAX)
    errors.raise_if_any()


__all__ = [
    "DiscordError",
    "check_choices",
    "check_commands",
    "check_components",
    "check_embeds",
    "check_message",
    "check_modal",
    "check_thread_name",
]
