"""Error class -> HTTP status and Cinder's error body. The only place that chooses a status.

Cinder answers ``{"<kind>": {"code": N, "message": "..."}}`` where kind is
badRequest, forbidden, itemNotFound, conflict, overLimit, computeFault...
"""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from basalt import errors as e
from basalt.api.auth import context_from

# Most specific first: the first class in an error's MRO found here wins.
STATUS_BY_ERROR: dict[type[BaseException], int] = {
    e.NotFoundError: 404,
    e.ManageExistingInvalidReferenceError: 400,
    e.InvalidInputError: 400,
    e.InvalidStateError: 400,
    e.ReplicationError: 400,
    e.VolumeAttachedError: 400,
    e.PermissionDeniedError: 403,
    e.AuthenticationError: 401,
    e.VolumeHasSnapshotsError: 400,
    e.GroupHasSnapshotsError: 400,  # Cinder: InvalidGroup
    e.GroupMembershipError: 400,  # Cinder: InvalidVolume / InvalidGroup
    e.StillInUseError: 400,
    e.MetadataChangedError: 412,  # Cinder: HTTPPreconditionFailed
    e.IdempotencyConflictError: 409,
    e.ResourceBusyError: 409,
    e.ConflictError: 409,
    e.QuotaExceededError: 413,  # overLimit, as Cinder answers a quota refusal
    e.NoValidBackendError: 400,
    e.CapacityError: 400,
    e.NotSupportedError: 400,
    e.FeatureUnavailableError: 501,
    e.OperationTimeoutError: 504,
    e.DriverError: 500,
    e.ExportUnavailableError: 503,
    e.BackendUnavailableError: 503,
    e.ExportError: 500,
    e.OperationFailedError: 500,
    e.PersistenceError: 503,
    e.ConfigError: 500,
    e.BasaltError: 500,
}

KIND_BY_STATUS = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    406: "notAcceptable",
    409: "conflict",
    412: "preconditionFailed",
    413: "overLimit",
    415: "badMediaType",
    500: "computeFault",
    501: "notImplemented",
    503: "serviceUnavailable",
    504: "serviceUnavailable",
}


def status_for(error: BaseException) -> int:
    """The HTTP status for an error."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def error_response(
    status: int,
    message: str,
    *,
    code: str | None = None,
    hint: str | None = None,
    extra: dict[str, object] | None = None,
) -> JSONResponse:
    """A response in Cinder's error shape (plus Basalt's code, hint and ``extra`` fields)."""
    body: dict[str, object] = {"code": status, "message": message}
    if code is not None:
        body["basalt_code"] = code
    if hint is not None:
        body["hint"] = hint
    body.update(extra or {})
    return JSONResponse(status_code=status, content={KIND_BY_STATUS.get(status, "error"): body})


async def basalt_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Turn a BasaltError into its status and body."""
    assert isinstance(exc, e.BasaltError)
    extra: dict[str, object] | None = None
    if isinstance(exc, e.NoValidBackendError) and _is_admin(request):
        # Pools, backends and capacities are the deployment's: only administrators see them.
        extra = {"explanation": exc.explanation.as_dict()}
    response = error_response(
        status_for(exc), exc.message, code=exc.code, hint=exc.hint, extra=extra
    )
    if isinstance(exc, e.AuthenticationError):
        response.headers["WWW-Authenticate"] = 'Token realm="basalt"'
    return response


def _is_admin(request: Request) -> bool:
    try:
        return context_from(request).is_admin
    except e.BasaltError:
        return False


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Turn a request that does not match the schema into a 400 naming the field."""
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        problems.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
    return error_response(400, "Invalid input: " + "; ".join(problems), code="invalid_input")
