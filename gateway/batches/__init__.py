"""Claude Message Batches for backfill calls: half the price, results within 24 hours.

`BatchingClaudeProvider` implements the `Provider` protocol over the Message Batches API;
`PriorityRoutingProvider` sends backfill calls to it and live calls to the direct provider, under
one provider name, so the gateway's cache, retries and fallback stay as they are (it keeps a
circuit breaker per transport, so batched calls never hold or trip the live circuit).
"""

from gateway.batches.provider import BatchingClaudeProvider
from gateway.batches.routing import BatchedBackfillLimiter, PriorityRoutingProvider

__all__ = ["BatchedBackfillLimiter", "BatchingClaudeProvider", "PriorityRoutingProvider"]
