"""Fitting a code change into MAX_EVENT_BYTES, the same way for every producer (webhook, backfills).

The processor dead-letters a record over its MAX_EVENT_BYTES, so a producer fits a code change first:
the largest patches are dropped one at a time until the JSON fits (each file's line counts are kept, so
the change still says how big it was), and a change still over the limit without any patch is not
published at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from schemas.events import CodeChangeEvent


@dataclass(frozen=True, slots=True)
class FittedChange:
    value: bytes | None
    """The event's JSON within the limit; None when even without patches it is over."""
    trimmed: bool = False
    """Whether patches had to be dropped (also when it did not fit in the end)."""


def fit_code_change(event: CodeChangeEvent, max_bytes: int) -> FittedChange:
    """The event's JSON, with its largest patches dropped until it is at most `max_bytes` long."""
    value = event.model_dump_json().encode()
    if len(value) <= max_bytes:
        return FittedChange(value)
    for fewer in _without_largest_patches(event):
        value = fewer.model_dump_json().encode()
        if len(value) <= max_bytes:
            return FittedChange(value, trimmed=True)
    return FittedChange(None, trimmed=True)


def _without_largest_patches(event: CodeChangeEvent) -> Iterator[CodeChangeEvent]:
    """The event with one more patch dropped each time, largest first, the last one without any."""
    order = sorted(range(len(event.files)), key=lambda i: len(event.files[i].patch or ""), reverse=True)
    files = list(event.files)
    for index in order:
        if files[index].patch is None:
            continue
        files[index] = files[index].model_copy(update={"patch": None})
        yield event.model_copy(update={"files": tuple(files)})
