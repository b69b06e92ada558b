"""A broker process on loopback for development and tests: started, awaited, stopped, never left behind.

`BrokerProcess` is the lifecycle every local broker shares: a free port (retried when the bind races
with another process), a process that dies with its parent (Linux PR_SET_PDEATHSIG), readiness as an
answered Kafka ApiVersions request from the process that holds the port, SIGTERM then SIGKILL on stop,
a finalizer at interpreter exit. Subclasses say which command to run (`tansu.EmbeddedBroker`,
`kafka.ApacheKafka`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ADDR_IN_USE = ("AddrInUse", "Address in use", "address already in use", "Address already in use")
_API_VERSIONS_KEY = 18
_CORRELATION_ID = 0x5EED
_POLL_S = 0.02
_AUTO_PORT_ATTEMPTS = 3
_PR_SET_PDEATHSIG = 1


class BrokerStartError(RuntimeError):
    """The broker could not be started: port taken, process died, or it never accepted connections."""


class _PortTakenError(BrokerStartError):
    """The broker process died because its port was taken (a race with another process)."""


class BrokerProcess:
    """One broker process on `host` (loopback by default); subclasses give its command.

    `port=0` picks a free port (and retries another one if the bind races with another process); a given
    port must be free, else `BrokerStartError` is raised at once. `start()` returns once the process
    answers a Kafka ApiVersions request on that port and is verified to be the process holding it.
    The log goes to `log_path` (a temporary file, removed on `stop()`, unless a path is given).
    `stop()` sends SIGTERM, waits up to `stop_timeout_s`, then SIGKILLs; a finalizer does the same at
    interpreter exit or garbage collection, so no process is left behind. A parent that is killed runs
    no finalizer: on Linux the kernel then sends the broker SIGTERM (PR_SET_PDEATHSIG). It does so when
    the thread that called `start()` ends, so call it from one that outlives the broker (the main
    thread, or the loop's default executor, as `async with` does).

    Usable as `with Broker() as broker:` or `async with Broker() as broker:`.
    """

    name = "broker"
    """How logs and errors name it."""

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        startup_timeout_s: float = 10.0,
        stop_timeout_s: float = 5.0,
        log_path: Path | None = None,
    ) -> None:
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, not {port}")
        self._requested_port = port
        self._host = host
        self._startup_timeout_s = startup_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._given_log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._log_path: Path | None = None
        self._finalizer: weakref.finalize[..., BrokerProcess] | None = None

    # -- what a subclass gives -------------------------------------------------------------------------

    def _prepare(self) -> None:
        """Work done once before the first launch (fetching, formatting); raise BrokerStartError."""

    def _command(self, port: int) -> list[str]:
        raise NotImplementedError

    def _environment(self) -> Mapping[str, str]:
        return os.environ

    # -- public surface -------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"the {self.name} is not started")
        return self._port

    @property
    def bootstrap_servers(self) -> str:
        return f"{self._host}:{self.port}"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError(f"the {self.name} is not started")
        return self._process.pid

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        """Start the broker and wait until it serves Kafka requests; raise `BrokerStartError` if not."""
        if self._process is not None:
            raise RuntimeError(f"the {self.name} is already started")
        self._prepare()
        attempts = 1 if self._requested_port else _AUTO_PORT_ATTEMPTS
        for attempt in range(1, attempts + 1):
            port = self._requested_port or _pick_free_port(self._host)
            if not _port_is_free(self._host, port):
                if self._requested_port:
                    raise BrokerStartError(f"port {port} on {self._host} is already in use")
                continue
            try:
                self._launch(port)
                self._wait_ready()
                return self
            except _PortTakenError:
                self._release_after_failure()
                if attempt == attempts:
                    raise
            except BaseException:
                self._release_after_failure()
                raise
        raise BrokerStartError(f"found no free port on {self._host} in {attempts} attempts")

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after `stop_timeout_s`); idempotent."""
        if self._finalizer is not None:
            self._finalizer()
        self._finalizer = None
        self._process = None

    def kill(self) -> None:
        """SIGKILL, as a crash would: nothing is flushed or closed cleanly (for failure tests)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self.stop()

    def restart(self) -> Self:
        """Start again on the port it last served (after `kill()` or `stop()`), as a broker restarted
        in place: clients configured with its address find it again. `BrokerStartError` if another
        process took the port meanwhile."""
        if self._process is not None:
            raise RuntimeError(f"the {self.name} is still running")
        if self._port is None:
            raise RuntimeError(f"the {self.name} was never started")
        self._requested_port = self._port
        return self.start()

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the broker's log, without colour codes ("" if there is none)."""
        return _tail(self._log_path, lines)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)

    # -- internals ----------------------------------------------------------------------------------

    def _launch(self, port: int) -> None:
        log_path, owned = self._open_log_path()
        command = self._command(port)
        try:
            with log_path.open("ab") as log:
                log.write(f"$ {' '.join(command)}\n".encode())
                log.flush()
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=dict(self._environment()),
                    start_new_session=sys.platform != "win32",  # Ctrl-C in a terminal reaches us only
                    preexec_fn=_dying_with_parent(),  # noqa: PLW1509 - imports and locks nothing
                )
        except OSError as exc:
            if owned:
                log_path.unlink(missing_ok=True)
            raise BrokerStartError(f"cannot run the {self.name} ({command[0]}): {exc}") from exc
        self._process, self._port, self._log_path = process, port, log_path
        self._finalizer = weakref.finalize(
            self, _release, process, log_path if owned else None, self._stop_timeout_s
        )

    def _open_log_path(self) -> tuple[Path, bool]:
        if self._given_log_path is not None:
            return self._given_log_path, False
        fd, name = tempfile.mkstemp(prefix=f"aexy-{self.name.replace(' ', '-').lower()}-", suffix=".log")
        os.close(fd)
        return Path(name), True

    def _wait_ready(self) -> None:
        assert self._process is not None and self._port is not None
        deadline = time.monotonic() + self._startup_timeout_s
        while time.monotonic() < deadline:
            self._raise_if_dead()
            if self._serves_kafka():
                self._raise_if_dead()
                return
            time.sleep(_POLL_S)
        raise BrokerStartError(
            f"the {self.name} on {self.bootstrap_servers} did not answer Kafka requests within "
            f"{self._startup_timeout_s:g} s; log {self._log_path}:\n{self.log_tail()}"
        )

    def _serves_kafka(self) -> bool:
        assert self._process is not None and self._port is not None
        owner = _owns_listening_socket(self._process.pid, self._port)
        if owner is False:
            return False
        return _answers_api_versions(self._host, self._port, timeout_s=1.0)

    def _raise_if_dead(self) -> None:
        assert self._process is not None
        code = self._process.poll()
        if code is None:
            return
        tail = self.log_tail()
        message = (
            f"the {self.name} process (pid {self._process.pid}) exited with code {code} before serving on "
            f"{self._host}:{self._port}; log {self._log_path}:\n{tail}"
        )
        if any(marker in tail for marker in _ADDR_IN_USE):
            raise _PortTakenError(message)
        raise BrokerStartError(message)

    def _release_after_failure(self) -> None:
        """Never leave the process; keep its log, which the error message points to."""
        if self._process is not None:
            _terminate(self._process, self._stop_timeout_s)
        if self._finalizer is not None:
            self._finalizer.detach()
        self._finalizer = None
        self._process = None
        self._port = None


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (another process may take it before it is used)."""
    return _pick_free_port(host)


def _dying_with_parent() -> Callable[[], None] | None:
    """On Linux, a `preexec_fn` asking for SIGTERM when the starting thread ends; elsewhere None.

    Its own session keeps the broker out of the terminal's Ctrl-C, so without this a SIGKILLed parent (a
    killed test run, an OOM kill) would leave it serving forever. `prctl` is looked up here, in the
    parent: the child, forked from a process that may run threads, only calls it.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def set_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() != parent:  # the parent died before the request took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return set_death_signal


