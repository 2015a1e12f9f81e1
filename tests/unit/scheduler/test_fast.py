"""The fast path: same decisions as the full evaluation, placements, updates, refusals."""

from __future__ import annotations

import dataclasses
import random

import pytest

from basalt.errors import BasaltUsageError, NoValidBackendError
from basalt.service.scheduler import (
    PoolCandidate,
    Scheduler,
    ScheduleRequest,
    SchedulerSettings,
    consume,
    explain,
    schedule,
)
from tests.unit.scheduler.factories import pool, request

GOLD = {"volume_backend_name": "gold"}


def deployment() -> list[PoolCandidate]:
    return [
        pool("gold1", "a", capabilities=GOLD, free=500, volume_count=3),
        pool("gold1", "b", capabilities=GOLD, free=900, volume_count=9),
        pool("gold2", "a", capabilities=GOLD, zone="az2", free=700),
        pool("silver", "a", capabilities={"volume_backend_name": "silver"}, free=999),
        pool("gold3", "a", capabilities=GOLD, enabled=False),
    ]


def test_a_decision_equals_the_full_evaluations_without_its_explanation() -> None:
    fast = Scheduler(deployment()).schedule(request(10, GOLD))
    full = schedule(deployment(), request(10, GOLD))
    assert (fast.host, fast.score) == (full.host, full.score)
    assert fast.explanation is None
    assert fast.request == request(10, GOLD)


def test_placing_counts_the_volume_and_moves_the_next_decision() -> None:
    scheduler = Scheduler(deployment(), SchedulerSettings(weighers={"free_capacity": 1.0}))
    first = scheduler.place(request(300, GOLD))
    assert first.host == "basalt@gold1#b"
    placed = next(p for p in scheduler.pools if p.host == first.host)
    assert placed == consume(first.pool, 300)
    assert scheduler.schedule(request(10, GOLD)).host == "basalt@gold2#a"


def test_consume_names_the_pool_by_host() -> None:
    scheduler = Scheduler(deployment())
    assert scheduler.consume("basalt@gold2#a", 5).free_capacity_gib == 695.0
    with pytest.raises(BasaltUsageError, match="no candidate pool basalt@nowhere#x"):
        scheduler.consume("basalt@nowhere#x", 5)


def test_updates_and_reloads_are_seen_by_the_next_decision() -> None:
    scheduler = Scheduler(deployment(), SchedulerSettings(weighers={"free_capacity": 1.0}))
    assert scheduler.schedule(request(10, GOLD)).host == "basalt@gold1#b"
    best = next(p for p in scheduler.pools if p.host == "basalt@gold1#b")
    scheduler.update(dataclasses.replace(best, enabled=False))
    assert scheduler.schedule(request(10, GOLD)).host == "basalt@gold2#a"
    scheduler.update(dataclasses.replace(best, enabled=True, free_capacity_gib=10.0))
    assert scheduler.schedule(request(5, GOLD)).host == "basalt@gold2#a"
    scheduler.reload([pool("gold9", "z", capabilities=GOLD)])
    assert scheduler.schedule(request(5, GOLD)).host == "basalt@gold9#z"
    with pytest.raises(BasaltUsageError):
        scheduler.update(pool("gold1", "a"))


def test_a_refusal_words_the_full_evaluations_message_and_explains_on_demand() -> None:
    scheduler = Scheduler(deployment())
    asked = request(950, GOLD, availability_zone="az1")
    with pytest.raises(NoValidBackendError) as fast:
        scheduler.schedule(asked)
    with pytest.raises(NoValidBackendError) as full:
        schedule(deployment(), asked)
    assert str(fast.value) == str(full.value)
    assert fast.value.message == (
        "no pool can take 950 GiB: 2 fail capacity, 1 fail enabled (disabled), "
        "1 fail availability_zone (zone az1), 1 fail capabilities (volume_backend_name=gold)"
    )
    scheduler.consume("basalt@gold1#b", 100)  # later placements do not change the refusal
    assert fast.value.explanation.as_dict() == full.value.explanation.as_dict()


def test_a_spec_that_is_not_text_is_refused_with_its_reason() -> None:
    asked = ScheduleRequest(size_gib=1, extra_specs={"tier": ["gold"]})  # type: ignore[dict-item]
    with pytest.raises(NoValidBackendError) as refused:
        Scheduler(deployment()).schedule(asked)
    assert "capabilities (tier=['gold'])" in refused.value.message
    reason = refused.value.explanation.pools[0].filters[4].reason
    assert reason == "tier=['gold']: malformed: a value must be text"


