"""The in-process identity store: the embedded default (lost on restart, not shared)."""

from __future__ import annotations

from collections.abc import Iterable

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
        self._pending: TTLCache[str, dict[str, str]] = TTLCache(max_keys, ttl_s)
        """Canonical key -> {merged canonical id: via}: the merges into that set not yet settled."""

    async def find(self, key: str) -> Joined:
        root = self._found(key) or key
        return self._renewed(root, self._sets.get(root, frozenset()) | {key})

    async def link(self, a: str, b: str, via: str) -> Joined:
        found = (self._found(a), self._found(b))
        if found[0] is not None and found[0] == found[1]:
            return self._renewed(found[0], self._sets[found[0]])
        roots = sorted({root for root in found if root is not None})
        members = frozenset({a, b}.union(*(self._sets[root] for root in roots)))
        root = keys.canonical(members)
        replaced = tuple(keys.value(r) for r in roots if r != root)
        pending: dict[str, str] = {}
        for old in roots:
            self._sets.pop(old, None)
            pending.update(self._pending.pop(old, {}))
        pending.update(dict.fromkeys(replaced, via))
        if pending:
            self._pending[root] = pending
        return self._renewed(root, members, replaced)

    async def settle(self, root: str, merged: Iterable[str]) -> None:
        now = self._found(root)
        pending = self._pending.get(now) if now is not None else None
        if now is None or pending is None:
            return
        done = set(merged)
        left = {name: via for name, via in pending.items() if name not in done}
        if left:
            self._pending[now] = left
        else:
            del self._pending[now]

    def _renewed(self, root: str, members: frozenset[str], replaced: tuple[str, ...] = ()) -> Joined:
        """The set written again, every member's pointer with it: all their TTLs restart."""
        for member in members:
            self._root[member] = root
        self._sets[root] = members
        pending = self._pending.get(root)
        if pending is not None:
            self._pending[root] = pending
        return Joined(root, members, replaced, tuple(sorted((pending or {}).items())))

    def _found(self, key: str) -> str | None:
        """The key's set, if both it and its pointer are still held (either may have expired)."""
        root = self._root.get(key)
        return root if root is not None and key in self._sets.get(root, ()) else None

    async def aclose(self) -> None:
        self._root.clear()
        self._sets.clear()
        self._pending.clear()
