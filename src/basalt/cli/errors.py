"""Exit codes and error output of the command line, chosen in one place.

``EXIT_CODES`` maps an error class to the process exit code; the most specific
class wins (the error's MRO is walked). docs/cli.md shows the same table.
Usage errors (bad options, a ``--property`` without '=') are click's own, exit 2.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import click

from basalt.errors import (
    BasaltError,
    CapacityError,
    ConfigError,
    ConflictError,
    DriverError,
    ExportError,
    GroupMembershipError,
    InvalidInputError,
    InvalidStateError,
    NotFoundError,
    NoValidBackendError,
    OperationFailedError,
    OperationTimeoutError,
    PermissionDeniedError,
    PersistenceError,
    ReplicationError,
    StillInUseError,
    VolumeAttachedError,
)

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2  # click's own
REFUSAL_POOLS_SHOWN = 20
"""Pools listed under a refused placement (``basalt scheduler explain`` lists all)."""


class WaitFailedError(Exception):
    """An operation this process started ended in failure (with or without ``--wait``).

    ``late`` is set when the resource was already printed, so stdout must not get
    a second JSON document.
    """

    def __init__(self, error: Exception, *, operation_id: str, late: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.operation_id = operation_id
        self.late = late


EXIT_CODES: dict[type[BaseException], int] = {
    BasaltError: EXIT_UNEXPECTED,
    NotFoundError: 3,
    InvalidInputError: 4,  # includes ManageExistingInvalidReferenceError
    InvalidStateError: 5,
    VolumeAttachedError: 5,
    GroupMembershipError: 5,
    ConflictError: 5,
    StillInUseError: 5,
    ReplicationError: 5,
    OperationFailedError: 6,
    OperationTimeoutError: 6,
    WaitFailedError: 6,
    CapacityError: 7,
    DriverError: 8,
    ExportError: 8,
    PermissionDeniedError: 9,
    ConfigError: 10,
    PersistenceError: 10,
}


def exit_code_for(error: BaseException) -> int:
    """The exit code for ``error``: its most specific class in EXIT_CODES, else 1.

    Args:
        error: what a command raised.

    Returns:
        The process exit code.
    """
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return EXIT_UNEXPECTED


@dataclass(frozen=True)
class CliError:
    """An error as the command line reports it: stderr text, optional JSON, exit code."""

    message: str
    code: str
    hint: str | None
    exit_code: int
    json_out: bool
    details: str | None = None
    """More lines for stderr (a refused placement's table of pools and reasons)."""
    extra: dict[str, object] | None = None
    """More fields of the JSON error (the explanation itself)."""

    def show(self) -> None:
        """Print ``error:``/``hint:`` on stderr and, in JSON mode, the error on stdout."""
        click.echo(f"error: {self.message}", err=True)
        if self.details:
            click.echo(self.details, err=True)
        if self.hint:
            click.echo(f"hint: {self.hint}", err=True)
        if self.json_out:
            body = {"code": self.code, "message": self.message, "hint": self.hint}
            click.echo(json.dumps({"error": {**body, **(self.extra or {})}}))


def to_cli_error(error: Exception, *, json_mode: bool) -> CliError:
    """Translate what a command raised into the error the command line shows.

    Args:
        error: a BasaltError, a WaitFailedError, or anything unexpected.
        json_mode: whether ``--json`` was given.

    Returns:
        What to print and the exit code.
    """
    exit_code = exit_code_for(error)
    if isinstance(error, WaitFailedError):
        inner = error.error
        message = getattr(inner, "message", None) or f"{type(inner).__name__}: {inner}"
        if not isinstance(inner, OperationFailedError):
            message = f"operation {error.operation_id} failed: {message}"
        return CliError(
            message=message,
            code=getattr(inner, "code", "internal_error"),
            hint=getattr(inner, "hint", None),
            exit_code=exit_code,
            json_out=json_mode and not error.late,
        )
    if isinstance(error, NoValidBackendError):
        explanation = error.explanation
        return CliError(
            message=error.message,
            code=error.code,
            hint=error.hint,
            exit_code=exit_code,
            json_out=json_mode,
            details=explanation.as_text(limit=REFUSAL_POOLS_SHOWN),
            extra={"explanation": explanation.as_dict()},
        )
    if isinstance(error, BasaltError):
        return CliError(
            message=error.message,
            code=error.code,
            hint=error.hint,
            exit_code=exit_code,
            json_out=json_mode,
        )
    return CliError(
        message=f"unexpected {type(error).__name__}: {error}",
        code="internal_error",
        hint="this is a bug in Basalt; please report it with the command you ran",
        exit_code=exit_code,
        json_out=json_mode,
    )
