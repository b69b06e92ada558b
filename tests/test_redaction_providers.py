"""Nothing secret reaches a provider: the request bodies the provider simulators received.

Every format of the corpus (`tests/support/credentials.py`), in code, configuration, URL and prose
contexts, goes through the real path: a commit or a webhook routed to requests, the gateway, Claude
through the `anthropic` SDK against the anthropic-protocol simulator (Ollama through its client
against the ollama-protocol one). What the simulator recorded must hold none of the secrets.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry

from aexy_dev.simulator import SimulatorHandle
from aexy_stream.compose import gateway_config, local_providers
from aexy_stream.settings import Settings
from consumers.config import RoutingConfig
from consumers.file_skips import FileSkip
from consumers.routing import route_activity, route_code_change
from gateway.cache.layered import LayeredCache
from gateway.config import GatewayConfig, ProviderConfig, RedactionConfig
from gateway.gateway import Gateway
from gateway.metrics import GatewayMetrics
from gateway.providers.base import Provider
from gateway.providers.claude import ClaudeProvider
from gateway.providers.ollama import OllamaProvider
from gateway.providers.rules import RulesProvider
from gateway.redaction.locality import is_loopback
from schemas.events import CodeChangeEvent, parse_activity
from schemas.request import AnalysisRequest
from schemas.results import CodeQualityResult
from schemas.types import AnalysisType
from tests.corpora import WEBHOOKS
from tests.support.credentials import CONTEXTS, Credential, corpus, secrets_of

CORPUS = corpus()
ROUTING = RoutingConfig()


def claude(sim: SimulatorHandle) -> Provider:
    return ClaudeProvider(ProviderConfig("claude", "claude-sonnet-5-5", sim.base_url, "sk-ant-test-key", 5.0))


def ollama(sim: SimulatorHandle) -> Provider:
    return OllamaProvider(ProviderConfig("ollama", "llama3.2", sim.base_url, timeout_s=5.0))


def gateway(
    *providers: Provider, metrics: GatewayMetrics, redaction: RedactionConfig | None = None
) -> Gateway:
    """No cache: every request is a provider call."""
    config = GatewayConfig(chain=tuple(p.name for p in providers), redaction=redaction or RedactionConfig())
    return Gateway(config, {p.name: p for p in providers}, cache=LayeredCache(()), metrics=metrics)


def received(sim: SimulatorHandle) -> str:
    """Every string of the last request body the simulator received, decoded from its JSON."""
    last = sim.engine.stats.last
    assert last is not None
    strings: list[str] = []
    _strings(orjson.loads(last.body), strings)
    return "\n".join(strings)


def _strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _strings(item, out)
    elif isinstance(value, list):
        for item in value:
            _strings(item, out)


def leaked(text: str, credentials: list[Credential] = CORPUS) -> list[str]:
    return [c.name for c in credentials for secret in secrets_of(c) if secret in text]


def redactions(metrics: GatewayMetrics) -> dict[str, float]:
    counts: dict[str, float] = {}
    for family in metrics.registry.collect():
        if family.name == "aexy_llm_redactions":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    counts[sample.labels["kind"]] = sample.value
    return counts


def added(lines: list[str]) -> str:
    body = [f"+{part}" for line in lines for part in line.split("\n")]
    return f"@@ -0,0 +1,{len(body)} @@\n" + "\n".join(body)


def commit_with_every_format() -> CodeChangeEvent:
    """One commit: a file per context holding every format's line, and the prose in its message."""
    files = [
        {
            "path": CORPUS[0].path[context],
            "status": "added",
            "additions": 1,
            "deletions": 0,
            "patch": added([c.line(context) for c in CORPUS]),
        }
        for context in CONTEXTS
    ]
    message = "Add settings\n\n" + "\n".join(c.line("prose") for c in CORPUS[:12])
    return CodeChangeEvent.model_validate(
        {
            "repository": "octo/app",
            "sha": "3f786850e387550fdab836ed7e6dc881de23001b",
            "author": {"name": "Ada Lovelace", "email": "ada@example.com", "login": "ada"},
            "authored_at": "2026-05-01T22:10:00+02:00",
            "committed_at": "2026-05-01T20:11:00Z",
            "message": message,
            "parents": ["89e6c98d92887913cadf06b2adb97f26cde4849b"],
            "files": files,
        }
    )


