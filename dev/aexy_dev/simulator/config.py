"""What a simulator run looks like: which protocol, where it listens, how it misbehaves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

ProtocolName = Literal["anthropic", "ollama", "openai"]
PROTOCOLS: tuple[ProtocolName, ...] = get_args(ProtocolName)


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """One simulated provider.

    `port=0` picks a free port (the handle reports it). `error_rate` is the seeded share of requests
    that fail with a transient fault; `rpm` > 0 enforces that many requests per rolling 60 s;
    `require_api_key` makes the ollama and openai protocols answer 401 without an `Authorization`
    header (anthropic always requires `x-api-key` or `Authorization`, like the real API).
    `batch_delay_ms` is how long an Anthropic Message Batch stays `in_progress` after its creation.
    """

    protocol: ProtocolName = "anthropic"
    host: str = "127.0.0.1"
    port: int = 0
    latency_ms: float = 0.0
    error_rate: float = 0.0
    rpm: int = 0
    seed: int = 0
    require_api_key: bool = False
    batch_delay_ms: float = 0.0

    def __post_init__(self) -> None:
        _check(self.protocol in PROTOCOLS, f"protocol must be one of {', '.join(PROTOCOLS)}")
        _check(0 <= self.port <= 65535, "port must be between 0 and 65535")
        _check(self.latency_ms >= 0, "latency_ms must be >= 0")
        _check(0.0 <= self.error_rate <= 1.0, "error_rate must be between 0 and 1")
        _check(self.rpm >= 0, "rpm must be >= 0 (0 = unlimited)")
        _check(self.batch_delay_ms >= 0, "batch_delay_ms must be >= 0")

    @property
    def latency_s(self) -> float:
        return self.latency_ms / 1000.0

    @property
    def batch_delay_s(self) -> float:
        return self.batch_delay_ms / 1000.0


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
