"""What a provider is sent: the request with secrets replaced in its content and in every string of
its context (`Gateway._call` renders the prompt from it and hands it to the provider).

This is the one place provider-bound text passes: diffs, commit messages, PR and issue bodies, review
and comment texts arrive as a request's content or context, from the router, the requests topic or
the CLI alike. Only a call that goes to a provider is redacted (a cache hit sends nothing), and a
text already scanned is not scanned again (`Redactor`'s memo): a commit's analyses share it.

Each secret replaced counts once per request sent, by kind (`aexy_llm_redactions_total`); the values
themselves are never logged. Providers in `unredacted` get the request as it is: the operator's
`REDACT_LOCAL_PROVIDERS=false`, for providers that never send content off the machine
(`gateway/redaction/locality.py`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from gateway.metric_family import CounterFamily
from gateway.redaction.redactor import Redactor
from schemas.request import AnalysisRequest

PLAIN = (int, float, bool, type(None))


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

    def request_for(self, provider: str, request: AnalysisRequest) -> AnalysisRequest:
        """`request` as `provider` may see it."""
        if provider in self._unredacted:
            return request
        redactor, found = self._redactor(), Counter[str]()
        content = redactor.redact(request.content)
        found.update(dict(content.found))
        context = _context(redactor, request.context, found)
        if not found:
            return request
        for kind, count in found.items():
            self._counter.labels(kind).inc(count)
        return request.model_copy(update={"content": content.text, "context": context})


def _context(redactor: Redactor, context: dict[str, Any], found: Counter[str]) -> dict[str, Any]:
    """The context with its strings redacted, scanned as one text (one line or more per string); a
    block that spans strings makes each string be scanned alone."""
    strings: list[str] = []
    _collect(context, strings)
    if not strings:
        return context
    redacted = redactor.redact("\n".join(strings))
    if not redacted.found:
        return context
    lines = redacted.text.split("\n")
    if len(lines) == sum(s.count("\n") + 1 for s in strings):
        replaced = iter(_regrouped(lines, strings))
        found.update(dict(redacted.found))
    else:
        alone = [redactor.redact(s) for s in strings]
        replaced = iter(r.text for r in alone)
        for r in alone:
            found.update(dict(r.found))
    rebuilt: dict[str, Any] = _rebuilt(context, replaced)
    return rebuilt


def _collect(value: Any, strings: list[str]) -> None:
    if isinstance(value, str):
        strings.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _collect(item, strings)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in _ordered(value):
            _collect(item, strings)
    elif not isinstance(value, PLAIN):
        strings.append(str(value))  # rendered with str() in the prompt: redacted as that text


def _rebuilt(value: Any, replaced: Any) -> Any:
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
