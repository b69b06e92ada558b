"""What a fused call (several analyses of the same material, one provider call) needs besides the
gateway's own machinery: which requests may share a call, and how the call's tokens are shared out.

Token split (docs/gateway.md): a call's input tokens are split equally between the analyses it
answered (its prompt-cache read and write tokens, and the rest of its input, each on its own), its
output tokens in proportion to the length of each analysis's JSON in the reply (equally when none
has any); each in whole tokens, by largest remainder, so the parts add up to the call's figures
exactly. A repair call's tokens go to the analyses it repaired, by the same rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gateway.answer import Usage
from gateway.cache.keys import shared_material
from gateway.errors import BadRequest
from gateway.output import ParsedPart
from gateway.providers.base import ProviderReply
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType


def check_shared(requests: Sequence[AnalysisRequest]) -> None:
    """`BadRequest` unless the requests may share one call: at least one, the same material (content
    and context as the cache key serializes them: a context equal only by Python's `==`, `1` for
    `True`, renders another prompt) and priority, and each analysis type once."""
    if not requests:
        raise BadRequest("analyze_many needs at least one request")
    kinds = [request.analysis_type for request in requests]
    if len(set(kinds)) != len(kinds):
        raise BadRequest(f"analyze_many: an analysis type is asked for twice ({', '.join(kinds)})")
    shared_part(requests)


def shared_part(requests: Sequence[AnalysisRequest]) -> bytes:
    """The material (`gateway.cache.keys.material`) the requests share, made once; `BadRequest` when
    their material or priority differs."""
    part = shared_material(requests)
    if part is None or any(request.priority != requests[0].priority for request in requests):
        raise BadRequest("analyze_many: the requests must share content, context and priority")
    return part


def shares(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights` (equally when they add up to 0) in whole numbers
    that add up to `total`: each gets the floor of its share, then the largest remainders one more
    each (ties to the earlier part)."""
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    whole = sum(weights)
    floors = [total * weight // whole for weight in weights]
    remainders = [total * weight % whole for weight in weights]
    left = total - sum(floors)
    for i in sorted(range(len(weights)), key=lambda i: -remainders[i])[:left]:
        floors[i] += 1
    return floors


def shared_usage(reply: ProviderReply, chars: Sequence[int]) -> list[Usage]:
    """The reply's tokens shared between the parts whose JSON lengths are `chars` (the rule above)."""
    even = [1] * len(chars)
    read = shares(reply.cache_read_tokens, even)
    write = shares(reply.cache_write_tokens, even)
    uncached = shares(max(reply.input_tokens - reply.cache_read_tokens - reply.cache_write_tokens, 0), even)
    output = shares(reply.output_tokens, chars)
    return [Usage(u + r + w, o, r, w) for u, r, w, o in zip(uncached, read, write, output, strict=True)]


def billed(reply: ProviderReply, parsed: Mapping[AnalysisType, ParsedPart]) -> dict[AnalysisType, Usage]:
    """The call's tokens shared between its parts (the rule above)."""
    return dict(zip(parsed, shared_usage(reply, [part.chars for part in parsed.values()]), strict=True))
