"""`CodeChangeEvent`: one commit with its files and patches (the `code.changes` record value)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from schemas.events.decode import load_object
from schemas.events.errors import MalformedEvent

FileStatus = Literal["added", "modified", "removed", "renamed", "copied", "changed", "unchanged"]
Sha = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{7,64}$")]
Count = Annotated[int, Field(ge=0)]


class GitIdentity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    email: str
    login: str | None = Field(default=None, description="GitHub login when the email maps to an account.")
    observed_email: str | None = Field(
        default=None,
        description="The address written in the commit, when the repository's .mailmap maps it to `email`.",
    )


class FileChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(min_length=1)
    previous_path: str | None = None
    status: FileStatus = "modified"
    additions: Count = 0
    deletions: Count = 0
    patch: str | None = Field(default=None, description="Unified diff hunks (from `@@`), None when absent.")
    binary: bool = False


def code_change_id(repository: str, sha: str) -> str:
    return hashlib.sha256(f"{repository}@{sha}".encode()).hexdigest()


class CodeChangeEvent(BaseModel):
    """One commit. `event_id` is derived from repository and sha (given or not, it must match)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str = Field(default="", description='sha256 hex of "<repository>@<sha>".')
    repository: str = Field(pattern=r"^[^/\s]+/[^/\s]+$", description='"owner/name"')
    sha: Sha
    author: GitIdentity
    committer: GitIdentity | None = None
    authored_at: AwareDatetime
    committed_at: AwareDatetime | None = None
    message: str = ""
    parents: tuple[Sha, ...] = ()
    files: tuple[FileChange, ...] = ()

    @model_validator(mode="after")
    def _derive_event_id(self) -> CodeChangeEvent:
        """An "after" validator, so that JSON is validated in one pass (`model_validate_json`)."""
        derived = code_change_id(self.repository, self.sha)
        if "event_id" in self.model_fields_set and self.event_id != derived:
            raise ValueError("event_id is not sha256 of repository@sha")
        self.__dict__["event_id"] = derived  # frozen: set once, here, before anyone sees it
        self.__pydantic_fields_set__.add("event_id")  # as when it was given
        return self

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


def parse_code_change(value: bytes) -> CodeChangeEvent:
    try:
        return CodeChangeEvent.model_validate_json(value)  # one pass, no Python dict in between
    except ValidationError:
        pass  # malformed: said the same way as for every event, JSON first, then the shape
    data = load_object(value)
    try:
        return CodeChangeEvent.model_validate(data)
    except ValidationError as exc:
        raise MalformedEvent(f"invalid code change: {summarize(exc)}") from None


def summarize(error: ValidationError) -> str:
    """The first problem as `location: message`, plus how many more there are."""
    problems = error.errors(include_url=False, include_input=False)
    first = problems[0]
    where = ".".join(str(part) for part in first["loc"]) or "record"
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{where}: {first['msg']}{more}"
