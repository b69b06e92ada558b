"""The protocol-neutral view of one completion request, and the helpers that build it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aexy_dev.simulator.prompt_cache import NO_CACHING, CachePlan

JsonObject = dict[str, Any]


class BadRequest(Exception):
    """The request body is malformed; answered with the protocol's 400."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


@dataclass(frozen=True, slots=True)
class Call:
    """What the simulator needs from a completion request, whatever the protocol."""

    model: str
    prompt: str
    last_user: str
    schema: JsonObject | None = None
    schema_name: str | None = None
    max_tokens: int | None = None
    tool_name: str | None = None
    stream: bool = False
    cache: CachePlan = NO_CACHING

    def matches(self, needle: str | None, title: str) -> bool:
        """Whether a fault's `match` applies: a substring of the prompt, or the schema's title."""
        return needle is None or needle in self.prompt or needle == title


def estimate_tokens(text: str) -> int:
    """ceil(chars / 4), the simulator's tokenizer."""
    return -(-len(text) // 4)


def require_object(body: object) -> JsonObject:
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return body


def require_str(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{key}: Field required", key)
    return value


def optional_int(body: Mapping[str, Any], key: str, minimum: int = 1) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BadRequest(f"{key}: Input should be an integer >= {minimum}", key)
    return value


def require_messages(body: Mapping[str, Any]) -> list[JsonObject]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages: Field required and must be a non-empty list", "messages")
    if not all(isinstance(message, dict) for message in messages):
        raise BadRequest("messages: each message must be an object", "messages")
    return messages


def text_of(content: object) -> str:
    """The text of a message content: a string, or a list of blocks with `text` fields."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(_block_text(block) for block in content)
    return ""


def _block_text(block: object) -> str:
    if isinstance(block, dict):
        text = block.get("text", block.get("content", ""))
        return text_of(text)
    return ""


def messages_text(messages: list[JsonObject]) -> str:
    return "\n".join(text_of(message.get("content")) for message in messages)


def last_user_text(messages: list[JsonObject]) -> str:
    users = [message for message in messages if message.get("role") == "user"]
    return text_of(users[-1].get("content")) if users else ""
