"""The Anthropic Messages API: `POST /v1/messages` with structured output or a forced tool, and
prompt caching (`cache_control` breakpoints: `prompt_cache`)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import orjson
from aiohttp import web

from aexy_dev.simulator.answers import Answer
from aexy_dev.simulator.call import (
    BadRequest,
    Call,
    JsonObject,
    estimate_tokens,
    last_user_text,
    messages_text,
    optional_int,
    require_messages,
    require_str,
    text_of,
)
from aexy_dev.simulator.config import ProtocolName
from aexy_dev.simulator.dialect import (
    ErrorSpec,
    Listing,
    ReplyMeta,
    Usage,
    has_bearer,
    json_response,
    rfc3339_after,
    with_extra,
)
from aexy_dev.simulator.prompt_cache import (
    FIVE_MINUTES,
    MAX_BREAKPOINTS,
    TTLS,
    Breakpoint,
    CachePlan,
    minimum_tokens,
    prefix_key,
)

MODELS: Mapping[str, str] = MappingProxyType(
    {
        "claude-sonnet-4-6": "Claude Sonnet 4.6 (simulated)",
        "claude-haiku-4-5": "Claude Haiku 4.5 (simulated)",
        "claude-opus-4-7": "Claude Opus 4.7 (simulated)",
    }
)
SPEND_LIMIT_CODE = "enforced_spend_limit_reached"
ERRORS: Mapping[str, tuple[int, str, str]] = MappingProxyType(
    {
        "rate_limit": (429, "rate_limit_error", "This request would exceed your organization's rate limit."),
        "spend_limit": (429, "rate_limit_error", "You have reached your specified API usage limits."),
        "overloaded": (529, "overloaded_error", "Overloaded"),
        "server_error": (500, "api_error", "Internal server error"),
        "unavailable": (503, "api_error", "Service unavailable"),
        "auth": (401, "authentication_error", "invalid x-api-key"),
        "bad_request": (400, "invalid_request_error", "Invalid request"),
        "not_found": (404, "not_found_error", "model: {model}"),
    }
)


class AnthropicDialect:
    name: ProtocolName = "anthropic"
    completion_path = "/v1/messages"
    missing_key_message = "x-api-key header is required"

    def authorized(self, headers: Mapping[str, str], required: bool) -> bool:
        """Always required, like the real API: `x-api-key`, or `Authorization: Bearer` (SDK 2.x sends it)."""
        return bool(headers.get("x-api-key")) or has_bearer(headers)

    def parse(self, body: JsonObject) -> Call:
        messages = require_messages(body)
        if optional_int(body, "max_tokens") is None:
            raise BadRequest("max_tokens: Field required", "max_tokens")
        if body.get("stream"):
            raise BadRequest("stream: the simulator only answers non-streaming requests", "stream")
        tool_name, schema = forced_tool(body)
        model = require_str(body, "model")
        return Call(
            model=model,
            prompt=f"{text_of(body.get('system'))}\n{messages_text(messages)}",
            last_user=last_user_text(messages),
            schema=schema if tool_name else output_schema(body),
            schema_name=tool_name,
            max_tokens=body["max_tokens"],
            tool_name=tool_name,
            cache=cache_plan(body, model, messages),
        )

    def reply(self, call: Call, answer: Answer, usage: Usage, meta: ReplyMeta) -> web.Response:
        payload = {
            "id": "msg_" + meta.request_id.removeprefix("req_"),
            "type": "message",
            "role": "assistant",
            "model": call.model,
            "content": [content_block(call, answer, meta.request_id)],
            "stop_reason": stop_reason(call, answer),
            "stop_sequence": None,
            "usage": usage_json(usage),
        }
        return json_response(payload, headers=with_extra(rate_headers(meta), meta))

    def error(self, spec: ErrorSpec, meta: ReplyMeta) -> web.Response:
        status, error_type, default = ERRORS[spec.kind]
        error: dict[str, Any] = {
            "type": error_type,
            "message": spec.message or default.format(model=spec.model),
        }
        if spec.kind == "spend_limit":
            error["details"] = {"error_code": SPEND_LIMIT_CODE}
        body = {"type": "error", "error": error, "request_id": meta.request_id}
        headers = with_extra(rate_headers(meta), meta, spec.retry_after)
        return json_response(body, status=status, headers=headers)

    def listings(self) -> Mapping[str, Listing]:
        return {"/v1/models": models_response}


def forced_tool(body: JsonObject) -> tuple[str | None, JsonObject | None]:
    """The tool a `tool_choice` of type `tool` (or `any`) forces, and its input schema."""
    choice, tools = body.get("tool_choice"), body.get("tools")
    if not isinstance(choice, dict) or choice.get("type") not in ("tool", "any"):
        return None, None
    tools = [tool for tool in tools if isinstance(tool, dict)] if isinstance(tools, list) else []
    name = choice.get("name") if choice.get("type") == "tool" else next((t.get("name") for t in tools), None)
    tool = next((tool for tool in tools if tool.get("name") == name), None)
    if tool is None or not isinstance(tool.get("input_schema"), dict):
        raise BadRequest(f"tool_choice: tool {name!r} not found in tools", "tool_choice")
    return str(name), tool["input_schema"]


def output_schema(body: JsonObject) -> JsonObject | None:
    """`output_config.format` (or the beta top-level `output_format`) of type `json_schema`."""
    config = body.get("output_config")
    fmt = config.get("format") if isinstance(config, dict) else body.get("output_format")
    if fmt is None:
        return None
    if (
        not isinstance(fmt, dict)
        or fmt.get("type") != "json_schema"
        or not isinstance(fmt.get("schema"), dict)
    ):
        raise BadRequest("output_config.format: expected {type: json_schema, schema: {...}}", "output_config")
    schema: JsonObject = fmt["schema"]
    return schema


def content_block(call: Call, answer: Answer, request_id: str) -> JsonObject:
    if call.tool_name is None:
        return {"type": "text", "text": answer.text}
    tool_id = "toolu_" + request_id.removeprefix("req_")
    return {"type": "tool_use", "id": tool_id, "name": call.tool_name, "input": answer.value}


def stop_reason(call: Call, answer: Answer) -> str:
    if answer.finish == "length":
        return "max_tokens"
    return "end_turn" if call.tool_name is None else "tool_use"


def usage_json(usage: Usage) -> JsonObject:
    """Like the API: `input_tokens` are the tokens neither read from nor written to the cache."""
    written_5m = usage.cache_write_tokens - usage.cache_write_1h_tokens
    return {
        "input_tokens": usage.uncached_input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": written_5m,
            "ephemeral_1h_input_tokens": usage.cache_write_1h_tokens,
        },
        "service_tier": "standard",
    }


def cache_plan(body: JsonObject, model: str, messages: list[JsonObject]) -> CachePlan:
    """The request's breakpoints, in prompt order (tools, system, messages); a top-level
    `cache_control` (automatic caching) marks the last block."""
    segments = _segments(body.get("system"), messages)
    marks = [(index, ttl) for index, (_, _, ttl) in enumerate(segments) if ttl is not None]
    tool_marks = sum(1 for tool in _tools(body) if _ttl(tool) is not None)
    automatic = _ttl(body)
    if automatic is not None and segments:
        marks = [*(mark for mark in marks if mark[0] != len(segments) - 1), (len(segments) - 1, automatic)]
    if len(marks) + tool_marks > MAX_BREAKPOINTS:
        message = f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided."
        raise BadRequest(message, "cache_control")
    if not marks:
        return CachePlan()
    fixed = orjson.dumps([model, _tools(body), body.get("output_config"), body.get("output_format")])
    breakpoints = tuple(_breakpoint(fixed, segments, index, ttl) for index, ttl in marks)
    return CachePlan(breakpoints=breakpoints, minimum_tokens=minimum_tokens(model))


Segment = tuple[bool, str, float | None]
"""(part of the system prompt?, text, TTL of its breakpoint or None)."""


def _segments(system: object, messages: list[JsonObject]) -> list[Segment]:
    """The prompt's blocks, each with the text `call.prompt` has for it (joined by newlines)."""
    segments = [(True, text, ttl) for text, ttl in _blocks(system)] if system is not None else []
    for message in messages:
        segments += [(False, text, ttl) for text, ttl in _blocks(message.get("content"))]
    return segments


