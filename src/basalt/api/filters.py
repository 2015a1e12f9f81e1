"""The list filters each resource takes: one table, checked by every list route and
served by ``GET /resource_filters`` (microversions 3.31 and 3.33).

From 3.31 a list request whose query names a filter its resource does not take is
refused with 400 naming them. Basalt refuses it for administrators too (Cinder lets
theirs through), because an unknown filter that is silently ignored returns more
than was asked for. From 3.34 ``key~=text`` matches the items whose ``key``
contains ``text`` (case-sensitive), for the keys in :data:`LIKE_FILTERS`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from fastapi import Request

from basalt.api.versions import CHECKED_FILTERS, api_version
from basalt.api.versions import LIKE_FILTERS as LIKE_VERSION
from basalt.errors import InvalidInputError

RESOURCE_FILTERS: dict[str, tuple[str, ...]] = {
    "volume": (
        "project_id",
        "name",
        "display_name",
        "status",
        "metadata",
        "bootable",
        "availability_zone",
        "group_id",
        "glance_metadata",
    ),
    "snapshot": ("project_id", "name", "display_name", "status", "volume_id", "metadata"),
    "message": ("resource_uuid", "resource_type", "event_id", "request_id", "message_level"),
    "attachment": ("volume_id",),
    "group": ("name", "status"),
    "group_snapshot": ("name", "status", "group_id"),
    "pool": ("name", "volume_type"),
}
"""The filters of each resource's list, as ``GET /resource_filters`` shows them."""

LIKE_FILTERS: dict[str, tuple[str, ...]] = {
    "volume": ("name", "status", "availability_zone"),
    "snapshot": ("name", "status"),
    "group": ("name", "status"),
    "group_snapshot": ("name", "status"),
}
"""The filters that also match part of a value (``name~=db``, 3.34)."""

NOT_FILTERS = frozenset(
    {
        "limit",
        "marker",
        "offset",
        "sort",
        "sort_key",
        "sort_dir",
        "all_tenants",
        "detail",
        "list_volume",
        "with_count",
    }
)
"""Query parameters of lists that page, order or widen rather than filter."""

EXACT_IN_MEMORY = ("name", "status")
"""The filters :func:`filtered_in_memory` applies itself (others reach the service)."""

T = TypeVar("T")


def checked_filters(request: Request, resource: str) -> dict[str, str]:
    """Check the request's filters against the table; return its like filters.

    Returns:
        ``{key: text}`` for every ``key~=text`` (from 3.34), the key without ``~``.

    Raises:
        InvalidInputError: from 3.31, a filter the resource does not take; a like
            filter on a key that has none; a like filter below 3.34.
    """
    params = request.query_params
    version = api_version(request)
    like = {k[:-1]: params[k] for k in params if k.endswith("~")}
    if like and version < LIKE_VERSION:
        raise InvalidInputError(
            "filters", f"{_names(like)}: like filters (key~=text) need microversion 3.34"
        )
    wrong_like = [k for k in like if k not in LIKE_FILTERS.get(resource, ())]
    if wrong_like:
        raise InvalidInputError(
            "filters",
            f"{_names(wrong_like)} cannot match part of a value on {resource} lists",
            hint=f"like filters there: {', '.join(LIKE_FILTERS.get(resource, ())) or 'none'}",
        )
    if version >= CHECKED_FILTERS:
        allowed = set(RESOURCE_FILTERS[resource])
        unknown = [k for k in params if not k.endswith("~") and k not in NOT_FILTERS | allowed]
        if unknown:
            raise InvalidInputError(
                "filters",
                f"invalid filters {_names(unknown)} are found in query options",
                hint=f"{resource} lists take {', '.join(sorted(allowed))} (GET /resource_filters)",
            )
    return like


def filtered_in_memory(request: Request, resource: str, items: Iterable[T]) -> list[T]:
    """For lists held whole (groups, group snapshots): check the request's filters, then
    keep the items whose ``name`` and ``status`` equal those asked for and whose
    like-filtered values contain their text.

    Raises:
        InvalidInputError: as :func:`checked_filters`.
    """
    like = checked_filters(request, resource)
    exact = {k: request.query_params[k] for k in EXACT_IN_MEMORY if k in request.query_params}
    return [
        item
        for item in items
        if all(str(getattr(item, key)) == value for key, value in exact.items())
        and all(text in str(getattr(item, key)) for key, text in like.items())
    ]


def _names(keys: Iterable[str]) -> str:
    return ", ".join(sorted(k[:64] for k in keys))
