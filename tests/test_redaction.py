"""Secrets are replaced by `[REDACTED:<kind>]` before material leaves; ordinary code is left alone.

The corpus (`tests/support/credentials.py`) holds every credential format in four contexts; the
provider-level tests (`tests/test_redaction_providers.py`) read what the provider simulators received.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace

import pytest
from prometheus_client import CollectorRegistry

from gateway.metrics import GatewayMetrics
from gateway.redaction import Outbound, Redactor
from gateway.redaction.detectors import default_detectors
from gateway.redaction.literals import gate_of, min_width
from gateway.redaction.rules import BLOCKS
from gateway.redaction.scan import Scanner
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType
from tests.support.credentials import CONTEXTS, Credential, corpus, secrets_of

CORPUS = corpus()
REDACTOR = Redactor()


def diff_of(path: str, line: str) -> str:
    added = "\n".join(f"+{part}" for part in line.split("\n"))
    return f"diff --git a/{path} b/{path}\n@@ -0,0 +1,{line.count(chr(10)) + 1} @@\n{added}"


def test_the_corpus_has_at_least_thirty_kinds_of_credential() -> None:
    assert len({c.kind for c in CORPUS}) >= 30
    assert len(CORPUS) == len({c.name for c in CORPUS}) >= 60


@pytest.mark.parametrize("credential", CORPUS, ids=lambda c: c.name)
def test_every_format_is_redacted_in_every_context(credential: Credential) -> None:
    for context in CONTEXTS:
        line = credential.line(context)
        for text in (line, diff_of(credential.path[context], line)):
            redacted = REDACTOR.redact(text)
            assert redacted.found, (context, text)
            for secret in secrets_of(credential):
                assert secret not in redacted.text, (context, redacted.text)


@pytest.mark.parametrize("credential", CORPUS, ids=lambda c: c.name)
def test_each_format_is_counted_under_its_kind(credential: Credential) -> None:
    redacted = REDACTOR.redact(credential.line("code"))
    assert credential.kind in dict(redacted.found)
    assert f"[REDACTED:{credential.kind}]" in redacted.text


def test_replacements_keep_the_shape_and_count_per_kind() -> None:
    stripe = next(c.value for c in CORPUS if c.name == "stripe live key, current length")
    npm = next(c.value for c in CORPUS if c.name == "npm access token")
    text = f'stripe.api_key = "{stripe}"\nNPM_TOKEN={npm}\nx = "{stripe}"'
    redacted = Redactor().redact(text)
    assert redacted.text == (
        'stripe.api_key = "[REDACTED:stripe]"\nNPM_TOKEN=[REDACTED:npm]\nx = "[REDACTED:stripe]"'
    )
    assert redacted.found == (("npm", 1), ("stripe", 2))


def test_a_key_matched_by_its_first_characters_is_taken_whole() -> None:
    """detect-secrets' Stripe pattern matches 24 characters; a current key has about a hundred."""
    key = next(c.value for c in CORPUS if c.name == "stripe live key, current length")
    redacted = Redactor().redact(f"key={key}&next=1")
    assert redacted.text == "key=[REDACTED:stripe]&next=1"


