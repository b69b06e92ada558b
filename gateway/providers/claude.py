"""Anthropic Claude through the official `anthropic` SDK.

Structured output goes through `output_config.format` (JSON schema), the current API: recent models
reject sampling parameters, assistant prefill and forced tool choice with a 400, so none is sent.
The SDK's own retries are off (`max_retries=0`): the gateway retries, honouring Retry-After.
The SDK runs on `httpx2`; by default it gets the SDK's `DefaultAioHttpClient` (httpx2 over aiohttp),
the SDK's option for high concurrency; pass any `httpx2.AsyncClient` as `http_client` instead.

The request body (`MessageParams`), the reading of a `Message` (`reply_of`) and the translation of
SDK errors (`translate_error`) are shared with the Message Batches provider (`gateway.batches`).

Prompt caching: the system prompt is the static part of every call (the per-request material is in
the user message), so it goes first, as one text block carrying `cache_control` (the default,
shortest TTL). The API caches everything up to that mark (with the output schema) once it reaches
the model's minimum cacheable length and processes shorter prefixes without caching, so the mark is
always sent.
`reply_of` counts the tokens read from and written to the cache into `input_tokens` and reports them
apart as well, to be priced at the cache's prices.

The SDK is imported where it is first used, not with this module: importing it is most of every
command's start-up (`python -X importtime`), and the settings read this module's defaults in
processes that never talk to Claude.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from gateway.config import ProviderConfig
from gateway.errors import GatewayError, ProviderUnavailable
from gateway.providers import translate
from gateway.providers.base import (
    NO_HINT,
    ConfiguredProvider,
    ProviderCall,
    ProviderReply,
    RateHint,
    token_count,
)
from gateway.providers.ratelimit_headers import anthropic_hint

if TYPE_CHECKING:
    import anthropic
    import httpx2

DEFAULT_RPM = 50
DEFAULT_TPM = 100_000
"""Claude's requests and tokens per minute unless CLAUDE_RPM / CLAUDE_TPM say otherwise."""

CACHE_MARK: dict[str, str] = {"type": "ephemeral"}
"""The breakpoint on the system prompt: an entry of the default TTL, refreshed by every read."""

UNREADABLE = (ValueError, TypeError, AttributeError)
"""What reading a 200 whose body is not the expected model raises."""


def anthropic_client(
    config: ProviderConfig, http_client: httpx2.AsyncClient | None = None
) -> anthropic.AsyncAnthropic:
    """The SDK client of `config`: no SDK retries, `timeout_s` per HTTP request."""
    import anthropic  # noqa: PLC0415 - see the module's docstring

    return anthropic.AsyncAnthropic(
        api_key=config.api_key or "missing",
        base_url=config.base_url or None,
        max_retries=0,
        timeout=config.timeout_s,
        http_client=http_client or anthropic.DefaultAioHttpClient(timeout=config.timeout_s),
    )


class MessageParams:
    """The Messages API body of one `ProviderCall` (direct or inside a Message Batch)."""

    def __init__(self, config: ProviderConfig) -> None:
        self._config = config
        self._schemas: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
        """Transformed schemas by name and, for a fused call, its analyses (one name, many schemas)."""

    def __call__(self, call: ProviderCall) -> dict[str, Any]:
        output_config: dict[str, Any] = {"format": {"type": "json_schema", "schema": self._schema(call)}}
        if effort := self._config.options.get("effort"):
            output_config["effort"] = effort
        return {
            "model": self._config.model,
            "max_tokens": call.max_tokens,
            "system": system_blocks(call.system),
            "messages": [{"role": m.role, "content": m.content} for m in call.messages],
            "output_config": output_config,
        }

    def _schema(self, call: ProviderCall) -> dict[str, Any]:
        key = (call.schema_name, tuple(call.analysis_types))
        if key not in self._schemas:
            import anthropic  # noqa: PLC0415 - see the module's docstring

            self._schemas[key] = anthropic.transform_schema(call.schema)
        return self._schemas[key]


def system_blocks(system: str) -> str | list[dict[str, Any]]:
    """The system prompt as one text block marked as a cache breakpoint (an empty prompt as is: the
    API takes no empty text block)."""
    if not system:
        return system
    return [{"type": "text", "text": system, "cache_control": dict(CACHE_MARK)}]


def reply_of(
    message: anthropic.types.Message, rate: RateHint = NO_HINT, price_factor: float = 1.0
) -> ProviderReply:
    """The reply of a `Message`; its `usage.input_tokens` leave out the cache's tokens, which
    `ProviderReply.input_tokens` includes."""
    usage = message.usage
    read = token_count(getattr(usage, "cache_read_input_tokens", None))
    written = token_count(getattr(usage, "cache_creation_input_tokens", None))
    return ProviderReply(
        text=_text_of(message),
        input_tokens=token_count(usage.input_tokens) + read + written,
        output_tokens=token_count(usage.output_tokens),
        model=str(message.model or ""),  # the SDK builds replies unvalidated
        rate=rate,
        price_factor=price_factor,
        cache_read_tokens=read,
        cache_write_tokens=written,
        cache_reads_limited=False,
    )


def translate_error(provider: str, exc: anthropic.AnthropicError) -> GatewayError:
    """The gateway error for any SDK failure (statuses through `translate.from_status`)."""
    import anthropic  # noqa: PLC0415 - see the module's docstring

    if isinstance(exc, anthropic.APITimeoutError):
        return translate.timeout(provider, exc)
    if isinstance(exc, anthropic.APIConnectionError):
        return translate.unreachable(provider, exc)
    if isinstance(exc, anthropic.APIStatusError):
        return translate.from_status(provider, exc.status_code, exc.body, exc.response.headers)
    return unreadable(provider, exc)


def unreadable(provider: str, exc: BaseException) -> ProviderUnavailable:
    return ProviderUnavailable(f"{provider}: unreadable reply ({type(exc).__name__})", provider=provider)


class ClaudeProvider(ConfiguredProvider):
    def __init__(self, config: ProviderConfig, *, http_client: httpx2.AsyncClient | None = None) -> None:
        super().__init__(config)
        self._client = anthropic_client(config, http_client)
        self._params = MessageParams(config)

    async def is_available(self) -> bool:
        return bool(self._config.api_key)

    async def aclose(self) -> None:
        await self._client.close()

    async def analyze(self, call: ProviderCall) -> ProviderReply:
        import anthropic  # noqa: PLC0415 - imported with the client already: a name lookup

        try:
            raw = await self._client.messages.with_raw_response.create(**self._params(call))
            message = await raw.parse()
            return reply_of(message, anthropic_hint(raw.headers))
        except anthropic.APIError as exc:
            raise translate_error(self.name, exc) from exc
        except UNREADABLE as exc:  # a 200 whose body is not a Message
            raise unreadable(self.name, exc) from exc


def _text_of(message: anthropic.types.Message) -> str:
    """The reply's JSON: text blocks joined (thinking blocks skipped), or a tool_use input."""
    texts = [block.text for block in message.content if block.type == "text"]
    if texts:
        return "".join(texts)
    inputs = [block.input for block in message.content if block.type == "tool_use"]
    return orjson.dumps(inputs[0]).decode() if inputs else ""