async def test_no_secret_of_a_commit_reaches_claude(claude_sim: SimulatorHandle) -> None:
    metrics = GatewayMetrics(CollectorRegistry())
    routed = route_code_change(commit_with_every_format(), ROUTING)
    sent = "\n".join(r.content + orjson.dumps(r.context).decode() for r in routed.requests)
    assert leaked(sent) == [c.name for c in CORPUS for _ in secrets_of(c)]  # all there before
    gw = gateway(claude(claude_sim), metrics=metrics)
    try:
        for request in routed.requests:
            await gw.analyze(request)
            body = received(claude_sim)
            assert "[REDACTED:" in body
            assert leaked(body) == []
    finally:
        await gw.aclose()
    assert claude_sim.stats()["completions"] == len(routed.requests) >= 3
    counted = redactions(metrics)
    assert {c.kind for c in CORPUS} <= set(counted)
    per_request = sum(counted.values()) / len(routed.requests)
    assert per_request >= len(CORPUS)  # at least one replacement per format per request


WEBHOOK_TEXTS = [
    ("pull_request/opened.payload.json", "pull_request"),
    ("issues/opened.payload.json", "issue"),
    ("pull_request_review_comment/created.payload.json", "comment"),
    ("issue_comment/created.payload.json", "comment"),
    ("commit_comment/created.payload.json", "comment"),
]


def with_body(name: str, part: str, body: str) -> bytes:
    data: dict[str, Any] = orjson.loads((WEBHOOKS / name).read_bytes())
    data[part] = {**data[part], "body": body}
    return orjson.dumps(data)


@pytest.mark.parametrize(("name", "part"), WEBHOOK_TEXTS, ids=[n for n, _ in WEBHOOK_TEXTS])
async def test_no_secret_of_a_webhook_text_reaches_claude(
    claude_sim: SimulatorHandle, name: str, part: str
) -> None:
    """PR and issue bodies, review and commit comments: every format, pasted as people paste them."""
    body = "\n\n".join(c.line(context) for c in CORPUS for context in CONTEXTS)
    event = parse_activity(with_body(name, part, body), name.split("/", maxsplit=1)[0], "delivery-18")
    (request,) = route_activity(event, ROUTING).requests
    assert len(leaked(request.content)) == sum(len(secrets_of(c)) for c in CORPUS)
    gw = gateway(claude(claude_sim), metrics=GatewayMetrics(CollectorRegistry()))
    try:
        await gw.analyze(request)
    finally:
        await gw.aclose()
    assert leaked(received(claude_sim)) == []


async def test_secrets_in_context_fields_are_redacted(claude_sim: SimulatorHandle) -> None:
    token = next(c.value for c in CORPUS if c.name == "github personal access token")
    block = next(c.value for c in CORPUS if c.name == "ec private key")
    context = {
        "commit": {"message": f"Use {token}", "files": [{"path": "a.py", "additions": 3}]},
        "labels": ["bug", f"leak {token}"],
        "first": "-----BEGIN EC PRIVATE KEY-----",
        "second": block.split("\n", 1)[1],
        "count": 3,
    }
    request = AnalysisRequest(analysis_type=AnalysisType.SOFT_SKILLS, content="Thanks!", context=context)
    metrics = GatewayMetrics(CollectorRegistry())
    gw = gateway(claude(claude_sim), metrics=metrics)
    try:
        await gw.analyze(request)
    finally:
        await gw.aclose()
    body = received(claude_sim)
    assert token not in body and leaked(body) == []
    assert '"message": "Use [REDACTED:github_token]"' in body and '"count": 3' in body
    assert redactions(metrics)["github_token"] == 2
    assert request.context == context  # the caller's request is left as it was


async def test_local_providers_may_get_content_unredacted_never_claude(
    claude_sim: SimulatorHandle, ollama_sim: SimulatorHandle
) -> None:
    token = next(c.value for c in CORPUS if c.name == "stripe live secret key")
    request = AnalysisRequest(analysis_type=AnalysisType.CODE_QUALITY, content=f'KEY = "{token}"')
    relaxed = RedactionConfig(redact_local_providers=False, local_providers=frozenset({"ollama"}))
    for redaction, local_sees_secret in ((RedactionConfig(), False), (relaxed, True)):
        gw = gateway(
            claude(claude_sim),
            ollama(ollama_sim),
            metrics=GatewayMetrics(CollectorRegistry()),
            redaction=redaction,
        )
        try:
            await gw.analyze(request, provider="ollama")
            await gw.analyze(request, provider="claude")
        finally:
            await gw.aclose()
        assert (token in received(ollama_sim)) is local_sees_secret
        assert token not in received(claude_sim) and "[REDACTED:stripe]" in received(claude_sim)


