"""Cost in USD from a per-model price table (USD per million tokens), prompt-cache prices included.

The default table holds Anthropic's list prices, cache writes of default-TTL entries (the only ones the
gateway writes) and cache reads included; a price without cache prices of its own gets Anthropic's
usual multiples of its input price (docs/gateway.md, "Prompt caching").
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from gateway.config import Price

CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.1
"""A price without cache prices of its own gets these multiples of its input price."""

DEFAULT_PRICES: Mapping[str, Price] = MappingProxyType(
    {
        "claude-sonnet-5-5": Price(2.0, 10.0, cache_write_per_mtok=2.5, cache_read_per_mtok=0.1),
        "claude-sonnet-5": Price(2.0, 10.0, cache_write_per_mtok=2.5, cache_read_per_mtok=0.2),
        "claude-opus-5-5": Price(4.0, 20.0, cache_write_per_mtok=5.0, cache_read_per_mtok=0.2),
        "claude-opus-5": Price(5.0, 25.0, cache_write_per_mtok=6.25, cache_read_per_mtok=0.5),
        "claude-haiku-4-5": Price(1.0, 5.0, cache_write_per_mtok=1.25, cache_read_per_mtok=0.1),
        "claude-sonnet-4-6": Price(3.0, 15.0, cache_write_per_mtok=3.75, cache_read_per_mtok=0.3),
        "claude-opus-4-6": Price(5.0, 25.0, cache_write_per_mtok=6.25, cache_read_per_mtok=0.5),
    }
)


def cost_usd(
    prices: Mapping[str, Price],
    model: str,
    input_tokens: int,
    output_tokens: int,
    factor: float = 1.0,
    *,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
) -> float:
    """List price times `factor` (a provider reply's `price_factor`: 0.5 for Message Batches).

    `input_tokens` counts every prompt token; the cache read and write tokens among them are priced
    at the cache's prices, the rest at the input price."""
    price = prices.get(model)
    if price is None:
        return 0.0
    uncached = max(input_tokens - cache_read_tokens - cache_write_tokens, 0)
    listed = (
        uncached * price.input_per_mtok
        + cache_write_tokens * cache_write_price(price)
        + cache_read_tokens * cache_read_price(price)
        + output_tokens * price.output_per_mtok
    )
    return listed * factor / 1_000_000


def cache_write_price(price: Price) -> float:
    written = price.cache_write_per_mtok
    return price.input_per_mtok * CACHE_WRITE_FACTOR if written is None else written


def cache_read_price(price: Price) -> float:
    read = price.cache_read_per_mtok
    return price.input_per_mtok * CACHE_READ_FACTOR if read is None else read
