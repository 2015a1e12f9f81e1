"""A 200-operation workload on a faulty SolidFire cluster leaves exactly what the database says.

Basalt is opened on an emulated Element cluster (in-process transport) with a small
retry budget. About 20% of calls are answered with a retryable Element error (a
seeded draw over the retryable names of VENDORS.md), about 5% lose their
connection, and two CreateVolume calls run but get no answer (read timeouts). A
seeded mix of creates, snapshots, clones, volumes from snapshots, extends and
deletes runs through the library, waiting for each. Every operation either
succeeds or fails with a BasaltError; at least 90% must succeed. Then the faults
are cleared and the cluster is compared with the database: Basalt's volumes and
snapshots each exist once (those left in error may exist or not, but nothing
else carries Basalt's names), one account per project, no access groups, no
deleted-but-unpurged volumes.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import SecretStr

import basalt
from basalt.config import BackendSettings, QuotaSettings, SolidFireSettings
from basalt.errors import BasaltError
from basalt.model import SnapshotStatus, VolumeStatus
from basalt.service.context import RequestContext
from basalt_emulators.core.faults import FaultRule
from basalt_emulators.solidfire import SolidFireBackend, SolidFireTransport

WAIT = 30
OPERATIONS = 200
ERROR_RATE = 0.20
DROP_RATE = 0.05
# Retryable names of VENDORS.md section 1; each rule fires independently, so the
# per-rule probability is chosen for a combined 20% of calls answered with one.
RETRYABLE = ("xDBVersionMismatch", "xNotReadyForIO", "xDBConnectionLoss", "xDBOperationTimeout")
PER_NAME = 1 - (1 - ERROR_RATE) ** (1 / len(RETRYABLE))
PROJECTS = ("tenant-a", "tenant-b", "tenant-c")
ACCOUNT_PREFIX = "basalt-"
ERROR_VOLUME = {VolumeStatus.ERROR, VolumeStatus.ERROR_DELETING}
ERROR_SNAPSHOT = {SnapshotStatus.ERROR, SnapshotStatus.ERROR_DELETING}


def context(project: str) -> RequestContext:
    return RequestContext(user_id="u", project_id=project, roles=frozenset({"member"}))


def open_basalt(tmp_path: Path, backend: SolidFireBackend) -> basalt.Basalt:
    solidfire = SolidFireSettings(
        url="https://sf.test",
        login="admin",
        password=SecretStr("admin"),
        transport=SolidFireTransport(backend),
        retry_attempts=10,
        retry_total_seconds=3.0,
        retry_initial_delay_seconds=0.001,
        poll_interval_seconds=0.01,
        create_settle_seconds=0.05,
    )
    settings = basalt.Settings(
        data_dir=tmp_path / "data",
        backends=[BackendSettings(name="sf", driver="solidfire", solidfire=solidfire)],
        # The random workload may hold more than the default 10 volumes of one project;
        # a refusal by quota is not the faults this test is about.
        quotas=QuotaSettings(volumes=-1, snapshots=-1, gigabytes=-1),
    )
    return basalt.open(settings)


@pytest.fixture
def backend(tmp_path: Path) -> SolidFireBackend:
    return SolidFireBackend(tmp_path / "cluster")


@pytest.fixture
def b(tmp_path: Path, backend: SolidFireBackend) -> Iterator[basalt.Basalt]:
    with open_basalt(tmp_path, backend) as instance:
        yield instance


def arm_faults(backend: SolidFireBackend) -> list[FaultRule]:
    """Arm the faults; returns the two CreateVolume read-timeout rules."""
    for index, name in enumerate(RETRYABLE):
        backend.faults.inject(name, probability=PER_NAME, seed=100 + index)
    backend.faults.drop_connection(probability=DROP_RATE, seed=200)
    return [
        backend.faults.read_timeout(method="CreateVolume", on_call=4),
        backend.faults.read_timeout(method="CreateVolume", on_call=17),
    ]


@dataclass
class Workload:
    """Picks and runs one operation at a time on what exists, counting outcomes."""

    b: basalt.Basalt
    rng: random.Random
    succeeded: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def available_volumes(self) -> list[basalt.Volume]:
        volumes = self.b.volumes.list(all_projects=True)
        return sorted(
            (v for v in volumes if v.status == VolumeStatus.AVAILABLE), key=lambda v: v.id
        )

    def available_snapshots(self) -> list[basalt.Snapshot]:
        snapshots = self.b.snapshots.list(all_projects=True)
        return sorted(
            (s for s in snapshots if s.status == SnapshotStatus.AVAILABLE), key=lambda s: s.id
        )

    def step(self) -> None:
        volumes = self.available_volumes()
        snapshots = self.available_snapshots()
        kinds = ["create"] * 3
        if volumes:
            kinds += ["snapshot"] * 3 + ["clone"] * 2 + ["extend"] * 2 + ["delete_volume"] * 2
        if snapshots:
            kinds += ["from_snapshot"] * 2 + ["delete_snapshot"] * 2
        kind = self.rng.choice(kinds)
        action = self._action(kind, volumes, snapshots)
        try:
            action()
        except BasaltError as exc:
            self.failed[kind] += 1
            self.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
        else:
            self.succeeded[kind] += 1

    def _action(
        self, kind: str, volumes: list[basalt.Volume], snapshots: list[basalt.Snapshot]
    ) -> Callable[[], object]:
        rng, b = self.rng, self.b
        if kind == "create":
            ctx = context(rng.choice(PROJECTS))
            size = rng.randint(1, 2)
            return lambda: b.volumes.create(size_gib=size, ctx=ctx).wait(timeout=WAIT)
        if kind == "from_snapshot":
            snap = rng.choice(snapshots)
            ctx = context(snap.project_id)
            size = snap.size_gib + rng.randint(0, 1)
            return lambda: b.volumes.create(size_gib=size, snapshot_id=snap.id, ctx=ctx).wait(
                timeout=WAIT
            )
        if kind == "delete_snapshot":
            snap = rng.choice(snapshots)
            return lambda: b.snapshots.delete(snap.id).wait(timeout=WAIT)
        volume = rng.choice(volumes)
        ctx = context(volume.project_id)
        if kind == "snapshot":
            return lambda: b.snapshots.create(volume.id, ctx=ctx).wait(timeout=WAIT)
        if kind == "clone":
            size = volume.size_gib + rng.randint(0, 1)
            return lambda: b.volumes.create(
                size_gib=size, source_volume_id=volume.id, ctx=ctx
            ).wait(timeout=WAIT)
        if kind == "extend":
            size = volume.size_gib + 1
            return lambda: b.volumes.extend(volume.id, size).wait(timeout=WAIT)
        assert kind == "delete_volume"
        return lambda: b.volumes.delete(volume.id, cascade=True).wait(timeout=WAIT)


def claimed(volume: dict[str, object]) -> str:
    attributes = volume["attributes"]
    assert isinstance(attributes, dict)
    name = attributes.get("basalt-name", volume["name"])
    assert isinstance(name, str)
    return name


def test_a_faulty_workload_leaves_exactly_what_the_database_says(
    backend: SolidFireBackend, b: basalt.Basalt
) -> None:
    timeouts = arm_faults(backend)
    work = Workload(b, random.Random(20260517))
    for _ in range(OPERATIONS):
        work.step()
    injected = sum(rule.fired for rule in backend.faults.rules)
    backend.faults.clear()

    total_ok = sum(work.succeeded.values())
    total_failed = sum(work.failed.values())
    assert total_ok + total_failed == OPERATIONS
    assert [rule.fired for rule in timeouts] == [1, 1]
    assert injected > 0.1 * sum(backend.call_counts.values()), "the faults did not fire"
    assert total_ok >= 0.9 * OPERATIONS, (work.succeeded, work.failed, work.errors)

    volumes = b.volumes.list(all_projects=True)
    snapshots = b.snapshots.list(all_projects=True)
    settled_volume = ERROR_VOLUME | {VolumeStatus.AVAILABLE, VolumeStatus.ERROR_EXTENDING}
    assert not [v for v in volumes if v.status not in settled_volume]
    assert not [s for s in snapshots if s.status not in ERROR_SNAPSHOT | {SnapshotStatus.AVAILABLE}]

    # Volumes: every good one exists exactly once; one left in error may or may not.
    on_cluster = Counter(claimed(v) for v in backend.active_volumes())
    must = {f"UUID-{v.id}" for v in volumes if v.status not in ERROR_VOLUME}
    may = {f"UUID-{v.id}" for v in volumes if v.status in ERROR_VOLUME}
    assert must <= set(on_cluster), sorted(must - set(on_cluster))
    assert set(on_cluster) <= must | may, sorted(set(on_cluster) - must - may)
    assert not [n for n, count in on_cluster.items() if count > 1]

    # Snapshots likewise.
    snap_names = Counter(s["name"] for s in backend.snapshots())
    must_snaps = {f"UUID-{s.id}" for s in snapshots if s.status not in ERROR_SNAPSHOT}
    may_snaps = {f"UUID-{s.id}" for s in snapshots if s.status in ERROR_SNAPSHOT}
    assert must_snaps <= set(snap_names), sorted(must_snaps - set(snap_names))
    assert set(snap_names) <= must_snaps | may_snaps, sorted(
        set(snap_names) - must_snaps - may_snaps
    )
    assert not [n for n, count in snap_names.items() if count > 1]

    # One account per project that has volumes (accounts are kept, as the seed's driver does).
    usernames = Counter(a["username"] for a in backend.accounts())
    assert not [u for u, count in usernames.items() if count > 1]
    assert {ACCOUNT_PREFIX + v.project_id for v in volumes} <= set(usernames)
    assert set(usernames) <= {ACCOUNT_PREFIX + p for p in PROJECTS}
    assert not backend.access_groups()
    assert not backend.deleted_volumes()

    # Whatever was left in error can be removed once the cluster is healthy again,
    # after which the cluster and the database agree exactly.
    for snap in (s for s in snapshots if s.status in ERROR_SNAPSHOT):
        b.snapshots.delete(snap.id).wait(timeout=WAIT)
    for volume in (v for v in volumes if v.status != VolumeStatus.AVAILABLE):
        b.volumes.delete(volume.id, cascade=True).wait(timeout=WAIT)
    volumes = b.volumes.list(all_projects=True)
    snapshots = b.snapshots.list(all_projects=True)
    assert all(v.status == VolumeStatus.AVAILABLE for v in volumes)
    assert sorted(claimed(v) for v in backend.active_volumes()) == sorted(
        f"UUID-{v.id}" for v in volumes
    )
    assert sorted(s["name"] for s in backend.snapshots()) == sorted(
        f"UUID-{s.id}" for s in snapshots
    )
    assert not backend.deleted_volumes()
