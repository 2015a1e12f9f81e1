"""API versions: the version documents and the ``OpenStack-API-Version`` microversion header.

Basalt answers microversions ``MIN_VERSION`` to ``MAX_VERSION`` of the Block Storage
v3 API. A request names one with ``OpenStack-API-Version: volume 3.N`` (or
``volume latest``); without the header it gets 3.0. Every response says which
version served it and sends ``Vary: OpenStack-API-Version``. A version outside the
range is refused with 406, as Cinder does. Handlers read the version from
``request.state.api_version`` (:func:`api_version`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import total_ordering

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from basalt.errors import MicroversionTooLowError

HEADER = "openstack-api-version"
LEGACY_HEADER = "x-openstack-volume-api-version"
SERVICE = "volume"
_VERSION = re.compile(r"^(\d+)\.(\d+)$")


@total_ordering
@dataclass(frozen=True, slots=True)
class ApiVersion:
    """A microversion, e.g. 3.27."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> ApiVersion:
        """``"3.27"`` -> ApiVersion(3, 27).

        Raises:
            ValueError: not MAJOR.MINOR.
        """
        match = _VERSION.match(text.strip())
        if match is None:
            raise ValueError(f"{text[:32]!r} is not a version like 3.27")
        return cls(int(match.group(1)), int(match.group(2)))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, ApiVersion):
            return NotImplemented
        return (self.major, self.minor) < (other.major, other.minor)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


MIN_VERSION = ApiVersion(3, 0)
MAX_VERSION = ApiVersion(3, 38)
"""The highest microversion whose behaviour Basalt implements (docs/api.md)."""


METADATA_ETAG = ApiVersion(3, 15)
"""A volume's metadata has an ETag; a replace with If-Match checks it."""
CLUSTER_PARAMETERS = ApiVersion(3, 16)
"""os-migrate_volume and manage accept ``cluster`` (3.16), manageable lists too (3.17)."""
CHECKED_FILTERS = ApiVersion(3, 31)
"""List filters are checked against the table /resource_filters (3.33) serves."""
LIKE_FILTERS = ApiVersion(3, 34)
"""``key~=value`` list filters match a part of the value."""
POOL_FILTERS = ApiVersion(3, 28)
"""get_pools filters by name and capabilities (3.28) and by volume_type (3.35)."""
POOL_VOLUME_TYPE = ApiVersion(3, 35)
GROUP_SNAPSHOT_LISTING = ApiVersion(3, 29)
"""Group snapshot lists take filters, sort keys and pages."""
WORKERS_CLEANUP = ApiVersion(3, 24)
LOG_LEVELS = ApiVersion(3, 32)
RESOURCE_FILTERS_ROUTE = ApiVersion(3, 33)
GROUP_TYPES = ApiVersion(3, 11)
GROUPS = ApiVersion(3, 13)
GROUP_SNAPSHOTS = ApiVersion(3, 14)
"""The microversions that brought group types, groups, and group snapshots with
create-from-src; below them the routes answer 404, as Cinder's do."""


def require_version(request: Request, version: ApiVersion, what: str) -> None:
    """Refuse a route that the request's microversion does not have yet.

    Raises:
        MicroversionTooLowError: the request asked for a lower version (HTTP 404).
    """
    asked = api_version(request)
    if asked < version:
        raise MicroversionTooLowError(what, needed=str(version), asked=str(asked))


def api_version(request: Request) -> ApiVersion:
    """The microversion this request is served at."""
    version = getattr(request.state, "api_version", MIN_VERSION)
    assert isinstance(version, ApiVersion)
    return version


def version_document(root: str) -> dict[str, object]:
    """The v3 entry of the version documents (``GET /`` and ``GET /v3/``)."""
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": str(MAX_VERSION),
        "min_version": str(MIN_VERSION),
        "updated": "2026-11-22T00:00:00Z",
        "links": [{"rel": "self", "href": f"{root}/v3/"}],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}
        ],
    }


class Microversions:
    """Pure ASGI middleware: parse, check and echo the microversion of every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw = headers.get(HEADER.encode()) or headers.get(LEGACY_HEADER.encode())
        try:
            version = _requested(raw.decode("latin-1") if raw else None)
        except ValueError as exc:
            await _refuse(send, str(exc))
            return
        scope.setdefault("state", {})["api_version"] = version
        echo = [
            (HEADER.encode(), f"{SERVICE} {version}".encode()),
            (b"vary", b"OpenStack-API-Version"),
        ]

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *echo]
            await send(message)

        await self.app(scope, receive, send_with_version)


def _requested(value: str | None) -> ApiVersion:
    """The version a header value asks for.

    Raises:
        ValueError: malformed, or outside MIN_VERSION..MAX_VERSION.
    """
    if value is None:
        return MIN_VERSION
    text = value.strip()
    for part in text.split(","):  # "compute 2.1, volume 3.27"
        service, _, number = part.strip().partition(" ")
        if service.lower() == SERVICE or (not number and service):
            text = number.strip() if number else service
            break
    else:
        return MIN_VERSION  # the header names other services only
    if text.lower() == "latest":
        return MAX_VERSION
    version = ApiVersion.parse(text)
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise ValueError(
            f"Version {version} is not supported by the API. "
            f"Minimum is {MIN_VERSION} and maximum is {MAX_VERSION}."
        )
    return version


async def _refuse(send: Send, message: str) -> None:
    body = json.dumps({"notAcceptable": {"code": 406, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 406,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (HEADER.encode(), f"{SERVICE} {MIN_VERSION}".encode()),
                (b"vary", b"OpenStack-API-Version"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
