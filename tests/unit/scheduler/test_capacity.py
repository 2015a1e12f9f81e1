"""The capacity rule, the one copy the filter, the weigher and the claim share."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from basalt.model.capacity import capacity_reason, fits, provisionable_gib, reserved_gib
from tests.unit.scheduler.factories import pool


@pytest.mark.parametrize(
    "figures, provisionable",
    [
        # thick: free - reserved
        ({"total": 1000, "free": 300, "reserved_percentage": 10}, 200.0),
        ({"total": 1000, "free": 80, "reserved_percentage": 10}, 0.0),
        ({"total": 1000, "free": 300, "max_over_subscription_ratio": 20.0}, 300.0),
        # thin: min(total x ratio - provisioned, (free - reserved) x ratio)
        (
            {
                "total": 100,
                "free": 90,
                "provisioned": 1988,
                "thin_provisioning": True,
                "max_over_subscription_ratio": 20.0,
            },
            12.0,
        ),
        (
            {
                "total": 1000,
                "free": 20,
                "provisioned": 100,
                "thin_provisioning": True,
                "max_over_subscription_ratio": 2.0,
            },
            40.0,
        ),
        (
            {
                "total": 1000,
                "free": 10,
                "provisioned": 100,
                "thin_provisioning": True,
                "max_over_subscription_ratio": 20.0,
                "reserved_percentage": 5,
            },
            0.0,
        ),
        (
            {
                "total": 100,
                "free": 100,
                "provisioned": 2500,
                "thin_provisioning": True,
                "max_over_subscription_ratio": 20.0,
            },
            0.0,
        ),
    ],
)
def test_provisionable_capacity(figures: dict[str, float], provisionable: float) -> None:
    assert provisionable_gib(pool(**figures)) == provisionable  # type: ignore[arg-type]


def test_a_size_fits_up_to_the_provisionable_capacity_included() -> None:
    thick = pool(total=1000, free=300, reserved_percentage=10)
    assert fits(thick, 200)
    assert not fits(thick, 201)


def test_reserved_is_a_share_of_the_total() -> None:
    assert reserved_gib(pool(total=2000, reserved_percentage=5)) == 100.0


def test_reasons_name_the_figures_that_decide() -> None:
    thick = pool(total=1000, free=300, reserved_percentage=10)
    assert capacity_reason(thick, 50) == (
        "needs 50 GiB, 200.0 GiB free (thick: 300.0 free - 100.0 reserved)"
    )
    by_ratio = pool(
        total=100,
        free=90,
        provisioned=1988,
        thin_provisioning=True,
        max_over_subscription_ratio=20.0,
    )
    assert capacity_reason(by_ratio, 50) == (
        "needs 50 GiB, 12.0 GiB provisionable under ratio 20 (1988.0 of 100.0 x 20 provisioned)"
    )
    by_free = pool(
        total=1000,
        free=20,
        provisioned=100,
        thin_provisioning=True,
        max_over_subscription_ratio=2.0,
    )
    assert capacity_reason(by_free, 50) == (
        "needs 50 GiB, 40.0 GiB provisionable under ratio 2 ((20.0 free - 0.0 reserved) x 2)"
    )


@dataclass(frozen=True)
class ServicePool:
    """Any value with the figures works (the service's own pool model, say)."""

    total_capacity_gib: float
    free_capacity_gib: float
    provisioned_capacity_gib: float
    max_over_subscription_ratio: float
    reserved_percentage: float
    thin_provisioning: bool


def test_the_rule_reads_only_the_capacity_figures() -> None:
    figures = ServicePool(100.0, 50.0, 150.0, 2.0, 0.0, True)
    assert provisionable_gib(figures) == 50.0
    assert fits(figures, 50) and not fits(figures, 51)
