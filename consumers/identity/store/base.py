"""The identity-store seam: disjoint sets of identity keys, each with its canonical id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Joined:
    """The set two keys are in once linked."""

    canonical: str
    """The set's canonical id (a key's value: a login or an e-mail)."""
    members: frozenset[str]
    """Every key of the set."""
    replaced: tuple[str, ...] = ()
    """The canonical ids of sets that existed before the link and are now part of this one (sorted):
    subjects that results may have been published under. Empty when the link changed none."""


class IdentityStore(Protocol):
    """Keys are `consumers/identity/keys.py` keys. Every method raises only `StateUnavailable` (the
    activity state's) for an outage."""

    async def canonical(self, key: str) -> str:
        """The canonical id of the key's set; a key never seen is registered as a set of its own."""
        ...

    async def link(self, a: str, b: str) -> Joined:
        """Joins the sets of `a` and `b` (either may be new), atomically."""
        ...

    async def aclose(self) -> None: ...
