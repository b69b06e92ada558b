"""Where links between identities come from.

- `login`: an event naming a login and an e-mail together (a push webhook commit's `username`, an API
  commit's `author.login`);
- `noreply`: a GitHub noreply address and the login inside it;
- `mailmap`: the repository's .mailmap, applied by git in backfills: the event carries the mapped
  address and the one written in the commit (`GitIdentity.observed_email`);
- `alias`: the operator's alias file (IDENTITY_ALIASES), in .mailmap format;
- `name`: the same full name, only when IDENTITY_MATCH_BY_NAME is on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

from consumers.activity.observe import CO_AUTHOR, people
from consumers.identity.keys import email_key, login_key, name_key, noreply_login
from schemas.events import ActivityEvent, CodeChangeEvent

Via = Literal["login", "noreply", "mailmap", "alias", "name"]
Aliases = Mapping[str, tuple[str, ...]]
"""An e-mail key -> the e-mail keys the alias file says are the same person."""
_ADDRESS = re.compile(r"<([^<>]*)>")


@dataclass(frozen=True, slots=True)
class Link:
    a: str
    b: str
    via: Via


class Seen(NamedTuple):
    """One person as an event names them: what their links are made of."""

    login: str | None
    email: str | None
    name: str = ""
    observed_email: str | None = None
    """The address written in a commit whose author or committer the .mailmap mapped to `email`."""


def seen_in(event: ActivityEvent | CodeChangeEvent) -> list[Seen]:
    """Everyone the event names: authors, committers and co-authors; actors and authors of
    pull requests, reviews, comments, issues and pushed commits."""
    if isinstance(event, CodeChangeEvent):
        git = [Seen(p.login, p.email, p.name, p.observed_email) for p in (event.author, event.committer) if p]
        return git + [Seen(None, m["email"], m["name"]) for m in CO_AUTHOR.finditer(event.message)]
    return [Seen(p.login, p.email, p.name) for p in people(event)]


def links_of(event: ActivityEvent | CodeChangeEvent, match_by_name: bool, aliases: Aliases) -> list[Link]:
    """Every link the event proves, and those its e-mails imply (noreply, alias file), once each."""
    found = [link for seen in seen_in(event) for link in person_links(seen, match_by_name, aliases)]
    return list(dict.fromkeys(found))


def person_links(seen: Seen, match_by_name: bool, aliases: Aliases) -> list[Link]:
    """The links one person proves, and those their addresses imply."""
    email = (seen.email or "").strip()
    if not email:
        return []
    key = email_key(email)
    found = [Link(login_key(seen.login), key, "login")] if seen.login and seen.login.strip() else []
    found += implied(key, aliases) + _mailmapped(key, seen.observed_email, aliases)
    named = name_key(seen.name) if match_by_name else None
    return found + ([Link(key, named, "name")] if named else [])


def implied(key: str, aliases: Aliases) -> list[Link]:
    """What an e-mail key is linked to wherever it appears: the login of a noreply address, and the
    addresses the alias file names with it."""
    login = noreply_login(key.partition(":")[2])
    found = [Link(key, login_key(login), "noreply")] if login else []
    return found + [Link(key, other, "alias") for other in aliases.get(key, ())]


def _mailmapped(mapped: str, observed_email: str | None, aliases: Aliases) -> list[Link]:
    observed = email_key(observed_email or "")
    if observed in (mapped, email_key("")):
        return []
    return [Link(observed, mapped, "mailmap"), *implied(observed, aliases)]


def read_aliases(path: Path) -> Aliases:
    """An alias file in .mailmap format: each line naming two addresses (`Name <proper@x> <commit@y>`,
    with or without names) links them; a line naming one (a name correction) links nothing; `#`
    starts a comment line. A line that is neither raises ValueError naming it."""
    pairs: list[tuple[str, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        addresses = _ADDRESS.findall(text)
        if not addresses or any(not a.strip() or "@" not in a for a in addresses[:2]):
            raise ValueError(f"{path}:{number}: not a .mailmap line (Name <address> [Name] <address>)")
        if len(addresses) >= 2:
            pairs.append((email_key(addresses[0]), email_key(addresses[1])))
    return _both_ways(pairs)


def _both_ways(pairs: Iterable[tuple[str, str]]) -> Aliases:
    linked: dict[str, list[str]] = {}
    for a, b in pairs:
        if a != b:
            linked.setdefault(a, []).append(b)
            linked.setdefault(b, []).append(a)
    return {key: tuple(dict.fromkeys(others)) for key, others in linked.items()}
