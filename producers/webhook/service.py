"""The receiver as a running service: its parts wired, served until the block exits, then drained.

Leaving `webhook_server` stops accepting connections, lets requests in flight finish (aiohttp's graceful
shutdown), then flushes and closes the producer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from redis.asyncio import Redis

from consumers.http import serving
from producers.kafka import KafkaPublisher
from producers.webhook.app import WebhookHandler, build_app
from producers.webhook.config import GitHubApiConfig, WebhookConfig
from producers.webhook.dedupe import DedupeStore, MemoryDedupeStore, RedisDedupeStore
from producers.webhook.github_api import DiffSource, GitHubDiffs, NoDiffs
from producers.webhook.metrics import WebhookMetrics
from producers.webhook.receiver import Receiver
from producers.webhook.signature import signature_check


def dedupe_store(config: WebhookConfig, redis: Redis | None, metrics: WebhookMetrics) -> DedupeStore:
    """Redis when configured (shared by replicas), else this process's memory."""
    if redis is None:
        return MemoryDedupeStore(config.dedupe_ttl_s, config.dedupe_memory_items)
    return RedisDedupeStore(redis, config.dedupe_ttl_s, on_error=metrics.dedupe_error)


def diff_source(config: GitHubApiConfig, http: httpx.AsyncClient, metrics: WebhookMetrics) -> DiffSource:
    return GitHubDiffs(http, config, metrics.diff) if config.token else NoDiffs()


@asynccontextmanager
async def webhook_server(
    config: WebhookConfig, dedupe: DedupeStore, diffs: DiffSource, metrics: WebhookMetrics
) -> AsyncIterator[int]:
    """Serve on `config.host:config.port`; yields the bound port (0 picks a free one)."""
    publisher = KafkaPublisher(config.producer)
    try:
        receiver = Receiver(config, publisher, dedupe, diffs, metrics)
        handler = WebhookHandler(receiver, signature_check(config.secret), metrics, config.max_body_bytes)
        app = build_app(handler, publisher.connected, metrics, config.max_body_bytes)
        async with serving(app, config.host, config.port) as port:
            yield port
    finally:
        await publisher.aclose()
