"""Weighers: scores normalised across the pools that passed, multiplied, summed, and
ties going to the lowest host name."""

from __future__ import annotations

import pytest

from basalt.service.scheduler import SchedulerSettings, explain, schedule
from basalt.service.scheduler.weighers import Scale, allocated_capacity_gib, total_score
from tests.unit.scheduler.factories import pool, request

FREE_ONLY = SchedulerSettings(weighers={"free_capacity": 1.0})


def scores(settings: SchedulerSettings, *pools: object) -> dict[str, tuple[float, ...]]:
    found = explain(pools, request(1), settings)  # type: ignore[arg-type]
    return {
        v.pool.host: tuple(s.weighted for s in v.scores) for v in found.pools if v.rank is not None
    }


def test_normalisation_puts_the_lowest_at_0_and_the_highest_at_1() -> None:
    assert Scale(10.0, 30.0).normalise(20.0) == 0.5
    assert Scale(10.0, 30.0).normalise(10.0) == 0.0
    assert Scale(7.0, 7.0).normalise(7.0) == 0.0


def test_free_capacity_scores_are_normalised_across_the_pools() -> None:
    found = scores(FREE_ONLY, pool("a", free=100), pool("b", free=200), pool("c", free=300))
    assert found == {"basalt@a#p1": (0.0,), "basalt@b#p1": (0.5,), "basalt@c#p1": (1.0,)}


@pytest.mark.parametrize("multiplier, winner", [(2.0, "c"), (-1.0, "a"), (-0.5, "a")])
def test_multipliers_scale_and_negative_ones_reverse(multiplier: float, winner: str) -> None:
    settings = SchedulerSettings(weighers={"free_capacity": multiplier})
    pools = [pool("a", free=100), pool("b", free=200), pool("c", free=300)]
    decision = schedule(pools, request(1), settings)
    assert decision.pool.backend == winner
    assert decision.score == max(multiplier, 0.0)
    assert scores(settings, *pools)["basalt@b#p1"] == (0.5 * multiplier,)


def test_the_totals_sum_every_weigher() -> None:
    settings = SchedulerSettings(weighers={"free_capacity": 1.0, "volume_count": -1.0})
    pools = [pool("a", free=100, volume_count=0), pool("b", free=300, volume_count=10)]
    found = explain(pools, request(1), settings)
    totals = {v.pool.backend: v.total for v in found.pools}
    assert totals == {"a": 0.0 + 0.0, "b": 1.0 - 1.0}  # b: most room, most volumes
    assert [v.pool.backend for v in found.pools] == ["a", "b"]  # equal totals: host order


def test_default_weighers_prefer_room_then_fewer_allocations_and_volumes() -> None:
    roomy = pool("a", free=900, provisioned=100, volume_count=50)
    crowded = pool("b", free=400, provisioned=600, volume_count=60)
    assert schedule([crowded, roomy], request(1)).pool.backend == "a"


def test_equal_totals_go_to_the_lowest_host_name() -> None:
    twins = [pool("b", name) for name in ("z", "m", "a")] + [pool("a", "q")]
    found = explain(twins, request(1))
    assert [v.pool.host for v in found.pools] == [
        "basalt@a#q",
        "basalt@b#a",
        "basalt@b#m",
        "basalt@b#z",
    ]
    assert [v.rank for v in found.pools] == [1, 2, 3, 4]
    assert all(v.total == 0.0 for v in found.pools)


def test_only_pools_that_passed_set_the_scale() -> None:
    huge_but_disabled = pool("z", free=100000, total=200000, enabled=False)
    found = scores(FREE_ONLY, pool("a", free=100), pool("b", free=200), huge_but_disabled)
    assert found == {"basalt@a#p1": (0.0,), "basalt@b#p1": (1.0,)}


def test_allocated_capacity_falls_back_to_provisioned() -> None:
    assert allocated_capacity_gib(pool(provisioned=70.0, allocated_capacity_gib=30.0)) == 30.0
    assert allocated_capacity_gib(pool(provisioned=70.0)) == 70.0


def test_a_weigher_without_spread_adds_nothing() -> None:
    assert total_score((5.0, 9.0), (5.0, 1.0), (0.0, 8.0), (3.0, -1.0)) == -1.0


def test_a_zero_multiplier_shows_the_score_without_counting_it() -> None:
    settings = SchedulerSettings(weighers={"free_capacity": 0.0, "volume_count": -1.0})
    pools = [pool("a", free=900, volume_count=5), pool("b", free=100, volume_count=1)]
    found = explain(pools, request(1), settings)
    assert found.chosen is not None and found.chosen.pool.backend == "b"
    free = {v.pool.backend: v.scores[0] for v in found.pools}
    assert (free["a"].normalised, free["a"].weighted) == (1.0, 0.0)
