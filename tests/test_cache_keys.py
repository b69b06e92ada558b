"""Canonical cache keys: reordering never changes the key; anything that can change the answer does."""

from __future__ import annotations

import hashlib
import random
import re
from typing import Any

import pytest

from gateway.cache.keys import cache_key, canonical_json, keyed, material, shared_material
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType

HEX64 = re.compile(r"^[0-9a-f]{64}$")

CONTEXT: dict[str, Any] = {
    "repo": "aexy/stream",
    "language": "python",
    "author": {"login": "ada", "team": {"name": "core", "lead": "grace", "size": 7}, "tags": ["a", "b"]},
    "files": [
        {"path": "a.py", "lines": 10, "meta": {"z": 1, "a": 2, "m": {"y": None, "b": True}}},
        {"path": "b.py", "lines": 20, "meta": {}},
    ],
    "score": 0.75,
    "flags": {"draft": False, "large": True},
}

BASE: dict[str, Any] = {
    "analysis_type": AnalysisType.CODE_QUALITY,
    "prompt_version": "v3",
    "provider": "claude",
    "model": "claude-sonnet-4",
    "content": "def add(a, b):\n    return a + b\n",
    "context": CONTEXT,
}


def key(**changes: Any) -> str:
    return cache_key(**{**BASE, **changes})


def shuffled(value: Any, rng: random.Random) -> Any:
    """The same value with the keys of every dict, at every depth, in a random order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


def test_key_is_a_sha256_hex_digest() -> None:
    k = key()
    assert HEX64.match(k)
    assert (
        k
        == hashlib.sha256(
            canonical_json(["code_quality", "v3", "claude", "claude-sonnet-4", BASE["content"], CONTEXT])
        ).hexdigest()
    )


def test_key_is_deterministic() -> None:
    assert key() == key() == cache_key(**BASE)


def test_key_is_stable_across_releases() -> None:
    """A pinned value: if this changes, every cached answer in Redis is silently orphaned."""
    k = cache_key(AnalysisType.CODE_QUALITY, "v1", "ollama", "llama3", "x", {"b": 1, "a": {"d": 2, "c": 3}})
    expected_material = b'["code_quality","v1","ollama","llama3","x",{"a":{"c":3,"d":2},"b":1}]'
    assert k == hashlib.sha256(expected_material).hexdigest()


def test_reversed_top_level_keys_give_the_same_key() -> None:
    reversed_context = dict(reversed(list(CONTEXT.items())))
    assert list(reversed_context) != list(CONTEXT)
    assert key(context=reversed_context) == key()


def test_reordered_nested_keys_give_the_same_key() -> None:
    a = {"outer": {"x": 1, "y": {"p": [{"k1": 1, "k2": 2}], "q": 2}}}
    b = {"outer": {"y": {"q": 2, "p": [{"k2": 2, "k1": 1}]}, "x": 1}}
    assert key(context=a) == key(context=b)


def test_random_permutations_at_every_depth_give_the_same_key() -> None:
    rng = random.Random(0)
    expected = key()
    orders = set()
    for _ in range(200):
        permuted = shuffled(CONTEXT, rng)
        assert permuted == CONTEXT
        orders.add(repr(permuted))
        assert key(context=permuted) == expected
    assert len(orders) > 100  # the loop really exercised many different orders


@pytest.mark.parametrize(
    "change",
    [
        {"model": "claude-opus-4"},
        {"prompt_version": "v4"},
        {"provider": "openai"},
        {"analysis_type": AnalysisType.SKILL_EXTRACTION},
        {"content": "def add(a, b):\n    return a - b\n"},
        {"content": ""},
        {"context": {}},
        {"context": {**CONTEXT, "repo": "aexy/other"}},
        {"context": {**CONTEXT, "score": 0.76}},
        {"context": {**CONTEXT, "extra": None}},
        {"context": {k: v for k, v in CONTEXT.items() if k != "flags"}},
        {
            "context": {
                **CONTEXT,
                "author": {**CONTEXT["author"], "team": {"name": "core", "lead": "x", "size": 7}},
            }
        },
        {"context": {**CONTEXT, "author": {**CONTEXT["author"], "tags": ["b", "a"]}}},  # list order matters
        {"context": {**CONTEXT, "flags": {"draft": True, "large": True}}},
    ],
    ids=lambda change: next(iter(change)),
)
def test_any_change_that_can_change_the_answer_changes_the_key(change: dict[str, Any]) -> None:
    assert key(**change) != key()


def test_every_analysis_type_has_its_own_key() -> None:
    keys = {key(analysis_type=kind) for kind in AnalysisType}
    assert len(keys) == len(AnalysisType)


def test_fields_do_not_bleed_into_each_other() -> None:
    """Moving text from one field to the next must not produce the same key (no plain concatenation)."""
    assert key(provider="claude", model="x-y") != key(provider="claude-x", model="y")
    assert key(prompt_version="v3claude", provider="") != key()
    assert key(content="a", context={"b": 1}) != key(content='a", {"b": 1', context={})


def test_value_type_matters() -> None:
    assert key(context={"n": 1}) != key(context={"n": "1"})
    assert key(context={"n": 1}) != key(context={"n": True})
    assert key(context={"n": None}) != key(context={"n": "null"})


def test_a_context_changed_in_place_is_keyed_by_its_new_value() -> None:
    """The same dict object, changed between two keys: the second key is the new value's."""
    context: dict[str, Any] = {"repo": "aexy/stream", "paths": ["a.py"]}
    before = key(context=context)
    context["paths"].append("b.py")
    after = key(context=context)
    assert after != before
    assert after == key(context={"repo": "aexy/stream", "paths": ["a.py", "b.py"]})
    part = material(BASE["content"], context)
    assert keyed(AnalysisType.CODE_QUALITY, "v3", "claude", "claude-sonnet-4", part) == after


