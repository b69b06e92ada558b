"""A dead letter that always fits the producer's and the dead-letter topic's size limit.

A dead letter carries the original record's key, value and own headers untouched when they fit.
When they do not (a record larger than the pipeline accepts that still arrived), it carries a
bounded prefix of the value instead, or, if even the key and headers are too large, less again,
and says so in headers: `x-original-size`, `x-original-sha256` (on every dead letter), and
`x-dlq-value-kept` / `x-dlq-dropped` when something was cut. Where the original still is (topic,
partition, offset) is in the `x-original-*` headers every dead letter has.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from aiokafka.record.default_records import DefaultRecordBatchBuilder

from consumers import headers as h
from consumers.size_policy import DEAD_LETTER_PREFIX_BYTES

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class Letter:
    key: bytes | None
    value: bytes
    headers: Headers


def fitted(key: bytes | None, value: bytes, own: Headers, meta: Headers, limit: int) -> Letter:
    """The dead letter of this original: whole if its record batch fits `limit` bytes, else the
    first of these that fits: a prefix of the value, no value, no own headers, no key."""
    digest = hashlib.sha256(value).hexdigest()
    meta = [*meta, *h.encode({h.ORIGINAL_SIZE: len(value), h.ORIGINAL_SHA256: digest})]
    forms = list(_shrinking(key, value, own, meta, limit))
    return next((letter for letter in forms if _size(letter) <= limit), forms[-1])


def _shrinking(key: bytes | None, value: bytes, own: Headers, meta: Headers, limit: int) -> Iterator[Letter]:
    yield Letter(key, value, own + meta)
    room = limit - _size(Letter(key, b"", own + meta)) - 64  # the kept-bytes header itself
    prefix = value[: max(min(room, DEAD_LETTER_PREFIX_BYTES), 0)]
    yield Letter(key, prefix, own + meta + h.encode({h.DLQ_VALUE_KEPT: len(prefix)}))
    kept = h.encode({h.DLQ_VALUE_KEPT: 0})
    yield Letter(key, b"", own + meta + kept)
    yield Letter(key, b"", meta + kept + h.encode({h.DLQ_DROPPED: "headers"}))
    yield Letter(None, b"", meta + kept + h.encode({h.DLQ_DROPPED: "headers,key"}))


def _size(letter: Letter) -> int:
    size: int = DefaultRecordBatchBuilder.estimate_size_in_bytes(letter.key, letter.value, letter.headers)
    return size
