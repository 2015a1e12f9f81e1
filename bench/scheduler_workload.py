"""The scheduler benchmark's deployment and requests (bench/scheduler.py).

1,000 pools: 25 backends of 40 pools, six vendors with their protocols, driver
versions and features, five zones, four tiers; capacities, ratios, reservations
and volume counts drawn per pool. One backend is disabled and one is down.
Requests come from eight volume types whose extra specs use every operator, with
mixed sizes, zones where the type has pools, and affinity hints.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from basalt.service.scheduler import PoolCandidate, ScheduleRequest, compile_extra_specs

BACKENDS = 25
POOLS_PER_BACKEND = 40
ZONES = ("az1", "az2", "az3", "az4", "az5")
TIERS = ("gold", "silver", "bronze", "archive")
VENDORS = (  # vendor_name, storage_protocol, driver versions, QoS, multiattach
    ("Basalt", "iSCSI", ("1.0.0", "1.1.0"), False, True),
    ("SolidFire", "iSCSI", ("2.0.1", "2.2.0"), True, True),
    ("Dell", "FC", ("4.1.0", "4.2.3"), True, False),
    ("Oracle", "iSCSI", ("1.0.2", "1.2.0"), False, False),
    ("Kaminario", "FC", ("1.4.0", "2.0.0"), True, True),
    ("IBM", "FC", ("2.1.0", "3.0.0"), True, True),
)
VOLUME_TYPES: tuple[tuple[str, float, dict[str, str]], ...] = (
    ("default", 0.25, {}),
    ("gold", 0.15, {"volume_backend_name": "gold"}),
    (
        "silver-thin",
        0.12,
        {
            "volume_backend_name": "silver",
            "capabilities:thin_provisioning_support": "<is> True",
            "qos:maxIOPS": "5000",
        },
    ),
    ("shared-iscsi", 0.1, {"multiattach": "<is> True", "storage_protocol": "<in> iSCSI"}),
    (
        "qos-vendors",
        0.1,
        {
            "capabilities:vendor_name": "<or> SolidFire <or> Kaminario <or> IBM",
            "QoS_support": "<is> true",
        },
    ),
    ("fast", 0.1, {"max_iops": ">= 150000", "driver_version": "s>= 2.0", "queue_depth": "= 64"}),
    (
        "compressed",
        0.1,
        {"compression": "<all-in> lz4 zstd", "RESKEY:availability_zones": "az1", "sf:tier": "2"},
    ),
    (
        "bronze-legacy",
        0.08,
        {
            "volume_backend_name": "s!= gold",
            "driver_version": "s< 4.0",
            "capabilities:max_over_subscription_ratio": "<= 20",
            "replication_count": "== 0",
            "dedupe": "!= 1",
            "vendor_name": "s> B",
        },
    ),
)
SIZES: tuple[tuple[int, float], ...] = (
    (1, 0.2),
    (5, 0.15),
    (10, 0.2),
    (20, 0.15),
    (50, 0.12),
    (100, 0.1),
    (200, 0.04),
    (500, 0.03),
    (1024, 0.01),
)


def make_pools(rng: random.Random) -> list[PoolCandidate]:
    """1,000 pools: capacities, ratios and counts drawn per pool, capabilities per backend."""
    pools = []
    for b in range(BACKENDS):
        vendor, protocol, versions, qos, multiattach = VENDORS[b % len(VENDORS)]
        backend_caps = {
            "volume_backend_name": TIERS[b % len(TIERS)],
            "vendor_name": vendor,
            "storage_protocol": protocol,
            "driver_version": versions[b % 2],
            "QoS_support": qos,
            "multiattach": multiattach,
            "max_iops": 50_000 * (1 + b % 5),
            "queue_depth": (32, 64, 128)[b % 3],
            "replication_count": b % 3,
            "dedupe": str(b % 2),
        }
        for p in range(POOLS_PER_BACKEND):
            pools.append(_pool(rng, f"backend{b:02d}", f"pool{p:02d}", b, backend_caps))
    return pools


def _pool(
    rng: random.Random, backend: str, name: str, b: int, caps: dict[str, object]
) -> PoolCandidate:
    thin = rng.random() < 0.7
    total = float(rng.choice((2048, 4096, 8192, 16384, 32768, 51200)))
    free = total * rng.uniform(0.02, 0.95)
    ratio = rng.choice((1.5, 2.0, 5.0, 10.0, 20.0)) if thin else 1.0
    used = total - free
    provisioned = used * (rng.uniform(1.0, ratio) if thin else 1.0)
    return PoolCandidate(
        backend=backend,
        pool=name,
        availability_zone=ZONES[b % len(ZONES)],
        total_capacity_gib=total,
        free_capacity_gib=free,
        provisioned_capacity_gib=provisioned,
        allocated_capacity_gib=None if rng.random() < 0.2 else provisioned * rng.uniform(0.5, 1),
        max_over_subscription_ratio=ratio,
        reserved_percentage=rng.choice((0, 0, 5, 10)),
        thin_provisioning=thin,
        enabled=b != 7,
        disabled_reason="maintenance" if b == 7 else None,
        up=b != 13,
        down_reason="stats report failed" if b == 13 else None,
        volume_count=rng.randrange(0, 800),
        capabilities={
            **caps,
            "pool_name": name,
            "thin_provisioning_support": thin,
            "thick_provisioning_support": not thin,
            "max_over_subscription_ratio": ratio,
            "compression": rng.choice((["lz4"], ["lz4", "zstd"], ["zstd", "gzip", "lz4"], [])),
        },
    )


def make_requests(
    rng: random.Random, count: int, pools: Sequence[PoolCandidate]
) -> list[ScheduleRequest]:
    """Requests over the volume types, sizes, zones and affinity hints, as users make
    them: a zone where the type has pools, a same-backend hint naming a backend that
    holds the type (where an earlier volume of it would be)."""
    homes = _homes(pools)
    type_weights = [w for _, w, _ in VOLUME_TYPES]
    sizes, size_weights = zip(*SIZES, strict=True)
    backends = [f"backend{b:02d}" for b in range(BACKENDS)]
    requests = []
    for _ in range(count):
        name, _, specs = rng.choices(VOLUME_TYPES, type_weights)[0]
        zone = rng.choice(sorted(homes[name])) if rng.random() < 0.3 else None
        hint = rng.random()
        near = (
            sorted(homes[name].get(zone, ()))
            if zone
            else sorted(set().union(*homes[name].values()))
        )
        requests.append(
            ScheduleRequest(
                size_gib=rng.choices(sizes, size_weights)[0],
                extra_specs=specs,
                availability_zone=zone,
                same_backend_as=frozenset([rng.choice(near)]) if hint < 0.05 else frozenset(),
                different_backend_from=(
                    frozenset(rng.sample(backends, 2)) if 0.05 <= hint < 0.1 else frozenset()
                ),
            )
        )
    return requests


def _homes(pools: Sequence[PoolCandidate]) -> dict[str, dict[str, set[str]]]:
    """Per volume type, per zone, the enabled backends with a pool matching its specs."""
    homes: dict[str, dict[str, set[str]]] = {}
    for name, _, specs in VOLUME_TYPES:
        compiled = compile_extra_specs(specs)
        where = homes.setdefault(name, {})
        for pool in pools:
            if pool.enabled and pool.up and compiled.matches(pool.capabilities):
                where.setdefault(pool.availability_zone, set()).add(pool.backend)
    return homes
