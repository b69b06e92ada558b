"""The provider seam: one narrow protocol and the plain values that cross it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from gateway.config import ProviderConfig
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class ProviderCall:
    """Everything a provider needs for one structured-output call."""

    request: AnalysisRequest
    system: str
    messages: tuple[ChatMessage, ...]
    schema: dict[str, Any]
    schema_name: str
    max_tokens: int
    temperature: float = 0.0
    analysis_types: tuple[AnalysisType, ...] = ()
    """Empty for one analysis; for a fused call (`schema_name` "fused_analysis"), the analyses its
    schema holds one property each for (`gateway/prompts/fused.py`)."""


@dataclass(frozen=True, slots=True)
class RateHint:
    """What the provider's reply said about the remaining budget (e.g. anthropic-ratelimit-* headers)."""

    requests_remaining: int | None = None
    tokens_remaining: int | None = None
    reset_after_s: float | None = None


NO_HINT = RateHint()


@dataclass(frozen=True, slots=True)
class ProviderReply:
    """The model's raw JSON text and what the call consumed."""

    text: str
    input_tokens: int
    output_tokens: int
    model: str
    rate: RateHint = field(default=NO_HINT)
    usage_known: bool = True
    """False when the server reported no usage: the token reservation then stands as estimated."""
    price_factor: float = 1.0
    """Share of the list price the call is billed at (0.5 for Claude Message Batches)."""
    cache_read_tokens: int = 0
    """The part of `input_tokens` read from the provider's prompt cache (billed at its read price)."""
    cache_write_tokens: int = 0
    """The part of `input_tokens` written to the provider's prompt cache (billed at its write price).
    `input_tokens` counts every prompt token, cached or not, whatever the provider calls them."""
    cache_reads_limited: bool = True
    """Whether the provider counts prompt-cache reads toward its input-token rate limit (Anthropic
    does not: platform.claude.com/docs/en/api/rate-limits)."""

    @property
    def limited_tokens(self) -> int:
        """The call's tokens as the provider counts them toward its token rate limit: the token
        reservation is settled with these."""
        free = 0 if self.cache_reads_limited else self.cache_read_tokens
        return self.input_tokens - free + self.output_tokens


MAX_TOKENS_REPORTED = 2**53
"""More than any call uses; a larger figure is as malformed as a negative one (and past 2**64 no JSON
writer here could put it in an envelope)."""


def token_count(value: object) -> int:
    """A usage figure as a server reported it; missing, malformed, negative or absurdly large counts
    as 0 (the envelope and the token counters take no such figure)."""
    if not isinstance(value, int | float | str):
        return 0
    try:
        count = int(value)
    except (ValueError, OverflowError):  # "many", NaN, infinity
        return 0
    return count if 0 <= count <= MAX_TOKENS_REPORTED else 0


class ConfiguredProvider:
    """Name and model from a `ProviderConfig`: the identity every concrete provider shares."""

    def __init__(self, config: ProviderConfig) -> None:
        self._config = config

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def model(self) -> str:
        return self._config.model


class Provider(Protocol):
    """An LLM backend. `analyze` raises only `gateway.errors.GatewayError` subclasses."""

    @property
    def name(self) -> str: ...

    @property
    def model(self) -> str: ...

    async def analyze(self, call: ProviderCall) -> ProviderReply: ...

    async def is_available(self) -> bool: ...

    async def aclose(self) -> None: ...
