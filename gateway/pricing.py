"""Cost in USD from a per-model price table (USD per million tokens)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from gateway.config import Price

DEFAULT_PRICES: Mapping[str, Price] = MappingProxyType(
    {
        "claude-sonnet-5-5": Price(2.0, 10.0),
        "claude-sonnet-5": Price(2.0, 10.0),
        "claude-opus-5-5": Price(4.0, 20.0),
        "claude-opus-5": Price(5.0, 25.0),
        "claude-haiku-4-5": Price(1.0, 5.0),
        "claude-sonnet-4-6": Price(3.0, 15.0),
        "claude-opus-4-6": Price(5.0, 25.0),
    }
)


def cost_usd(
    prices: Mapping[str, Price], model: str, input_tokens: int, output_tokens: int, factor: float = 1.0
) -> float:
    """List price times `factor` (a provider reply's `price_factor`: 0.5 for Message Batches)."""
    price = prices.get(model)
    if price is None:
        return 0.0
    listed = input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok
    return listed * factor / 1_000_000