async def test_the_keyless_provider_still_flags_a_secret_it_never_sees() -> None:
    """Redaction leaves the analyses what they need: a redacted secret is still a security issue."""
    token = next(c.value for c in CORPUS if c.name == "stripe live key, current length")
    diff = f'diff --git a/pay.py b/pay.py\n@@ -0,0 +1,2 @@\n+STRIPE = "{token}"\n+charge(STRIPE)'
    request = AnalysisRequest(analysis_type=AnalysisType.CODE_QUALITY, content=diff)
    gw = gateway(RulesProvider(), metrics=GatewayMetrics(CollectorRegistry()))
    try:
        envelope = await gw.analyze(request)
    finally:
        await gw.aclose()
    assert isinstance(envelope.result, CodeQualityResult)
    security = [issue for issue in envelope.result.issues if issue.category == "security"]
    assert [(i.severity, i.description, i.location) for i in security] == [
        ("high", "rules: secret in code (redacted before analysis) (1 line(s))", "pay.py:1")
    ]


def test_only_rules_and_loopback_servers_count_as_local() -> None:
    settings = Settings(
        llm_provider="claude",
        anthropic_base_url="http://127.0.0.1:8089",
        ollama_base_url="http://localhost:11434",
        openai_base_url="https://llm.example.com/v1",
        redact_local_providers=False,
    )
    assert local_providers(settings) == {"rules", "ollama"}
    assert gateway_config(settings).redaction.unredacted == {"rules", "ollama"}
    assert gateway_config(Settings()).redaction.unredacted == frozenset()
    remote = Settings(ollama_base_url="http://ollama:11434", openai_base_url="http://[::1]:8080/v1")
    assert local_providers(remote) == {"rules", "openai"}


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://localhost:11434", True),
        ("http://127.0.0.2:8080/v1", True),
        ("http://[::1]:8080", True),
        ("http://10.0.0.5:11434", False),
        ("http://ollama:11434", False),
        ("https://api.anthropic.com", False),
        ("http://localhost.example.com", False),
        ("not a url", False),
    ],
)
def test_loopback_addresses(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


SECRET, SIGNATURE = FileSkip.SECRET_FILE, FileSkip.SIGNATURE


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (".env", SECRET),
        ("app/.env.production", SECRET),
        ("deploy/prod.env", SECRET),
        (".env.example", None),
        ("config/.env.sample", None),
        ("certs/server.pem", SECRET),
        ("keys/tls.key", SECRET),
        ("home/.ssh/id_ed25519", SECRET),
        ("home/.ssh/id_ed25519.pub", SIGNATURE),
        ("credentials.json", SECRET),
        ("android/release.jks", SECRET),
        ("ios/dist.p12", SECRET),
        ("app/debug.keystore", SECRET),
        ("src/environment.py", None),
    ],
)
def test_files_that_are_secrets_by_nature_are_never_sent(path: str, reason: FileSkip | None) -> None:
    event = commit_with_every_format()
    files = [
        {"path": path, "status": "added", "additions": 1, "deletions": 0, "patch": "@@ -0,0 +1 @@\n+A=1"}
    ]
    routed = route_code_change(
        CodeChangeEvent.model_validate({**event.model_dump(mode="json"), "files": files}), ROUTING
    )
    if reason is None:
        assert routed.requests and routed.files_skipped == ()
    else:
        assert routed.requests == () and routed.files_skipped == ((reason, 1),)


def test_a_private_key_file_is_skipped_by_its_content() -> None:
    event = commit_with_every_format()
    block = next(c.value for c in CORPUS if c.name == "openssh private key")
    files = [
        {"path": "deploy/key", "status": "added", "additions": 8, "deletions": 0, "patch": added([block])}
    ]
    routed = route_code_change(
        CodeChangeEvent.model_validate({**event.model_dump(mode="json"), "files": files}), ROUTING
    )
    assert routed.requests == () and routed.files_skipped == ((FileSkip.SECRET_FILE, 1),)
