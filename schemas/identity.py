"""`IdentityMerged`: a record of `analysis.results` saying that two subjects are one person.

Published when a link (a .mailmap entry, a login seen with an e-mail, an alias, …) joins identities
that results had already been published under: a consumer folds the results of `merged` into
`subject`. Told apart from result envelopes by `record_type` (and the `x-record-type` header).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.envelope import SCHEMA_VERSION, SourceRef, utc_now

IDENTITY_MERGED: Literal["identity_merged"] = "identity_merged"


class IdentityMerged(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    record_type: Literal["identity_merged"] = IDENTITY_MERGED
    subject: str = Field(description="The person's canonical id from now on (the record's key).")
    merged: tuple[str, ...] = Field(
        min_length=1, description="Subjects results were published under that are this person too."
    )
    via: Literal["login", "noreply", "mailmap", "alias", "name"] = Field(
        description="What proved the link: an event naming the login with the e-mail, a GitHub "
        "noreply address, the repository's .mailmap, the operator's alias file, the same full name."
    )
    created_at: datetime = Field(default_factory=utc_now)
    source: SourceRef | None = Field(default=None, description="The input record whose event made the link.")
