"""The identity-store seam: disjoint sets of identity keys, each with its canonical id, and the merges
of sets not yet settled (reported downstream and joined in the activity state)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from consumers.identity import keys


@dataclass(frozen=True, slots=True)
class Joined:
    """A key's set, as the store holds it."""

    root: str
    """The set's canonical key (`login:<login>`, else `email:<address>`)."""
    members: frozenset[str]
    """Every key of the set."""
    replaced: tuple[str, ...] = ()
    """The canonical ids of sets that existed before this link and are now part of this one (sorted):
    subjects that results may have been published under. Empty when the call changed none."""
    pending: tuple[tuple[str, str], ...] = ()
    """The merges into this set not yet settled, as (merged canonical id, via), sorted: every id
    `replaced` names, and those of earlier links whose merge was never settled."""

    @property
    def canonical(self) -> str:
        """The set's canonical id (a key's value: a login or an e-mail)."""
        return keys.value(self.root)


class IdentityStore(Protocol):
    """Keys are `consumers/identity/keys.py` keys. Every set's keys, its pointers and its pending
    merges expire together, the TTL after the set last changed or was looked up. Every method raises
    only `StateUnavailable` (the activity state's) for an outage."""

    async def find(self, key: str) -> Joined:
        """The key's set (a key never seen is registered as a set of its own), the TTL of every
        member renewed."""
        ...

    async def link(self, a: str, b: str, via: str) -> Joined:
        """Joins the sets of `a` and `b` (either may be new) atomically, with the sets it replaces
        recorded as pending merges (via `via`) in the same write; two keys of one set change
        nothing, and renew every member's TTL."""
        ...

    async def settle(self, root: str, merged: Iterable[str]) -> None:
        """The merges of `merged` are done (published and joined): no longer pending in the set that
        `root` (the set's canonical key when they were reported) is in now."""
        ...

    async def aclose(self) -> None: ...
