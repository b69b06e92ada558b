"""The limiter seam.

A limiter admits one provider call at a time against requests-per-window and tokens-per-window
budgets. Tokens are reserved from an estimate before the call and settled with the usage the
provider reported afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gateway.providers.base import RateHint
from schemas.types import Priority


@dataclass(frozen=True, slots=True)
class Draw:
    """Take `amount` from the window at `key`, whose budget is `limit`."""

    key: str
    limit: int
    amount: int


@dataclass(frozen=True, slots=True)
class Permit:
    """A granted call: the token draws it made (one per budget), to be settled with the actual usage."""

    entry_id: str
    token_draws: tuple[Draw, ...] = ()
    waited_s: float = 0.0


class Limiter(Protocol):
    async def acquire(self, tokens: int, priority: Priority) -> Permit: ...

    async def settle(self, permit: Permit, actual_tokens: int) -> None: ...

    def observe(self, hint: RateHint) -> None: ...


class WindowStore(Protocol):
    """Sliding-window logs: `take` is all-or-nothing over every draw, atomically."""

    async def take(self, draws: tuple[Draw, ...], entry_id: str, window_s: float) -> float:
        """0.0 when granted; otherwise the seconds until enough of the window has expired."""
        ...

    async def adjust(self, keys: tuple[str, ...], entry_id: str, delta: int) -> None:
        """Change an entry's amount (token reconciliation); no-op once it has left the window."""
        ...


def estimate_tokens(prompt_chars: int, max_tokens: int) -> int:
    """The design's estimate: prompt characters / 4 plus the output budget."""
    return prompt_chars // 4 + max_tokens
