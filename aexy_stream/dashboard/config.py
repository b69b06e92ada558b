"""Plain configuration of the dashboard (built from settings in the composition root)."""

from __future__ import annotations

from dataclasses import dataclass, field

from consumers.config import ProcessorConfig

_PROCESSOR = ProcessorConfig()
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass(frozen=True, slots=True)
class DashboardConfig:
    bootstrap_servers: str = _PROCESSOR.bootstrap_servers
    topic: str = _PROCESSOR.topics.results
    host: str = "127.0.0.1"
    """Loopback by default: any other address needs `token`."""
    port: int = 8765
    token: str = field(default="", repr=False)
    """DASHBOARD_TOKEN: required to bind anywhere but loopback; asked of every request when set."""
    hide_risks: bool = False
    """DASHBOARD_HIDE_RISKS: attrition and burnout results are dropped as they are read, never shown."""
    heartbeat_s: float = 15.0
    """A comment line on every idle event stream, so proxies and browsers keep it open."""
    ring_events: int = 10_000
    """Events kept for `Last-Event-ID` resumes; a client further behind gets a fresh snapshot."""
    client_queue: int = 10_000
    """Distinct keys waiting for one client; past that it gets a fresh snapshot instead."""
    history_points: int = 60
    """Per (subject, analysis type): the points of its sparkline."""
    feed_size: int = 500
    """The newest results kept for the live feed."""
    skills_per_person: int = 60

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK

    def check(self) -> None:
        """ValueError for a bind that would expose judgments about people to anyone who asks."""
        if not self.loopback and not self.token:
            raise ValueError(
                f"the dashboard binds to {self.host}, not loopback: set DASHBOARD_TOKEN "
                "(a long random secret) so that only people given it can see the page"
            )
