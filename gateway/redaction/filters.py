"""Which found values are not secrets after all: detect-secrets' heuristic filters, and markers.

A placeholder (`{x}`, `<x>`, `${x}`) is never a secret. Otherwise a detector of a fixed format (a
prefix, a length, a checksum) is trusted as it is; a generic one (a secret-sounding name, entropy) is
checked with the other heuristics detect-secrets applies by default (`$X`, sequential strings such as
`abcdef`, UUIDs, values of ids such as `user_id = "..."`, values without a letter, lines that assign
from a call or an index such as `token = read_token()`) and one of ours, `is_likely_digest`: a value
named a hash on its line (`sha`, `digest`, `checksum`, `commit`, ...) is a hash, not a secret. The
entropy plugins' values also pass `is_not_random` (names, IDNA labels).
"""

from __future__ import annotations

import re

from detect_secrets.filters.heuristic import (
    is_indirect_reference,
    is_likely_id_string,
    is_not_alphanumeric_string,
    is_potential_uuid,
    is_prefixed_with_dollar_sign,
    is_sequential_string,
    is_templated_secret,
)

import gateway.redaction.library  # noqa: F401 - after detect-secrets: undoes what importing it set

DIGEST_NAME = re.compile(
    r"(?<![A-Za-z])(?:sha\d*|md5|hash|digest|checksum|crc\d*|fingerprint|integrity|etag|commit|revision|rev|ref)\w*"
    r"[\"'\]]?\s*(?:[:=,(]|==)\s*[\"'`]?$",
    re.IGNORECASE,
)


def dismissed(value: str, line: str, *, generic: bool) -> bool:
    """True for a value that is not to be redacted."""
    if not value.strip() or "REDACTED:" in value or is_templated_secret(value):
        return True
    if not generic:
        return False
    return (
        is_prefixed_with_dollar_sign(value)
        or is_sequential_string(value)
        or is_potential_uuid(value)
        or is_not_alphanumeric_string(value)
        or is_likely_id_string(value, line)
        or is_indirect_reference(line)
        or is_likely_digest(value, line)
    )


def is_not_random(value: str) -> bool:
    """For the entropy plugins: a value of letters alone (and `_`, `-`) is a name, however many
    letters it mixes (`_LSSetApplicationLaunchServicesServerConnectionStatus`); an IDNA label
    (`xn--...`) is a host name."""
    return _LETTERS.fullmatch(value) is not None or value.startswith("xn--")


_LETTERS = re.compile(r"[A-Za-z_-]+")


def is_likely_digest(value: str, line: str) -> bool:
    """The value is what a name like `sha`, `digest` or `commit` is set to, or compared with."""
    at = line.find(value)
    return at > 0 and DIGEST_NAME.search(line, 0, at) is not None