def test_a_private_key_block_goes_whole_even_cut_short() -> None:
    block = next(c.value for c in CORPUS if c.name == "rsa private key")
    assert Redactor().redact(f"+{block}\n+x = 1").text == "+[REDACTED:private_key]\n+x = 1"
    cut = block[: len(block) // 2]
    assert Redactor().redact(f"before\n{cut}").text == "before\n[REDACTED:private_key]"


def test_redacting_twice_changes_nothing_more() -> None:
    text = "\n".join(c.line(context) for c in CORPUS for context in CONTEXTS)
    once = Redactor().redact(text)
    assert once.found
    twice = Redactor().redact(once.text)
    assert (twice.text, twice.found) == (once.text, ())


ORDINARY = [
    "token = tokenizer.next_token()",
    "password = getpass.getpass()",
    'TOKEN_TYPE = "Bearer"',
    'api_key = os.environ["API_KEY"]',
    'password = ""',
    'password = "${DB_PASSWORD}"',
    "password: ${{ secrets.DB_PASSWORD }}",
    'url = f"postgres://{user}:{password}@{host}/db"',
    'URL = "http://localhost:8080/api/v1"',
    "git@github.com:octo/app.git",
    'sha = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"',
    'Fixes: 6113728f27ae ("unix: fix a race")',
    'uuid = "123e4567-e89b-12d3-a456-426614174000"',
    'digest = hashlib.sha256(b"abc").hexdigest()',
    "static const uint8_t expected[] = { 0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea };",
    'ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"',
    'encoded = "aGVsbG8gd29ybGQ="',
    '<div class="task-list-item-container">',
    "def check_token(token: str, secret: bytes) -> bool:",
    "if secret is None:\n    raise ValueError('no secret')",
    "max_tokens = 4096",
    "password_hash = bcrypt.hashpw(password, bcrypt.gensalt())",
    "AKIA = 1  # short, not a key",
    "import sklearn  # sk-learn",
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
    "header = 'eyJhbGciOiJIUzI1NiJ9'  # only a header, no payload",
    "Server listening on 192.168.1.10:8080 and 8.8.8.8",
    "+  uv_tcp_t* handle = (uv_tcp_t*) req->handle;",
    "Signed-off-by: Ben Noordhuis <info@bnoordhuis.nl>",
    "+def login(user: str, password: str, token: str | None = None) -> bool:\n"
    "+    secret = load_secret(user)\n"
    '+    return hmac.compare_digest(secret, password) and token != ""',
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_code_is_not_redacted(text: str) -> None:
    redacted = Redactor().redact(text)
    assert (redacted.text, redacted.found) == (text, ())


NON_ASCII_NAMES = ["ap\u0131_key", "AP\u0130_KEY", "pA\u017f\u017fword"]
"""A dotless i, a dotted capital I, long s: re.IGNORECASE matches them, lower() does not."""


@pytest.mark.parametrize("name", NON_ASCII_NAMES)
def test_names_that_only_match_ignoring_case_beyond_ascii_are_still_redacted(name: str) -> None:
    assert Redactor().redact(f'{name} = "hunter2hunter2"').text == f'{name} = "[REDACTED:secret]"'


def test_the_gates_skip_nothing_a_detector_finds() -> None:
    """Every detector run on every line of the corpus finds what it finds through its gates."""
    detectors = default_detectors()
    ungated = Scanner(BLOCKS, [replace(d, gates=None, min_width=0) for d in detectors])
    gated = Scanner(BLOCKS, detectors)
    texts = [diff_of(c.path[x], c.line(x)) for c in CORPUS for x in CONTEXTS] + ORDINARY
    for text in texts:
        assert gated.redact(text) == ungated.redact(text), text


@pytest.mark.parametrize(
    ("pattern", "literals", "width"),
    [
        (r"(?:r|s)k_live_[0-9a-zA-Z]{24}", {"rk_live_", "sk_live_"}, 32),
        (r"(ghp|gho)_[A-Za-z0-9_]{36}", {"ghp_", "gho_"}, 40),
        (r"(?i)api_?key\s*=", {"api_key", "apikey"}, 7),
        (r"xox(?:a|b)-(?:\d+-)+[a-z0-9]+", {"xoxa-", "xoxb-"}, 8),
        (r"(foo|)bar", {"bar"}, 3),
    ],
)
def test_gates_are_what_every_match_contains(pattern: str, literals: set[str], width: int) -> None:
    compiled = re.compile(pattern)
    gate = gate_of(compiled)
    assert gate is not None and set(gate.literals) == literals
    assert min_width(compiled) == width


@pytest.mark.parametrize("pattern", [r"\d{8,10}:[A-Za-z]{35}", r"(?:foo|\w+)=", r"a?b?"])
def test_patterns_without_a_required_literal_have_no_gate(pattern: str) -> None:
    gate = gate_of(re.compile(pattern))
    assert gate is None or all(len(literal) == 1 for literal in gate.literals)


def test_each_distinct_text_is_scanned_once() -> None:
    redactor = Redactor()
    text = 'db_password = "s3cr3t-Value!"'
    first = redactor.redact(text)
    assert redactor.redact(str(text)) is first


def test_a_value_longer_than_any_name_is_redacted_whole() -> None:
    """Name detectors run with long runs of name characters cut short; what they find there is
    replaced in the line itself, the run's cut part included."""
    value = "".join(c.value for c in CORPUS if c.name == "token assignment") * 10 + "!x"
    redacted = Redactor().redact(f'password = "{value}" and more, ' + "q" * 300)
    assert redacted.text == 'password = "[REDACTED:secret]" and more, ' + "q" * 300
    bare = "".join(c.value for c in CORPUS if c.name == "token assignment") * 10
    assert Redactor().redact(f"session_token={bare}&x=1").text == "session_token=[REDACTED:secret]&x=1"


@pytest.mark.parametrize("name", ["password", "secret", "token", "api_key", "pwd"])
def test_a_long_run_of_secret_names_takes_no_quadratic_time(name: str) -> None:
    """`passwordpassword...` over 16,000 characters took detect-secrets' keyword patterns half a minute."""
    line = (name * 4000)[:16000]
    started = time.process_time()
    assert Redactor().redact(line).text == line
    assert time.process_time() - started < 2.0


async def test_requests_with_equal_contexts_each_get_a_redacted_context_of_their_own() -> None:
    metrics = GatewayMetrics(CollectorRegistry())
    outbound = Outbound(Redactor, metrics.redactions)
    token = next(c.value for c in CORPUS if c.name == "hugging face token")
    context = {"commit": {"message": f"use {token}", "files": [{"path": "a.py", "additions": 1}]}, "part": 1}
    kinds = (AnalysisType.CODE_QUALITY, AnalysisType.SKILL_EXTRACTION)
    requests = [AnalysisRequest(analysis_type=kind, content="x = 1", context=dict(context)) for kind in kinds]
    first, second = [await outbound.request_for("claude", request) for request in requests]
    sent = [first, second]
    assert [r.context["commit"]["message"] for r in sent] == ["use [REDACTED:huggingface]"] * 2
    assert first.context is not second.context and first.context["commit"] is not second.context["commit"]
    assert [r.context["part"] for r in sent] == [1, 1]
    assert metrics.redactions.labels("huggingface").value == 2
