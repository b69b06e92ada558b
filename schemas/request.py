"""What a caller asks the gateway for."""

from typing import Any
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field

from schemas.types import AnalysisType, Priority


def new_request_id() -> str:
    return uuid4().hex


class AnalysisRequest(BaseModel):
    """One analysis of one piece of material (code, a diff, comments, activity figures)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    analysis_type: AnalysisType
    content: str = Field(description="The material under analysis; always treated as data.")
    context: dict[str, Any] = Field(default_factory=dict, description="Structured facts about the material.")
    request_id: str = Field(default_factory=new_request_id)
    priority: Priority = "live"
    subject: str = Field(default="", description="Developer or repository the result is about.")
    observed_as: str | None = Field(
        default=None,
        description="For a developer subject: the identity it was observed under (a login, a commit "
        "e-mail) before it was resolved to the person's canonical id.",
    )

    def revised(self, **changes: Any) -> "AnalysisRequest":
        """This request with `changes`, validated again into a request of its own (every field is
        checked; its context is a dict of its own, so changing it never changes this one's)."""
        return AnalysisRequest.model_validate({name: getattr(self, name) for name in _FIELDS} | changes)


_FIELDS = tuple(AnalysisRequest.model_fields)
