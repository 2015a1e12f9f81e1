"""Real iSCSI initiators for tests: libiscsi's iscsi-* tools and qemu-io (no kernel iSCSI).

require_iscsi()                       # skip (or fail with BASALT_REQUIRE_ISCSI=1)
qemu_io(portal, iqn, "write -P 0xab 0 1M", user=..., secret=..., initiator=...)
read_capacity(portal, iqn, user=..., secret=..., initiator=...)  # bytes
login(portal, iqn, user=..., secret=..., initiator=...)          # LoginResult
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

INITIATOR = "iqn.1994-05.com.example:basalt-test"
TGT_PROGRAMS = ("tgtd", "tgtadm")
INITIATOR_PROGRAMS = ("iscsi-inq", "iscsi-readcapacity16", "qemu-io")
_TIMEOUT_SECONDS = 30.0


def iscsi_available() -> str | None:
    """Why real iSCSI tests cannot run here, or None if they can."""
    missing = [p for p in (*TGT_PROGRAMS, *INITIATOR_PROGRAMS) if shutil.which(p) is None]
    if missing:
        return (
            f"iSCSI tests need {', '.join(missing)} "
            "(apt-get install tgt libiscsi-bin qemu-utils qemu-block-extra)"
        )
    if os.geteuid() != 0:
        return "iSCSI tests need root (tgtd)"
    return None


def require_iscsi() -> None:
    """Skip the test when iSCSI is unavailable; fail instead if BASALT_REQUIRE_ISCSI=1."""
    reason = iscsi_available()
    if reason is None:
        return
    if os.environ.get("BASALT_REQUIRE_ISCSI") == "1":
        pytest.fail(f"BASALT_REQUIRE_ISCSI=1 but {reason}")
    pytest.skip(reason)


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _opt(value: str) -> str:
    """A value for qemu's key=value,... syntax (a comma is doubled)."""
    return value.replace(",", ",,")


def qemu_io_argv(
    portal: str,
    iqn: str,
    *commands: str,
    user: str | None = None,
    secret: str | None = None,
    initiator: str = INITIATOR,
    read_only: bool = False,
    lun: int = 1,
) -> list[str]:
    """The qemu-io command line for ``commands`` against a LUN (``--image-opts``)."""
    opts = [
        "driver=iscsi",
        "transport=tcp",
        f"portal={_opt(portal)}",
        f"target={_opt(iqn)}",
        f"lun={lun}",
        f"initiator-name={_opt(initiator)}",
    ]
    if user is not None:
        opts += [f"user={_opt(user)}", f"password={_opt(secret or '')}"]
    argv = ["qemu-io", "--image-opts", *(["-r"] if read_only else [])]
    for command in commands:
        argv += ["-c", command]
    return [*argv, ",".join(opts)]


def qemu_io(
    portal: str,
    iqn: str,
    *command_args: str,
    commands: Sequence[str] = (),
    user: str | None = None,
    secret: str | None = None,
    initiator: str = INITIATOR,
    read_only: bool = False,
    timeout: float = _TIMEOUT_SECONDS,
) -> subprocess.CompletedProcess[str]:
    """Run qemu-io commands (``"write -P 0xab 0 1M"``...) against LUN 1 over iSCSI.

    The commands are given positionally, or as ``commands=[...]``, or both (in that order).

    Returns:
        The finished qemu-io (check ``returncode``; qemu-io prints errors on stderr).
    """
    argv = qemu_io_argv(
        portal,
        iqn,
        *command_args,
        *commands,
        user=user,
        secret=secret,
        initiator=initiator,
        read_only=read_only,
    )
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def start_qemu_io(
    portal: str,
    iqn: str,
    *commands: str,
    user: str | None = None,
    secret: str | None = None,
    initiator: str = INITIATOR,
) -> subprocess.Popen[str]:
    """Like :func:`qemu_io` but in the background: a session that stays logged in.

    Use qemu-io's ``sleep <ms>`` command to keep the session open; wait for the
    returned process (or kill it by its PID).
    """
    argv = qemu_io_argv(portal, iqn, *commands, user=user, secret=secret, initiator=initiator)
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def qemu_io_ok(done: subprocess.CompletedProcess[str]) -> bool:
    """Whether every qemu-io command worked (qemu-io may exit 0 after a failed command)."""
    text = done.stdout + done.stderr
    return done.returncode == 0 and "failed" not in text and "error" not in text.lower()


def iscsi_url(portal: str, iqn: str, *, user: str | None, secret: str | None, lun: int = 1) -> str:
    """A libiscsi URL: ``iscsi://user%secret@portal/iqn/lun``."""
    auth = ""
    if user is not None:
        quote = urllib.parse.quote
        auth = f"{quote(user, safe='')}%{quote(secret or '', safe='')}@"
    return f"iscsi://{auth}{portal}/{iqn}/{lun}"


