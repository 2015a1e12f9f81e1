"""Pool candidates and requests: their checks, and what a placement changes."""

from __future__ import annotations

import dataclasses
import math

import pytest

from basalt.errors import InvalidInputError
from basalt.service.scheduler import PoolCandidate, ScheduleRequest, consume
from tests.unit.scheduler.factories import pool

CHANGED_BY_PLACEMENT = {
    "free_capacity_gib",
    "provisioned_capacity_gib",
    "allocated_capacity_gib",
    "volume_count",
}


def test_a_placement_changes_capacity_and_count_and_nothing_else() -> None:
    before = pool(
        free=100.0,
        provisioned=50.0,
        allocated_capacity_gib=40.0,
        volume_count=3,
        thin_provisioning=True,
        reserved_percentage=5,
        max_over_subscription_ratio=2.0,
        enabled=False,
        disabled_reason="why",
        up=False,
        down_reason="how",
        capabilities={"x": 1},
    )
    after = consume(before, 30)
    # thin: nothing is written yet, so only the promise grows
    assert (after.free_capacity_gib, after.provisioned_capacity_gib) == (100.0, 80.0)
    thick = consume(dataclasses.replace(before, thin_provisioning=False), 30)
    assert (thick.free_capacity_gib, thick.provisioned_capacity_gib) == (70.0, 80.0)
    assert (after.allocated_capacity_gib, after.volume_count) == (70.0, 4)
    for field in dataclasses.fields(PoolCandidate):
        if field.name not in CHANGED_BY_PLACEMENT:
            assert getattr(after, field.name) == getattr(before, field.name), field.name


def test_free_capacity_never_drops_below_zero_and_unknown_allocation_stays_unknown() -> None:
    after = consume(pool(free=10.0), 30)
    assert after.free_capacity_gib == 0.0
    assert after.allocated_capacity_gib is None


def test_the_host_is_cinders_pool_name() -> None:
    assert pool("gold", "fast").host == "basalt@gold#fast"


@pytest.mark.parametrize(
    "bad, words",
    [
        ({"total": -1.0}, "total_capacity_gib"),
        ({"free": math.nan}, "free_capacity_gib"),
        ({"provisioned": math.inf}, "provisioned_capacity_gib"),
        ({"allocated_capacity_gib": -5.0}, "allocated_capacity_gib"),
        ({"max_over_subscription_ratio": 0.0}, "max_over_subscription_ratio"),
        ({"reserved_percentage": 101}, "reserved_percentage"),
        ({"volume_count": -1}, "volume_count"),
    ],
)
def test_bad_figures_name_the_pool_and_the_field(bad: dict[str, float], words: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        pool("b", "p", **bad)  # type: ignore[arg-type]
    assert f"pool basalt@b#p {words}" in str(refused.value)


@pytest.mark.parametrize("size", [0, -1, True, 1.5])
def test_a_request_needs_a_whole_positive_size(size: object) -> None:
    with pytest.raises(InvalidInputError) as refused:
        ScheduleRequest(size_gib=size)  # type: ignore[arg-type]
    assert refused.value.field == "size"


def test_a_request_echoes_as_plain_values() -> None:
    request = ScheduleRequest(
        size_gib=5,
        extra_specs={"a": "1"},
        availability_zone="az1",
        same_backend_as=frozenset({"y", "x"}),
    )
    assert request.as_dict() == {
        "size_gib": 5,
        "extra_specs": {"a": "1"},
        "availability_zone": "az1",
        "same_backend_as": ["x", "y"],
        "different_backend_from": [],
    }
