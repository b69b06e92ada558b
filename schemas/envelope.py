"""The envelope every analysis result travels in (the `analysis.results` record value)."""

from datetime import UTC, datetime
from typing import Generic, TypeVar

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
