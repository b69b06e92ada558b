"""`is_available()` answers remembered for a few seconds, so a probe is not a request per call."""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.providers.base import Provider


class AvailabilityProbe:
    def __init__(self, ttl_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._known: dict[str, tuple[bool, float]] = {}

    async def available(self, provider: Provider) -> bool:
        known = self._known.get(provider.name)
        if known is not None and self._clock() < known[1]:
            return known[0]
        answer = await provider.is_available()
        self._known[provider.name] = (answer, self._clock() + self._ttl_s)
        return answer