def _libiscsi(
    tool: str, portal: str, iqn: str, *, user: str | None, secret: str | None, initiator: str
) -> subprocess.CompletedProcess[str]:
    url = iscsi_url(portal, iqn, user=user, secret=secret)
    return subprocess.run(
        [tool, "-i", initiator, url],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_SECONDS,
        check=False,
    )


def read_capacity(
    portal: str,
    iqn: str,
    *,
    user: str | None = None,
    secret: str | None = None,
    initiator: str = INITIATOR,
) -> int:
    """The LUN's size in bytes, as READ CAPACITY(16) reports it (iscsi-readcapacity16).

    Raises:
        AssertionError: login or the command failed (with the tool's output).
    """
    done = _libiscsi(
        "iscsi-readcapacity16", portal, iqn, user=user, secret=secret, initiator=initiator
    )
    assert done.returncode == 0, f"iscsi-readcapacity16 failed: {done.stdout}{done.stderr}"
    for line in done.stdout.splitlines():
        if line.startswith("Total size:"):
            return int(line.split(":", 1)[1])
    raise AssertionError(f"no 'Total size:' in iscsi-readcapacity16 output: {done.stdout}")


@dataclass(frozen=True)
class LoginResult:
    """Whether a login (plus INQUIRY on LUN 1) worked, and the tool's error text if not."""

    ok: bool
    error: str

    def __bool__(self) -> bool:
        return self.ok


def login(
    portal: str,
    iqn: str,
    *,
    user: str | None = None,
    secret: str | None = None,
    initiator: str = INITIATOR,
) -> LoginResult:
    """Log in and send INQUIRY to LUN 1 (iscsi-inq).

    Returns:
        ``ok`` and, on failure, the error text (e.g. "Authentication failure",
        "Target not found").
    """
    done = _libiscsi("iscsi-inq", portal, iqn, user=user, secret=secret, initiator=initiator)
    return LoginResult(done.returncode == 0, (done.stderr + done.stdout).strip())


def login_error(
    portal: str,
    iqn: str,
    *,
    user: str | None = None,
    secret: str | None = None,
    initiator: str = INITIATOR,
) -> str:
    """``""`` if login (and INQUIRY on LUN 1) works, else the initiator's error text."""
    result = login(portal, iqn, user=user, secret=secret, initiator=initiator)
    return "" if result.ok else (result.error or "login failed")


def free_control_port() -> int:
    """A tgtd control port no tgtd socket uses (it names a unix socket, not a TCP port)."""
    from basalt.export.daemon import MAX_CONTROL_PORT, SOCKET_DIR

    while True:
        port = random.randint(20000, MAX_CONTROL_PORT)
        if not (SOCKET_DIR / f"socket.{port}").exists():
            return port


def kill_tgtd(pid: int | None, control_port: int) -> None:
    """SIGKILL a tgtd a test started, by its PID, if that PID is still that tgtd."""
    if pid is None:
        return
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return
    if Path(cmdline[0].decode()).name != "tgtd" or str(control_port).encode() not in cmdline:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # maybe not our child: wait until it is gone or a zombie
    from basalt.export.daemon import SOCKET_DIR

    for suffix in ("", ".lock"):  # SIGKILL leaves tgtd's control socket behind
        (SOCKET_DIR / f"socket.{control_port}{suffix}").unlink(missing_ok=True)


def stop_tgtd_of(data_dir: Path, control_port: int) -> None:
    """Stop the tgtd a Basalt with ``data_dir`` left running (its pid file names it)."""
    pid_file = data_dir / "iscsi" / "tgtd.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    kill_tgtd(pid, control_port)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


class QemuSession:
    """One logged-in qemu-io over iSCSI, driven command by command through its stdin: a
    command returns once qemu-io has answered it (a write has completed at the target).

    Use it as a context manager; the process is killed (by its PID) at the end.
    """

    PROMPT = "qemu-io> "

    def __init__(
        self,
        portal: str,
        iqn: str,
        *,
        user: str | None = None,
        secret: str | None = None,
        initiator: str = INITIATOR,
        timeout: float = _TIMEOUT_SECONDS,
    ) -> None:
        argv = qemu_io_argv(portal, iqn, user=user, secret=secret, initiator=initiator)
        self.timeout = timeout
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            bufsize=0,
        )
        self._read_until_prompt()

    def run(self, command: str) -> str:
        """Send one command; return what qemu-io answered.

        Raises:
            AssertionError: no answer within the timeout, or qemu-io reported a failure.
        """
        assert self.process.stdin is not None
        self.process.stdin.write(command.encode() + b"\n")
        answer = self._read_until_prompt()
        assert "fail" not in answer.lower() and "error" not in answer.lower(), answer
        return answer

    def _read_until_prompt(self) -> str:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        buffer = b""
        deadline = time.monotonic() + self.timeout
        while not buffer.endswith(self.PROMPT.encode()):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"qemu-io did not answer within {self.timeout} s: {buffer!r}"
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 65536)
                assert chunk, f"qemu-io exited: {buffer!r}"
                buffer += chunk
        return buffer.decode(errors="replace")

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def __enter__(self) -> QemuSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
