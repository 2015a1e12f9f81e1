"""Helpers every route module shares: the Basalt instance, waiting, list parameters."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any, TypeVar

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from basalt.api.filters import checked_filters
from basalt.api.versions import ApiVersion, api_version
from basalt.errors import InvalidInputError, OperationTimeoutError
from basalt.persistence.base import ListQuery, SortDirection
from basalt.service.instance import Basalt
from basalt.service.runner import OperationHandle

T = TypeVar("T")
JSON = "application/json"
MAX_PAGE = 1000
SORT_KEY_ALIASES = {"size": "size_gib", "display_name": "name"}
BOOTABLE_FILTER_STRICT = ApiVersion(3, 2)


def basalt_of(request: Request) -> Basalt:
    """The Basalt instance serving this app."""
    instance: Basalt = request.app.state.basalt
    return instance


def settle(request: Request, handle: OperationHandle[T]) -> T:
    """Wait briefly for an operation so quick work answers with its final state.

    Returns the resource as it is when the wait ends, finished or not, failed or not:
    the status field tells the client which.
    """
    timeout = basalt_of(request).settings.api.sync_wait_seconds
    try:
        return handle.wait(timeout=timeout)
    except OperationTimeoutError:
        return handle.resource()
    except Exception:  # noqa: BLE001 - the resource's status carries the failure
        return handle.resource()


def base_url(request: Request) -> str:
    """Scheme, host and port the client used."""
    return str(request.base_url).rstrip("/")


def list_query(
    request: Request, *, allowed_sort_keys: frozenset[str], resource: str
) -> tuple[ListQuery, bool]:
    """Parse limit, marker, sort, filters and all_tenants from the query string.

    Args:
        resource: the row of basalt.api.filters.RESOURCE_FILTERS the filters are
            checked against (from 3.31), with its like filters (3.34).

    Returns:
        The query and whether all projects were asked for.

    Raises:
        InvalidInputError: a malformed parameter, or a filter the resource lacks.
    """
    like = checked_filters(request, resource)
    params = request.query_params
    limit = _limit(params.get("limit"))
    sort = _sort(params, allowed_sort_keys)
    metadata: dict[str, str] = {}
    if "metadata" in params:
        metadata = _metadata_filter(params["metadata"])
    query = ListQuery(
        project_id=params.get("project_id"),
        name=params.get("name") or params.get("display_name"),
        status=params.get("status"),
        metadata=metadata,
        volume_id=params.get("volume_id"),
        bootable=None if "bootable" not in params else _bootable(request, params["bootable"]),
        availability_zone=params.get("availability_zone"),
        group_id=params.get("group_id"),
        like=like,
        limit=limit,
        marker=params.get("marker"),
        sort=sort,
    )
    return query, flag(params.get("all_tenants"))


def flag(raw: str | None) -> bool:
    """A yes/no query parameter (``all_tenants=1``, ``cascade=true``); absent is no."""
    return raw is not None and raw.lower() in ("1", "true", "yes", "t", "y", "on")


def _bootable(request: Request, raw: str) -> bool:
    """The bootable filter: from microversion 3.2 a clear yes or no, else an error; before
    it, anything but false/False means bootable (Cinder's own change at 3.2)."""
    if api_version(request) < BOOTABLE_FILTER_STRICT:
        return raw not in ("false", "False")
    if raw in ("T", "True", "1", "true"):
        return True
    if raw in ("F", "False", "0", "false"):
        return False
    raise InvalidInputError("bootable", f"{raw[:32]!r} is not one of true/false/1/0/T/F")


def _limit(raw: str | None) -> int:
    if raw is None:
        return MAX_PAGE
    if not raw.isdigit():
        raise InvalidInputError("limit", f"{raw[:32]!r} is not a non-negative integer")
    return min(int(raw), MAX_PAGE)


def _sort(params: object, allowed: frozenset[str]) -> tuple[tuple[str, SortDirection], ...]:
    get = params.get  # type: ignore[attr-defined]
    pairs: list[tuple[str, str]] = []
    if get("sort"):
        for item in str(get("sort")).split(","):
            key, _, direction = item.partition(":")
            pairs.append((key.strip(), direction.strip() or "desc"))
    elif get("sort_key") or get("sort_dir"):
        keys = str(get("sort_key") or "created_at").split(",")
        dirs = str(get("sort_dir") or "desc").split(",")
        pairs = [
            (k.strip(), (dirs[i] if i < len(dirs) else dirs[-1]).strip())
            for i, k in enumerate(keys)
        ]
    else:
        return (("created_at", "desc"),)
    result: list[tuple[str, SortDirection]] = []
    for key, direction in pairs:
        key = SORT_KEY_ALIASES.get(key, key)
        if key not in allowed:
            raise InvalidInputError("sort_key", f"{key[:32]!r} is not one of {sorted(allowed)}")
        if direction not in ("asc", "desc"):
            raise InvalidInputError("sort_dir", f"{direction[:32]!r} is not asc or desc")
        result.append((key, "asc" if direction == "asc" else "desc"))
    return tuple(result)


def in_pages(request: Request, items: Sequence[T], allowed_sort_keys: frozenset[str]) -> list[T]:
    """Sort, then page (``marker`` id, ``offset``, ``limit``) a list held in memory, as
    the SQL lists do (for collections small enough to hold whole).

    Raises:
        InvalidInputError: a bad sort key, direction, offset or limit, or a marker that
            names no item.
    """
    params = request.query_params
    ordered = list(items)
    for key, direction in reversed(_sort(params, allowed_sort_keys)):
        ordered.sort(key=lambda i: _sort_value(getattr(i, key)), reverse=direction == "desc")
    marker = params.get("marker")
    if marker is not None:
        ids = [getattr(i, "id", None) for i in ordered]
        if marker not in ids:
            raise InvalidInputError("marker", f"no item {marker[:64]} to page after")
        ordered = ordered[ids.index(marker) + 1 :]
    raw_offset = params.get("offset")
    if raw_offset is not None and not raw_offset.isdigit():
        raise InvalidInputError("offset", f"{raw_offset[:32]!r} is not a non-negative integer")
    ordered = ordered[int(raw_offset or 0) :]
    return ordered[: _limit(params.get("limit"))]


def _sort_value(value: object) -> tuple[bool, str]:
    """Sort None first, then by the value as text (ids, names, statuses, ISO times)."""
    if value is None:
        return (False, "")
    return (True, value.isoformat() if hasattr(value, "isoformat") else str(value))


def _metadata_filter(raw: str) -> dict[str, str]:
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise InvalidInputError("metadata", 'must be a JSON object, e.g. {"k": "v"}')
    return {str(k): str(v) for k, v in value.items()}


def next_link(
    request: Request, items: Sequence[object], limit: int | None, last_id: str | None
) -> list[dict[str, str]]:
    """A ``next`` link when the page is full, as Cinder gives in ``volumes_links``."""
    if limit is None or len(items) < limit or last_id is None:
        return []
    url = request.url.include_query_params(marker=last_id, limit=limit)
    return [{"rel": "next", "href": str(url)}]


class JsonRoute(APIRoute):
    """A route whose endpoint's dict answer is encoded by orjson at once.

    The routes document their answers for the OpenAPI document only (``response_model``
    is None, see basalt.api.responses.answers), and FastAPI would otherwise walk such
    a dict with its generic encoder: on a 1,000-volume page that walk cost several
    times the rest of the request.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        status = kwargs.get("status_code") or 200

        @functools.wraps(endpoint)
        def answer(*args: Any, **named: Any) -> Any:
            result = endpoint(*args, **named)
            if isinstance(result, dict):
                return Response(orjson.dumps(result), status_code=status, media_type=JSON)
            return result

        super().__init__(path, answer, **kwargs)


def api_router(*, prefix: str, tags: list[str | Enum]) -> APIRouter:
    """A router of Basalt's API (its routes encode their dict answers with orjson)."""
    return APIRouter(prefix=prefix, tags=tags, route_class=JsonRoute)
