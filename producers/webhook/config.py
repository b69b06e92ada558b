"""Plain configuration of the webhook receiver (built from settings in the composition root)."""

from __future__ import annotations

from dataclasses import dataclass, field

from consumers.config import ProcessorConfig
from consumers.size_policy import RECORD_OVERHEAD_BYTES
from producers.kafka import ProducerConfig

__all__ = ["RECORD_OVERHEAD_BYTES", "GitHubApiConfig", "WebhookConfig"]
_PROCESSOR = ProcessorConfig()
"""The receiver writes the processor's input topics, within its record size."""


@dataclass(frozen=True, slots=True)
class GitHubApiConfig:
    """Where commit diffs come from. No token: no API calls, commits go out without patches."""

    token: str = field(default="", repr=False)
    api_url: str = "https://api.github.com"
    api_version: str = "2022-11-28"
    timeout_s: float = 5.0
    """Per API call."""
    budget_s: float = 3.0
    """All diffs of one delivery; what is not fetched by then goes out without a patch (GitHub waits 10 s)."""
    concurrency: int = 8
    """API calls in flight at once, over all deliveries."""


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    producer: ProducerConfig
    secret: str = field(default="", repr=False)
    insecure_no_signature: bool = False
    """Accept unsigned deliveries when no secret is set: local development only."""
    activity_topic: str = _PROCESSOR.topics.activity
    code_changes_topic: str = _PROCESSOR.topics.code_changes
    max_body_bytes: int = _PROCESSOR.max_event_bytes
    """Larger deliveries are answered 413: the body is published as it came, and the processor takes
    no record over MAX_EVENT_BYTES (`consumers/size_policy.py`)."""
    max_event_bytes: int = _PROCESSOR.max_event_bytes
    """A code change over this (the processor's MAX_EVENT_BYTES) loses its largest patches until it fits;
    one still over it without any patch is not published (`commits_skipped{reason="too_large"}`)."""
    dedupe_ttl_s: float = 3 * 24 * 3600
    dedupe_memory_items: int = 100_000
    github: GitHubApiConfig = field(default_factory=GitHubApiConfig)
    host: str = "0.0.0.0"
    port: int = 8080

    def __post_init__(self) -> None:
        if not self.secret and not self.insecure_no_signature:
            raise ValueError("a webhook secret is required unless insecure_no_signature is set")
