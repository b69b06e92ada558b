"""Results about a team or repository as a whole."""

from typing import Annotated, Literal

from pydantic import Field

from schemas.results.base import ResultModel, RiskFactor, Unit


class TeamHealthResult(ResultModel):
    health_score: Unit
    health_level: Literal["healthy", "watch", "at_risk", "critical"]
    bus_factor: Annotated[int, Field(ge=0)]
    collaboration_score: Unit
    workload_balance: Unit
    risks: list[RiskFactor]
    recommendations: list[str]
