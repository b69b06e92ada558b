"""The circuit breakers of the fallback chain: one per provider and transport (`RoutedProvider`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, get_args, runtime_checkable

from gateway.config import BreakerConfig
from gateway.errors import CircuitOpen
from gateway.providers.base import Provider
from gateway.resilience.breaker import CircuitBreaker, Transport
from schemas.types import Priority

TRANSPORTS: tuple[Transport, ...] = get_args(Transport)


@runtime_checkable
class RoutedProvider(Protocol):
    """A provider that sends some calls another way: `PriorityRoutingProvider` sends backfill calls
    as Claude Message Batches. Each of its transports gets a circuit breaker of its own: a batched
    call lasts from the poll interval to a day, so it must never be the half-open probe live calls
    wait behind, and a failed or expired batch of 1,000 calls must not open the live circuit."""

    def transport(self, priority: Priority) -> Transport: ...


class Breakers:
    def __init__(self, config: BreakerConfig, providers: Mapping[str, Provider]) -> None:
        self._routed = {name: p for name, p in providers.items() if isinstance(p, RoutedProvider)}
        self._breakers = {
            (name, transport): CircuitBreaker(config)
            for name in providers
            for transport in (TRANSPORTS if name in self._routed else ("direct",))
        }

    def get(self, provider: str, transport: Transport = "direct") -> CircuitBreaker:
        return self._breakers[provider, transport]

    def for_priority(self, provider: str, priority: Priority) -> CircuitBreaker:
        """The breaker of the transport a call of this priority takes."""
        return self._breakers[provider, self._transport(provider, priority)]

    def circuit_open(self, provider: str, priority: Priority) -> CircuitOpen:
        transport = self._transport(provider, priority)
        where = provider if transport == "direct" else f"{provider} ({transport})"
        return CircuitOpen(f"{where}: circuit open", provider=provider)

    def _transport(self, provider: str, priority: Priority) -> Transport:
        routed = self._routed.get(provider)
        return "direct" if routed is None else routed.transport(priority)
