"""Canonical cache keys.

The key is a sha256 over everything that can change the answer: analysis type, prompt version,
provider, model, and the content and context serialized canonically (keys sorted at every depth,
so reordering keys never changes the key; changing the model or the prompt version always does).
"""

from __future__ import annotations

import hashlib
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
    material = [str(analysis_type), prompt_version, provider, model, content, context]
    return hashlib.sha256(canonical_json(material)).hexdigest()
