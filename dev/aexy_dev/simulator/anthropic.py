"""The Anthropic Messages API: `POST /v1/messages` with structured output or a forced tool."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from aiohttp import web

from aexy_dev.simulator.answers import Answer
from aexy_dev.simulator.call import (
    BadRequest,
    Call,
    JsonObject,
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
        return Call(
            model=require_str(body, "model"),
            prompt=f"{text_of(body.get('system'))}\n{messages_text(messages)}",
            last_user=last_user_text(messages),
            schema=schema if tool_name else output_schema(body),
            schema_name=tool_name,
            max_tokens=body["max_tokens"],
            tool_name=tool_name,
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
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "service_tier": "standard",
    }


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
