"""Any OpenAI-compatible server (llama.cpp server, vLLM, LM Studio, OpenAI itself):
`POST {base}/chat/completions` with `response_format` = json_schema.

OpenAI caches long prompt prefixes by itself (the system prompt comes first, so it is the shared
prefix); `usage.prompt_tokens_details.cached_tokens` says how many of `prompt_tokens` were read from
that cache. Servers that do not report it read as 0."""

from __future__ import annotations

from typing import Any

import httpx

from gateway.config import ProviderConfig
from gateway.errors import ProviderUnavailable
from gateway.providers.base import ProviderCall, ProviderReply, token_count
from gateway.providers.http import HttpJsonProvider, answers, post_json
from gateway.providers.ratelimit_headers import openai_hint

DEFAULT_BASE_URL = "http://localhost:8080/v1"
"""llama.cpp server's default address (OPENAI_BASE_URL's default)."""


def cached_tokens(usage: dict[str, Any]) -> int:
    details = usage.get("prompt_tokens_details")
    return token_count(details.get("cached_tokens")) if isinstance(details, dict) else 0


class OpenAIProvider(HttpJsonProvider):
    def __init__(self, config: ProviderConfig, *, http_client: httpx.AsyncClient | None = None) -> None:
        super().__init__(config, DEFAULT_BASE_URL, http_client)
        self._headers = {"authorization": f"Bearer {config.api_key}"} if config.api_key else {}

    async def is_available(self) -> bool:
        return await answers(self._client, f"{self._base}/models", self._headers)

    async def analyze(self, call: ProviderCall) -> ProviderReply:
        url = f"{self._base}/chat/completions"
        reply, headers = await post_json(self._client, self.name, url, self._body(call), self._headers)
        usage = reply.get("usage") or {}
        prompt_tokens = token_count(usage.get("prompt_tokens"))
        return ProviderReply(
            text=self._content(reply),
            input_tokens=prompt_tokens,
            output_tokens=token_count(usage.get("completion_tokens")),
            model=str(reply.get("model") or self.model),
            rate=openai_hint(headers),
            usage_known=bool(usage),
            cache_read_tokens=min(cached_tokens(usage), prompt_tokens),
        )

    def _content(self, reply: dict[str, Any]) -> str:
        """The JSON text; "" for a refusal or an empty message, so the repair call follows."""
        try:
            content = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise ProviderUnavailable(
                f"{self.name}: reply has no choices[0].message", provider=self.name
            ) from exc
        return content if isinstance(content, str) else ""

    def _body(self, call: ProviderCall) -> dict[str, Any]:
        schema = {"name": call.schema_name, "schema": call.schema, "strict": True}
        return {
            "model": self.model,
            "messages": [{"role": "system", "content": call.system}]
            + [{"role": m.role, "content": m.content} for m in call.messages],
            "response_format": {"type": "json_schema", "json_schema": schema},
            "max_tokens": call.max_tokens,
            "temperature": call.temperature,
            **self._config.options,
        }
