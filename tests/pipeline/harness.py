"""Running the real processor against the test broker, with the gateway on a simulated provider."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry

from aexy_dev.simulator import SimulatorHandle
from consumers.config import ProcessorConfig, Topics
from consumers.metrics import ProcessorMetrics
from consumers.processor import Processor
from gateway.cache.layered import LayeredCache
from gateway.cache.memory import MemoryCache
from gateway.config import BreakerConfig, GatewayConfig, ProviderConfig, RetryConfig
from gateway.gateway import Gateway
from gateway.metrics import GatewayMetrics
from gateway.providers.claude import ClaudeProvider
from tests.corpora import WEBHOOKS


def corpus_examples() -> list[tuple[str, bytes]]:
    """(event name, payload bytes) for every official webhook example."""
    return [(path.parent.name, path.read_bytes()) for path in sorted(WEBHOOKS.glob("*/*.json"))]


def commit_event(repository: str = "octo/app", sha: str | None = None, files: int = 1) -> bytes:
    sha = sha or uuid.uuid4().hex + uuid.uuid4().hex[:8]
    changes = [
        {
            "path": f"src/module_{i}.py",
            "previous_path": None,
            "status": "modified",
            "additions": 3,
            "deletions": 1,
            "patch": (
                "@@ -1,2 +1,4 @@\n-import os\n+import flask\n+\n"
                f"+def handler_{sha[:8]}_{i}(x):\n+    return x\n"
            ),
            "binary": False,
        }
        for i in range(files)
    ]
    event = {
        "repository": repository,
        "sha": sha,
        "author": {"name": "Mona", "email": "mona@example.com", "login": "mona"},
        "authored_at": "2026-11-20T22:15:00+02:00",
        "committed_at": "2026-11-20T22:15:00+02:00",
        "message": "Add handler",
        "parents": ["a" * 40],
        "files": changes,
    }
    return orjson.dumps(event)


def claude_gateway(sim: SimulatorHandle, **retry: Any) -> Gateway:
    provider = ClaudeProvider(ProviderConfig("claude", "claude-sonnet-5-5", sim.base_url, "sk-test", 10.0))
    config = GatewayConfig(
        chain=("claude",),
        retry=RetryConfig(**({"max_retries": 1, "backoff_initial_s": 0.01, "jitter_s": 0} | retry)),
        breaker=BreakerConfig(failure_threshold=5, cooldown_s=1.0),
    )
    return Gateway(
        config,
        {"claude": provider},
        cache=LayeredCache([MemoryCache()]),
        metrics=GatewayMetrics(CollectorRegistry()),
    )


def acked_producer(bootstrap: str, **options: Any) -> AIOKafkaProducer:
    """A producer whose every record is acknowledged by all replicas, without idempotence (which
    the embedded broker does not support; the processor's own is idempotent where the broker
    allows, `producers.kafka.idempotence`); not started."""
    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, **options)


def processor_config(bootstrap: str, topics: Topics, **overrides: Any) -> ProcessorConfig:
    base = ProcessorConfig(
        bootstrap_servers=bootstrap,
        group_id=f"test-{uuid.uuid4().hex[:8]}",
        topics=topics,
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
        retry_backoff_base_s=0.2,
        retry_max_attempts=3,
        shutdown_grace_s=5.0,
    )
    return replace(base, **overrides)


@asynccontextmanager
async def running(
    config: ProcessorConfig, gateway: Any, activity: Any = None, metrics: ProcessorMetrics | None = None
) -> AsyncIterator[Processor]:
    metrics = metrics or ProcessorMetrics(CollectorRegistry())
    processor = Processor(config, gateway, metrics, activity=activity)
    stop = asyncio.Event()
    task = asyncio.create_task(processor.run(stop))
    try:
        yield processor
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)
