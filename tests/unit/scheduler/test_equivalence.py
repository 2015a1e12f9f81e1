"""Property: the fast path decides exactly as the full evaluation, placement after
placement, for random pools, requests and settings.

Pools vary in capacity (thick and thin, reserved space, over-subscription, full
ones), zone, backend, enabled/up, volume count and capabilities (missing ones,
text and boolean flags, numbers as text, lists); requests in size, extra specs
drawn from a catalogue using every operator (malformed and other-scope specs
too), zone and affinity hints; settings in which filters run in what order and
each weigher's multiplier (positive, negative, zero). After every decision the
chosen pool takes the volume on both sides, and now and then a pool changes
(disabled, resized) on both sides. At each step both paths must choose the same
pool with the same total, or both refuse with the same message.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from basalt.errors import NoValidBackendError
from basalt.service.scheduler import (
    Decision,
    PoolCandidate,
    Scheduler,
    ScheduleRequest,
    SchedulerSettings,
    consume,
    schedule,
)
from basalt.service.scheduler.settings import DEFAULT_FILTERS

BACKENDS = ("a", "b", "c", "d")
ZONES = ("az1", "az2")
SPEC_CATALOGUE = (
    ("volume_backend_name", "gold"),
    ("volume_backend_name", "<or> gold <or> bronze"),
    ("capabilities:volume_backend_name", "s!= silver"),
    ("multiattach", "<is> True"),
    ("multiattach", "<is> false"),
    ("max_iops", "= 1000"),
    ("max_iops", "== 5000"),
    ("max_iops", "!= 5000"),
    ("max_iops", ">= 2000"),
    ("max_iops", "<= 2000"),
    ("driver_version", "s== 2.0"),
    ("driver_version", "s< 2.0"),
    ("driver_version", "s<= 2.0"),
    ("driver_version", "s> 1.5"),
    ("driver_version", "s>= 10"),
    ("storage_protocol", "<in> SCSI"),
    ("storage_protocol", "iSCSI"),
    ("compression", "<all-in> lz4 zstd"),
    ("compression", "<in> lz4"),
    ("capabilities:tier:media", "ssd"),
    ("qos:maxIOPS", "500"),
    ("RESKEY:availability_zones", "az1"),
    ("multiattach", "<is> maybe"),
    ("max_iops", ">= lots"),
)


def optional(values: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.none(), values)


capabilities = st.fixed_dictionaries(
    {
        "volume_backend_name": optional(st.sampled_from(["gold", "silver", "bronze"])),
        "multiattach": optional(st.sampled_from([True, False, "True", "false", "maybe"])),
        "max_iops": optional(st.sampled_from([500, 1000, 2000, 5000, "5000", "lots"])),
        "driver_version": optional(st.sampled_from(["1.5", "2.0", "2.1", "10.0"])),
        "storage_protocol": optional(st.sampled_from(["iSCSI", "FC", "iSCSI/FC"])),
        "compression": optional(st.sampled_from([["lz4"], ["lz4", "zstd"], [], "lz4 zstd"])),
        "tier": optional(st.sampled_from([{"media": "ssd"}, {"media": "hdd"}, "ssd"])),
    }
).map(lambda found: {k: v for k, v in found.items() if v is not None})

gib = st.one_of(
    st.sampled_from([0.0, 1.0, 100.0, 1000.0, 5000.0]),
    st.floats(min_value=0.0, max_value=20000.0, allow_nan=False),
)


@st.composite
def candidates(draw: st.DrawFn) -> PoolCandidate:
    total = draw(st.sampled_from([100.0, 1000.0, 5000.0]) | st.floats(1.0, 20000.0))
    return PoolCandidate(
        backend=draw(st.sampled_from(BACKENDS)),
        pool=draw(st.sampled_from(["p0", "p1", "p2", "p3", "p4", "p5"])),
        availability_zone=draw(st.sampled_from(ZONES)),
        total_capacity_gib=total,
        free_capacity_gib=total * draw(st.sampled_from([0.0, 0.01, 0.5, 1.0]) | st.floats(0, 1)),
        provisioned_capacity_gib=draw(gib),
        allocated_capacity_gib=draw(optional(gib)),  # type: ignore[arg-type]
        max_over_subscription_ratio=draw(st.sampled_from([1.0, 1.5, 20.0])),
        reserved_percentage=draw(st.sampled_from([0, 5, 50])),
        thin_provisioning=draw(st.booleans()),
        enabled=draw(st.sampled_from([True, True, True, False])),
        up=draw(st.sampled_from([True, True, True, False])),
        volume_count=draw(st.integers(0, 5)),
        capabilities=draw(capabilities),
    )


backend_sets = st.one_of(
    st.just(frozenset()), st.frozensets(st.sampled_from(BACKENDS), min_size=1, max_size=2)
)
requests = st.builds(
    ScheduleRequest,
    size_gib=st.sampled_from([1, 2, 5, 10, 100, 1000, 5000, 20000]),
    extra_specs=st.lists(st.sampled_from(SPEC_CATALOGUE), max_size=3).map(dict),
    availability_zone=st.sampled_from([None, None, "az1", "az2", "az3"]),
    same_backend_as=st.one_of(st.just(frozenset()), st.just(frozenset()), backend_sets),
    different_backend_from=st.one_of(st.just(frozenset()), st.just(frozenset()), backend_sets),
)
multipliers = st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])


@st.composite
def scheduler_settings(draw: st.DrawFn) -> SchedulerSettings:
    if draw(st.booleans()):
        return SchedulerSettings()
    others = draw(st.permutations([f for f in DEFAULT_FILTERS if f != "enabled"]))
    kept = others[: draw(st.integers(0, len(others)))]
    filters = list(kept)
    filters.insert(draw(st.integers(0, len(kept))), "enabled")
    weighers = draw(
        st.dictionaries(
            st.sampled_from(["free_capacity", "allocated_capacity", "volume_count"]), multipliers
        )
    )
    return SchedulerSettings(filters=tuple(filters), weighers=weighers)


Step = tuple[str, ScheduleRequest, int, float]
steps = st.lists(
    st.tuples(
        st.sampled_from(["place"] * 8 + ["disable", "resize"]),
        requests,
        st.integers(0, 1000),
        st.sampled_from([0.0, 10.0, 3000.0]),
    ),
    min_size=1,
    max_size=25,
)


def outcome(decide: Callable[..., Decision], *args: object) -> tuple[object, ...]:
    try:
        decision = decide(*args)
    except NoValidBackendError as refused:
        return ("refused", refused.message)
    return ("chosen", decision.host, decision.score)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pools=st.lists(candidates(), max_size=18, unique_by=lambda p: p.host),
    chosen_settings=scheduler_settings(),
    sequence=steps,
)
def test_the_fast_path_decides_as_the_full_evaluation(
    pools: list[PoolCandidate], chosen_settings: SchedulerSettings, sequence: list[Step]
) -> None:
    scheduler = Scheduler(pools, chosen_settings)
    current = list(pools)
    for action, asked, which, free in sequence:
        if action != "place" and current:
            changed = _changed(current[which % len(current)], action, free)
            scheduler.update(changed)
            current = [changed if p.host == changed.host else p for p in current]
            continue
        fast = outcome(scheduler.schedule, asked)
        full = outcome(schedule, current, asked, chosen_settings)
        assert fast == full
        if fast[0] == "chosen":
            scheduler.consume(str(fast[1]), asked.size_gib)
            current = [consume(p, asked.size_gib) if p.host == fast[1] else p for p in current]
    assert sorted(scheduler.pools, key=lambda p: p.host) == sorted(current, key=lambda p: p.host)


def _changed(pool: PoolCandidate, action: str, free: float) -> PoolCandidate:
    if action == "disable":
        return dataclasses.replace(pool, enabled=not pool.enabled)
    return dataclasses.replace(
        pool,
        total_capacity_gib=max(pool.total_capacity_gib, free),
        free_capacity_gib=free,
        volume_count=max(0, pool.volume_count - 1),
    )
