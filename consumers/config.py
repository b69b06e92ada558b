"""Plain configuration of the stream processor (built from settings in the composition root)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from consumers.size_policy import DEFAULT_MAX_EVENT_BYTES, record_limit
from schemas.types import AnalysisType


@dataclass(frozen=True, slots=True)
class Topics:
    activity: str = "github.activity"
    code_changes: str = "code.changes"
    requests: str = "analysis.requests"
    results: str = "analysis.results"
    retry: str = "analysis.retry"
    dlq: str = "analysis.dlq"
    backfill_activity: str = "github.activity.backfill"
    backfill_code_changes: str = "code.changes.backfill"
    """The backfill lane: backfills write here, so live events never queue behind their history."""
    partitions: int = 4
    replication: int = 1
    max_message_bytes: int = record_limit(DEFAULT_MAX_EVENT_BYTES)
    """`max.message.bytes` of every topic created (`consumers/size_policy.py`)."""
    results_per_type: bool = False
    """Each result also on `<results>.<analysis type>` (`results_of`), for consumers of a few types."""

    def with_suffix(self, suffix: str) -> Topics:
        """The same topics with `.suffix` on every name (one namespace per test run or environment)."""
        return replace(
            self,
            activity=f"{self.activity}.{suffix}",
            code_changes=f"{self.code_changes}.{suffix}",
            requests=f"{self.requests}.{suffix}",
            results=f"{self.results}.{suffix}",
            retry=f"{self.retry}.{suffix}",
            dlq=f"{self.dlq}.{suffix}",
            backfill_activity=f"{self.backfill_activity}.{suffix}",
            backfill_code_changes=f"{self.backfill_code_changes}.{suffix}",
        )

    @property
    def inputs(self) -> tuple[str, ...]:
        """The live input topics."""
        return (self.activity, self.code_changes, self.requests)

    @property
    def lanes(self) -> tuple[str, ...]:
        """The backfill lane's input topics (same record shapes as their live counterparts)."""
        return (self.backfill_activity, self.backfill_code_changes)

    def results_of(self, analysis_type: str) -> str:
        """The per-type results topic of one analysis type: `analysis.results.code_quality`."""
        return f"{self.results}.{analysis_type}"

    @property
    def results_by_type(self) -> tuple[str, ...]:
        """Every per-type results topic when `results_per_type` is on, else none."""
        return tuple(self.results_of(t.value) for t in AnalysisType) if self.results_per_type else ()

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.inputs, *self.lanes, self.results, self.retry, self.dlq, *self.results_by_type)


DEFAULT_BOT_PATTERN = r"(\[bot\]$|^dependabot|^renovate|^github-actions|-bot$|^bot-)"
# fmt: off
SKIPPED_PATHS: tuple[tuple[str, str], ...] = (
    # (label of consumers.file_skips.FileSkip, regex searched in the path); after Linguist's vendor.yml
    ("secret_file", r"(^|/)([^/]*\.env(\.(?!example$|sample$|template$|dist$|defaults?$)[\w.-]+)?|\.envrc"
                    r"|id_(rsa|dsa|ecdsa|ed25519)|credentials\.json|client_secret[\w.-]*\.json|\.git-credentials"
                    r"|\.netrc|\.pgpass|\.htpasswd)$"),
    ("secret_file", r"\.(pem|key|p12|pfx|jks|keystore|ppk|kdbx)$"),
    ("signature", r"\.(asc|sig|sign|gpg|pgp|minisig|p7s|crt|cer|der|pub)$"),
    ("lockfile", r"(^|/)(package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|poetry\.lock"
                 r"|Pipfile\.lock|Cargo\.lock|go\.sum|Gemfile\.lock|composer\.lock|uv\.lock|bun\.lockb)$"),
    ("lockfile", r"\.lock$"),
    ("vendored", r"(^|/)(vendors?|third[_-]?party|3rd[_-]?party|node_modules|bower_components|extern|external"
                 r"|Godeps/_workspace)/"),
    ("vendored", r"^deps/"),
    ("vendored", r"(^|/)(config\.guess|config\.sub|install-sh|depcomp|missing|compile|mkinstalldirs"
                 r"|ltmain\.sh|libtool\.m4|ltoptions\.m4|ltsugar\.m4|ltversion\.m4|lt~obsolete\.m4)$"),
    ("generated", r"(^|/)dist/"),
    ("generated", r"(^|/)aclocal\.m4$"),
    ("generated", r"[.-]min\.(js|css)$|\.(js|css)\.map$"),
    ("generated", r"(_pb2(_grpc)?\.pyi?|\.pb\.(go|h|cc)|_generated\.\w+|\.generated\.\w+)$"),
)
"""Built-in path patterns of files left out of code analyses, each with its reason."""
# fmt: on


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    bot_pattern: str = DEFAULT_BOT_PATTERN
    skipped_paths: tuple[tuple[str, str], ...] = SKIPPED_PATHS
    skip_paths: tuple[str, ...] = ()
    """The operator's patterns (`SKIP_PATHS`), searched in each path after the built-in ones."""
    max_input_tokens: int = 12_000
    """Estimated input tokens of one code analysis call (`LLM_MAX_INPUT_TOKENS`): a commit over it
    is split into parts, a file over it cut (`consumers/parts.py`)."""
    fuse_code_analyses: bool = True
    """A commit part's code analyses go to the gateway as one fused request (one provider call,
    `FUSED_CODE_ANALYSES`); false: one call each (docs/decisions.md weighs the two)."""


@dataclass(frozen=True, slots=True)
class ProcessorConfig:
    bootstrap_servers: str = "127.0.0.1:9092"
    group_id: str = "aexy-stream"
    topics: Topics = field(default_factory=Topics)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    max_in_flight: int = 64
    backfill_in_flight: int = 16
    """Gateway calls in flight for backfill requests, besides the `max_in_flight` live ones."""
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    """The size policy (`consumers/size_policy.py`): larger values are dead-lettered, with a prefix."""
    retry_backoff_base_s: float = 30.0
    retry_max_attempts: int = 5
    shutdown_grace_s: float = 20.0
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    max_poll_interval_ms: int = 300_000
    http_host: str = "0.0.0.0"
    http_port: int = 8000
    """Where `/healthz` and `/metrics` are served (by the `run` command)."""
