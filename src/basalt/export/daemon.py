"""TgtDaemon: start, adopt, watch and stop the tgtd Basalt drives.

With ``manage_tgtd`` Basalt runs its own tgtd in the foreground (``tgtd -f``) as a
child in its own session, so its PID is known, writes ``<state_dir>/tgtd.pid``,
and on the next start adopts a tgtd named by that file if it still runs with
Basalt's control port. Without ``manage_tgtd`` nothing is ever started or
stopped: the daemon only checks that some tgtd answers on the control port.

tgtd ignores SIGTERM. Stopping it is: state offline, delete every target
(``--force``), ``--op delete --mode system`` (tgtd exits about a second later),
then SIGKILL by PID if it is still there after the timeout. tgtd also keeps running
when it cannot bind a portal (it listens on 0.0.0.0:3260 instead), so start checks
the portals it really listens on.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from basalt.config import IscsiSettings
from basalt.errors import ExportError, ExportUnavailableError
from basalt.export.commands import CommandNotFoundError
from basalt.export.pause import continue_process
from basalt.export.tgt import TgtAdmin

log = logging.getLogger("basalt.export")

SOCKET_DIR = Path("/var/run/tgtd")
MAX_CONTROL_PORT = 32767  # tgtd refuses a larger -C
_POLL_SECONDS = 0.05
_KILL_WAIT_SECONDS = 5.0
_LOG_TAIL_LINES = 8


class TgtDaemon:
    """The tgtd behind one control port, managed (started here) or not.

    Args:
        settings: the ``[iscsi]`` settings (portals, control port, tgtd path...).
        state_dir: where ``tgtd.pid`` and ``tgtd.log`` live.
        admin: the TgtAdmin for ``settings.control_port``.
    """

    def __init__(self, settings: IscsiSettings, *, state_dir: Path, admin: TgtAdmin) -> None:
        self.settings = settings
        self.state_dir = state_dir
        self.admin = admin
        self._process: subprocess.Popen[bytes] | None = None
        self._pid: int | None = None

    @property
    def managed(self) -> bool:
        """Whether Basalt starts and stops this tgtd."""
        return self.settings.manage_tgtd

    @property
    def pid(self) -> int | None:
        """The managed (started or adopted) tgtd's PID, if any."""
        return self._pid

    @property
    def pid_path(self) -> Path:
        return self.state_dir / "tgtd.pid"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "tgtd.log"

    def alive(self) -> bool:
        """Whether the tgtd runs and answers on the control port (never raises)."""
        if self.managed and not self._running():
            return False
        return self.admin.answers()

    def ensure_running(self) -> bool:
        """Make sure a tgtd answers: adopt or start one if managed, else only check.

        Returns:
            True if a new tgtd was started (it holds no targets yet).

        Raises:
            ExportUnavailableError: not managed and no tgtd answers on the control port.
            ExportError: the managed tgtd could not be started.
        """
        if self.alive():
            return False
        if not self.managed:
            raise ExportUnavailableError(
                f"no tgtd answers on control port {self.settings.control_port}",
                hint="start tgtd (systemctl start tgt) or set iscsi.manage_tgtd = true",
            )
        if self._running():
            log.warning("tgtd (pid %s) does not answer; killing it to restart", self._pid)
            self._kill()
        elif self._pid is not None:
            status = "" if self._process is None else f" (status {self._process.returncode})"
            log.warning("tgtd (pid %s) has exited%s; restarting it", self._pid, status)
            self._forget()
        if self._pid is None and self.adopt():
            return False
        self.start()
        return True

    def adopt(self) -> bool:
        """Adopt the tgtd named by the pid file if it runs with our control port.

        Returns:
            Whether a running tgtd was adopted (a stale pid file is removed).
        """
        pid = _read_pid(self.pid_path)
        if pid is None:
            return False
        if _is_our_tgtd(pid, self.settings):
            continue_process(pid)  # a Basalt that died during a group snapshot's pause
        if _is_our_tgtd(pid, self.settings) and self.admin.answers():
            self._process, self._pid = None, pid
            log.info("adopted tgtd pid %d on control port %d", pid, self.settings.control_port)
            self._add_missing_portals()
            return True
        log.info("pid file %s names no running tgtd; removing it", self.pid_path)
        self.pid_path.unlink(missing_ok=True)
        return False

    def start(self) -> None:
        """Start tgtd on the configured portals and wait until it answers.

        Raises:
            ExportError: another tgtd holds the control port, tgtd exited, did not
                answer in time, or could not listen on every portal.
            ExportUnavailableError: tgtd is not installed.
        """
        port = self.settings.control_port
        if port > MAX_CONTROL_PORT:
            raise ExportError(
                f"tgtd cannot use control port {port}",
                hint=f"set iscsi.control_port to at most {MAX_CONTROL_PORT}",
            )
        if self.admin.answers():
            raise ExportError(
                f"a tgtd that Basalt did not start already answers on control port {port}",
                hint="stop it, choose another iscsi.control_port, "
                "or set iscsi.manage_tgtd = false to use it",
            )
        process = self._spawn()
        self._process, self._pid = process, process.pid
        try:
            self._wait_ready()
            self._check_portals()
        except ExportError:
            self._kill()
            raise
        self.pid_path.write_text(f"{process.pid}\n", encoding="ascii")
        log.info("tgtd pid %d answers on control port %d", process.pid, port)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the managed tgtd (offline, delete targets, exit; SIGKILL after ``timeout``).

        Does nothing when tgtd is not managed or not running.

        Args:
            timeout: seconds to wait for tgtd to exit before SIGKILL.
        """
        if not self.managed:
            return
        if self._pid is None and not self.adopt():
            return
        if self._running() and self.admin.answers():
            self._shut_down_gracefully()
            if not self._wait_exit(timeout):
                log.warning("tgtd pid %s did not exit within %g s; killing it", self._pid, timeout)
        elif self._running():
            log.warning("tgtd pid %s does not answer; killing it", self._pid)
        self._kill()
        self._remove_control_socket()

    # -- internals ---------------------------------------------------------------

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        argv = self._argv()
        log.info("starting %s", " ".join(argv))
        with self.log_path.open("ab") as log_file:
            try:
                return subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    env={**os.environ, **self.settings.tgtd_environment()},
                )
            except OSError as exc:
                raise CommandNotFoundError(argv[0], exc.strerror or str(exc)) from exc

    def _argv(self) -> list[str]:
        portals = ",".join(f"portal={portal}" for portal in self.settings.portals)
        argv = [self.settings.tgtd_path, "-f", "-C", str(self.settings.control_port)]
        argv += ["--iscsi", portals]
        if self.settings.io_threads is not None:
            argv += ["-t", str(self.settings.io_threads)]
        return argv

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.settings.command_timeout_seconds
        while True:
            answered = self.admin.answers()  # may itself take up to the command timeout
            if not self._running():
                raise self._start_failed("tgtd exited at start")
            if answered:
                return
            if time.monotonic() >= deadline:
                raise self._start_failed(
                    f"tgtd did not answer within {self.settings.command_timeout_seconds:g} s"
                )
            time.sleep(_POLL_SECONDS)

    def _start_failed(self, what: str) -> ExportError:
        tail = self._log_tail()
        hint = f"see {self.log_path}"
        if "another tgtd is using" in tail:
            hint = (
                f"another tgtd holds control port {self.settings.control_port}; stop it or "
                "choose another iscsi.control_port"
            )
        return ExportError(f"{what}: {tail or 'no output'}", hint=hint)

    def _check_portals(self) -> None:
        listening = self.admin.portals()
        missing = [p for p in self.settings.portals if not _portal_listed(p, listening)]
        if missing:
            raise ExportError(
                f"tgtd could not listen on portal(s) {', '.join(missing)} "
                f"(it listens on {', '.join(listening) or 'nothing'}): {self._log_tail()}",
                hint="another process may use the address; choose free iscsi.portals",
            )

    def _add_missing_portals(self) -> None:
        """Listen on portals added to the settings since the adopted tgtd started."""
        try:
            listening = self.admin.portals()
            for portal in self.settings.portals:
                if not _portal_listed(portal, listening):
                    self.admin.new_portal(portal)
                    log.info("adopted tgtd: now also listening on %s", portal)
        except ExportError as exc:
            log.warning("adopted tgtd: could not add the configured portals: %s", exc)

    def _shut_down_gracefully(self) -> None:
        steps: list[tuple[str, Callable[[], None]]] = [
            ("set offline", lambda: self.admin.set_system_state("offline")),
            ("delete targets", self._delete_all_targets),
            ("delete system", self.admin.delete_system),
        ]
        for what, step in steps:
            try:
                step()
            except ExportError as exc:
                log.warning("stopping tgtd pid %s: %s failed: %s", self._pid, what, exc)

    def _delete_all_targets(self) -> None:
        for target in self.admin.targets():
            self.admin.delete_target(target.tid)

    def _running(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return self._pid is not None and _process_running(self._pid)

    def _wait_exit(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._running():
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_SECONDS)
        return True

    def _kill(self) -> None:
        """SIGKILL our tgtd by its PID (if still there), reap it and forget it."""
        if self._pid is not None and self._running():
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if self._process is not None:
                self._process.wait(timeout=_KILL_WAIT_SECONDS)
            else:
                self._wait_exit(_KILL_WAIT_SECONDS)
        self._forget()

    def _forget(self) -> None:
        if self._process is not None:
            self._process.poll()  # reap
        self._process, self._pid = None, None
        self.pid_path.unlink(missing_ok=True)

    def _remove_control_socket(self) -> None:
        # tgtd leaves its socket and lock file behind; nothing holds them any more.
        for suffix in ("", ".lock"):
            (SOCKET_DIR / f"socket.{self.settings.control_port}{suffix}").unlink(missing_ok=True)

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return " | ".join(line.strip() for line in lines[-_LOG_TAIL_LINES:] if line.strip())


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def _process_running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    state = stat.rpartition(")")[2].split()
    return bool(state) and state[0] not in ("Z", "X")


def _is_our_tgtd(pid: int, settings: IscsiSettings) -> bool:
    """Whether ``pid`` is a live tgtd started with ``settings.control_port``."""
    if not _process_running(pid):
        return False
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    args = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
    if not args or Path(args[0]).name not in ("tgtd", Path(settings.tgtd_path).name):
        return False
    port = str(settings.control_port)
    pairs = zip(args, [*args[1:], ""], strict=True)
    return any(
        (flag in ("-C", "--control-port") and value == port)
        or flag in (f"-C{port}", f"--control-port={port}")
        for flag, value in pairs
    )


def _portal_listed(portal: str, listening: tuple[str, ...]) -> bool:
    host, _, port = portal.rpartition(":")
    wanted = _addresses(host.strip("[]"))
    for entry in listening:
        got_host, _, got_port = entry.rpartition(":")
        if got_port == port and _addresses(got_host.strip("[]")) & wanted:
            return True
    return False


def _addresses(host: str) -> set[str]:
    try:
        return {str(ipaddress.ip_address(host))}
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return {host}
    return {str(info[4][0]) for info in infos}
