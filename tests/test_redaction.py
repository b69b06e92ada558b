"""Secrets are replaced by `[REDACTED:<kind>]` before material leaves; ordinary code is left alone."""

from __future__ import annotations

import pytest

from consumers.redaction import RULES, redact

GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5" * 3 + "f6G7h8"
PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEA7bq0Tn1v3Kq1xE1b0Z6s\n"
    "q1xE1b0Z6sMIIEowIBAAKCAQEA7bq0Tn1v3K\n"
    "-----END RSA PRIVATE KEY-----"
)
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('AWS_KEY = "AKIAIOSFODNN7EXAMPLE"', 'AWS_KEY = "[REDACTED:aws_access_key]"'),
        (f"token: {GITHUB_TOKEN}", "token: [REDACTED:github_token]"),
        ("gho_" + "x" * 36, "[REDACTED:github_token]"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv", "[REDACTED:github_token]"),
        ("ANTHROPIC_API_KEY=sk-ant-api03-" + "Zz9_" * 10, "ANTHROPIC_API_KEY=[REDACTED:anthropic_key]"),
        ("OPENAI_API_KEY=sk-proj-" + "Ab1-" * 10, "OPENAI_API_KEY=[REDACTED:openai_key]"),
        ("key sk-" + "A1b2C3d4" * 6 + " end", "key [REDACTED:openai_key] end"),
        ("SLACK=xoxb-123456789012-abcdefABCDEF", "SLACK=[REDACTED:slack_token]"),
        ("maps?key=AIzaSyA-1234567890abcdefghijklmnopqrstu&x=1", "maps?key=[REDACTED:google_api_key]&x=1"),
        (f"+{PRIVATE_KEY}\n+x = 1", "+[REDACTED:private_key]\n+x = 1"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1r\n(cut)", "[REDACTED:private_key]"),
        (
            'DSN = "postgres://admin:hunter2@db.internal:5432/app"',
            'DSN = "postgres://admin:[REDACTED:url_password]@db.internal:5432/app"',
        ),
        (f"Authorization: Bearer {JWT}", "Authorization: Bearer [REDACTED:jwt]"),
        ('+password = "correct-horse"', '+password = "[REDACTED:secret]"'),
        ("db_passwd='s3cr3t!x'", "db_passwd='[REDACTED:secret]'"),
        ('{"client_secret": "abcdef123456"}', '{"client_secret": "[REDACTED:secret]"}'),
        ("apiKey: 'k-1234567890'", "apiKey: '[REDACTED:secret]'"),
        ('AUTH_TOKEN="f00ba4f00ba4"', 'AUTH_TOKEN="[REDACTED:secret]"'),
    ],
)
def test_each_kind_is_redacted(text: str, expected: str) -> None:
    assert redact(text) == (expected, 1)


def test_a_known_key_in_an_assignment_is_counted_once_under_its_own_kind() -> None:
    assert redact(f'api_key = "{GITHUB_TOKEN}"') == ('api_key = "[REDACTED:github_token]"', 1)


def test_counts_add_up_over_kinds_and_lines() -> None:
    text = f'a = "AKIAIOSFODNN7EXAMPLE"\nb = "AKIAI44QH8DHBEXAMPLE"\n{PRIVATE_KEY}\npassword = "hunter22"'
    redacted, count = redact(text)
    assert count == 4
    assert redacted.count("[REDACTED:aws_access_key]") == 2
    assert "MIIEow" not in redacted and "hunter22" not in redacted


def test_redacting_twice_changes_nothing_more() -> None:
    once, _ = redact(f'token = "{GITHUB_TOKEN}" url=https://u:pw12345@h/x {JWT}')
    assert redact(once) == (once, 0)


@pytest.mark.parametrize(
    "text",
    [
        "token = tokenizer.next_token()",
        "password = getpass.getpass()",
        'TOKEN_TYPE = "Bearer"',
        'api_key = os.environ["API_KEY"]',
        'password = ""',
        'password = "${DB_PASSWORD}"',
        'url = f"postgres://{user}:{password}@{host}/db"',
        'URL = "http://localhost:8080/api/v1"',
        "git@github.com:octo/app.git",
        'sha = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"',
        '<div class="task-list-item-container">',
        "def check_token(token: str, secret: bytes) -> bool:",
        "if secret is None:\n    raise ValueError('no secret')",
        "AKIA = 1  # short, not a key",
        "import sklearn  # sk-learn",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "header = 'eyJhbGciOiJIUzI1NiJ9'  # only a header, no payload",
    ],
)
def test_ordinary_code_is_not_redacted(text: str) -> None:
    assert redact(text) == (text, 0)


def test_rules_are_compiled_once_with_unique_kinds() -> None:
    kinds = [rule.kind for rule in RULES]
    assert len(kinds) == len(set(kinds)) == 10
    assert redact("")[1] == 0


NON_ASCII_NAMES = ["ap\u0131_key", "AP\u0130_KEY", "pA\u017f\u017fword"]
"""A dotless i, a dotted capital I, long s: re.IGNORECASE matches them, case folding does not."""


@pytest.mark.parametrize("name", NON_ASCII_NAMES)
def test_names_that_only_match_ignoring_case_beyond_ascii_are_still_redacted(name: str) -> None:
    assert redact(f'{name} = "abcdefghij"') == (f'{name} = "[REDACTED:secret]"', 1)


def test_rules_are_skipped_only_on_text_without_their_hints() -> None:
    for rule in RULES:
        assert not rule.may_match("plain code, nothing to see", "plain code, nothing to see"), rule.kind
