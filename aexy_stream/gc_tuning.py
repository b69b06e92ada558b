"""Garbage-collector settings for a long-running processor.

A processor allocates a few short-lived objects per record (models, dicts, futures) and keeps
few of them, while its heap holds hundreds of thousands of long-lived ones (modules, the SDKs'
types, the memory cache). CPython's default thresholds (700, 10, 10) then run a collection every
700 allocations, and every hundredth of them walks the whole heap, finding almost nothing to free.
`bench/pipeline.py` applies `tune()` as `aexy-stream run` does, and `--default-gc` runs it without,
to compare (bench/README.md).

`tune()` moves everything alive at start-up into the permanent generation (`gc.freeze()`: never
scanned again) and collects the young generation less often. Reference cycles are still
collected, only later: memory stays bounded (the benchmark's backlog run reports RSS).
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000
"""Allocations between young collections (default 700)."""
OLDER_THRESHOLDS = (20, 20)


def tune() -> None:
    """Once, after start-up (imports, settings, clients built): a process-wide setting."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
