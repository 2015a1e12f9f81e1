"""Run python-cinderclient's `cinder` command line as a process of its own, without paying
for its imports each time.

    run_cinder([str(CINDER), "--os-auth-type", "noauth", ..., "list"], timeout=60)

returns a CompletedProcess, as ``subprocess.run(argv, capture_output=True, text=True)``
would. Each command runs in a fresh process, forked from a server process that has
imported ``cinderclient.shell`` once: the command gets its own argv, environment,
stdin (/dev/null), stdout and stderr, runs ``cinderclient.shell.main()`` (what the
`cinder` console script runs) and ends with its exit code. Only the ~0.7 s of imports
a new `cinder` process spends before it parses its arguments is saved.

``argv[0]`` must be the `cinder` console script of this environment (the server runs in
its interpreter); the tests that run a single command still run the script itself.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

_SERVER = r"""
import json, os, sys, traceback
import cinderclient.shell

def run(request):
    code = 1
    try:
        stdin = os.open(os.devnull, os.O_RDONLY)
        stdout = os.open(request["stdout"], os.O_WRONLY | os.O_TRUNC)
        stderr = os.open(request["stderr"], os.O_WRONLY | os.O_TRUNC)
        for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = request["argv"]
        try:
            result = cinderclient.shell.main()  # the console script: sys.exit(main())
            sys.exit(result)
        except SystemExit as exc:
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code
            else:
                print(exc.code, file=sys.stderr)
                code = 1
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)

protocol = os.fdopen(os.dup(1), "w")
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        run(request)
    protocol.write(json.dumps({"pid": pid}) + "\n")
    protocol.flush()
    _, status = os.waitpid(pid, 0)
    protocol.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}) + "\n")
    protocol.flush()
"""


class CinderServer:
    """The forking server (one per test process, started on first use)."""

    def __init__(self, python: str) -> None:
        self.python = python
        self.process = subprocess.Popen(
            [python, "-c", _SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.lock = threading.Lock()

    def _reply(self, deadline_s: float | None) -> dict[str, int]:
        assert self.process.stdout is not None
        if deadline_s is not None:
            ready, _, _ = select.select([self.process.stdout], [], [], deadline_s)
            if not ready:
                raise TimeoutError
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the cinder server exited ({self.process.poll()})")
        reply: dict[str, int] = json.loads(line)
        return reply

    def run(
        self, argv: Sequence[str], *, env: Mapping[str, str], timeout: float
    ) -> subprocess.CompletedProcess[str]:
        assert self.process.stdin is not None
        with self.lock, tempfile.TemporaryDirectory(prefix="cinder-") as scratch:
            out, err = Path(scratch, "stdout"), Path(scratch, "stderr")
            out.touch()
            err.touch()
            request = {"argv": list(argv), "env": dict(env), "stdout": str(out), "stderr": str(err)}
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            pid = self._reply(30.0)["pid"]
            try:
                returncode = self._reply(timeout)["returncode"]
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)  # the command's own process, by its PID
                self._reply(30.0)
                raise subprocess.TimeoutExpired(
                    list(argv), timeout, output=out.read_text(), stderr=err.read_text()
                ) from None
            return subprocess.CompletedProcess(
                list(argv), returncode, stdout=out.read_text(), stderr=err.read_text()
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()  # the server's loop ends
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


_server: CinderServer | None = None


def run_cinder(
    argv: Sequence[str], *, timeout: float = 60.0, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` (the `cinder` console script and its arguments) in a process of its
    own; see the module docstring. Raises subprocess.TimeoutExpired like subprocess.run."""
    global _server
    script = Path(sys.executable).with_name("cinder")
    assert Path(argv[0]) == script, f"{argv[0]} is not this environment's {script}"
    if _server is None or _server.process.poll() is not None:
        _server = CinderServer(sys.executable)
    return _server.run(argv, env=os.environ if env is None else env, timeout=timeout)


def stop_cinder_server() -> None:
    """Stop the server if one was started (at the end of the test session)."""
    global _server
    if _server is not None:
        _server.stop()
        _server = None
