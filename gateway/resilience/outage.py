"""Skipping a shared backend for a while after it failed, so an outage never slows every call.

After a failure the backend is "down" for `retry_after_s`; the first call after that is the probe.
Each failure is counted through `on_error(label)` and logged once, without the error's details.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class OutageWindow:
    def __init__(
        self,
        label: str,
        *,
        retry_after_s: float = 5.0,
        on_error: Callable[[str], None] = lambda _label: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._label = label
        self._retry_after_s = retry_after_s
        self._on_error = on_error
        self._clock = clock
        self._down_until = 0.0

    @property
    def is_down(self) -> bool:
        return self._clock() < self._down_until

    def failed(self, exc: BaseException) -> None:
        self._down_until = self._clock() + self._retry_after_s
        self._on_error(self._label)
        log.warning("%s unavailable for %.1fs: %s", self._label, self._retry_after_s, type(exc).__name__)
