"""The export layer's errors, below basalt.errors.ExportError.

    ExportError
    ├── CommandFailedError       a command exited non-zero (argv masked, returncode, stderr)
    ├── CommandTimeoutError      a command did not finish in time
    ├── TargetExportError        work on one target failed (iqn, and the cause chained)
    └── ExportUnavailableError
        └── CommandNotFoundError tgtd or tgtadm is not installed

Secrets never reach a message: every command line shown is masked by :func:`mask_argv`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from basalt.errors import ExportError, ExportUnavailableError

MASK = "***"
_SECRET_FLAGS = frozenset({"--password", "-w"})
_SECRET_ASSIGNMENT = re.compile(r"((?:password|secret)=)[^,]*", re.IGNORECASE)


def mask_argv(argv: Sequence[str]) -> list[str]:
    """A copy of ``argv`` with every secret replaced by ``***``.

    Args:
        argv: a command line.

    Returns:
        The command line with the value after ``--password`` (and ``password=...``
        inside an argument) masked.
    """
    shown: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            shown.append(MASK)
            hide_next = False
        elif arg in _SECRET_FLAGS:
            shown.append(arg)
            hide_next = True
        elif arg.startswith("--password="):
            shown.append(f"--password={MASK}")
        else:
            shown.append(_SECRET_ASSIGNMENT.sub(rf"\g<1>{MASK}", arg))
    return shown


def mask_text(text: str) -> str:
    """``text`` with ``password=...`` / ``secret=...`` values masked."""
    return _SECRET_ASSIGNMENT.sub(rf"\g<1>{MASK}", text)


class CommandFailedError(ExportError):
    """A command exited with a non-zero status; ``argv`` is masked."""

    code = "export_command_failed"

    def __init__(
        self, argv: Sequence[str], returncode: int, stderr: str, *, hint: str | None = None
    ) -> None:
        shown = mask_argv(argv)
        detail = stderr.strip() or "no error output"
        super().__init__(
            f"{' '.join(shown)} failed (exit {returncode}): {detail}",
            hint=hint,
        )
        self.argv = shown
        self.returncode = returncode
        self.stderr = mask_text(stderr.strip())


class CommandTimeoutError(ExportError):
    """A command did not finish within its timeout; ``argv`` is masked."""

    code = "export_command_timeout"

    def __init__(self, argv: Sequence[str], timeout: float) -> None:
        shown = mask_argv(argv)
        super().__init__(
            f"{' '.join(shown)} did not finish within {timeout:g} s",
            hint="tgtd may be hung; check its log and restart it",
        )
        self.argv = shown
        self.timeout = timeout


class CommandNotFoundError(ExportUnavailableError):
    """The program could not be started (not installed, not executable)."""

    code = "export_command_not_found"

    def __init__(self, program: str, reason: str) -> None:
        super().__init__(
            f"cannot run {program}: {reason}",
            hint="install tgt (apt-get install tgt) or set iscsi.tgtd_path / iscsi.tgtadm_path",
        )
        self.program = program


class TargetExportError(ExportError):
    """Work on one target failed; ``iqn`` names it, ``stderr`` is tgtadm's (if any)."""

    code = "export_target_failed"

    def __init__(self, iqn: str, cause: ExportError) -> None:
        super().__init__(
            f"target {iqn}: {cause.message}",
            hint=cause.hint or "check tgtd's log; tgtadm's message says what it refused",
        )
        self.iqn = iqn
        self.stderr = cause.stderr if isinstance(cause, CommandFailedError) else ""
