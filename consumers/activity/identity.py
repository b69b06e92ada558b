"""Developers' pseudonyms, and the scrubbing of identities out of requests.

Who a developer is (their canonical id, across logins, e-mails and names) is `consumers/identity/`'s:
this module only turns ids into keyed hashes (`Pseudonyms`) and replaces the identities an event
names, and any other address or @mention, in a request's text and data (`Scrubber`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any


class Pseudonyms:
    """Keyed hashes of identities: the same id always maps to the same `dev_…`; without the key
    nobody can map it back. The null object (no key) leaves every identity as it is."""

    def __init__(self, key: str = "") -> None:
        self._key = key.encode()

    @property
    def enabled(self) -> bool:
        return bool(self._key)

    def of(self, identity: str) -> str:
        if not self._key or not identity or is_pseudonym(identity):
            return identity
        digest = hmac.new(self._key, identity.strip().lower().encode(), hashlib.sha256).hexdigest()
        return f"{PREFIX}{digest[:20]}"

    def repository(self, name: str) -> str:
        """`owner/name` with the owner pseudonymized: an owner may be a person (`alice/dotfiles`)."""
        owner, slash, rest = name.partition("/")
        return f"{self.of(owner)}{slash}{rest}" if slash else self.of(name)

    def subject(self, subject: str) -> str:
        """A request's subject: a repository, or a developer (login or email)."""
        return self.repository(subject) if "/" in subject else self.of(subject)


PREFIX = "dev_"
_PSEUDONYM = re.compile(rf"{PREFIX}[0-9a-f]{{20}}")
MIN_FREE_TEXT = 3
"""Shorter identities (a login `al`) are replaced only where they are the whole value: as words
in free text they would replace every such word."""


def is_pseudonym(text: str) -> bool:
    return _PSEUDONYM.fullmatch(text) is not None


_END = r"(?![\w-]|\.(?!github\.io\b)\w)"
"""An identity ends a word, not a dotted name (`app.dora.py`), except a user's pages host
(`dora.github.io`)."""
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[a-z\d-]+(?:\.[a-z\d-]+)+", re.I)
_MENTION = re.compile(r"(?<![\w@/])@(?P<login>[a-z\d](?:[a-z\d-]{0,38}))(?![\w-])", re.I)


class Scrubber:
    """Replaces identities in text: first the people the event names (each by the pseudonym of
    their developer id), then any other email address and, in prose, any @mention (by their own
    pseudonym; in code `@dataclass` is a decorator). Pseudonyms are left as they are, so scrubbing
    twice changes nothing."""

    def __init__(self, pairs: Mapping[str, str], pseudonyms: Pseudonyms) -> None:
        self._pairs = {raw.strip().lower(): pseudonym for raw, pseudonym in pairs.items() if raw.strip()}
        self._pseudonyms = pseudonyms
        ordered = sorted((raw for raw in self._pairs if len(raw) >= MIN_FREE_TEXT), key=len, reverse=True)
        alternation = "|".join(re.escape(raw) for raw in ordered)
        self._pattern = re.compile(rf"(?<![\w.-])(?:{alternation}){_END}", re.I) if ordered else None

    @property
    def empty(self) -> bool:
        return not self._pseudonyms.enabled

    def text(self, value: str, prose: bool = True) -> str:
        if self.empty:
            return value
        if (whole := self._pairs.get(value.strip().lower())) is not None:
            return whole
        if self._pattern is not None:
            value = self._pattern.sub(lambda m: self._pairs[m.group(0).lower()], value)
        value = _EMAIL.sub(lambda m: self._pseudonyms.of(m.group(0).lower()), value)
        if not prose:
            return value
        return _MENTION.sub(lambda m: "@" + self._pseudonyms.of(m["login"].lower()), value)

    def subject(self, subject: str) -> str:
        """A request's subject, whoever it names: known people as their developer, the rest by
        `Pseudonyms.subject`."""
        return self._pseudonyms.subject(self.text(subject)) if not self.empty else subject

    def data(self, value: Any) -> Any:
        """Strings anywhere in JSON-like data, keys included."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value
