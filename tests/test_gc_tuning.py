"""The processor's GC settings (their effect is measured in bench/pipeline.py, not here)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from aexy_stream import gc_tuning


@pytest.fixture
def restored_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_tune_freezes_what_is_alive_and_collects_the_young_less_often(restored_gc: None) -> None:
    alive = {"a long-lived": ["object"]}
    gc_tuning.tune()
    assert gc.get_threshold() == (gc_tuning.YOUNG_THRESHOLD, *gc_tuning.OLDER_THRESHOLDS)
    assert gc.get_freeze_count() > 0
    assert all(tracked is not alive for tracked in gc.get_objects())  # frozen: never scanned again
