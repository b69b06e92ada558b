"""Prometheus metrics of the webhook receiver (prefix `aexy_webhook_`), on an injected registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

OUTCOMES = ("published", "duplicate", "ping", "unauthorized", "too_large", "invalid", "unavailable")
UNVERIFIED = "unverified"
"""The `event` label of requests rejected before their signature and headers were checked.

Their X-GitHub-Event header is anyone's text: as a label it would let a stranger create series at will.
"""


class WebhookMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.deliveries = Counter(
            "aexy_webhook_deliveries", "Webhook deliveries by event and outcome", ("event", "outcome"),
            registry=registry,
        )  # fmt: skip
        self.diffs = Counter(
            "aexy_webhook_commit_diffs",
            "Commit diffs asked of the GitHub API: fetched, failed, timeout, too_large (dropped for size)",
            ("outcome",),
            registry=registry,
        )
        self.commits_skipped = Counter(
            "aexy_webhook_commits_skipped", "Push commits not published to code.changes", ("reason",),
            registry=registry,
        )  # fmt: skip
        self.dedupe_errors = Counter(
            "aexy_webhook_dedupe_errors", "Dedupe store failures (the delivery is published anyway)",
            ("store",), registry=registry,
        )  # fmt: skip

    def delivery(self, event: str, outcome: str) -> None:
        self.deliveries.labels(event, outcome).inc()

    def diff(self, outcome: str) -> None:
        self.diffs.labels(outcome).inc()

    def skipped(self, reason: str, count: int) -> None:
        if count:
            self.commits_skipped.labels(reason).inc(count)

    def dedupe_error(self, store: str) -> None:
        self.dedupe_errors.labels(store).inc()
