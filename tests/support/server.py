"""Start a real `basalt serve` process on a free loopback port, and stop it by its own PID."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.iscsi import free_control_port, stop_tgtd_of

PROJECT = "basalt"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A running Basalt service."""

    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path
    control_port: int
    """Its tgtd's control port (each server gets its own, and its own portal)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def project_url(self) -> str:
        return f"{self.url}/v3/{PROJECT}"

    def kill_hard(self) -> None:
        """SIGKILL, as a crash would."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """Ask it to stop (SIGTERM), SIGKILL it if it does not within 20 s; then make sure
        the tgtd it may have started is gone too (by the PID in its pid file)."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.kill_hard()
        finally:
            stop_tgtd_of(self.data_dir, self.control_port)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


UNLIMITED_QUOTAS = {
    "BASALT_QUOTAS__VOLUMES": "-1",
    "BASALT_QUOTAS__SNAPSHOTS": "-1",
    "BASALT_QUOTAS__GIGABYTES": "-1",
}
"""The default quota of 10 volumes would make a module's tests depend on how many volumes
the tests before them left in the shared server; tests/api/test_quotas.py runs with the
configured defaults."""


def start_server(
    data_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    unlimited_quotas: bool = True,
) -> ServerProcess:
    """Run `python -m basalt.cli.main serve` and wait until it answers.

    With ``unlimited_quotas`` (the default) its projects' default quotas are unlimited.

    Raises:
        RuntimeError: it exited or did not answer in time (with its log).
    """
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"server-{port}.log"
    child_env = {
        **os.environ,
        "BASALT_DATA_DIR": str(data_dir),
        "BASALT_API__PORT": str(port),
        "BASALT_API__HOST": "127.0.0.1",
        "BASALT_ISCSI__PORTALS": json.dumps([f"127.0.0.1:{free_port()}"]),
        "BASALT_ISCSI__CONTROL_PORT": str(free_control_port()),
        **(UNLIMITED_QUOTAS if unlimited_quotas else {}),
        **(env or {}),
    }
    control_port = int(child_env["BASALT_ISCSI__CONTROL_PORT"])
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "basalt.cli.main", "serve"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=child_env,
            cwd=data_dir,
        )
    server = ServerProcess(
        process=process,
        port=port,
        data_dir=data_dir,
        log_path=log_path,
        control_port=control_port,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"basalt serve exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(server.url + "/", timeout=1.0).status_code in (200, 300):
                return server
        except httpx.TransportError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"basalt serve did not answer within {timeout} s:\n{server.log()}")
