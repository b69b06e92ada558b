"""In-process sliding-window logs, for a single process (no Redis configured)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.limits.base import Draw


@dataclass(slots=True)
class _Window:
    entries: deque[tuple[float, str]] = field(default_factory=deque)
    amounts: dict[str, int] = field(default_factory=dict)
    used: int = 0

    def expire(self, horizon: float) -> None:
        while self.entries and self.entries[0][0] <= horizon:
            _, entry_id = self.entries.popleft()
            self.used -= self.amounts.pop(entry_id, 0)

    def wait_for(self, draw: Draw, now: float, window_s: float) -> float:
        excess = self.used + draw.amount - draw.limit
        if excess <= 0:
            return 0.0
        for stamp, entry_id in self.entries:
            excess -= self.amounts.get(entry_id, 0)
            if excess <= 0:
                return max(stamp + window_s - now, 1e-3)
        return window_s

    def add(self, now: float, entry_id: str, amount: int) -> None:
        self.entries.append((now, entry_id))
        self.amounts[entry_id] = amount
        self.used += amount


class MemoryWindowStore:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, _Window] = {}

    async def take(self, draws: tuple[Draw, ...], entry_id: str, window_s: float) -> float:
        now = self._clock()
        windows = [self._windows.setdefault(draw.key, _Window()) for draw in draws]
        for window in windows:
            window.expire(now - window_s)
        wait = max((w.wait_for(d, now, window_s) for w, d in zip(windows, draws, strict=True)), default=0.0)
        if wait == 0.0:
            for window, draw in zip(windows, draws, strict=True):
                window.add(now, entry_id, draw.amount)
        return wait

    async def adjust(self, keys: tuple[str, ...], entry_id: str, delta: int) -> None:
        for key in keys:
            window = self._windows.get(key)
            if window is not None and entry_id in window.amounts:
                window.amounts[entry_id] += delta
                window.used += delta
