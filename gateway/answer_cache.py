"""Answers in the cache tiers (memory, then Redis): their keys, their TTL, decoding.

An entry that no longer decodes (older schema, corruption) is a miss. Hot entries are decoded once:
a memory-tier hit returns the same bytes object, whose hash Python keeps, so a repeated hit skips
JSON parsing and result validation.
"""

from __future__ import annotations

from collections.abc import Sequence

from cachetools import LRUCache

from gateway.answer import Answer
from gateway.cache.keys import keyed, material
from gateway.cache.layered import LayeredCache
from gateway.config import CacheConfig
from gateway.metrics import GatewayMetrics
from gateway.prompts import PromptTemplate
from gateway.providers.base import Provider
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType

DECODED_ANSWERS = 4096


class AnswerCache:
    def __init__(self, cache: LayeredCache, config: CacheConfig, metrics: GatewayMetrics) -> None:
        self._cache = cache
        self._config = config
        self._metrics = metrics
        self._decoded: LRUCache[tuple[AnalysisType, bytes], Answer] = LRUCache(DECODED_ANSWERS)

    def key(self, provider: Provider, prompt: PromptTemplate, request: AnalysisRequest) -> str:
        return answer_key(provider, prompt, material(request.content, request.context))

    def peek(self, key: str) -> bytes | None:
        """The memory tier's entry, found without awaiting."""
        entry = self._cache.peek(key)
        return None if entry is None else entry.value

    async def hits(self, keys: Sequence[str]) -> list[bytes | None]:
        """Each key's entry, one lookup per tier for all of them."""
        return [None if hit is None else hit[0].value for hit in await self._cache.hits(keys)]

    async def get(self, analysis_type: AnalysisType, key: str) -> Answer | None:
        """The cached answer; an entry that no longer decodes (older schema, corruption) is a miss."""
        found = await self._cache.get(key)
        if found is None:
            return None
        try:
            return self.decode(analysis_type, found[0].value)
        except (ValueError, TypeError):
            self._metrics.record_cache_error(found[1])
            return None

    async def store(self, analysis_type: AnalysisType, key: str, answer: Answer) -> None:
        await self._cache.set(key, answer.encode(), self._config.ttl_for(analysis_type))

    def decode(self, analysis_type: AnalysisType, value: bytes) -> Answer:
        answer = self._decoded.get((analysis_type, value))
        if answer is None:
            answer = self._decoded[analysis_type, value] = Answer.decode(analysis_type, value)
        return answer

    async def aclose(self) -> None:
        await self._cache.aclose()


def answer_key(provider: Provider, prompt: PromptTemplate, part: bytes) -> str:
    """The answer cache's key for `prompt`'s analysis of the request whose `material` is `part`."""
    return keyed(prompt.analysis_type, prompt.version, provider.name, provider.model, part)
