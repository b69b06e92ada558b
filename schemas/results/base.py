"""Building blocks shared by the result models.

Every result model forbids extra keys and has every field required: the JSON Schema goes to the
providers' structured-output features, which need closed objects with all properties listed. A field
added later may carry a default, so that records made before it still validate; the schema (taken
in serialization mode) lists it as required all the same, so providers always fill it.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Score10 = Annotated[int, Field(ge=1, le=10)]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]
RiskLevel = Literal["low", "medium", "high", "critical"]
Severity = Literal["low", "medium", "high"]


class ResultModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_mode_override="serialization",
        json_schema_serialization_defaults_required=True,
    )


class RiskFactor(ResultModel):
    factor: str
    weight: Unit
    evidence: str
