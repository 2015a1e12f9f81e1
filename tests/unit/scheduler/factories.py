"""Candidates and requests with sensible defaults, for the scheduler's tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from basalt.service.scheduler import PoolCandidate, ScheduleRequest


def pool(
    backend: str = "b1",
    name: str = "p1",
    *,
    zone: str = "az1",
    total: float = 1000.0,
    free: float = 800.0,
    provisioned: float = 200.0,
    capabilities: Mapping[str, object] | None = None,
    **more: Any,
) -> PoolCandidate:
    """A thick, enabled, up pool of 1000 GiB with 800 free, unless told otherwise."""
    return PoolCandidate(
        backend=backend,
        pool=name,
        availability_zone=zone,
        total_capacity_gib=total,
        free_capacity_gib=free,
        provisioned_capacity_gib=provisioned,
        capabilities=dict(capabilities or {"volume_backend_name": backend}),
        **more,
    )


def request(size: int = 10, specs: Mapping[str, str] | None = None, **more: Any) -> ScheduleRequest:
    """A request for ``size`` GiB with the given extra specs."""
    return ScheduleRequest(size_gib=size, extra_specs=dict(specs or {}), **more)
