"""Local attach: a volume's file as a loop block device on Basalt's own host.

A consumer on the same machine (a VM started here, a test, ``mkfs``) gets a real
block device instead of an iSCSI session. Loop devices outlive Basalt: a restart
finds them again by their backing file (``losetup -j``). Needs root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

from basalt.errors import ExportError, ExportUnavailableError

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_TIMEOUT_S = 30.0


def this_host_names() -> frozenset[str]:
    """Names a connector may give for Basalt's own host."""
    name = socket.gethostname()
    return LOCAL_HOSTS | {name, name.split(".")[0], socket.getfqdn()}


def check_local_available() -> None:
    """Raise ExportUnavailableError when loop devices cannot be made here.

    Raises:
        ExportUnavailableError: not root, or losetup is missing.
    """
    if os.geteuid() != 0:
        raise ExportUnavailableError(
            "local attach needs root: it attaches the volume to a loop device",
            hint="run Basalt as root, or attach over iSCSI (give the connector an initiator)",
        )
    if shutil.which("losetup") is None:
        raise ExportUnavailableError(
            "local attach needs losetup, which is not installed",
            hint="apt-get install util-linux",
        )


def _losetup(*args: str) -> str:
    argv = ["losetup", *args]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ExportError(f"{' '.join(argv)} failed: {exc}") from exc
    if done.returncode != 0:
        raise ExportError(
            f"{' '.join(argv)} failed: {done.stderr.strip() or f'exit {done.returncode}'}",
            hint="check that loop devices are available (modprobe loop)",
        )
    return done.stdout


def devices_for(path: Path) -> list[str]:
    """Loop devices whose backing file is ``path``."""
    out = _losetup("--noheadings", "--output", "NAME", "--associated", str(path))
    return [line.strip() for line in out.splitlines() if line.strip()]


def backing_files() -> frozenset[Path]:
    """The backing file of every loop device of this host (none when losetup cannot be
    used: no root or no losetup, so no loop device of Basalt's can exist either)."""
    if os.geteuid() != 0 or shutil.which("losetup") is None:
        return frozenset()
    out = _losetup("--list", "--noheadings", "--output", "BACK-FILE")
    return frozenset(Path(line.strip()) for line in out.splitlines() if line.strip())


def attach(path: Path, *, read_only: bool) -> str:
    """The loop device of ``path``, made if there is none yet.

    Raises:
        ExportUnavailableError, ExportError.
    """
    check_local_available()
    existing = devices_for(path)
    if existing:
        return existing[0]
    flags = ["--read-only"] if read_only else []
    return _losetup("--find", "--show", *flags, str(path)).strip()


def detach(path: Path) -> None:
    """Remove every loop device of ``path`` (nothing to do when there is none)."""
    if os.geteuid() != 0 or shutil.which("losetup") is None:
        return
    for device in devices_for(path):
        _losetup("--detach", device)


def refresh_size(path: Path) -> None:
    """Make the loop devices of ``path`` show its current size (after an extend)."""
    if os.geteuid() != 0 or shutil.which("losetup") is None:
        return
    for device in devices_for(path):
        _losetup("--set-capacity", device)
