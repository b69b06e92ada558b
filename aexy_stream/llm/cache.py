"""The original design's analysis cache: results by analysis type and content, memory then Redis."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import orjson
from pydantic import BaseModel
from redis.asyncio import Redis

from aexy_stream.compose import App, build_cache
from gateway.cache.layered import LayeredCache
from gateway.config import DEFAULT_TTLS, CacheConfig
from gateway.metrics import default_metrics
from schemas.types import AnalysisType

_DEFAULTS = CacheConfig()


class AnalysisCacheConfig:
    """The design's TTL table: a thin name over the gateway's defaults (`gateway.config.DEFAULT_TTLS`,
    and `CacheConfig.default_ttl_s` for the types it leaves out). These are the defaults: the
    gateway and `AnalysisCache` use LLM_CACHE_TTLS per type and LLM_CACHE_TTL for the rest."""

    TTL_MAPPING: ClassVar[MappingProxyType[AnalysisType, int]] = DEFAULT_TTLS

    @classmethod
    def get_ttl(cls, analysis_type: AnalysisType) -> int:
        return cls.TTL_MAPPING.get(analysis_type, _DEFAULTS.default_ttl_s)


class AnalysisCache:
    """A thin name over the gateway's `LayeredCache` (`gateway/cache/`): the memory tier first, then
    Redis with REDIS_URL; a Redis hit is copied into memory for the time it has left, a Redis outage
    is a miss. `AnalysisCache()` is configured by the environment like the gateway's cache
    (LLM_CACHE_ENABLED false: every `get` misses and `set` stores nothing).

    Entries are the results callers `set`, as JSON, under keys of their own: the gateway keys its
    answers by provider, model, prompt version and context as well, which a type and content cannot
    name, so the two never read each other's entries."""

    def __init__(self, cache: LayeredCache | None = None, config: CacheConfig | None = None) -> None:
        self._redis: Redis | None = None
        if cache is None:
            app = App.from_environment()
            config = config or app.cache
            self._redis = app.redis()
            cache = build_cache(config, self._redis, default_metrics())
        self._cache = cache
        self._config = config or _DEFAULTS

    async def get(self, analysis_type: AnalysisType, content: str) -> dict[str, Any] | None:
        """The result stored for this type and content, as a dict; None when there is none (or
        what is stored is not a JSON object)."""
        found = await self._cache.get(entry_key(analysis_type, content))
        if found is None:
            return None
        try:
            value = orjson.loads(found[0].value)
        except orjson.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None

    async def set(
        self, analysis_type: AnalysisType, content: str, result: Mapping[str, Any] | BaseModel
    ) -> None:
        """Store `result` (a dict, a result model or an envelope) for the analysis type's TTL."""
        value = result.model_dump(mode="json") if isinstance(result, BaseModel) else dict(result)
        ttl = self._config.ttl_for(analysis_type)
        await self._cache.set(entry_key(analysis_type, content), orjson.dumps(value), ttl)

    async def aclose(self) -> None:
        """Close the tiers, and the Redis client if this cache made it."""
        await self._cache.aclose()
        if self._redis is not None:
            await self._redis.aclose()


def entry_key(analysis_type: AnalysisType, content: str) -> str:
    """`analysis:<type>:<sha256 of the content>`: never a gateway key (a bare sha256)."""
    digest = hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()
    return f"analysis:{AnalysisType(analysis_type).value}:{digest}"
