"""The command runner: failures, timeouts and missing programs are ExportErrors, without secrets."""

from __future__ import annotations

import sys

import pytest

from basalt.errors import ExportError, ExportUnavailableError
from basalt.export.commands import run
from basalt.export.errors import (
    CommandFailedError,
    CommandNotFoundError,
    CommandTimeoutError,
    mask_argv,
)


def test_mask_argv_hides_passwords() -> None:
    argv = ["tgtadm", "--op", "new", "--mode", "account", "--user", "u", "--password", "p4ss"]
    assert mask_argv(argv)[-1] == "***"
    assert mask_argv(["x", "--password=p4ss"]) == ["x", "--password=***"]
    assert mask_argv(["qemu-io", "driver=iscsi,password=p4ss,lun=1"]) == [
        "qemu-io",
        "driver=iscsi,password=***,lun=1",
    ]


def test_run_returns_output() -> None:
    done = run([sys.executable, "-c", "print('hello')"], timeout=10)
    assert done.stdout == "hello\n"


def test_failure_carries_argv_status_and_stderr_without_the_secret() -> None:
    script = "import sys; sys.stderr.write('refused'); sys.exit(22)"
    with pytest.raises(CommandFailedError) as caught:
        run([sys.executable, "-c", script, "--password", "p4ss"], timeout=10)
    error = caught.value
    assert isinstance(error, ExportError)
    assert error.returncode == 22 and error.stderr == "refused"
    assert "p4ss" not in str(error) and "p4ss" not in " ".join(error.argv)
    assert "refused" in str(error)


def test_timeout_is_an_export_error_without_the_secret() -> None:
    argv = [sys.executable, "-c", "import time; time.sleep(5)", "--password", "p4ss"]
    with pytest.raises(CommandTimeoutError) as caught:
        run(argv, timeout=0.2)
    assert "p4ss" not in str(caught.value)
    assert caught.value.__cause__ is None  # TimeoutExpired would carry the secret


def test_missing_program_is_unavailable() -> None:
    with pytest.raises(CommandNotFoundError) as caught:
        run(["/nonexistent/tgtadm", "--op", "show"], timeout=5)
    assert isinstance(caught.value, ExportUnavailableError)
    assert "apt-get install tgt" in (caught.value.hint or "")
