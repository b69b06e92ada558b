"""Identity keys, as the identity store links them, and the canonical id of a set of them.

A key is `login:<login>`, `email:<address>` or `name:<full name>`, lowercased; a developer's
canonical id is a key's value: the lowest login of its set, else its lowest e-mail (a set is never
made of names alone). Logins hold no `@` and e-mails do, so the two never collide.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

LOGIN, EMAIL, NAME = "login:", "email:", "name:"
_NOREPLY = re.compile(r"^(?:\d+\+)?(?P<login>[a-z\d](?:[a-z\d-]{0,38}))@users\.noreply\.github\.com$", re.I)
MIN_NAME_WORDS = 2


def login_key(login: str) -> str:
    return LOGIN + login.strip().lower()


def email_key(email: str) -> str:
    return EMAIL + email.strip().lower()


def name_key(name: str) -> str | None:
    """The key of a full name (case, accents' composition and whitespace normalised), or None for a
    name of fewer than two words: `dora` or `root` say nothing about who it is."""
    words = unicodedata.normalize("NFKC", name).casefold().split()
    return NAME + " ".join(words) if len(words) >= MIN_NAME_WORDS else None


def noreply_login(email: str) -> str | None:
    """The login inside a GitHub noreply address (`123+login@…` or the older `login@…`)."""
    match = _NOREPLY.match(email.strip())
    return match["login"].lower() if match else None


def person_key(login: str | None, email: str | None) -> str | None:
    """The key a person is looked up by: their login when the event names one, else their e-mail."""
    if login and login.strip():
        return login_key(login)
    if email and email.strip():
        return email_key(email)
    return None


def subject_key(subject: str) -> str:
    """The key of a request's developer subject (a login, or an e-mail)."""
    return email_key(subject) if "@" in subject else login_key(subject)


def value(key: str) -> str:
    return key.partition(":")[2]


def canonical(members: Iterable[str]) -> str:
    """The canonical key of a set: its lowest login, else its lowest e-mail, else its lowest key."""
    found = sorted(members)
    logins = [key for key in found if key.startswith(LOGIN)]
    emails = [key for key in found if key.startswith(EMAIL)]
    return (logins or emails or found)[0]
