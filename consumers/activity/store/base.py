"""The state-store seam: JSON documents changed atomically, and first-sighting markers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

Doc = dict[str, Any]
Change = Callable[[Doc], Doc]


class StateUnavailable(Exception):
    """The store did not answer (Redis down): the update is skipped, the records go on."""


class StateStore(Protocol):
    """Every method raises only `StateUnavailable` for an outage."""

    async def first(self, marker: str) -> bool:
        """True the first time `marker` is seen (within the state TTL), False after."""
        ...

    async def seen(self, marker: str) -> bool:
        """Whether `marker` was set (by `first` or `change_once`), without setting it."""
        ...

    async def seen_among(self, markers: Sequence[str]) -> frozenset[str]:
        """Those of `markers` that were set, read in one step."""
        ...

    async def load(self, key: str) -> Doc | None: ...

    async def change(self, key: str, update: Change) -> Doc:
        """Apply `update` to the document (an empty one if absent) atomically; the new document.

        `update` may run more than once (optimistic concurrency), so it must be pure."""
        ...

    async def change_once(self, key: str, update: Change, marker: str) -> tuple[Doc, bool]:
        """`change`, applied only if `marker` was never seen, and the marker set in the same atomic
        step: an event is counted exactly once, crash or not. The document, and whether it changed."""
        ...

    async def aclose(self) -> None: ...
