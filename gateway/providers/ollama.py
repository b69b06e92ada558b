"""Ollama's native API: `POST /api/chat` with `stream: false` and `format` = the JSON schema."""

from __future__ import annotations

from typing import Any

import httpx

from gateway.config import ProviderConfig
from gateway.providers.base import ProviderCall, ProviderReply, token_count
from gateway.providers.http import HttpJsonProvider, answers, post_json

DEFAULT_BASE_URL = "http://localhost:11434"
"""Where Ollama listens by default (OLLAMA_BASE_URL's default)."""


class OllamaProvider(HttpJsonProvider):
    def __init__(self, config: ProviderConfig, *, http_client: httpx.AsyncClient | None = None) -> None:
        super().__init__(config, DEFAULT_BASE_URL, http_client)

    async def is_available(self) -> bool:
        return await answers(self._client, f"{self._base}/api/tags", {})

    async def analyze(self, call: ProviderCall) -> ProviderReply:
        reply, _ = await post_json(self._client, self.name, f"{self._base}/api/chat", self._body(call), {})
        message = reply.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        return ProviderReply(
            text=content if isinstance(content, str) else "",  # nothing usable: the repair call follows
            input_tokens=token_count(reply.get("prompt_eval_count")),
            output_tokens=token_count(reply.get("eval_count")),
            model=str(reply.get("model") or self.model),
            usage_known="eval_count" in reply,
        )

    def _body(self, call: ProviderCall) -> dict[str, Any]:
        system = [{"role": "system", "content": call.system}]
        options = {"temperature": call.temperature, "num_predict": call.max_tokens, **self._config.options}
        return {
            "model": self.model,
            "messages": system + [{"role": m.role, "content": m.content} for m in call.messages],
            "stream": False,
            "format": call.schema,
            "options": options,
            "keep_alive": self._config.keep_alive,
        }
