"""The quota rules: limits, names, what a request adds, usage, and the comparison."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from basalt.errors import InvalidInputError, QuotaExceededError
from basalt.model import Snapshot, SnapshotStatus, Volume, VolumeStatus
from basalt.model.quota import (
    MAX_LIMIT,
    UNLIMITED,
    QuotaDeltas,
    QuotaExcess,
    QuotaResource,
    QuotaUsage,
    count_usage,
    effective_limit,
    first_excess,
    per_volume_excess,
    resources_by_label,
)
from basalt.model.validation import validate_quota_limit, validate_quota_set

NOW = datetime(2026, 12, 1, tzinfo=UTC)
VOLUMES, SNAPSHOTS, GIGABYTES = (QuotaResource(n) for n in ("volumes", "snapshots", "gigabytes"))
GOLD_VOLUMES = QuotaResource("volumes", "gold-id")
GOLD_GIGABYTES = QuotaResource("gigabytes", "gold-id")


def volume(size_gib: int, type_id: str | None = "gold-id") -> Volume:
    return Volume(
        id="v",
        project_id="p",
        user_id="u",
        name="",
        description="",
        size_gib=size_gib,
        status=VolumeStatus.AVAILABLE,
        backend="file",
        pool="default",
        created_at=NOW,
        updated_at=NOW,
        volume_type_id=type_id,
    )


def snapshot(size_gib: int) -> Snapshot:
    return Snapshot(
        id="s",
        volume_id="v",
        project_id="p",
        user_id="u",
        name="",
        description="",
        size_gib=size_gib,
        status=SnapshotStatus.AVAILABLE,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.mark.parametrize("value, expected", [(-1, -1), (0, 0), (10, 10), ("7", 7), (" -1 ", -1)])
def test_limits_are_minus_one_or_whole_numbers_from_zero(value: object, expected: int) -> None:
    assert validate_quota_limit(value, field="volumes") == expected


@pytest.mark.parametrize(
    "value, words",
    [
        (-2, "-2 is negative"),
        ("-5", "-5 is negative"),
        (MAX_LIMIT + 1, "above the largest limit"),
        (1.5, "not a whole number"),
        (True, "not a whole number"),
        (None, "not a whole number"),
        ("ten", "not a whole number"),
        ([3], "not a whole number"),
    ],
)
def test_bad_limits_name_the_value_and_the_rule(value: object, words: str) -> None:
    with pytest.raises(InvalidInputError, match=words) as caught:
        validate_quota_limit(value, field="quota_set.volumes")
    assert caught.value.field == "quota_set.volumes"


def test_resource_names_are_cinders_with_one_set_per_type() -> None:
    known = resources_by_label({"gold": "gold-id", "my_type": "mine"})
    assert known["volumes"] == VOLUMES
    assert known["per_volume_gigabytes"] == QuotaResource("per_volume_gigabytes")
    assert known["gigabytes_gold"] == GOLD_GIGABYTES
    assert known["snapshots_my_type"] == QuotaResource("snapshots", "mine")
    assert "per_volume_gigabytes_gold" not in known
    assert GOLD_VOLUMES.label({"gold-id": "gold"}) == "volumes_gold"


def test_a_quota_set_is_checked_whole() -> None:
    known = resources_by_label({"gold": "gold-id"})
    assert validate_quota_set(
        {"volumes": 5, "gigabytes_gold": "-1"}, known=known, field="quota_set"
    ) == {VOLUMES: 5, GOLD_GIGABYTES: -1}
    for items, words in [
        ({"backups": 1}, "unknown resource 'backups' \\(Basalt has no backups and does not"),
        ({"volumes_silver": 1}, "unknown resource 'volumes_silver'"),
        ({"volumes": 1, "snapshots": -3}, "quota_set.snapshots: -3 is negative"),
        ({}, "names no resource"),
        ([("volumes", 1)], "must be an object"),
    ]:
        with pytest.raises(InvalidInputError, match=words):
            validate_quota_set(items, known=known, field="quota_set")


def test_what_each_request_adds() -> None:
    assert QuotaDeltas.for_volume(volume(5)).amounts() == {
        VOLUMES: 1,
        GIGABYTES: 5,
        GOLD_VOLUMES: 1,
        GOLD_GIGABYTES: 5,
    }
    assert QuotaDeltas.for_snapshot(snapshot(3), volume_type_id=None).amounts() == {
        SNAPSHOTS: 1,
        GIGABYTES: 3,
    }
    growth = QuotaDeltas.for_growth(volume(5), 8)
    assert growth.amounts() == {GIGABYTES: 3, GOLD_GIGABYTES: 3}
    assert growth.volume_size_gib == 8
    moved = QuotaDeltas.for_transfer(volume(5), [snapshot(5), snapshot(5)])
    assert moved.amounts()[GIGABYTES] == 15 and moved.amounts()[SNAPSHOTS] == 2


def test_usage_adds_rows_per_type_and_keeps_growth_apart() -> None:
    usage = count_usage(
        volumes=[("gold-id", 2, 10), (None, 1, 1)],
        snapshots=[("gold-id", 1, 5)],
        growth=[("gold-id", 4)],
    )
    assert usage.in_use[VOLUMES] == 3 and usage.in_use[GOLD_VOLUMES] == 2
    assert usage.in_use[GIGABYTES] == 16 and usage.in_use[GOLD_GIGABYTES] == 15
    assert usage.in_use[SNAPSHOTS] == 1
    assert usage.reserved == {GIGABYTES: 4, GOLD_GIGABYTES: 4}
    assert usage.used(GIGABYTES) == 20
    assert usage.used(QuotaResource("snapshots", "other")) == 0


def test_the_project_wins_over_the_class_which_wins_over_the_default() -> None:
    assert effective_limit(VOLUMES, project={VOLUMES: 3}, quota_class={VOLUMES: 5}, default=10) == 3
    assert effective_limit(VOLUMES, project={}, quota_class={VOLUMES: 5}, default=10) == 5
    assert effective_limit(VOLUMES, project={}, quota_class={}, default=10) == 10


def test_the_first_resource_past_its_limit_is_named() -> None:
    usage = QuotaUsage(in_use={VOLUMES: 9, GIGABYTES: 990}, reserved={GIGABYTES: 5})
    amounts = QuotaDeltas.for_volume(volume(6, None)).amounts()
    assert first_excess(amounts, {VOLUMES: 10, GIGABYTES: 1000}, usage) == QuotaExcess(
        GIGABYTES, 1000, 995, 6
    )
    assert first_excess(amounts, {VOLUMES: 9, GIGABYTES: 1000}, usage) == QuotaExcess(
        VOLUMES, 9, 9, 1
    )
    assert first_excess(amounts, {VOLUMES: 10, GIGABYTES: 1001}, usage) is None
    assert first_excess(amounts, {VOLUMES: UNLIMITED, GIGABYTES: UNLIMITED}, usage) is None
    assert first_excess(amounts, {VOLUMES: 0, GIGABYTES: UNLIMITED}, QuotaUsage()) is not None


def test_per_volume_gigabytes_limits_the_size_of_one_volume() -> None:
    deltas = QuotaDeltas.for_growth(volume(5), 8)
    assert per_volume_excess(deltas, 8) is None
    assert per_volume_excess(deltas, UNLIMITED) is None
    assert per_volume_excess(deltas, 7) == QuotaExcess(
        QuotaResource("per_volume_gigabytes"), 7, 0, 8
    )
    assert per_volume_excess(QuotaDeltas.for_snapshot(snapshot(9), volume_type_id=None), 1) is None


def test_a_refusal_names_the_resource_the_limit_the_use_and_the_request() -> None:
    error = QuotaExceededError(
        project_id="web", resource="gigabytes_gold", limit=10, in_use=9, requested=2
    )
    assert error.message == (
        "quota exceeded for gigabytes_gold in project web: limit 10 GiB, in use 9 GiB, "
        "requested 2 GiB"
    )
    counted = QuotaExceededError(
        project_id="web", resource="volumes", limit=3, in_use=3, requested=1
    )
    assert "limit 3, in use 3, requested 1" in counted.message
    big = QuotaExceededError(
        project_id="web", resource="per_volume_gigabytes", limit=5, in_use=0, requested=8
    )
    assert "a volume of 8 GiB is larger than its per_volume_gigabytes limit of 5 GiB" in str(big)
