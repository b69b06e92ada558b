"""Prompt caching as the providers do it: which input tokens of a request were read from or written to
the provider's prefix cache.

Anthropic (explicit): a request marks breakpoints with `cache_control`; everything up to a breakpoint
(tools, system, then messages, plus the requested output format) is one cache entry. A breakpoint's
prefix seen within its TTL (5 minutes, or 1 hour with `ttl: "1h"`; each read refreshes it) is read;
the tokens from there up to the last breakpoint are written, when that prefix reaches the model's
minimum cacheable length (shorter prefixes are processed without caching, and without an error).

OpenAI (automatic): any prompt of at least 1,024 tokens caches its prefixes in 128-token steps; a
later prompt (same model and response format) starting with a cached prefix reads the longest one.
Nothing is reported as written.

Tokens are the simulator's (4 characters each); tool definitions and output schemas make a prefix
distinct but count no tokens, as in the rest of the simulator.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

FIVE_MINUTES = 300.0
ONE_HOUR = 3600.0
TTLS = {"5m": FIVE_MINUTES, "1h": ONE_HOUR}
MAX_BREAKPOINTS = 4
DEFAULT_MINIMUM = 1024
MINIMUM_TOKENS = {
    "claude-opus-5": 512,
    "claude-fable-5": 512,
    "claude-mythos-5": 512,
    "claude-haiku-4-5": 4096,
    "claude-opus-4-5": 4096,
    "claude-opus-4-6": 4096,
    "claude-opus-4-7": 2048,
    "claude-haiku-3": 2048,
    "claude-3-haiku": 2048,
    "claude-3-5-haiku": 2048,
}
"""Anthropic's minimum cacheable prefix per model (longest matching name prefix); others: 1,024."""
AUTOMATIC_MINIMUM = 1024
AUTOMATIC_STEP = 128
CHARS_PER_TOKEN = 4
MAX_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class Breakpoint:
    """One `cache_control` mark: the identity of the prefix up to it, its tokens and its TTL."""

    key: bytes
    tokens: int
    ttl_s: float = FIVE_MINUTES


@dataclass(frozen=True, slots=True)
class CachePlan:
    """What a request offers for caching: explicit breakpoints (Anthropic), or its whole prompt for
    automatic prefix caching under `automatic_seed` (OpenAI: model and response format)."""

    breakpoints: tuple[Breakpoint, ...] = ()
    minimum_tokens: int = DEFAULT_MINIMUM
    automatic_seed: bytes | None = None


NO_CACHING = CachePlan()


@dataclass(frozen=True, slots=True)
class CacheUse:
    """The input tokens of one request that were read from, or written to, the prompt cache."""

    read: int = 0
    written: int = 0
    written_1h: int = 0
    """The part of `written` that went into one-hour entries."""


NOTHING = CacheUse()


def minimum_tokens(model: str) -> int:
    matches = [name for name in MINIMUM_TOKENS if model.startswith(name)]
    return MINIMUM_TOKENS[max(matches, key=len)] if matches else DEFAULT_MINIMUM


def prefix_key(*parts: bytes) -> bytes:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


class PromptCache:
    """The cache entries of one simulated provider: prefix identity -> when it expires."""

    def __init__(self) -> None:
        self._expiry: dict[bytes, tuple[float, float]] = {}

    def use(self, plan: CachePlan, prompt: str, now: float) -> CacheUse:
        if plan.automatic_seed is not None:
            return self._automatic(plan.automatic_seed, prompt, now)
        if plan.breakpoints:
            return self._explicit(plan.breakpoints, plan.minimum_tokens, now)
        return NOTHING

    def clear(self) -> None:
        self._expiry.clear()

    def _explicit(self, breakpoints: tuple[Breakpoint, ...], minimum: int, now: float) -> CacheUse:
        hit = next((b for b in reversed(breakpoints) if self._live(b.key, now)), None)
        read = hit.tokens if hit is not None else 0
        if hit is not None:
            self._store(hit.key, hit.ttl_s, now)
        written = written_1h = 0
        if breakpoints[-1].tokens >= minimum:
            covered = read
            for mark in breakpoints:
                if mark.tokens > covered:
                    span = mark.tokens - covered
                    written += span
                    written_1h += span if mark.ttl_s > FIVE_MINUTES else 0
                    covered = mark.tokens
                if mark.tokens >= minimum:
                    self._store(mark.key, mark.ttl_s, now)
        return CacheUse(read, written, written_1h)

    def _automatic(self, seed: bytes, prompt: str, now: float) -> CacheUse:
        keys = list(_step_keys(seed, prompt))
        read = max((tokens for tokens, key in keys if self._live(key, now)), default=0)
        for _, key in keys:
            self._store(key, FIVE_MINUTES, now)
        return CacheUse(read=read)

    def _live(self, key: bytes, now: float) -> bool:
        entry = self._expiry.get(key)
        return entry is not None and now < entry[0]

    def _store(self, key: bytes, ttl_s: float, now: float) -> None:
        if len(self._expiry) >= MAX_ENTRIES:
            self._expiry = {k: v for k, v in self._expiry.items() if now < v[0]}
            if len(self._expiry) >= MAX_ENTRIES:
                self._expiry.clear()
        previous = self._expiry.get(key)
        ttl_s = max(ttl_s, previous[1]) if previous is not None and now < previous[0] else ttl_s
        self._expiry[key] = (now + ttl_s, ttl_s)


def _step_keys(seed: bytes, prompt: str) -> Iterator[tuple[int, bytes]]:
    """(tokens, identity) of each cacheable prefix: 1,024 tokens, then every 128 more."""
    whole_tokens = len(prompt) // CHARS_PER_TOKEN
    digest = hashlib.sha256(seed)
    done = 0
    for tokens in range(AUTOMATIC_MINIMUM, whole_tokens + 1, AUTOMATIC_STEP):
        end = tokens * CHARS_PER_TOKEN
        digest.update(prompt[done:end].encode())
        done = end
        yield tokens, digest.copy().digest()
