"""Log lines that repeat while something stays broken (a broker gone, a dead letter not written),
at most one per message per interval, with a count of those left out.

aiokafka logs every failed produce response, heartbeat and metadata request: dozens of lines a
second while the broker is unreachable. `rate_limit_client_logs` puts the filter on its loggers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

CLIENT_LOG_INTERVAL_S = 30.0


class RateLimited(logging.Filter):
    """Passes the first record of each message template per `interval_s`; the next one passed says
    how many were left out meanwhile."""

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._interval_s = interval_s
        self._clock = clock
        self._last: dict[tuple[str, object], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.msg)
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last[0] < self._interval_s:
            self._last[key] = (last[0], last[1] + 1)
            return False
        if last is not None and last[1]:
            record.msg = f"{record.msg} ({last[1]} more like it in the last {now - last[0]:.0f} s)"
        self._last[key] = (now, 0)
        return True


def rate_limit_client_logs(interval_s: float = CLIENT_LOG_INTERVAL_S) -> None:
    """Every aiokafka logger (they exist once aiokafka is imported) gets the filter."""
    limit = RateLimited(interval_s)
    names = [name for name in logging.root.manager.loggerDict if name.split(".")[0] == "aiokafka"]
    for name in ["aiokafka", *names]:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RateLimited) for f in logger.filters):
            logger.addFilter(limit)