def test_no_weigher_at_all_picks_the_lowest_eligible_host() -> None:
    settings = SchedulerSettings(weighers={})
    scheduler = Scheduler(deployment(), settings)
    assert scheduler.schedule(request(600, GOLD)).host == "basalt@gold1#b"
    with pytest.raises(NoValidBackendError):
        scheduler.schedule(request(1000, GOLD))


def test_explain_evaluates_the_current_pools_in_full() -> None:
    scheduler = Scheduler(deployment())
    scheduler.consume("basalt@gold1#b", 850)
    assert scheduler.explain(request(10, GOLD)).as_dict() == (
        explain(scheduler.pools, request(10, GOLD)).as_dict()
    )


def random_deployment(rng: random.Random, count: int) -> list[PoolCandidate]:
    pools = []
    for i in range(count):
        thin = rng.random() < 0.6
        total = rng.choice([500.0, 1000.0, 4000.0, rng.uniform(100, 9000)])
        pools.append(
            pool(
                f"b{i % 7}",
                f"p{i}",
                zone=f"az{i % 7 % 3}",
                total=total,
                free=total * rng.uniform(0.0, 1.0),
                provisioned=total * rng.uniform(0.0, 3.0 if thin else 1.0),
                thin_provisioning=thin,
                max_over_subscription_ratio=rng.choice([1.0, 2.0, 20.0]),
                volume_count=rng.randrange(0, 40),
                allocated_capacity_gib=None if rng.random() < 0.3 else rng.uniform(0, total),
                capabilities={"volume_backend_name": rng.choice(["gold", "silver"])},
            )
        )
    return pools


def test_long_runs_of_placements_stay_equal_to_the_full_evaluation() -> None:
    """Hundreds of placements on 150 pools: references drift, signatures re-rank and
    stale pools are repaired, and every decision still equals the full evaluation's."""
    rng = random.Random(7)
    current = random_deployment(rng, 150)
    scheduler = Scheduler(current)
    for _ in range(400):
        asked = ScheduleRequest(
            size_gib=rng.choice([1, 5, 20, 100]),
            extra_specs=rng.choice([{}, {"volume_backend_name": "gold"}]),
            availability_zone=rng.choice([None, None, "az1"]),
            different_backend_from=frozenset({"b3"}) if rng.random() < 0.2 else frozenset(),
        )
        full = schedule(current, asked)
        fast = scheduler.schedule(asked)
        assert (fast.host, fast.score) == (full.host, full.score)
        scheduler.consume(fast.host, asked.size_gib)
        current = [consume(p, asked.size_gib) if p.host == fast.host else p for p in current]
    assert scheduler.stats.rescales > 0 and scheduler.stats.repairs > 0
    assert scheduler.stats.pools_scored < 400 * 150 / 10


def test_a_full_pool_that_gets_room_again_is_searched_again() -> None:
    """A pool that cannot take 1 GiB leaves the search; an update that gives it room
    must bring it back even when no weighed value of it changed."""
    settings = SchedulerSettings(weighers={"volume_count": -1.0})
    full = pool("a", "full", free=0.0, volume_count=0)
    scheduler = Scheduler([full, pool("b", "busy", volume_count=7)], settings)
    assert scheduler.schedule(request(10)).host == "basalt@b#busy"
    scheduler.update(dataclasses.replace(full, free_capacity_gib=500.0))
    assert scheduler.schedule(request(10)).host == "basalt@a#full"


def test_a_pool_filled_by_placements_leaves_the_search() -> None:
    scheduler = Scheduler([pool("a", "small", free=30.0), pool("b", "big", free=25.0)])
    assert scheduler.place(request(29)).host == "basalt@a#small"  # 1 GiB left
    assert scheduler.place(request(20)).host == "basalt@b#big"  # 5 GiB left
    with pytest.raises(NoValidBackendError, match="2 fail capacity"):
        scheduler.place(request(6))
    assert scheduler.place(request(5)).host == "basalt@b#big"  # full now
    assert scheduler.place(request(1)).host == "basalt@a#small"  # full now
    with pytest.raises(NoValidBackendError, match="2 fail capacity"):
        scheduler.place(request(1))
