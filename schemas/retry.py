"""`RetryGroup`: a record of `analysis.retry` carrying the requests of a fused call that failed as a whole.

A retry record's value is one `AnalysisRequest`, or this group (header `x-record-type: retry_group`):
analyses of the same material that are retried together, so the processor fuses them into one call
again (docs/contracts.md).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.request import AnalysisRequest

RETRY_GROUP: Literal["retry_group"] = "retry_group"
RETRY_GROUP_VERSION: Literal[1] = 1


class RetryGroup(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = RETRY_GROUP_VERSION
    record_type: Literal["retry_group"] = RETRY_GROUP
    requests: tuple[AnalysisRequest, ...] = Field(
        min_length=2, description="Analyses of the same material (content, context, priority), in call order."
    )
