"""Plain configuration of identity resolution (built from settings in compose)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IdentityConfig:
    match_by_name: bool = False
    """IDENTITY_MATCH_BY_NAME: addresses with the same full name (two words at least) are one person.
    Off by default: two people may share a name (docs/identity.md)."""
    aliases_path: str = ""
    """IDENTITY_ALIASES: an operator's alias file in .mailmap format (none by default)."""
    cache_items: int = 100_000
    """Resolutions held in process memory (the processor's fast path asks the store nothing for them)."""
    cache_ttl_s: float = 60.0
    """How long a cached resolution is trusted: a merge made by another instance of the group reaches
    this one's cache within this time (its own merges at once)."""
