"""The detectors redaction runs, in order: detect-secrets' plugins, and our rules for what they lack.

Every plugin detect-secrets ships is used (its plugin list is read from the library, so a new plugin
in a later release is used without a change here) but `IPPublicDetector`: an address is no
credential, and the analyses need it. Each plugin runs through its own `analyze_string`, on the lines
its patterns' literals let through; none runs through `scan_line`, which sets its filters up again
on every call (figures: bench/README.md, "Redaction"), and no plugin's `verify` (a network call to
the issuer) is ever called.

Order: formats with a fixed shape first (detect-secrets' plugins, then `rules.TOKENS`), then the
generic judgements (detect-secrets' keyword plugin, `rules.NAMED`, then the entropy plugins), so a
Stripe key in `api_key = "..."` is counted once, as `stripe`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache, partial
from typing import Any

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector
from detect_secrets.plugins.high_entropy_strings import (
    Base64HighEntropyString,
    HexHighEntropyString,
    HighEntropyStringsPlugin,
)
from detect_secrets.plugins.keyword import (
    QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP,
    REGEX_BY_FILETYPE,
    KeywordDetector,
)
from detect_secrets.util.filetype import determine_file_type

import gateway.redaction.library  # noqa: F401 - after detect-secrets: undoes what importing it set
from gateway.redaction.filters import is_not_random
from gateway.redaction.literals import Gate, gate_of, min_width
from gateway.redaction.rules import NAMED, TOKENS, Rule, named_values
from gateway.redaction.scan import Detector

EXCLUDED_PLUGINS = frozenset({"IPPublicDetector"})
KINDS = {
    "AWSKeyDetector": "aws_access_key",
    "ArtifactoryDetector": "artifactory",
    "AzureStorageKeyDetector": "azure_storage_key",
    "BasicAuthDetector": "basic_auth",
    "CloudantDetector": "cloudant",
    "DiscordBotTokenDetector": "discord",
    "GitHubTokenDetector": "github_token",
    "GitLabTokenDetector": "gitlab_token",
    "IbmCloudIamDetector": "ibm_cloud_iam",
    "IbmCosHmacDetector": "ibm_cos_hmac",
    "JwtTokenDetector": "jwt",
    "MailchimpDetector": "mailchimp",
    "NpmDetector": "npm",
    "OpenAIDetector": "openai",
    "PrivateKeyDetector": "private_key",
    "PypiTokenDetector": "pypi",
    "SendGridDetector": "sendgrid",
    "SlackDetector": "slack",
    "SoftlayerDetector": "softlayer",
    "SquareOAuthDetector": "square",
    "StripeDetector": "stripe",
    "TelegramBotTokenDetector": "telegram",
    "TwilioKeyDetector": "twilio",
    "KeywordDetector": "secret",
    "Base64HighEntropyString": "base64_high_entropy",
    "HexHighEntropyString": "hex_high_entropy",
}
"""Marker kinds of detect-secrets' plugins; a plugin not named here gets its `secret_type` in snake case."""

BASE64_ENTROPY_LIMIT = 4.5
HEX_ENTROPY_LIMIT = 3.0
"""Entropy limits of the two entropy plugins (detect-secrets' defaults; bench/README.md, "Redaction")."""


@cache
def default_detectors() -> tuple[Detector, ...]:
    """Every detector, in the order they run (built once, on first use)."""
    plugins = [_plugin(cls) for name, cls in _plugin_classes() if name not in EXCLUDED_PLUGINS]
    shaped = [p for p in plugins if not _is_generic(p)]
    keyword = [p for p in plugins if isinstance(p, KeywordDetector)]
    entropy = [p for p in plugins if isinstance(p, HighEntropyStringsPlugin)]
    return (
        *(_plugin_detector(p) for p in shaped),
        *(_rule_detector(rule) for rule in TOKENS),
        *(_plugin_detector(p) for p in keyword),
        Detector(NAMED.kind, _gates([NAMED.gate]), named_values, True, min_width(NAMED.pattern), names=True),
        *(_plugin_detector(p) for p in entropy),
    )


def _plugin_classes() -> list[tuple[str, type[BasePlugin]]]:
    classes: list[type[BasePlugin]] = list(get_mapping_from_secret_type_to_class().values())
    return sorted((cls.__name__, cls) for cls in classes)


def _plugin(cls: type[BasePlugin]) -> BasePlugin:
    if cls is Base64HighEntropyString:
        return Base64HighEntropyString(limit=BASE64_ENTROPY_LIMIT)
    if cls is HexHighEntropyString:
        return HexHighEntropyString(limit=HEX_ENTROPY_LIMIT)
    return cls()


def _is_generic(plugin: BasePlugin) -> bool:
    return isinstance(plugin, KeywordDetector | HighEntropyStringsPlugin)


def _plugin_detector(plugin: BasePlugin) -> Detector:
    name = type(plugin).__name__
    kind = KINDS.get(name) or re.sub(r"\W+", "_", str(plugin.secret_type)).strip("_").lower()
    patterns = list(_patterns(plugin))
    gates = _gates(gate_of(pattern) for pattern in patterns)
    width = min((min_width(pattern) for pattern in patterns), default=0)
    names = isinstance(plugin, KeywordDetector)
    return Detector(kind, gates, _finder(plugin), _is_generic(plugin), width, names)


def _rule_detector(rule: Rule) -> Detector:
    return Detector(rule.kind, _gates([rule.gate]), rule.values, min_width=min_width(rule.pattern))


def _patterns(plugin: BasePlugin) -> Iterator[re.Pattern[str]]:
    if isinstance(plugin, KeywordDetector):
        maps = (*REGEX_BY_FILETYPE.values(), QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP)
        yield from {pattern for regexes in maps for pattern in regexes}
    elif isinstance(plugin, HighEntropyStringsPlugin):
        yield plugin.regex
    elif isinstance(plugin, RegexBasedDetector):
        yield from plugin.denylist


def _gates(gates: Iterable[Gate | None]) -> tuple[Gate, ...] | None:
    """A detector's gates; None (every line) when one of its patterns has none, or it has no pattern."""
    found = tuple(gates)
    if not found or any(gate is None for gate in found):
        return None
    return tuple(gate for gate in found if gate is not None)


def _finder(plugin: BasePlugin) -> Any:
    if isinstance(plugin, KeywordDetector):
        return partial(_keyword_values, plugin)
    if isinstance(plugin, HighEntropyStringsPlugin):
        return partial(_entropy_values, plugin)
    return partial(_plugin_values, plugin)


def _plugin_values(plugin: BasePlugin, line: str, path: str) -> Iterator[str]:
    yield from plugin.analyze_string(line)


def _keyword_values(plugin: KeywordDetector, line: str, path: str) -> Iterator[str]:
    """As the plugin's `analyze_line` chooses: its patterns for the file's type (quotes optional
    in configuration files, required elsewhere)."""
    regexes = REGEX_BY_FILETYPE.get(determine_file_type(path), QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP)
    yield from plugin.analyze_string(line, denylist_regex_to_group=regexes)


def _entropy_values(plugin: HighEntropyStringsPlugin, line: str, path: str) -> Iterator[str]:
    """Quoted strings over the plugin's limit (its `analyze_line` applies the limit) that are not
    names (`filters.is_not_random`). A string of n characters has at most log2(n) bits of entropy a
    character: shorter ones are not computed."""
    shortest, limit, entropy = 2**plugin.entropy_limit, plugin.entropy_limit, plugin.calculate_shannon_entropy
    for value in plugin.analyze_string(line):
        if len(value) > shortest and not is_not_random(value) and entropy(value) > limit:
            yield value
