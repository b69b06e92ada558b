"""What a provider is sent: the request with secrets replaced in its content and in every string of
its context (`gateway/calls.py` renders the prompt from it and hands it to the provider).

This is the one place provider-bound text passes: diffs, commit messages, PR and issue bodies, review
and comment texts arrive as a request's content or context, from the router, the requests topic or
the CLI alike. Only a call that goes to a provider is redacted (a cache hit sends nothing), and a
text already scanned is not scanned again (`Redactor`'s memo): a commit's analyses share it.

A long text is scanned in a worker thread (`Redactor.redact_async`), so the event loop goes on
meanwhile. A text past the scan's work bound is sent only up to the bound (`gateway/redaction/scan.py`);
the characters withheld are named in the context, under `WITHHELD_KEY`, by part (`content`, or the
context field).

Each secret replaced counts once per request sent, by kind (`aexy_llm_redactions_total`); the values
themselves are never logged. Providers in `unredacted` get the request as it is: the operator's
`REDACT_LOCAL_PROVIDERS=false`, for providers that never send content off the machine
(`gateway/redaction/locality.py`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from cachetools import LRUCache

from gateway.metric_family import CounterFamily
from gateway.redaction.redactor import Redactor
from schemas.request import AnalysisRequest

PLAIN = (int, float, bool, type(None))
_SCALARS = frozenset(PLAIN)
CONTEXTS_KEPT = 256
WITHHELD_KEY = "redaction_withheld"
Found = tuple[tuple[str, int], ...]
Withheld = dict[str, int]
"""Characters withheld unscanned, by part of the request (`content` or a context field)."""


class Outbound:
    def __init__(
        self,
        redactor: Callable[[], Redactor],
        counter: CounterFamily,
        unredacted: frozenset[str] = frozenset(),
    ) -> None:
        self._redactor = redactor
        self._counter = counter
        self._unredacted = unredacted
        self._contexts: LRUCache[bytes, tuple[dict[str, Any] | None, Found, Withheld]] = LRUCache(
            CONTEXTS_KEPT
        )
        """A context's JSON -> its redacted form (None: nothing to redact): a commit's analyses carry
        equal contexts, each a dict of its own, walked once."""

    async def request_for(self, provider: str, request: AnalysisRequest) -> AnalysisRequest:
        """`request` as `provider` may see it."""
        if provider in self._unredacted:
            return request
        redactor = self._redactor()
        content = await redactor.redact_async(request.content)
        redacted, in_context, withheld = await self._context(redactor, request.context)
        found = Counter(dict(content.found)) + Counter(dict(in_context))
        if not found:
            return request
        for kind, count in found.items():
            self._counter.labels(kind).inc(count)
        context = request.context if redacted is None else redacted
        if content.withheld:
            withheld = {"content": content.withheld, **withheld}
        if withheld:
            context = {**context, WITHHELD_KEY: withheld}
        return request.model_copy(update={"content": content.text, "context": context})

    async def _context(
        self, redactor: Redactor, context: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, Found, Withheld]:
        try:
            key: bytes | None = orjson.dumps(context)
        except TypeError:  # not JSON (a set, an object): walked every time
            key = None
        known = None if key is None else self._contexts.get(key)
        if known is None:
            known = await _redacted_context(redactor, context)
            if key is not None:
                self._contexts[key] = known
        redacted, found, withheld = known
        if redacted is not None and key is not None:
            redacted = orjson.loads(orjson.dumps(redacted))  # a dict of its own for every request
        return redacted, found, dict(withheld)


async def _redacted_context(
    redactor: Redactor, context: dict[str, Any]
) -> tuple[dict[str, Any] | None, Found, Withheld]:
    """The context with its strings redacted (None when none holds a secret). The strings of each
    top-level field are scanned as one text, one line or more per string (the parts of a split commit
    share their `commit` field: scanned once); a block that spans strings, or a text past the scan's
    bound, makes each string of that field be scanned alone."""
    found: Counter[str] = Counter()
    redacted: dict[str, Any] = {}
    withheld: Withheld = {}
    for key, value in context.items():
        redacted[key], in_field, chars = await _redacted_value(redactor, value)
        found.update(dict(in_field))
        if chars:
            withheld[str(key)] = chars
    return (redacted, tuple(sorted(found.items())), withheld) if found else (None, (), {})


async def _redacted_value(redactor: Redactor, value: Any) -> tuple[Any, Found, int]:
    """`value` with its strings redacted, what was found, and how many characters were withheld."""
    strings = strings_of(value)
    if not strings:
        return value, (), 0
    redacted = await redactor.redact_async("\n".join(strings))
    if not redacted.found:
        return value, (), 0
    lines = redacted.text.split("\n")
    if not redacted.withheld and len(lines) == sum(s.count("\n") + 1 for s in strings):
        return _rebuilt(value, iter(_regrouped(lines, strings))), redacted.found, 0
    alone = [await redactor.redact_async(s) for s in strings]
    found = sum((Counter(dict(r.found)) for r in alone), Counter[str]())
    rebuilt = _rebuilt(value, iter(r.text for r in alone))
    return rebuilt, tuple(sorted(found.items())), sum(r.withheld for r in alone)


def strings_of(value: Any) -> list[str]:
    """Every string in `value`, depth first, in the order `_rebuilt` puts them back."""
    strings: list[str] = []
    stack: list[Any] = [value]
    pop, push, add = stack.pop, stack.extend, strings.append
    while stack:
        value = pop()
        kind = type(value)
        if kind is str:
            add(value)
        elif kind in _SCALARS:
            continue
        elif kind is dict:
            push(reversed(value.values()))
        elif kind is list:
            push(reversed(value))
        elif isinstance(value, str):
            strings.append(str(value))
        elif isinstance(value, dict):
            push(reversed(value.values()))
        elif isinstance(value, list | tuple | set | frozenset):
            push(reversed(_ordered(value)))
        elif not isinstance(value, PLAIN):
            strings.append(str(value))  # rendered with str() in the prompt: redacted as that text
    return strings


def _rebuilt(value: Any, replaced: Iterator[str]) -> Any:
    if isinstance(value, dict):
        return {key: _rebuilt(item, replaced) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_rebuilt(item, replaced) for item in _ordered(value)]
    if isinstance(value, PLAIN):
        return value
    return next(replaced)


def _ordered(value: Any) -> list[Any]:
    """A set in the order the prompt renders it (sorted by repr); other sequences as they are."""
    return sorted(value, key=repr) if isinstance(value, set | frozenset) else list(value)


def _regrouped(lines: list[str], strings: list[str]) -> list[str]:
    out, at = [], 0
    for s in strings:
        count = s.count("\n") + 1
        out.append("\n".join(lines[at : at + count]))
        at += count
    return out
