"""Which offsets of each partition are finished, so commits never pass unfinished work.

Records of one partition finish out of order (many calls overlap). The committable offset of a
partition is the lowest offset still unfinished, or one past the highest finished offset when
nothing is pending: committing it tells Kafka "everything before this is done".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aiokafka import TopicPartition


@dataclass(slots=True)
class _Partition:
    pending: dict[int, float] = field(default_factory=dict)
    """Unfinished offsets, each with when it started (monotonic seconds)."""
    next_offset: int = -1
    """One past the highest offset seen (started) on this partition."""
    committed: int = -1


class OffsetTracker:
    def __init__(self) -> None:
        self._partitions: dict[TopicPartition, _Partition] = {}

    def start(self, tp: TopicPartition, offset: int) -> None:
        state = self._partitions.get(tp) or self._partitions.setdefault(tp, _Partition())
        state.pending[offset] = time.monotonic()
        state.next_offset = max(state.next_offset, offset + 1)

    def done(self, tp: TopicPartition, offset: int) -> None:
        """Mark finished; a partition revoked meanwhile is ignored (its new owner redoes the work)."""
        state = self._partitions.get(tp)
        if state is not None:
            state.pending.pop(offset, None)

    def committable(self, tp: TopicPartition) -> int | None:
        """The offset to commit for `tp`, or None when there is nothing new to commit."""
        state = self._partitions.get(tp)
        if state is None or state.next_offset < 0:
            return None
        offset = min(state.pending) if state.pending else state.next_offset
        return offset if offset > state.committed else None

    def position(self, tp: TopicPartition) -> int | None:
        """One past the highest offset read from `tp`, or None before the first record."""
        state = self._partitions.get(tp)
        return state.next_offset if state is not None and state.next_offset >= 0 else None

    def positions(self) -> dict[TopicPartition, int]:
        """`position` of every partition that has seen a record."""
        return {tp: state.next_offset for tp, state in self._partitions.items() if state.next_offset >= 0}

    def mark_committed(self, tp: TopicPartition, offset: int) -> None:
        if (state := self._partitions.get(tp)) is not None:
            state.committed = max(state.committed, offset)

    def oldest_unfinished(self, tp: TopicPartition) -> tuple[int, float] | None:
        """The lowest unfinished offset of `tp` (the one its commits wait for) and how long ago it
        started, in seconds; None when nothing is unfinished."""
        state = self._partitions.get(tp)
        if state is None or not state.pending:
            return None
        offset = min(state.pending)
        return offset, time.monotonic() - state.pending[offset]

    def owns(self, tp: TopicPartition) -> bool:
        """Whether `tp` is tracked here (not revoked since its records started)."""
        return tp in self._partitions

    def forget(self, tp: TopicPartition) -> None:
        self._partitions.pop(tp, None)

    def partitions(self) -> list[TopicPartition]:
        return list(self._partitions)

    @property
    def pending_count(self) -> int:
        return sum(len(state.pending) for state in self._partitions.values())
