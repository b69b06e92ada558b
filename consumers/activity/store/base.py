"""The state-store seam: JSON documents changed atomically, and first-sighting markers."""

from __future__ import annotations

from collections.abc import Callable
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

    async def load(self, key: str) -> Doc | None: ...

    async def change(self, key: str, update: Change) -> Doc:
        """Apply `update` to the document (an empty one if absent) atomically; the new document.

        `update` may run more than once (optimistic concurrency), so it must be pure."""
        ...

    async def aclose(self) -> None: ...
