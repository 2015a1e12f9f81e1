"""Fixtures for the export tests: a real tgtd on free loopback ports, always stopped by PID."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from basalt.config import IscsiSettings
from basalt.drivers.types import ChapCredentials, ExportSpec
from basalt.export import IscsiExporter, run
from basalt.export.daemon import SOCKET_DIR
from tests.support.iscsi import (
    INITIATOR,
    free_control_port,
    free_tcp_port,
    kill_tgtd,
    require_iscsi,
)

MIB = 1024 * 1024
CHAP = ChapCredentials("basalt-proj1", "s3cret-proj1-Secret")
CREDS: dict[str, Any] = {"user": CHAP.username, "secret": CHAP.secret}


def spec(*initiators: str, chap: ChapCredentials = CHAP, read_only: bool = False) -> ExportSpec:
    """An ExportSpec for ``initiators`` (the test initiator by default)."""
    return ExportSpec(frozenset(initiators or (INITIATOR,)), chap, read_only)


def new_id() -> str:
    """A new volume id (a UUID, as Basalt makes them)."""
    return str(uuid.uuid4())


def iscsi_settings(**overrides: Any) -> IscsiSettings:
    """Settings for a private tgtd: a free loopback portal and control port, fast checks."""
    values: dict[str, Any] = {
        "portals": [f"127.0.0.1:{free_tcp_port()}"],
        "control_port": free_control_port(),
        "check_interval_seconds": 0.2,
        "command_timeout_seconds": 10.0,
        "iqn_prefix": "iqn.2026-11.org.basalt.test",
    }
    values.update(overrides)
    return IscsiSettings(**values)


@dataclass
class CountingRunner:
    """A command runner that records every argv it runs (then runs it for real)."""

    calls: list[list[str]] = field(default_factory=list)

    def __call__(self, argv: Sequence[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        return run(argv, timeout=timeout)

    def ops(self, *ops: str) -> list[list[str]]:
        """The recorded tgtadm calls whose ``--op`` is one of ``ops``."""
        return [c for c in self.calls if "--op" in c and c[c.index("--op") + 1] in ops]


def _pid_from_file(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


MakeExporter = Callable[..., IscsiExporter]


@pytest.fixture
def make_exporter(tmp_path: Path) -> Iterator[MakeExporter]:
    """Build IscsiExporters on private ports; close them and SIGKILL their tgtd by PID."""
    require_iscsi()
    made: list[IscsiExporter] = []

    def make(settings: IscsiSettings | None = None, **kwargs: Any) -> IscsiExporter:
        settings = settings or iscsi_settings()
        state_dir = kwargs.pop("state_dir", tmp_path / f"iscsi-{len(made)}")
        exporter = IscsiExporter(settings, state_dir=state_dir, **kwargs)
        made.append(exporter)
        return exporter

    try:
        yield make
    finally:
        try:
            for exporter in reversed(made):
                pids = {exporter.daemon.pid, _pid_from_file(exporter.daemon.pid_path)}
                try:
                    exporter.close()
                finally:
                    for pid in pids:
                        kill_tgtd(pid, exporter.settings.control_port)
        finally:
            for port in {e.settings.control_port for e in made}:
                for suffix in ("", ".lock"):
                    (SOCKET_DIR / f"socket.{port}{suffix}").unlink(missing_ok=True)


@pytest.fixture
def exporter(make_exporter: MakeExporter) -> IscsiExporter:
    """An exporter with its own tgtd (started on first use)."""
    return make_exporter()


@pytest.fixture
def volume_file(tmp_path: Path) -> Callable[..., Path]:
    """Make a sparse volume file: ``volume_file("vol-a", size_mib=16)``."""
    pool = tmp_path / "pool"
    pool.mkdir(exist_ok=True)

    def make(name: str, *, size_mib: int = 16) -> Path:
        path = pool / name
        with path.open("wb") as handle:
            handle.truncate(size_mib * MIB)
        return path

    return make
