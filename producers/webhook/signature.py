"""`X-Hub-Signature-256`: HMAC-SHA256 of the raw body with the webhook secret, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from typing import Protocol

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def sign(secret: bytes, body: bytes) -> str:
    """The header value GitHub sends for `body`."""
    return _PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


class SignatureCheck(Protocol):
    def verify(self, body: bytes, header: str) -> bool: ...


class HmacSha256:
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def verify(self, body: bytes, header: str) -> bool:
        expected = sign(self._secret, body).encode()
        return hmac.compare_digest(expected, header.encode("utf-8", "replace"))


class Unchecked:
    """Every body passes: only with `--insecure-no-signature` and no secret (local development)."""

    def verify(self, body: bytes, header: str) -> bool:
        return True


def signature_check(secret: str) -> SignatureCheck:
    return HmacSha256(secret) if secret else Unchecked()
