"""Apache Kafka itself, single node (KRaft: broker and controller in one JVM), for development and tests.

The jars come from Maven Central, resolved once by `mvn` from `kafka-pom.xml` beside this file into a
cache folder outside the checkout (`AEXY_KAFKA_CACHE`, default `~/.cache/aexy-stream/kafka/VERSION`).
Each broker gets its own log directory, formatted by Kafka's storage tool: a temporary one removed on
stop, or `data_dir`, kept, so that a broker restarted on it finds its topics, records and offsets.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path

from aexy_dev.broker.process import BrokerProcess, BrokerStartError, free_port

DEFAULT_VERSION = "4.1.1"
SUPPORTED_VERSIONS = ("4.1.1", "3.9.1")
"""The versions the suite is run on (`make test-kafka-3.9` for the older line)."""
CACHE_ENV = "AEXY_KAFKA_CACHE"
POM = Path(__file__).with_name("kafka-pom.xml")
_COMPLETE = ".complete"
_FETCH_TIMEOUT_S = 600.0
_FORMAT_TIMEOUT_S = 120.0

TEST_FRIENDLY: Mapping[str, str] = {
    "num.partitions": "1",
    "auto.create.topics.enable": "false",  # as in docker-compose.yml: topics are created by `topics create`
    "group.initial.rebalance.delay.ms": "0",  # a single member need not wait for others to join
    "group.min.session.timeout.ms": "1000",  # tests detect a dead member in 2 s (the broker's floor is 6 s)
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "4",  # created on the first group's join: 50 cost seconds on 2 cores
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "4",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "num.network.threads": "2",
    "num.io.threads": "2",
    "num.recovery.threads.per.data.dir": "1",
}
"""Settings of a single node on a small machine; anything may be overridden with `properties=`."""


class KafkaUnavailableError(BrokerStartError):
    """Java or Maven is missing, or Maven Central could not give the jars: nothing was started."""


class ApacheKafka(BrokerProcess):
    """An Apache Kafka broker and KRaft controller in one process on `host` (loopback by default).

    The lifecycle (ports, readiness, stopping, dying with the parent) is `BrokerProcess`'s. The
    controller listens on a second free port, chosen once per object so that a restart keeps it.
    """

    name = "Apache Kafka broker"

    def __init__(
        self,
        port: int = 0,
        *,
        version: str = DEFAULT_VERSION,
        data_dir: Path | None = None,
        heap_mb: int = 512,
        properties: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        startup_timeout_s: float = 90.0,
        stop_timeout_s: float = 30.0,
        log_path: Path | None = None,
    ) -> None:
        super().__init__(
            port,
            host=host,
            startup_timeout_s=startup_timeout_s,
            stop_timeout_s=stop_timeout_s,
            log_path=log_path,
        )
        self.version = version
        self._heap_mb = heap_mb
        self._properties = {**TEST_FRIENDLY, **(properties or {})}
        self._given_data_dir = data_dir
        self._temporary: tempfile.TemporaryDirectory[str] | None = None
        self._controller_port = 0
        self._java = ""
        self._jars: Path | None = None

    @property
    def data_dir(self) -> Path:
        if self._given_data_dir is not None:
            return self._given_data_dir
        if self._temporary is None:
            raise RuntimeError(f"the {self.name} is not started")
        return Path(self._temporary.name)

    @property
    def temporary_dir(self) -> Path | None:
        """The log directory made for this broker and removed on stop (None with `data_dir`)."""
        return Path(self._temporary.name) if self._temporary is not None else None

    def stop(self) -> None:
        super().stop()
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None

    def _prepare(self) -> None:
        self._java = java()
        self._jars = classpath(self.version)
        if self._given_data_dir is None and self._temporary is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="aexy-kafka-")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._controller_port = self._controller_port or free_port(self.host)

    def _command(self, port: int) -> list[str]:
        assert self._jars is not None
        config = self.data_dir / "server.properties"
        config.write_text(_properties_text(self._server_properties(port)))
        if not (self.data_dir / "logs" / "meta.properties").exists():
            self._format(config)
        return [*self._jvm(), "kafka.Kafka", str(config)]

    def _server_properties(self, port: int) -> dict[str, str]:
        host, controller = self.host, self._controller_port
        return {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{host}:{controller}",
            "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller}",
            "advertised.listeners": f"PLAINTEXT://{host}:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir / "logs"),
            **self._properties,
        }

    def _format(self, config: Path) -> None:
        command = [*self._jvm(), "kafka.tools.StorageTool", "format", "-t", _cluster_id(), "-c", str(config)]
        done = _run(command, _FORMAT_TIMEOUT_S)
        if done.returncode != 0:
            raise BrokerStartError(f"Kafka's storage tool could not format {self.data_dir}:\n{_tail(done)}")

    def _jvm(self) -> list[str]:
        assert self._jars is not None
        return [
            self._java,
            f"-Xms{self._heap_mb // 2}m", f"-Xmx{self._heap_mb}m", "-XX:+UseSerialGC",
            "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-Dorg.slf4j.simpleLogger.showDateTime=true",
            "-Dlog4j2.level=WARN",
            "-cp", f"{self._jars}/*",
        ]  # fmt: skip


def java() -> str:
    """The `java` to run (JAVA_HOME's, else the PATH's); one clear error when there is none."""
    home = os.environ.get("JAVA_HOME")
    found = str(Path(home) / "bin" / "java") if home and (Path(home) / "bin" / "java").exists() else None
    found = found or shutil.which("java")
    if found is None:
        raise KafkaUnavailableError(
            "Apache Kafka needs Java 17 or newer, and no `java` was found "
            "(Debian/Ubuntu: apt-get install openjdk-17-jre-headless)"
        )
    return found


def classpath(version: str = DEFAULT_VERSION) -> Path:
    """The folder holding Kafka `version`'s jars, fetched with Maven the first time."""
    target = cache_root() / version
    if (target / _COMPLETE).exists():
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaUnavailableError(
            f"Apache Kafka {version}'s jars are fetched once from Maven Central with `mvn`, which was not "
            "found (Debian/Ubuntu: apt-get install maven)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=target.parent))
    try:
        _fetch(mvn, version, staging)
        (staging / _COMPLETE).touch()
        if not (target / _COMPLETE).exists():  # else another process fetched it meanwhile
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "aexy-stream" / "kafka"


def _fetch(mvn: str, version: str, into: Path) -> None:
    command = [
        mvn, "-q", "-B", "-f", str(POM), f"-Dkafka.version={version}", "dependency:copy-dependencies",
        "-DincludeScope=runtime", f"-DoutputDirectory={into}",
    ]  # fmt: skip
    done = _run(command, _FETCH_TIMEOUT_S)
    if done.returncode != 0 or not any(into.glob(f"kafka_2.13-{version}.jar")):
        raise KafkaUnavailableError(f"mvn could not fetch Apache Kafka {version}:\n{_tail(done)}")


def _run(command: list[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise BrokerStartError(f"{command[0]} did not finish within {timeout_s:g} s") from exc


def _tail(done: subprocess.CompletedProcess[str], lines: int = 20) -> str:
    return "\n".join((done.stdout + done.stderr).splitlines()[-lines:])


def _cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes in unpadded base64url, as `kafka-storage random-uuid` gives,
    and like Kafka's `Uuid.randomUuid` never one starting with "-" (the storage tool would read it as
    an option)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


def _properties_text(properties: Mapping[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in properties.items())


__all__ = [
    "DEFAULT_VERSION",
    "SUPPORTED_VERSIONS",
    "ApacheKafka",
    "KafkaUnavailableError",
    "classpath",
    "java",
]
