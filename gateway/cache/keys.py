"""Canonical cache keys.

The key is a sha256 over everything that can change the answer: analysis type, prompt version,
provider, model, and the content and context serialized canonically (keys sorted at every depth,
so reordering keys never changes the key; changing the model or the prompt version always does).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

import orjson

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


def keyed(analysis_type: AnalysisType, prompt_version: str, provider: str, model: str, part: bytes) -> str:
    """sha256 of the canonical JSON list `[analysis_type, prompt_version, provider, model, content,
    context]`, the request's `part` made by `material`."""
    return hashlib.sha256(_head(analysis_type, prompt_version, provider, model) + part + b"]").hexdigest()


@lru_cache(maxsize=1024)
def _head(analysis_type: AnalysisType, prompt_version: str, provider: str, model: str) -> bytes:
    """The key's list up to the request's part: `["<type>","<version>","<provider>","<model>",`."""
    return canonical_json([str(analysis_type), prompt_version, provider, model])[:-1] + b","
