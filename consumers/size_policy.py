"""The pipeline's one size policy, from the edge to the dead-letter topic.

`MAX_EVENT_BYTES` is the largest value the pipeline accepts. Everything else follows from it:

- the edge refuses more: the webhook receiver answers 413 for a larger body, backfills print an
  error line for a larger line or commit (after dropping its patches);
- every producer of the pipeline (`max_request_size`), the processor's fetches
  (`max_partition_fetch_bytes`) and every topic `aexy-stream topics create` makes
  (`max.message.bytes`) take `record_limit(MAX_EVENT_BYTES)`: the value plus room for its key,
  headers and batch framing;
- a larger record that still arrives (a topic created otherwise, a producer of someone else's) is
  dead-lettered by the processor with a bounded prefix of its value, so the dead letter itself
  always fits (`consumers/publish.py`).
"""

from __future__ import annotations

DEFAULT_MAX_EVENT_BYTES = 1_000_000
"""MAX_EVENT_BYTES unless set."""
RECORD_OVERHEAD_BYTES = 1024 * 1024
"""Room for key, headers and batch framing above the largest value."""
KAFKA_DEFAULT_MESSAGE_BYTES = 1_048_588
"""Apache Kafka's `message.max.bytes` default: what a topic takes when nothing else is known."""
DEAD_LETTER_PREFIX_BYTES = 64 * 1024
"""Of a value too large to dead-letter whole, this much is kept (less if the limit needs it)."""


def record_limit(max_event_bytes: int) -> int:
    """The largest record (value, key, headers, framing) producers, fetches and topics take."""
    return max_event_bytes + RECORD_OVERHEAD_BYTES
