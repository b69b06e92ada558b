"""The GitHub REST API's commit (`GET /repos/{owner}/{repo}/commits/{sha}`), read leniently, merged in.

Only the fields used are read; unknown ones are ignored. The API lists at most 300 files per page: a
bigger commit keeps its first page (the rest would need `Link` pagination, not done here). A file
without `patch` (binary, or a diff too large for the API) keeps `patch: None`.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from schemas.events.code_change import CodeChangeEvent, FileStatus, GitIdentity


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class ApiPerson(_Wire):
    name: str = ""
    email: str = ""
    date: AwareDatetime | None = None


class ApiGitCommit(_Wire):
    author: ApiPerson = ApiPerson()
    committer: ApiPerson = ApiPerson()


class ApiUser(_Wire):
    login: str | None = None


class ApiParent(_Wire):
    sha: str


class ApiFile(_Wire):
    filename: str
    previous_filename: str | None = None
    status: FileStatus = "modified"
    additions: int = 0
    deletions: int = 0
    patch: str | None = None

    def as_change(self) -> dict[str, Any]:
        return {
            "path": self.filename,
            "previous_path": self.previous_filename,
            "status": self.status,
            "additions": self.additions,
            "deletions": self.deletions,
            "patch": self.patch,
        }


class ApiCommit(_Wire):
    sha: str
    commit: ApiGitCommit
    author: ApiUser | None = None
    """The GitHub account; null when the email maps to none."""
    committer: ApiUser | None = None
    parents: tuple[ApiParent, ...] = ()
    files: tuple[ApiFile, ...] = ()


def with_api_detail(event: CodeChangeEvent, api: ApiCommit) -> CodeChangeEvent:
    """The event with the API's files (patches), parents, dates and identities (webhook logins kept)."""
    git = api.commit
    committer = event.committer or event.author
    data = event.model_dump() | {
        "author": _identity(git.author, api.author, event.author),
        "committer": _identity(git.committer, api.committer, committer),
        "authored_at": git.author.date or event.authored_at,
        "committed_at": git.committer.date or event.committed_at,
        "parents": tuple(parent.sha for parent in api.parents),
        "files": tuple(change.as_change() for change in api.files),
    }
    return CodeChangeEvent.model_validate(data)


def _identity(person: ApiPerson, user: ApiUser | None, known: GitIdentity) -> GitIdentity:
    login = known.login or (user.login if user else None)
    return GitIdentity(name=person.name or known.name, email=person.email or known.email, login=login)
