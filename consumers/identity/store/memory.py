"""The in-process identity store: the embedded default (lost on restart, not shared)."""

from __future__ import annotations

from cachetools import TTLCache

from consumers.identity import keys
from consumers.identity.store.base import Joined

MAX_KEYS = 1_000_000


class MemoryIdentityStore:
    """Quick-find: each key points at its set's canonical key, and each set lists its members (a
    person has a handful of identities, so a join rewrites a few pointers). No await between reading
    and writing: every method is atomic within the process."""

    def __init__(self, ttl_s: float, max_keys: int = MAX_KEYS) -> None:
        self._root: TTLCache[str, str] = TTLCache(max_keys, ttl_s)
        self._sets: TTLCache[str, frozenset[str]] = TTLCache(max_keys, ttl_s)

    async def canonical(self, key: str) -> str:
        root = self._found(key)
        if root is None:
            root = key
        self._root[key] = root  # (re)set: the TTL restarts at every look-up
        self._sets[root] = self._sets.get(root, frozenset({key}))
        return keys.value(root)

    async def link(self, a: str, b: str) -> Joined:
        found = (self._found(a), self._found(b))
        if found[0] is not None and found[0] == found[1]:
            return Joined(keys.value(found[0]), self._sets[found[0]])
        roots = {root for root in found if root is not None}
        members = frozenset({a, b}.union(*(self._sets[root] for root in roots)))
        root = keys.canonical(members)
        for member in members:
            self._root[member] = root
        for old in roots:
            self._sets.pop(old, None)
        self._sets[root] = members
        return Joined(keys.value(root), members, tuple(sorted(keys.value(r) for r in roots if r != root)))

    def _found(self, key: str) -> str | None:
        """The key's set, if both it and its pointer are still held (either may have expired)."""
        root = self._root.get(key)
        return root if root is not None and key in self._sets.get(root, ()) else None

    async def aclose(self) -> None:
        self._root.clear()
        self._sets.clear()