def analyses(
    context: dict[str, Any], *contexts: dict[str, Any], content: str = "diff"
) -> list[AnalysisRequest]:
    """Requests of the same content, the first with `context`, the others with `contexts`."""
    kinds = list(AnalysisType)
    return [
        AnalysisRequest.model_construct(analysis_type=kind, content=content, context=ctx)
        for kind, ctx in zip(kinds, [context, *contexts], strict=False)
    ]


def test_siblings_holding_the_same_values_share_one_material() -> None:
    """A commit part's analyses: contexts of their own, holding the very same objects."""
    first = {"commit": {"sha": "abc", "files": [{"path": "a.c"}]}, "part": {"index": 1}}
    requests = analyses(first, dict(first), dict(first))
    assert shared_material(requests) == material("diff", first)


def test_equal_but_distinct_contexts_share_their_material() -> None:
    requests = analyses({"a": [1, 2], "b": "x"}, {"b": "x", "a": [1, 2]})
    assert shared_material(requests) == material("diff", {"a": [1, 2]} | {"b": "x"})


@pytest.mark.parametrize(
    ("other", "content"),
    [
        ({"lines": True}, "diff"),  # equal to {"lines": 1} by Python's ==, not by its serialization
        ({"lines": 2}, "diff"),
        ({"lines": 1, "more": 0}, "diff"),
        ({"lines": 1}, "other diff"),
    ],
)
def test_requests_of_different_material_share_none(other: dict[str, Any], content: str) -> None:
    first = analyses({"lines": 1})[0]
    second = AnalysisRequest.model_construct(
        analysis_type=AnalysisType.CODE_QUALITY, content=content, context=other
    )
    assert shared_material([first, second]) is None


def test_a_shared_value_changed_in_place_is_read_anew_every_time() -> None:
    """Nothing is remembered between calls: the same objects, changed, give the new material."""
    files = [{"path": "a.c"}]
    first = {"files": files}
    requests = analyses(first, dict(first))
    before = shared_material(requests)
    files.append({"path": "b.c"})
    after = shared_material(requests)
    assert before != after == material("diff", {"files": [{"path": "a.c"}, {"path": "b.c"}]})
