"""The Ollama API: `POST /api/chat` with a JSON-Schema `format`, plus `/api/tags` and `/api/version`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import orjson
from aiohttp import web

from aexy_dev.simulator.answers import Answer
from aexy_dev.simulator.call import BadRequest, Call, JsonObject, last_user_text, messages_text
from aexy_dev.simulator.config import ProtocolName
from aexy_dev.simulator.dialect import (
    ErrorSpec,
    Listing,
    ReplyMeta,
    Usage,
    has_bearer,
    json_response,
    with_extra,
)

VERSION = "0.12.6"
MODEL = "llama3.1:8b"
NDJSON = "application/x-ndjson"
ERRORS: Mapping[str, tuple[int, str]] = MappingProxyType(
    {
        "rate_limit": (429, "rate limit exceeded, please retry later"),
        "spend_limit": (429, "you have reached your usage limit, upgrade for higher limits"),
        "overloaded": (503, "server busy, please try again.  maximum pending requests exceeded"),
        "server_error": (500, "llama runner process has terminated: exit status 2"),
        "unavailable": (503, "service unavailable"),
        "auth": (401, "unauthorized"),
        "bad_request": (400, "invalid request"),
        "not_found": (404, 'model "{model}" not found, try pulling it first'),
    }
)


class OllamaDialect:
    name: ProtocolName = "ollama"
    completion_path = "/api/chat"
    missing_key_message = "unauthorized"

    def authorized(self, headers: Mapping[str, str], required: bool) -> bool:
        return not required or has_bearer(headers)

    def parse(self, body: JsonObject) -> Call:
        model, messages = body.get("model"), body.get("messages", [])
        if not isinstance(model, str) or not model:
            raise BadRequest("model is required", "model")
        if not isinstance(messages, list) or not all(isinstance(item, dict) for item in messages):
            raise BadRequest("messages must be a list of objects", "messages")
        return Call(
            model=model,
            prompt=messages_text(messages),
            last_user=last_user_text(messages),
            schema=format_schema(body.get("format")),
            max_tokens=num_predict(body.get("options")),
            stream=body.get("stream", True) is not False,
        )

    def reply(self, call: Call, answer: Answer, usage: Usage, meta: ReplyMeta) -> web.Response:
        headers = with_extra({}, meta)
        final = {**_base(call, "" if call.stream else answer.text), **done_fields(answer, usage, meta)}
        if not call.stream:
            return json_response(final, headers=headers)
        chunks = (_base(call, answer.text) | {"done": False}, final)
        body = b"".join(orjson.dumps(chunk) + b"\n" for chunk in chunks)
        return web.Response(body=body, headers=headers, content_type=NDJSON)

    def error(self, spec: ErrorSpec, meta: ReplyMeta) -> web.Response:
        status, default = ERRORS[spec.kind]
        message = spec.message or default.format(model=spec.model)
        return json_response(
            {"error": message}, status=status, headers=with_extra({}, meta, spec.retry_after)
        )

    def listings(self) -> Mapping[str, Listing]:
        return {"/api/tags": tags_response, "/api/version": version_response, "/": running_response}


def format_schema(fmt: object) -> JsonObject | None:
    """`format` is a JSON Schema object, `"json"`, or absent (free text)."""
    if isinstance(fmt, dict):
        return fmt
    if fmt in (None, "", "json"):
        return None
    raise BadRequest(f"invalid format: {fmt!r}", "format")


def num_predict(options: object) -> int | None:
    value = options.get("num_predict") if isinstance(options, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _base(call: Call, content: str) -> JsonObject:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"model": call.model, "created_at": now, "message": {"role": "assistant", "content": content}}


def done_fields(answer: Answer, usage: Usage, meta: ReplyMeta) -> JsonObject:
    """The final chunk's statistics; durations (ns) split the time actually spent on the request."""
    total = max(int(meta.elapsed_s * 1e9), 1000)
    return {
        "done_reason": "length" if answer.finish == "length" else "stop",
        "done": True,
        "total_duration": total,
        "load_duration": total // 20,
        "prompt_eval_count": usage.input_tokens,
        "prompt_eval_duration": total // 5,
        "eval_count": usage.output_tokens,
        "eval_duration": total - total // 20 - total // 5,
    }


def tags_response() -> web.Response:
    details: dict[str, Any] = {
        "parent_model": "",
        "format": "gguf",
        "family": "llama",
        "families": ["llama"],
        "parameter_size": "8.0B",
        "quantization_level": "Q4_K_M",
    }
    model = {
        "name": MODEL,
        "model": MODEL,
        "modified_at": "2025-01-15T09:30:00.000000Z",
        "size": 4920753328,
        "digest": "46e0c10c039e019119339687c3c1757cc81b9da49709a3b3924863ba87ca666e",
        "details": details,
    }
    return json_response({"models": [model]})


def version_response() -> web.Response:
    return json_response({"version": VERSION})


def running_response() -> web.Response:
    return web.Response(text="Ollama is running")
