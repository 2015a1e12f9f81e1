"""The capacity rule: how many GiB a pool can still promise. The one copy of it.

The scheduler's capacity filter and free-capacity weigher, the service's capacity
claim (service/placement.py) and the pools' ``provisionable_gib`` all call these
functions, so a pool the scheduler chose is never refused by the claim for a
different reason.

- Thick pool: ``free - reserved`` GiB.
- Thin pool: the lesser of ``total x ratio - provisioned`` (what the
  over-subscription ratio still allows) and ``(free - reserved) x ratio`` (what the
  space actually free can back at that ratio).

``reserved`` is ``reserved_percentage`` of the total. A request of ``size_gib``
fits when ``size_gib <= provisionable_gib(pool)``; that comparison is the rule, so
every caller rounds the same way.
"""

from __future__ import annotations

from typing import Protocol


class CapacityFigures(Protocol):
    """What the rule reads from a pool (PoolCandidate has it; so can the service's Pool)."""

    @property
    def total_capacity_gib(self) -> float: ...
    @property
    def free_capacity_gib(self) -> float: ...
    @property
    def provisioned_capacity_gib(self) -> float: ...
    @property
    def max_over_subscription_ratio(self) -> float: ...
    @property
    def reserved_percentage(self) -> float: ...
    @property
    def thin_provisioning(self) -> bool: ...


def reserved_gib(pool: CapacityFigures) -> float:
    """The GiB the pool keeps free: ``reserved_percentage`` of its total.

    Args:
        pool: the pool's capacity figures.

    Returns:
        The reserved GiB.
    """
    return pool.total_capacity_gib * pool.reserved_percentage / 100.0


def provisionable_gib(pool: CapacityFigures) -> float:
    """How many GiB of new volumes the pool can still take (never below 0).

    Args:
        pool: the pool's capacity figures.

    Returns:
        Thick: free minus reserved. Thin: the lesser of the ratio's headroom
        (total x ratio - provisioned) and (free - reserved) x ratio.
    """
    usable = pool.free_capacity_gib - reserved_gib(pool)
    if not pool.thin_provisioning:
        return max(0.0, usable)
    ratio = pool.max_over_subscription_ratio
    headroom = pool.total_capacity_gib * ratio - pool.provisioned_capacity_gib
    return max(0.0, min(headroom, usable * ratio))


def fits(pool: CapacityFigures, size_gib: float) -> bool:
    """Whether a new volume of ``size_gib`` fits: ``size_gib <= provisionable_gib(pool)``.

    Args:
        pool: the pool's capacity figures.
        size_gib: the requested size.

    Returns:
        True when the capacity filter passes and the claim may count it.
    """
    return size_gib <= provisionable_gib(pool)


def capacity_reason(pool: CapacityFigures, size_gib: float) -> str:
    """Why ``size_gib`` fits the pool or not, with the figures that decide it.

    Args:
        pool: the pool's capacity figures.
        size_gib: the requested size.

    Returns:
        e.g. "needs 50 GiB, 12.0 GiB provisionable under ratio 20.0 (1988.0 of
        100.0 x 20.0 provisioned)", or for a thick pool "needs 50 GiB, 40.0 GiB
        free (45.0 free - 5.0 reserved)".
    """
    available = provisionable_gib(pool)
    need = f"needs {size_gib:g} GiB, {available:.1f} GiB"
    reserved = reserved_gib(pool)
    free = pool.free_capacity_gib
    if not pool.thin_provisioning:
        return f"{need} free (thick: {free:.1f} free - {reserved:.1f} reserved)"
    ratio = pool.max_over_subscription_ratio
    total = pool.total_capacity_gib
    headroom = total * ratio - pool.provisioned_capacity_gib
    if headroom <= (free - reserved) * ratio:
        return (
            f"{need} provisionable under ratio {ratio:g} "
            f"({pool.provisioned_capacity_gib:.1f} of {total:.1f} x {ratio:g} provisioned)"
        )
    return (
        f"{need} provisionable under ratio {ratio:g} "
        f"(({free:.1f} free - {reserved:.1f} reserved) x {ratio:g})"
    )
