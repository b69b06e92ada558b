"""An analysis's answer as the gateway keeps and caches it, and the tokens spent on it.

`Usage` is the tokens of one or more provider calls (`input_tokens` includes the prompt-cache tokens);
an `Answer` carries the tokens spent on it, none when it is served again (cache hit, joined flight).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import orjson

from gateway.prompts import PromptTemplate
from gateway.providers.base import Provider, ProviderReply
from schemas.results import ResultModel, result_model
from schemas.types import AnalysisType


@dataclass(frozen=True, slots=True)
class Usage:
    """One analysis's share of a call's tokens (`input_tokens` includes the cache tokens)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @classmethod
    def of(cls, reply: ProviderReply) -> Usage:
        """A whole reply's tokens."""
        return cls(reply.input_tokens, reply.output_tokens, reply.cache_read_tokens, reply.cache_write_tokens)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
        )


@dataclass(frozen=True, slots=True)
class Answer:
    result: ResultModel
    provider: str
    model: str
    prompt_version: str
    input_tokens: int
    output_tokens: int
    cache_hit: bool = False
    priced_model: str = ""
    """The configured model name: bounded label values and the price-table key."""
    price_factor: float = 1.0
    """Share of the list price billed (the provider reply's; 0.5 for Claude Message Batches)."""
    cache_read_tokens: int = 0
    """The part of `input_tokens` read from the provider's prompt cache."""
    cache_write_tokens: int = 0
    """The part of `input_tokens` written to the provider's prompt cache."""

    def as_hit(self) -> Answer:
        """This answer served again (cache hit, joined flight): nothing spent."""
        return replace(
            self, input_tokens=0, output_tokens=0, cache_read_tokens=0, cache_write_tokens=0, cache_hit=True
        )

    def encode(self) -> bytes:
        fields = [self.result.model_dump(mode="json"), self.provider, self.model, self.prompt_version]
        return orjson.dumps([*fields, self.priced_model])

    @classmethod
    def decode(cls, analysis_type: AnalysisType, data: bytes) -> Answer:
        result, provider, model, version, priced = orjson.loads(data)
        if not all(isinstance(name, str) for name in (provider, model, version, priced)):
            raise TypeError("a cached answer's provider, model and versions must be strings")
        return cls(
            result_model(analysis_type).model_validate(result), provider, model, version, 0, 0, True, priced
        )


def fresh_answer(
    provider: Provider, reply: ProviderReply, prompt: PromptTemplate, result: ResultModel, tokens: Usage
) -> Answer:
    """A fresh answer: `reply` (the first of its calls) says the model and the price factor, `tokens`
    what its calls spent."""
    return Answer(
        result=result,
        provider=provider.name,
        model=reply.model,
        prompt_version=prompt.version,
        input_tokens=tokens.input_tokens,
        output_tokens=tokens.output_tokens,
        priced_model=provider.model,
        price_factor=reply.price_factor,
        cache_read_tokens=tokens.cache_read_tokens,
        cache_write_tokens=tokens.cache_write_tokens,
    )
