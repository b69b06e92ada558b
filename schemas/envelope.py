"""The envelope every analysis result travels in (the `analysis.results` record value)."""

from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

from schemas.types import AnalysisType

SCHEMA_VERSION = 1

R = TypeVar("R", bound=BaseModel)


def utc_now() -> datetime:
    return datetime.now(UTC)


class SourceRef(BaseModel):
    """Where the input that caused this result was read from, so replays can be deduplicated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str
    partition: int
    offset: int
    event_id: str


class AnalysisResult(BaseModel, Generic[R]):
    """A typed result plus how it was made: provider, model, prompt version, cost and timing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    request_id: str
    analysis_type: AnalysisType
    subject: str
    observed_as: str | None = None
    """For a developer subject: the identity it was observed under (a login, a commit e-mail) before
    it was resolved to the person's canonical id; None for repository subjects."""
    result: R
    provider: str
    model: str
    prompt_version: str
    cache_hit: bool
    latency_ms: float = Field(ge=0)
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    cost_usd: float = Field(ge=0)
    created_at: datetime = Field(default_factory=utc_now)
    source: SourceRef | None = None

    def __getattr__(self, name: str) -> Any:
        """A field of the result, read on the envelope: `envelope.skills` is `envelope.result.skills`,
        as the original design's callers read results. Only the result model's fields are found
        this way, after the envelope's own attributes; no result model has a field the envelope
        has too (tests/test_llm_names.py), so neither hides the other. Typed: `envelope.result`."""
        result = self.__dict__.get("result")
        if name.startswith("_") or result is None or name not in type(result).model_fields:
            return super().__getattr__(name)  # type: ignore[misc]  # pydantic's, for private attributes
        return getattr(result, name)


def result_json(result: BaseModel) -> bytes:
    """`result.model_dump_json()`, made anew for every envelope: a result's lists are mutable even on a
    frozen model, so neither its identity nor an earlier serialization stands for its value."""
    return result.model_dump_json().encode()


def envelope_json(envelope: AnalysisResult[BaseModel]) -> bytes:
    """The same bytes as `envelope.model_dump_json()` (a test holds them equal), without pydantic's
    serializer (figures: bench/README.md): orjson writes the envelope's own fields (in declaration
    order, as its `__dict__` holds them) and splices in the result's JSON."""
    source = envelope.source
    return orjson.dumps(
        {
            **envelope.__dict__,
            "result": orjson.Fragment(result_json(envelope.result)),
            "source": None if source is None else source.__dict__,
        },
        option=orjson.OPT_UTC_Z,
    )