def _blocks(content: object) -> list[tuple[str, float | None]]:
    if isinstance(content, list) and content:
        return [(text_of([block]), _ttl(block)) for block in content]
    return [(text_of(content), None)]


def _breakpoint(fixed: bytes, segments: list[Segment], index: int, ttl: float) -> Breakpoint:
    """The prefix up to and including segment `index`, as the simulator's prompt text spells it."""
    system = [text for in_system, text, _ in segments if in_system]
    if segments[index][0]:
        text = "\n".join(system[: index + 1])
    else:
        before = [text for in_system, text, _ in segments[: index + 1] if not in_system]
        text = "\n".join(system) + "\n" + "\n".join(before)
    return Breakpoint(prefix_key(fixed, text.encode()), estimate_tokens(text), ttl)


def _tools(body: JsonObject) -> list[Any]:
    tools = body.get("tools")
    return tools if isinstance(tools, list) else []


def _ttl(block: object) -> float | None:
    """The TTL a block's `cache_control` asks for, or None when the block is not a breakpoint."""
    control = block.get("cache_control") if isinstance(block, dict) else None
    if control is None:
        return None
    if not isinstance(control, dict) or control.get("type") != "ephemeral":
        raise BadRequest("cache_control: expected {type: ephemeral, ttl?: 5m | 1h}", "cache_control")
    ttl = control.get("ttl", "5m")
    if ttl not in TTLS:
        raise BadRequest("cache_control.ttl: expected 5m or 1h", "cache_control")
    return TTLS.get(ttl, FIVE_MINUTES)


def rate_headers(meta: ReplyMeta) -> dict[str, str]:
    rate, reset = meta.rate, rfc3339_after(meta.rate.reset_s)
    headers = {"request-id": meta.request_id}
    headers.update(_limit("requests", rate.requests_limit, rate.requests_remaining, reset))
    for scope in ("tokens", "input-tokens", "output-tokens"):
        headers.update(_limit(scope, rate.tokens_limit, rate.tokens_remaining, reset))
    return headers


def _limit(scope: str, limit: int, remaining: int, reset: str) -> dict[str, str]:
    prefix = f"anthropic-ratelimit-{scope}"
    return {f"{prefix}-limit": str(limit), f"{prefix}-remaining": str(remaining), f"{prefix}-reset": reset}


def models_response() -> web.Response:
    data = [_model_info(model, display) for model, display in MODELS.items()]
    body = {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
    return json_response(body)


def _model_info(model: str, display: str) -> JsonObject:
    created = "2025-09-29T00:00:00Z"
    return {
        "type": "model",
        "id": model,
        "display_name": display,
        "created_at": created,
        "lifecycle": "active",
    }
