"""The OpenAI Chat Completions API (and compatible servers): `POST /v1/chat/completions`, with
automatic prompt caching (`prompt_cache`) reported as `prompt_tokens_details.cached_tokens`."""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import MappingProxyType

import orjson
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
)
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
from aexy_dev.simulator.prompt_cache import CachePlan

MODELS = ("gpt-4o-mini", "gpt-4o")
QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more information on "
    "this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."
)
ERRORS: Mapping[str, tuple[int, str, str | None, str]] = MappingProxyType(
    {
        "rate_limit": (429, "requests", "rate_limit_exceeded", "Rate limit reached for requests."),
        "spend_limit": (429, "insufficient_quota", "insufficient_quota", QUOTA_MESSAGE),
        "overloaded": (
            503,
            "server_error",
            None,
            "The engine is currently overloaded, please try again later",
        ),
        "server_error": (500, "server_error", None, "The server had an error while processing your request."),
        "unavailable": (503, "server_error", None, "The service is temporarily unavailable."),
        "auth": (401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
        "bad_request": (400, "invalid_request_error", None, "Invalid request"),
        "not_found": (
            404,
            "invalid_request_error",
            "model_not_found",
            "The model `{model}` does not exist or you do not have access to it.",
        ),
    }
)


class OpenAIDialect:
    name: ProtocolName = "openai"
    completion_path = "/v1/chat/completions"
    missing_key_message = (
        "You didn't provide an API key. You need to provide your API key in an Authorization header "
        "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
    )

    def authorized(self, headers: Mapping[str, str], required: bool) -> bool:
        return not required or has_bearer(headers)

    def parse(self, body: JsonObject) -> Call:
        messages = require_messages(body)
        if body.get("stream"):
            raise BadRequest("stream: the simulator only answers non-streaming requests", "stream")
        check_temperature(body.get("temperature"))
        name, schema = response_schema(body.get("response_format"))
        limit = optional_int(body, "max_completion_tokens") or optional_int(body, "max_tokens")
        model = require_str(body, "model")
        seed = orjson.dumps([model, body.get("response_format"), body.get("tools")])
        return Call(
            model=model,
            prompt=messages_text(messages),
            last_user=last_user_text(messages),
            schema=schema,
            schema_name=name,
            max_tokens=limit,
            cache=CachePlan(automatic_seed=seed),
        )

    def reply(self, call: Call, answer: Answer, usage: Usage, meta: ReplyMeta) -> web.Response:
        message: JsonObject = {
            "role": "assistant",
            "content": answer.text,
            "refusal": None,
            "annotations": [],
        }
        finish = "length" if answer.finish == "length" else "stop"
        payload = {
            "id": "chatcmpl-" + meta.request_id.removeprefix("req_"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": call.model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": usage_json(usage),
            "service_tier": "default",
            "system_fingerprint": "fp_simulator",
        }
        return json_response(payload, headers=with_extra(rate_headers(meta), meta))

    def error(self, spec: ErrorSpec, meta: ReplyMeta) -> web.Response:
        status, error_type, code, default = ERRORS[spec.kind]
        message = spec.message or default.format(model=spec.model)
        body = {"error": {"message": message, "type": error_type, "param": spec.param, "code": code}}
        headers = with_extra(rate_headers(meta), meta, spec.retry_after)
        return json_response(body, status=status, headers=headers)

    def listings(self) -> Mapping[str, Listing]:
        return {"/v1/models": models_response}


def check_temperature(value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 2:
        raise BadRequest("temperature: must be a number between 0 and 2", "temperature")


def response_schema(fmt: object) -> tuple[str | None, JsonObject | None]:
    """`response_format`: `json_schema` gives (name, schema); `text` and `json_object` give none."""
    if fmt is None or (isinstance(fmt, dict) and fmt.get("type") in ("text", "json_object")):
        return None, None
    spec = fmt.get("json_schema") if isinstance(fmt, dict) and fmt.get("type") == "json_schema" else None
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise BadRequest("Missing required parameter: 'response_format.json_schema.name'.", "response_format")
    schema = spec.get("schema")
    return spec["name"], schema if isinstance(schema, dict) else {"type": "object", "properties": {}}


def usage_json(usage: Usage) -> JsonObject:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def rate_headers(meta: ReplyMeta) -> dict[str, str]:
    rate, reset = meta.rate, duration_text(meta.rate.reset_s)
    return {
        "x-request-id": meta.request_id,
        "openai-processing-ms": str(int(meta.elapsed_s * 1000)),
        "x-ratelimit-limit-requests": str(rate.requests_limit),
        "x-ratelimit-limit-tokens": str(rate.tokens_limit),
        "x-ratelimit-remaining-requests": str(rate.requests_remaining),
        "x-ratelimit-remaining-tokens": str(rate.tokens_remaining),
        "x-ratelimit-reset-requests": reset,
        "x-ratelimit-reset-tokens": reset,
    }


def duration_text(seconds: float) -> str:
    """OpenAI's reset format: `120ms`, `1.5s`, `6m0s`."""
    if seconds < 1:
        return f"{int(seconds * 1000)}ms"
    if seconds < 60:
        return f"{round(seconds, 3):g}s"
    return f"{int(seconds // 60)}m{int(seconds % 60)}s"


def models_response() -> web.Response:
    data = [{"id": model, "object": "model", "created": 1721172741, "owned_by": "system"} for model in MODELS]
    return json_response({"object": "list", "data": data})
