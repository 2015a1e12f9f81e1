"""Run a command (tgtd, tgtadm) and turn its failure into an ExportError.

The export layer never calls ``subprocess`` directly: it goes through a
:class:`CommandRunner`, so tests can count or observe the calls. CHAP secrets are
passed to tgtadm on its command line (tgtadm has no other way); they are masked in
every message and log line made here. The errors are in :mod:`basalt.export.errors`.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Sequence
from typing import Protocol

from basalt.export.errors import (
    CommandFailedError,
    CommandNotFoundError,
    CommandTimeoutError,
    mask_argv,
)

__all__ = [
    "CommandFailedError",
    "CommandNotFoundError",
    "CommandRunner",
    "CommandTimeoutError",
    "mask_argv",
    "run",
]

log = logging.getLogger("basalt.export")


class CommandRunner(Protocol):
    """Runs one command to completion; what :class:`~basalt.export.tgt.TgtAdmin` calls."""

    def __call__(
        self, argv: Sequence[str], *, timeout: float
    ) -> subprocess.CompletedProcess[str]: ...


def run(argv: Sequence[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` and capture its output as text.

    Args:
        argv: the program and its arguments (never a shell string).
        timeout: seconds to wait before giving up (the process is killed).

    Returns:
        The finished process (exit status 0).

    Raises:
        CommandFailedError: the command exited non-zero.
        CommandTimeoutError: it did not finish within ``timeout``.
        CommandNotFoundError: the program does not exist or cannot be executed.
    """
    command = list(argv)
    log.debug("run: %s", " ".join(mask_argv(command)))
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        # Not chained: TimeoutExpired carries the unmasked command line.
        raise CommandTimeoutError(command, timeout) from None
    except OSError as exc:
        raise CommandNotFoundError(command[0], exc.strerror or str(exc)) from exc
    if done.returncode != 0:
        raise CommandFailedError(command, done.returncode, done.stderr or done.stdout)
    return done