def _release(process: subprocess.Popen[bytes], log_path: Path | None, grace_s: float) -> None:
    """Finalizer: stop the process and remove the temporary log (also runs at interpreter exit)."""
    _terminate(process, grace_s)
    if log_path is not None:
        log_path.unlink(missing_ok=True)


def _terminate(process: subprocess.Popen[bytes], grace_s: float) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _pick_free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _port_is_free(host: str, port: int) -> bool:
    """Whether a listener could bind host:port now (with SO_REUSEADDR, as Tansu's runtime does)."""
    with socket.socket() as sock:
        if sys.platform != "win32":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _owns_listening_socket(pid: int, port: int) -> bool | None:
    """Whether process `pid` holds a TCP socket listening on `port` (Linux /proc); None if unknowable."""
    inodes = _listening_inodes(port)
    if inodes is None:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    try:
        entries = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False  # the process is gone (or not ours to inspect)
    for entry in entries:
        with contextlib.suppress(OSError):
            if os.readlink(entry) in wanted:
                return True
    return False


def _listening_inodes(port: int) -> set[str] | None:
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        return None
    inodes: set[str] = set()
    for table in tables:
        with contextlib.suppress(OSError):
            for line in table.read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                    inodes.add(inode)
    return inodes


def _answers_api_versions(host: str, port: int, timeout_s: float) -> bool:
    """Send a Kafka ApiVersions v0 request; True if a broker answers it without error."""
    client_id = b"aexy-stream"
    header = struct.pack(">hhih", _API_VERSIONS_KEY, 0, _CORRELATION_ID, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(struct.pack(">i", len(header)) + header)
            (size,) = struct.unpack(">i", _recv_exact(sock, 4))
            payload = _recv_exact(sock, size)
    except (OSError, struct.error, ConnectionError):
        return False
    if len(payload) < 6:
        return False
    correlation_id, error_code = struct.unpack_from(">ih", payload)
    return bool(correlation_id == _CORRELATION_ID and error_code == 0)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = sock.recv(min(remaining, 65536))
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _tail(path: Path | None, lines: int) -> str:
    if path is None:
        return ""
    try:
        with path.open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - 16_384))
            text = log.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(_ANSI.sub("", text).splitlines()[-lines:])


__all__ = ["BrokerProcess", "BrokerStartError", "free_port"]
