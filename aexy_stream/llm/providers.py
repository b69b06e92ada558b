"""The original design's provider classes: an analysis type and content in, a typed result out.

Our providers (`gateway/providers/`) speak one level lower: a rendered prompt and a JSON schema in,
the model's raw reply out. `ClaudeProvider()` and `OllamaProvider()` here put one of them behind a
gateway of its own, so an analysis they make takes the gateway's one path: prompt, structured
output, validation and one repair, rate budget, retries honouring Retry-After, redaction.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from aexy_stream.llm.gateway import LLMGateway, request_of
from gateway.errors import LLMUnavailableError
from schemas.envelope import AnalysisResult
from schemas.types import AnalysisType


class BaseLLMProvider(ABC):
    """The design's provider interface."""

    @abstractmethod
    async def analyze(
        self, analysis_type: AnalysisType, content: str, context: Mapping[str, Any] | None = None
    ) -> AnalysisResult[Any]:
        """Perform one analysis with this provider."""

    @abstractmethod
    async def is_available(self) -> bool:
        """Whether the provider can be called (Claude: a key is set; Ollama: the server answers)."""

    async def aclose(self) -> None:  # noqa: B027  # optional: the design's interface had no close
        """Release the provider's connections (by default there are none)."""


class GatewayProvider(BaseLLMProvider):
    """One provider of ours, configured from the environment (`name`'s settings), called alone:
    a thin name over a `LLMGateway(provider=name)` whose calls are restricted to that provider
    (no fallback) and skip the cache lookup, as a provider of the design never looks there."""

    name: ClassVar[str]

    def __init__(self) -> None:
        self._gateway = LLMGateway(provider=self.name)

    @property
    def model(self) -> str:
        """The model it asks (CLAUDE_MODEL, OLLAMA_MODEL)."""
        return self._gateway.provider_model(self.name)

    async def analyze(
        self, analysis_type: AnalysisType, content: str, context: Mapping[str, Any] | None = None
    ) -> AnalysisResult[Any]:
        """The envelope of one analysis by this provider; its own `LLMError` when it failed
        (`LLMUnavailableError` when it is not available)."""
        request = request_of(analysis_type, content, context)
        try:
            return await self._gateway.analyze(request, use_cache=False, provider=self.name)
        except LLMUnavailableError as exc:
            if len(exc.causes) == 1:  # the chain of one provider wraps what that provider raised
                raise exc.causes[0] from exc
            raise

    async def is_available(self) -> bool:
        return await self._gateway.provider_available(self.name)

    async def aclose(self) -> None:
        await self._gateway.aclose()


class ClaudeProvider(GatewayProvider):
    """Claude through the `anthropic` SDK (`gateway.providers.claude.ClaudeProvider`), configured
    by ANTHROPIC_API_KEY and CLAUDE_MODEL (and ANTHROPIC_BASE_URL, CLAUDE_RPM, CLAUDE_TPM)."""

    name = "claude"


class OllamaProvider(GatewayProvider):
    """A local model through Ollama's API (`gateway.providers.ollama.OllamaProvider`), configured
    by OLLAMA_BASE_URL and OLLAMA_MODEL."""

    name = "ollama"
