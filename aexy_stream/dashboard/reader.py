"""Reads `analysis.results` from its beginning into the board, without a consumer group.

Every partition is assigned and read from its start (as `aexy-stream tail --from-beginning`), so the
dashboard never joins or moves the processor's group and commits nothing. It is ready once its
position on every partition has reached the end offset that partition had when reading started.
A broker that cannot be reached (or a topic that does not exist yet) is retried; reading resumes at
the offsets already read.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaConnectionError, KafkaError

from aexy_stream.cli.reader import assigned_consumer
from aexy_stream.dashboard.board import Board
from aexy_stream.dashboard.records import Place, decode

log = logging.getLogger(__name__)

CLIENT_ID = "aexy-stream-dashboard"
POLL_MS = 500
BATCH_RECORDS = 500
RETRY_S = 2.0
PROGRESS_S = 0.25
"""While catching up, how often the page hears how far reading has come."""


class ResultsReader:
    def __init__(self, board: Board, retry_s: float = RETRY_S) -> None:
        self._board = board
        self._retry_s = retry_s
        self._positions: dict[TopicPartition, int] = {}
        self._targets: dict[TopicPartition, int] = {}
        self._progress_at = 0.0

    async def run(self) -> None:
        """Read until cancelled."""
        config, status = self._board.config, self._board.status
        while True:
            try:
                await self._follow()
            except (KafkaError, OSError, TimeoutError, LookupError) as exc:
                status.error = _reason(exc, config.bootstrap_servers)
                log.warning("dashboard: cannot read %s: %s", config.topic, status.error)
                self._board.status_changed()
                await asyncio.sleep(self._retry_s)

    async def _follow(self) -> None:
        config = self._board.config
        async with assigned_consumer(
            config.bootstrap_servers, [config.topic], from_beginning=True, client_id=CLIENT_ID
        ) as consumer:
            for partition, offset in self._positions.items():
                consumer.seek(partition, offset)
            if not self._targets:
                await self._aim(consumer)
            self._board.status.error = ""
            await self._check_ready(consumer)
            self._board.status_changed()
            while True:
                batch = await consumer.getmany(timeout_ms=POLL_MS, max_records=BATCH_RECORDS)
                for partition, records in batch.items():
                    for record in records:
                        place = Place(record.partition, record.offset)
                        self._board.apply(decode(record.value, record.headers, place))
                        self._positions[partition] = record.offset + 1
                if not self._board.status.ready:
                    await self._check_ready(consumer)

    async def _aim(self, consumer: AIOKafkaConsumer) -> None:
        """The end offsets to catch up with, and how many records lie before them."""
        assigned = list(consumer.assignment())
        self._targets = await consumer.end_offsets(assigned)
        starts = {partition: await consumer.position(partition) for partition in assigned}
        self._board.status.to_read = sum(max(0, self._targets[p] - starts[p]) for p in assigned)
        topic, behind = self._board.config.topic, self._board.status.to_read
        log.info("dashboard: reading %s from the beginning (%d records to catch up)", topic, behind)

    async def _check_ready(self, consumer: AIOKafkaConsumer) -> None:
        status = self._board.status
        if status.ready:
            return
        for partition, target in self._targets.items():
            if await consumer.position(partition) < target:
                self._progress()
                return
        status.ready = True
        log.info("dashboard: caught up (%d records read)", status.read)
        self._board.status_changed()

    def _progress(self) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._progress_at >= PROGRESS_S:
            self._progress_at = now
            self._board.status_changed()


def _reason(exc: BaseException, servers: str) -> str:
    if isinstance(exc, LookupError):
        return f"{exc} at {servers}"
    if isinstance(exc, (OSError, TimeoutError, KafkaConnectionError)):
        return f"cannot reach a Kafka broker at {servers}"
    return f"{type(exc).__name__} reading from {servers}"
