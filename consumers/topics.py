"""Creating the pipeline's topics explicitly (brokers that auto-create topics pick their own partitions)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from consumers.config import Topics
from consumers.size_policy import KAFKA_DEFAULT_MESSAGE_BYTES

DEFAULT_TIMEOUT_S = 10.0
MAX_MESSAGE_BYTES = "max.message.bytes"
_ALREADY_EXISTS = TopicAlreadyExistsError.errno


@asynccontextmanager
async def admin_client(bootstrap_servers: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> AsyncIterator[Any]:
    """A started admin client, always closed; raises KafkaConnectionError if no broker answers."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        client_id="aexy-stream-admin",
        request_timeout_ms=int(timeout_s * 1000),
    )
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
        yield admin
    finally:
        await admin.close()


async def ensure_topics(
    bootstrap_servers: str, topics: Topics, timeout_s: float = DEFAULT_TIMEOUT_S
) -> list[str]:
    """Create every topic of `topics.all` that does not exist yet; return the names created.

    Each new topic takes records of `topics.max_message_bytes` (its `max.message.bytes`: the size policy
    of `consumers/size_policy.py`). Safe to run twice and concurrently: a topic that already exists
    (whatever its partition count and limits) is left as it is. Raises `aiokafka.errors.KafkaError`
    (KafkaConnectionError if the broker is unreachable, TimeoutError after `timeout_s`) on any other
    failure.
    """
    async with admin_client(bootstrap_servers, timeout_s) as admin, asyncio.timeout(timeout_s):
        existing = set(await admin.list_topics())
        missing = [name for name in topics.all if name not in existing]
        if not missing:
            return []
        limits = {MAX_MESSAGE_BYTES: str(topics.max_message_bytes)}
        new = [
            NewTopic(name, topics.partitions, topics.replication, topic_configs=limits) for name in missing
        ]
        response = await admin.create_topics(new, timeout_ms=int(timeout_s * 1000))
    return _created(response.topic_errors, missing)


def _created(topic_errors: Iterable[tuple[Any, ...]], requested: list[str]) -> list[str]:
    """The requested names the broker created; raise the first error other than 'already exists'."""
    failed: dict[str, int] = {}
    for entry in topic_errors:
        name, code = entry[0], entry[1]
        if code == _ALREADY_EXISTS:
            failed[name] = code
        elif code:
            message = entry[2] if len(entry) > 2 and entry[2] else ""
            raise for_code(code)(f"cannot create topic {name}: {message}".rstrip(": "))
    return [name for name in requested if name not in failed]


async def wait_for_topics(
    bootstrap_servers: str, names: Iterable[str], timeout_s: float = DEFAULT_TIMEOUT_S
) -> None:
    """Wait until every topic in `names` is in the cluster metadata with a leader for each partition.

    Asks for the metadata of all topics: naming them would make an auto-creating broker create them.
    """
    wanted = set(names)
    async with admin_client(bootstrap_servers, timeout_s) as admin, asyncio.timeout(timeout_s):
        while True:
            if _all_ready(await admin.describe_topics(None), wanted):
                return
            await asyncio.sleep(0.1)


class MissingTopicsError(RuntimeError):
    """Topics the processor reads do not exist (on a broker with auto-creation off, as it should be)."""

    def __init__(self, bootstrap_servers: str, missing: Iterable[str]) -> None:
        self.missing = sorted(missing)
        super().__init__(
            f"topics missing on {bootstrap_servers}: {', '.join(self.missing) or '(none named)'}; "
            "create them first with `aexy-stream topics create`"
        )


async def missing_topics(bootstrap_servers: str, names: Iterable[str]) -> set[str]:
    """Which of `names` the cluster does not have (all topics' metadata: naming them could create them)."""
    async with admin_client(bootstrap_servers) as admin:
        present = {topic["topic"] for topic in await admin.describe_topics(None) if topic["error_code"] == 0}
    return set(names) - present


async def topic_partitions(bootstrap_servers: str, topics: Iterable[str]) -> list[TopicPartition]:
    """Every partition of `topics`, in order; `LookupError` for a topic the cluster does not have.

    Asked of the cluster itself: a client's cached metadata names only the topics it already uses.
    """
    wanted = list(topics)
    async with admin_client(bootstrap_servers) as admin:
        described = {topic["topic"]: topic for topic in await admin.describe_topics(None)}
    found: list[TopicPartition] = []
    for name in wanted:
        topic = described.get(name)
        if topic is None or topic["error_code"] != 0:
            raise LookupError(f"the broker has no topic {name}")
        found += [TopicPartition(name, p["partition"]) for p in sorted(topic["partitions"], key=_number)]
    return found


def _number(partition: dict[str, Any]) -> int:
    number: int = partition["partition"]
    return number


def _all_ready(described: list[dict[str, Any]], wanted: set[str]) -> bool:
    ready = {
        topic["topic"]
        for topic in described
        if topic["error_code"] == 0
        and topic["partitions"]
        and all(partition["leader"] >= 0 for partition in topic["partitions"])
    }
    return wanted <= ready


async def message_limit(bootstrap_servers: str, topic: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> int:
    """The largest record batch `topic` accepts (its `max.message.bytes`); Kafka's default when the
    broker does not say (a broker without DescribeConfigs, a topic it does not describe)."""
    try:
        async with admin_client(bootstrap_servers, timeout_s) as admin, asyncio.timeout(timeout_s):
            resource = ConfigResource(ConfigResourceType.TOPIC, topic, {MAX_MESSAGE_BYTES: None})
            responses = await admin.describe_configs([resource])
    except (KafkaError, TimeoutError, OSError):
        return KAFKA_DEFAULT_MESSAGE_BYTES
    for response in responses:
        for entry in response.resources:
            error_code, entries = entry[0], entry[4]
            for config in entries if not error_code else ():
                if config[0] == MAX_MESSAGE_BYTES and str(config[1]).isdigit():
                    return int(config[1])
    return KAFKA_DEFAULT_MESSAGE_BYTES
