"""Count the records arriving on a topic, in a separate process (used by `bench/pipeline.py`).

    python bench/pipeline_support/reader.py BOOTSTRAP TOPIC PARTITIONS EXPECTED TIMEOUT_S

Reads every partition of TOPIC from the beginning (plain assignment, no consumer group, so there
is no group join to wait for), prints `ready` once it is fetching, then, when EXPECTED records
arrived or TIMEOUT_S passed, one JSON line: `{"count": n, "marks": [[monotonic_s, cumulative], ...]}`,
one mark per fetched batch. `time.monotonic()` is the system-wide CLOCK_MONOTONIC on Linux, so the
marks compare with the parent's clock. Only aiokafka is imported: the reader stays light.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from aiokafka import AIOKafkaConsumer, TopicPartition


async def read(bootstrap: str, topic: str, partitions: int, expected: int, timeout_s: float) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_max_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    marks: list[tuple[float, int]] = []
    count = 0
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        await consumer.getmany(timeout_ms=200)  # positions reset, connections open (the topic is empty)
        print("ready", flush=True)
        deadline = time.monotonic() + timeout_s
        while count < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=100)
            got = sum(len(records) for records in batches.values())
            if got:
                count += got
                marks.append((time.monotonic(), count))
    finally:
        await consumer.stop()
    print(json.dumps({"count": count, "marks": marks}), flush=True)


def main() -> None:
    bootstrap, topic, partitions, expected, timeout_s = sys.argv[1:6]
    asyncio.run(read(bootstrap, topic, int(partitions), int(expected), float(timeout_s)))


if __name__ == "__main__":
    main()
