"""Pausing every I/O a tgtd serves, for a consistent cut across several volumes.

What tgt offers does not pause I/O (measured with tgt 1.0.85 and a logged-in
libiscsi initiator, docs/architecture.md *Groups*):

- ``tgtadm --op update --mode target --name state --value offline`` makes tgtd
  drop every SCSI command that arrives for the target: ``target_cmd_queue``
  answers -EBUSY and the iSCSI layer ignores the error, so the command is never
  answered, not even after the target is ``ready`` again. The initiator waits for
  its command timeout (libiscsi by default for ever; open-iscsi 30 s, then an
  abort and a retry). Commands already submitted complete.
- ``--mode logicalunit --params online=0`` does not stop reads or writes of a
  disk LUN at all.

What does pause: SIGSTOP to tgtd. Its threads stop; commands it has not read stay
in the TCP socket buffers, and a command whose I/O is in the kernel finishes
there but is not answered until SIGCONT. So while tgtd is stopped no write
*completes* (is acknowledged to an initiator): every write that completed before
the pause is in the volume files, and a write whose answer is held may or may not
be, which is what a crash would leave. The initiator sees a latency, not an error,
as long as the pause stays under its timeouts (open-iscsi's NOP-Out timeout is
5 s). The price: one tgtd serves every exported volume of this Basalt, so all of
them pause, not only the group's members.

A watchdog thread sends SIGCONT when the pause reaches its limit (the cut is then
reported as failed), and a Basalt that starts adopts a tgtd with SIGCONT first, in
case the previous process died during a pause.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from basalt.errors import ExportError, ExportUnavailableError

log = logging.getLogger("basalt.export")


@dataclass
class IoPause:
    """How one pause went: whether tgtd was stopped, for how long, whether the watchdog
    ended it."""

    paused: bool = False
    seconds: float = 0.0
    expired: bool = False


class TgtPause:
    """Stops and continues one tgtd by PID, with a watchdog that bounds the pause."""

    def __init__(self, pid: int, *, max_seconds: float) -> None:
        self.pid = pid
        self.max_seconds = max_seconds
        self._lock = threading.Lock()
        self._stopped_at: float | None = None
        self.result = IoPause()

    @contextlib.contextmanager
    def held(self) -> Iterator[IoPause]:
        """Stop tgtd for the block; continue it at the end, or when the limit is reached.

        Raises:
            ExportError: tgtd could not be signalled.
        """
        watchdog = threading.Timer(self.max_seconds, self._expire)
        watchdog.daemon = True
        try:
            os.kill(self.pid, signal.SIGSTOP)
        except OSError as exc:
            raise ExportError(f"cannot pause tgtd (pid {self.pid}): {exc}") from exc
        self._stopped_at = time.perf_counter()
        self.result.paused = True
        watchdog.start()
        try:
            yield self.result
        finally:
            watchdog.cancel()
            self._continue()

    def _expire(self) -> None:
        with self._lock:
            if self._stopped_at is not None:
                self.result.expired = True
                log.error("tgtd pause reached its limit of %g s; continuing it", self.max_seconds)
        self._continue()

    def _continue(self) -> None:
        with self._lock:
            if self._stopped_at is None:
                return
            continue_process(self.pid)
            self.result.seconds = time.perf_counter() - self._stopped_at
            self._stopped_at = None


def continue_process(pid: int) -> None:
    """SIGCONT ``pid`` (harmless when it runs); log a failure rather than raise."""
    try:
        os.kill(pid, signal.SIGCONT)
    except OSError as exc:
        log.error("could not continue tgtd (pid %d): %s", pid, exc)


def peer_pid(socket_path: Path) -> int:
    """The PID of the process listening on a unix socket (tgtd's control socket).

    Raises:
        ExportUnavailableError: nothing listens there.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(socket_path))
        except OSError as exc:
            raise ExportUnavailableError(
                f"cannot find the tgtd behind {socket_path}: {exc}",
                hint="a group snapshot of exported volumes needs the tgtd that serves them",
            ) from exc
        credentials = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, _, _ = struct.unpack("3i", credentials)
    return int(pid)
