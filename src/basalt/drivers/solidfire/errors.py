"""Element error names -> Basalt errors, in one table.

Every error the SolidFire driver raises is a :class:`basalt.errors.DriverError`
naming the backend; the subclasses say what kind of failure it was::

    DriverError (basalt.errors)
    └── SolidFireError                  backend + Element method + error name
        ├── SolidFireAuthError          HTTP 401: the cluster refused the login
        ├── SolidFireUnreachableError   no answer from the cluster's URL
        ├── SolidFireReplyError         the reply is not Element JSON-RPC
        ├── SolidFireBusyError          a retryable error outlasted the retry budget
        ├── SolidFireUncertainError     sent, but no answer: it may have been applied
        ├── SolidFireNotFoundError      the array does not know the object
        ├── SolidFireConflictError      the object exists already
        ├── SolidFireLimitError         an array limit was reached
        ├── SolidFireInvalidRequestError  the array refused the parameters
        └── SolidFireVersionError       the cluster's API is older than Basalt needs

:func:`element_error` turns an ``{"error": {"name", "message"}}`` reply into one of
these through :data:`ERRORS`; names the table does not list become a plain
SolidFireError carrying the name and message.
"""

from __future__ import annotations

from basalt.errors import DriverError

RETRYABLE_NAMES = frozenset(
    {
        "xDBVersionMismatch",
        "xMaxSnapshotsPerVolumeExceeded",
        "xMaxClonesPerVolumeExceeded",
        "xMaxSnapshotsPerNodeExceeded",
        "xMaxClonesPerNodeExceeded",
        "xSliceNotRegistered",
        "xNotReadyForIO",
        "xNotPrimary",
        "xDBOperationTimeout",
        "xDBConnectionLoss",
        "xNoHandler",
        "xSnapshotFailed",
        "xRecvTimeout",
        "xDBNoSuchPath",
        "xPermissionDenied",
    }
)
"""Names that mean "the cluster is busy or failing over; the same call may succeed"."""

LOGIN_HINT = "check login and password in the backend's [solidfire] settings"


class SolidFireError(DriverError):
    """A SolidFire cluster failed a call; ``method`` and ``element_name`` say which and why."""

    code = "solidfire_error"

    def __init__(
        self,
        backend: str,
        message: str,
        *,
        method: str | None = None,
        element_name: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(backend, message, hint=hint)
        self.method = method
        self.element_name = element_name


class SolidFireAuthError(SolidFireError):
    code = "solidfire_auth"


class SolidFireUnreachableError(SolidFireError):
    code = "solidfire_unreachable"


class SolidFireReplyError(SolidFireError):
    code = "solidfire_bad_reply"


class SolidFireBusyError(SolidFireError):
    code = "solidfire_busy"


class SolidFireUncertainError(SolidFireError):
    """The request was sent but no answer came back: the array may have applied it."""

    code = "solidfire_uncertain"


class SolidFireNotFoundError(SolidFireError):
    code = "solidfire_not_found"


class SolidFireConflictError(SolidFireError):
    code = "solidfire_conflict"


class SolidFireLimitError(SolidFireError):
    code = "solidfire_limit"


class SolidFireInvalidRequestError(SolidFireError):
    code = "solidfire_invalid_request"


class SolidFireVersionError(SolidFireError):
    code = "solidfire_version"


_BUSY_HINT = "the cluster stayed busy for the whole retry budget; try again later"
ERRORS: dict[str, tuple[type[SolidFireError], str | None]] = {
    **{name: (SolidFireBusyError, _BUSY_HINT) for name in RETRYABLE_NAMES},
    "xUnknownAccount": (SolidFireNotFoundError, None),
    "xAccountIDDoesNotExist": (SolidFireNotFoundError, None),
    "xVolumeIDDoesNotExist": (SolidFireNotFoundError, None),
    "xSnapshotIDDoesNotExist": (SolidFireNotFoundError, None),
    "xGroupSnapshotIDDoesNotExist": (SolidFireNotFoundError, None),
    "xVolumeAccessGroupIDDoesNotExist": (SolidFireNotFoundError, None),
    "xNotInVolumeAccessGroup": (SolidFireNotFoundError, None),
    "xDuplicateUsername": (SolidFireConflictError, None),
    "xAlreadyInVolumeAccessGroup": (SolidFireConflictError, None),
    "xPairingAlreadyExists": (SolidFireConflictError, None),
    "xExceededLimit": (
        SolidFireLimitError,
        "an array limit was reached (volumes per access group, accounts, ...)",
    ),
    "xInvalidParameter": (SolidFireInvalidRequestError, None),
    "xMissingParameter": (SolidFireInvalidRequestError, None),
    "xInvalidPairingKey": (SolidFireInvalidRequestError, "start the pairing again"),
    "xUnknownAPIVersion": (
        SolidFireVersionError,
        "the cluster's Element release is older than the API versions Basalt uses",
    ),
    "xUnknownAPIMethod": (
        SolidFireVersionError,
        "the cluster's Element release does not offer this method",
    ),
}


def element_error(backend: str, *, method: str, name: str, message: str) -> SolidFireError:
    """The Basalt error for an Element error reply.

    Args:
        backend: the backend's name, for the message.
        method: the Element method that failed.
        name: the reply's ``error.name`` (``x...``).
        message: the reply's ``error.message``.

    Returns:
        An instance of the class :data:`ERRORS` lists for ``name`` (SolidFireError
        when the name is not listed), with ``method`` and ``element_name`` set.
    """
    cls, hint = ERRORS.get(name, (SolidFireError, None))
    return cls(
        backend,
        f"{method} failed with {name}: {message}",
        method=method,
        element_name=name,
        hint=hint,
    )
