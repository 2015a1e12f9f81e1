"""Where Element calls arrive: `POST /json-rpc/<version>/`, Basic auth, method dispatch.

`SolidFireApp` is the `WireApp` every carrier (in-process transport, HTTPS server) uses.
Per call it: checks path, API version and credentials (HTTP 404/405/401), parses the
JSON-RPC body, counts the call, applies the armed faults, runs the handler under the
backend's lock, and answers `{"result": ..., "id": ...}` or, with HTTP 200,
`{"error": {"name", "code", "message"}, "id": ...}`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import time
from typing import Any

from basalt_emulators.core.wire import Delivery, WireReply, WireRequest
from basalt_emulators.solidfire.errors import (
    InjectedFaultError,
    InvalidParameterError,
    InvalidParameterTypeError,
    MissingParameterError,
    SolidFireError,
    UnknownAPIMethodError,
    UnknownAPIVersionError,
)
from basalt_emulators.solidfire.models import SolidFireBackend
from basalt_emulators.solidfire.params import Params
from basalt_emulators.solidfire.responses import (
    Handler,
    access_groups,
    accounts,
    cluster,
    pairing,
    snapshots,
    volumes,
)

PATH = re.compile(r"^/json-rpc/(?P<version>\d+(?:\.\d+)?)/?$")

METHODS: dict[str, Handler] = {
    **cluster.HANDLERS,
    **accounts.HANDLERS,
    **volumes.HANDLERS,
    **snapshots.HANDLERS,
    **access_groups.HANDLERS,
    **pairing.HANDLERS,
}

_JSON_HEADERS = {"Content-Type": "application/json"}


class SolidFireApp:
    """The Element JSON-RPC endpoint of one `SolidFireBackend`."""

    def __init__(self, backend: SolidFireBackend) -> None:
        self.backend = backend

    def handle(self, request: WireRequest) -> WireReply:
        """Answer one HTTP request.

        Args:
            request: the request as received.

        Returns:
            The reply, and how the carrier must deliver it.
        """
        match = PATH.match(request.path)
        if match is None:
            return _plain(404, "Not Found")
        if _version_tuple(match["version"]) > _version_tuple(self.backend.api_version):
            # Like the array's web server: no endpoint for that version (HTTP 404); the
            # body still names the cause for clients that read it.
            reply = _error_reply(UnknownAPIVersionError(match["version"]), None)
            return WireReply(status=404, body=reply.body, headers=reply.headers)
        if request.method != "POST":
            return _plain(405, "Method Not Allowed", {"Allow": "POST"})
        if not self._authorized(request):
            return _plain(401, "Unauthorized", {"WWW-Authenticate": 'Basic realm="SolidFire"'})
        try:
            method, params, call_id = _parse(request.body)
        except SolidFireError as error:
            return _error_reply(error, None)
        return self._call(method, params, call_id)

    def _call(self, method: str, params: Params, call_id: Any) -> WireReply:
        self.backend.count_call(method)
        plan = self.backend.faults.plan(method)
        if plan.delay_seconds:
            time.sleep(plan.delay_seconds)
        if plan.drop:
            return WireReply(status=200, delivery=Delivery.DROP)
        if plan.error_name:
            return _error_reply(InjectedFaultError(plan.error_name, method), call_id)
        try:
            result = self._execute(method, params)
        except SolidFireError as error:
            return _error_reply(error, call_id)
        reply = _json_reply({"id": call_id, "result": result})
        if plan.late_seconds is not None:
            return WireReply(
                status=reply.status,
                body=reply.body,
                headers=reply.headers,
                delivery=Delivery.LATE,
                late_seconds=plan.late_seconds,
            )
        return reply

    def _execute(self, method: str, params: Params) -> dict[str, Any]:
        handler = METHODS.get(method)
        if handler is None:
            raise UnknownAPIMethodError(method)
        with self.backend.lock:
            return handler(self.backend, params)

    def _authorized(self, request: WireRequest) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.backend.username) & hmac.compare_digest(
            password, self.backend.password
        )


def _parse(body: bytes) -> tuple[str, Params, Any]:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidParameterError(f"Invalid JSON request body: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidParameterError("The request body must be a JSON object")
    method = document.get("method")
    if method is None:
        raise MissingParameterError("method")
    if not isinstance(method, str):
        raise InvalidParameterTypeError("method", "string")
    params = document.get("params")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InvalidParameterTypeError("params", "object")
    return method, Params(params), document.get("id")


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _json_reply(document: dict[str, Any]) -> WireReply:
    return WireReply(status=200, body=json.dumps(document).encode(), headers=_JSON_HEADERS)


def _error_reply(error: SolidFireError, call_id: Any) -> WireReply:
    detail = {"name": error.name, "code": error.code, "message": error.message}
    return _json_reply({"id": call_id, "error": detail})


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> WireReply:
    return WireReply(
        status=status,
        body=f"{status} {text}\n".encode(),
        headers={"Content-Type": "text/plain", **(headers or {})},
    )
