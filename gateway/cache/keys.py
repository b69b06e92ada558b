"""Canonical cache keys.

The key is a sha256 over everything that can change the answer: analysis type, prompt version,
provider, model, and the content and context serialized canonically (keys sorted at every depth,
so reordering keys never changes the key; changing the model or the prompt version always does).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import orjson

from schemas.request import AnalysisRequest
from schemas.types import AnalysisType

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def canonical_json(value: Any) -> bytes:
    return orjson.dumps(value, option=_OPTIONS, default=str)


def cache_key(
    analysis_type: AnalysisType,
    prompt_version: str,
    provider: str,
    model: str,
    content: str,
    context: dict[str, Any],
) -> str:
    return keyed(analysis_type, prompt_version, provider, model, material(content, context))


def material(content: str, context: dict[str, Any]) -> bytes:
    """The request's part of the key: content and context in canonical JSON, as they appear inside
    the key's list. Made anew for every key, from the values as they are at that moment: a context
    is a mutable dict, so neither its identity nor an earlier serialization stands for its value."""
    return canonical_json([content, context])[1:-1]


def shared_material(requests: Sequence[AnalysisRequest]) -> bytes | None:
    """The `material` every one of `requests` has, made once; None when they differ.

    Analyses of one commit part carry contexts of their own holding the very same objects: a
    context of the same key and value objects as the first request's, with an equal content,
    serializes alike at this moment, so only the first is serialized. Any other request is
    serialized and compared. Nothing is remembered between calls: the answer is about the values
    as they are now."""
    first = requests[0]
    part = material(first.content, first.context)
    for other in requests[1:]:
        if not _same_values(first, other) and material(other.content, other.context) != part:
            return None
    return part


def _same_values(first: AnalysisRequest, other: AnalysisRequest) -> bool:
    """Equal contents, and contexts of the same key and value objects in the same order."""
    a, b = first.context, other.context
    if first.content != other.content or len(a) != len(b):
        return False
    return all(ka is kb and va is vb for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True))


def keyed(analysis_type: AnalysisType, prompt_version: str, provider: str, model: str, part: bytes) -> str:
    """sha256 of the canonical JSON list `[analysis_type, prompt_version, provider, model, content,
    context]`, the request's `part` made by `material`."""
    return hashlib.sha256(_head(analysis_type, prompt_version, provider, model) + part + b"]").hexdigest()


@lru_cache(maxsize=1024)
def _head(analysis_type: AnalysisType, prompt_version: str, provider: str, model: str) -> bytes:
    """The key's list up to the request's part: `["<type>","<version>","<provider>","<model>",`."""
    return canonical_json([str(analysis_type), prompt_version, provider, model])[:-1] + b","
