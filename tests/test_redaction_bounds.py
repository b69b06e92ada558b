"""Redaction never holds the event loop, and its work per text is bounded.

A long text is scanned in a worker thread while the loop goes on, once however many requests carry
it; past the work bound the rest of a text is withheld (never sent unscanned) and the context says
so; the block rules take linear time on the texts that made a regex backtrack without end.
"""

from __future__ import annotations

import asyncio
import random
import string
import time

import pytest
from prometheus_client import CollectorRegistry

from gateway.metrics import GatewayMetrics
from gateway.redaction import Outbound, Redactor
from gateway.redaction.detectors import default_detectors
from gateway.redaction.outbound import WITHHELD_KEY
from gateway.redaction.redactor import OFF_LOOP_CHARS
from gateway.redaction.scan import WITHHELD, Detector
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType
from tests.support.credentials import CONTEXTS, Credential, corpus, secrets_of

CORPUS = corpus()
HEADER = "diff --git a/src/settings.py b/src/settings.py"


def secret_heavy(lines: int) -> tuple[str, list[Credential]]:
    """A diff adding `lines` lines of the corpus, each holding a credential (every format in turn, in
    every context), and the credentials it holds."""
    used = [CORPUS[i % len(CORPUS)] for i in range(lines)]
    rows = [c.line(CONTEXTS[i // len(CORPUS) % len(CONTEXTS)]) for i, c in enumerate(used)]
    added = "\n".join(f"+{part}" for row in rows for part in row.split("\n"))
    return f"{HEADER}\n@@ -0,0 +1,{added.count(chr(10)) + 1} @@\n{added}", used


def assert_no_secret_of(used: list[Credential], text: str) -> None:
    for credential in used:
        for secret in secrets_of(credential):
            assert secret not in text, credential.name


def counter() -> GatewayMetrics:
    return GatewayMetrics(CollectorRegistry())


async def test_a_long_text_is_redacted_in_a_worker_thread_while_the_loop_goes_on() -> None:
    text, used = secret_heavy(4000)
    whole = 10**9  # no bound: the whole text is scanned (the bound is tested below)
    metrics = counter()
    redactor = Redactor(max_work=whole)
    outbound = Outbound(lambda: redactor, metrics.redactions)
    gaps: list[float] = []

    async def tick() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.03)
    request = AnalysisRequest(analysis_type=AnalysisType.CODE_QUALITY, content=text)
    started = time.perf_counter()
    sent = await outbound.request_for("claude", request)
    scan_s = time.perf_counter() - started
    ticker.cancel()
    assert len(gaps) >= 10
    assert max(gaps) < scan_s / 3, (max(gaps), scan_s)
    expected = Redactor(max_work=whole).redact(text)  # the same text scanned in the calling thread
    assert (sent.content, expected.withheld) == (expected.text, 0)
    assert_no_secret_of(used, sent.content)
    assert WITHHELD_KEY not in sent.context
    assert sum(count for _, count in expected.found) >= len(used)


async def test_requests_that_share_a_long_text_wait_for_one_scan() -> None:
    scanned: list[str] = []

    def probe(line: str, path: str) -> tuple[str, ...]:
        scanned.append(line)
        return ()

    redactor = Redactor(detectors=(*default_detectors(), Detector("probe", None, probe)))
    outbound = Outbound(lambda: redactor, counter().redactions)
    text, used = secret_heavy(200)
    assert len(text) >= OFF_LOOP_CHARS
    kinds = (AnalysisType.SKILL_EXTRACTION, AnalysisType.CODE_QUALITY, AnalysisType.CODE_COMPLEXITY)
    requests = [AnalysisRequest(analysis_type=kind, content=text) for kind in kinds]
    sent = await asyncio.gather(*(outbound.request_for("claude", r) for r in requests))
    again = await outbound.request_for("claude", requests[0])
    assert len({s.content for s in [*sent, again]}) == 1
    assert_no_secret_of(used, again.content)
    assert scanned.count(HEADER) == 1


@pytest.mark.parametrize("max_work", [0, 2_000, 40_000])
def test_past_the_work_bound_the_rest_is_withheld_never_sent_unscanned(max_work: int) -> None:
    text, used = secret_heavy(300)
    whole = Redactor().redact(text)
    bounded = Redactor(max_work=max_work).redact(text)
    assert_no_secret_of(used, bounded.text)
    *kept, last = bounded.text.split("\n")
    assert kept == whole.text.split("\n")[: len(kept)]
    withheld = "\n".join(whole.text.split("\n")[len(kept) :])
    assert last == WITHHELD.format(chars=bounded.withheld, lines=withheld.count("\n") + 1)
    assert dict(bounded.found)["unscanned"] == 1
    assert len(bounded.text) < len(whole.text)
    again = Redactor().redact(bounded.text)
    assert (again.text, again.found) == (bounded.text, ())


async def test_what_is_withheld_is_named_in_the_context() -> None:
    metrics = counter()
    redactor = Redactor(max_work=20_000)
    outbound = Outbound(lambda: redactor, metrics.redactions)
    text, used = secret_heavy(300)
    context = {"body": text, "labels": ["bug", "security"], "number": 7}
    request = AnalysisRequest(analysis_type=AnalysisType.TASK_SIGNALS, content=text, context=context)
    sent = await outbound.request_for("claude", request)
    withheld = redactor.redact(text).withheld
    assert withheld > 0
    assert sent.context[WITHHELD_KEY] == {"content": withheld, "body": withheld}
    assert sent.context["body"] == sent.content
    assert (sent.context["labels"], sent.context["number"]) == (["bug", "security"], 7)
    assert_no_secret_of(used, sent.content)
    assert metrics.redactions.labels("unscanned").value == 2


def test_key_body_lines_before_an_end_line_are_found_in_linear_time() -> None:
    """A diff that adds a key and a certificate: the certificate's lines, each `+` then base64, were
    a run the body-lines regex backtracked over in two ways a line, without end."""
    key = next(c for c in CORPUS if c.name == "rsa private key")
    rng = random.Random(7)
    base64 = string.ascii_letters + string.digits + "+/"
    body = ["".join(rng.choice(base64) for _ in range(64)) for _ in range(60)]
    certificate = ["-----BEGIN CERTIFICATE-----", *body, "-----END CERTIFICATE-----"]
    inside = key.value.split("\n")[3:]  # a hunk that begins inside the key
    text = "\n".join(f"+{line}" for line in [*inside, *certificate])
    started = time.process_time()
    redacted = Redactor().redact(text)
    assert time.process_time() - started < 2.0
    assert redacted.text == "\n".join(["[REDACTED:private_key]", *(f"+{line}" for line in certificate)])
    assert_no_secret_of([key], redacted.text)
