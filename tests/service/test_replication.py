"""Replication through the library: replicated types, shipments and lag, failover to the
secondary copies and back, freeze and thaw; every refusal leaves everything as it was."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import basalt
from basalt.config import Settings
from basalt.drivers.types import VolumeRef
from basalt.errors import (
    BackendFrozenError,
    ConfigError,
    FailoverStateError,
    NotSupportedError,
    NoValidBackendError,
    PermissionDeniedError,
    ReplicationNotConfiguredError,
    ReplicationTargetNotFoundError,
)
from basalt.model import VolumeStatus
from basalt.service.context import RequestContext

MIB = 1024**2
HOST = "basalt@file"
MEMBER = RequestContext(user_id="alice", project_id="basalt", roles=frozenset({"member"}))


def replicated_settings(root: Path, **extra: object) -> Settings:
    return Settings(
        data_dir=root / "data",
        backends=[
            {
                "name": "file",
                "pools": {"default": str(root / "primary")},
                "replication_targets": [
                    {"backend_id": "dr", "pools": {"default": str(root / "dr")}}
                ],
            },
            {"name": "plain", "pools": {"default": str(root / "plain")}},
        ],
        replication={"run": False},
        **extra,
    )


@pytest.fixture
def rb(tmp_path: Path) -> Iterator[basalt.Basalt]:
    with basalt.Basalt(replicated_settings(tmp_path)) as instance:
        instance.types.create("replicated", extra_specs={"replication_enabled": "<is> True"})
        yield instance


def write(path: Path, offset: int, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, data, offset)
    finally:
        os.close(fd)


def read(path: Path, offset: int, length: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length)


def primary_file(root: Path, volume_id: str) -> Path:
    return root / "primary" / "volumes" / f"{volume_id}.raw"


def secondary_file(root: Path, volume_id: str) -> Path:
    return root / "dr" / "volumes" / f"{volume_id}.raw"


def snapshot_of_state(b: basalt.Basalt) -> tuple[object, ...]:
    services = tuple(b.deployment.services())
    volumes = tuple((v.id, v.status, v.replication_status) for v in b.volumes.list())
    return services, volumes


def test_replicated_types_land_only_on_replicating_backends(rb: basalt.Basalt) -> None:
    volume = rb.volumes.create(size_gib=1, volume_type="replicated").wait(timeout=30)
    assert (volume.backend, volume.replication_status) == ("file", "enabled")
    with pytest.raises(NoValidBackendError):
        rb.volumes.create(size_gib=1, volume_type="replicated", pool="plain#default")
    plain = rb.volumes.create(size_gib=1, pool="plain#default").wait(timeout=30)
    assert rb.replication.volume_replication(plain.id) is None
    caps = rb.deployment.capabilities(HOST)
    assert caps.replication_targets == ("dr",)
    services = {s.host: s for s in rb.deployment.services()}
    assert services[HOST].replication_status == "enabled"
    assert services["basalt@plain"].replication_status == "disabled"


def test_shipments_record_bytes_and_lag_and_deletes_remove_the_copy(
    rb: basalt.Basalt, tmp_path: Path
) -> None:
    volume = rb.volumes.create(size_gib=1, volume_type="replicated").wait(timeout=30)
    before = rb.replication.volume_replication(volume.id)
    assert before is not None and before.last_sync_at is None and before.lag_seconds is None
    write(primary_file(tmp_path, volume.id), 0, b"x" * MIB)
    [first] = rb.replicator.run_once(force=True)
    assert first.full and first.bytes_shipped == MIB
    write(primary_file(tmp_path, volume.id), 8 * MIB, b"y" * 4096)
    [second] = rb.replicator.run_once(force=True)
    assert not second.full and 4096 <= second.bytes_shipped <= MIB
    status = rb.replication.volume_replication(volume.id, ctx=MEMBER)
    assert status is not None and status.syncs == 2 and status.error is None
    assert status.lag_seconds is not None and status.lag_seconds < 30
    assert status.bytes_shipped_total == MIB + second.bytes_shipped
    assert read(secondary_file(tmp_path, volume.id), 8 * MIB, 4096) == b"y" * 4096
    assert rb.replicator.run_once() == []  # not due again within the interval
    rb.volumes.delete(volume.id).wait(timeout=30)
    assert not secondary_file(tmp_path, volume.id).exists()
    assert rb.replication.replications(HOST) == []


def test_failover_serves_the_last_replication_and_failback_brings_changes_home(
    rb: basalt.Basalt, tmp_path: Path
) -> None:
    kept = rb.volumes.create(size_gib=1, volume_type="replicated").wait(timeout=30)
    plain = rb.volumes.create(size_gib=1, pool="file#default").wait(timeout=30)
    write(primary_file(tmp_path, kept.id), 0, b"before the sync")
    rb.replicator.run_once(force=True)
    write(primary_file(tmp_path, kept.id), MIB, b"after the sync: lost")
    handle = rb.replication.failover(HOST, "dr")
    record = handle.wait(timeout=30)
    assert (record.replication_status, record.active_backend_id) == ("failed-over", "dr")
    operation = handle.operation
    assert operation.kind == "failover_backend" and operation.phase == "succeeded"
    assert rb.volumes.get(kept.id).replication_status == "failed-over"
    assert rb.volumes.get(plain.id).status == VolumeStatus.ERROR
    served = rb.pools.driver("file").data_path(VolumeRef(kept.id, 1, "default"))  # type: ignore[attr-defined]
    assert served == secondary_file(tmp_path, kept.id)
    assert read(served, 0, 15) == b"before the sync"
    assert read(served, MIB, 20) == bytes(20)
    service = {s.host: s for s in rb.deployment.services()}[HOST]
    assert (service.replication_status, service.active_backend_id) == ("failed-over", "dr")
    write(served, 2 * MIB, b"written while failed over")
    assert rb.replicator.run_once(force=True) == []  # nothing ships while failed over
    back = rb.replication.failover(HOST, "default").wait(timeout=30)
    assert (back.replication_status, back.active_backend_id) == (None, None)
    assert read(primary_file(tmp_path, kept.id), 2 * MIB, 25) == b"written while failed over"
    assert rb.volumes.get(kept.id).replication_status == "enabled"
    assert rb.volumes.get(plain.id).status == VolumeStatus.AVAILABLE
    [shipped] = rb.replicator.run_once(force=True, backend="file")
    assert shipped.bytes_shipped == 0  # the copies are equal after the failback


def test_bad_failovers_are_refused_and_change_nothing(rb: basalt.Basalt) -> None:
    rb.volumes.create(size_gib=1, volume_type="replicated").wait(timeout=30)
    before = snapshot_of_state(rb)
    with pytest.raises(ReplicationTargetNotFoundError, match="'elsewhere'"):
        rb.replication.failover(HOST, "elsewhere")
    with pytest.raises(FailoverStateError, match="not failed over"):
        rb.replication.failover(HOST, "default")
    with pytest.raises(ReplicationNotConfiguredError):
        rb.replication.failover("basalt@plain", "dr")
    with pytest.raises(PermissionDeniedError):
        rb.replication.failover(HOST, "dr", ctx=MEMBER)
    rb.replication.freeze(HOST)
    with pytest.raises(BackendFrozenError, match="frozen"):
        rb.replication.failover(HOST, "dr")
    rb.replication.thaw(HOST)
    assert snapshot_of_state(rb)[1] == before[1]
    assert {s.host: s for s in rb.deployment.services()}[HOST].replication_status == "enabled"
    rb.replication.failover(HOST, "dr").wait(timeout=30)
    after_one = snapshot_of_state(rb)
    with pytest.raises(FailoverStateError, match="already"):
        rb.replication.failover(HOST, "dr")
    with pytest.raises(FailoverStateError, match="already"):
        rb.replication.failover(HOST)
    assert snapshot_of_state(rb)[1] == after_one[1]


def test_a_frozen_backend_refuses_control_plane_changes_but_not_attach(
    rb: basalt.Basalt,
) -> None:
    volume = rb.volumes.create(size_gib=1, volume_type="replicated").wait(timeout=30)
    snapshot = rb.snapshots.create(volume.id).wait(timeout=30)
    frozen = rb.replication.freeze(HOST)
    assert frozen.frozen
    assert {s.host: s for s in rb.deployment.services()}[HOST].frozen
    refusals = [
        lambda: rb.volumes.create(size_gib=1, pool="file#default"),
        lambda: rb.volumes.extend(volume.id, 2),
        lambda: rb.volumes.delete(volume.id, cascade=True),
        lambda: rb.snapshots.create(volume.id),
        lambda: rb.snapshots.delete(snapshot.id),
        lambda: rb.volumes.clone(volume.id),
        lambda: rb.volumes.migrate(volume.id, "plain#default"),
    ]
    for refused in refusals:
        with pytest.raises(BackendFrozenError):
            refused()
    assert rb.volumes.get(volume.id).size_gib == 1
    assert rb.volumes.create(size_gib=1, pool="plain#default").wait(timeout=30)
    rb.volumes.update(volume.id, name="still renamable")
    rb.replication.thaw(HOST)
    assert rb.volumes.extend(volume.id, 2).wait(timeout=30).size_gib == 2


def test_frozen_and_failed_over_survive_a_restart(tmp_path: Path) -> None:
    settings = replicated_settings(tmp_path)
    with basalt.Basalt(settings) as first:
        first.types.create("replicated", extra_specs={"replication_enabled": "<is> True"})
        volume = first.volumes.create(size_gib=1, volume_type="replicated").wait(timeout=30)
        write(primary_file(tmp_path, volume.id), 0, b"shipped")
        first.replicator.run_once(force=True)
        first.replication.failover(HOST, "dr").wait(timeout=30)
        first.replication.freeze(HOST)
    with basalt.Basalt(settings) as second:
        service = {s.host: s for s in second.deployment.services()}[HOST]
        assert (service.active_backend_id, service.frozen) == ("dr", True)
        assert second.volumes.get(volume.id).status == VolumeStatus.AVAILABLE
        with pytest.raises(BackendFrozenError):
            second.volumes.extend(volume.id, 2)
        assert second.last_reconcile is not None and not second.last_reconcile.lost_objects


def test_settings_refuse_a_target_without_every_pool(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="missing"):
        Settings(
            data_dir=tmp_path,
            backends=[
                {
                    "name": "file",
                    "pools": {"a": str(tmp_path / "a"), "b": str(tmp_path / "b")},
                    "replication_targets": [{"backend_id": "dr", "pools": {"a": "/x"}}],
                }
            ],
        )
    with pytest.raises(ValueError, match="pool itself"):
        Settings(
            data_dir=tmp_path,
            backends=[
                {
                    "name": "file",
                    "pools": {"a": str(tmp_path / "a")},
                    "replication_targets": [
                        {"backend_id": "dr", "pools": {"a": str(tmp_path / "a")}}
                    ],
                }
            ],
        )
    with pytest.raises(ValueError, match="greater than 0"):
        Settings(
            data_dir=tmp_path,
            backends=[
                {
                    "name": "file",
                    "replication_targets": [
                        {"backend_id": "dr", "pools": {"default": "/x"}, "interval_seconds": 0}
                    ],
                }
            ],
        )
    with pytest.raises(ConfigError, match="missing"):
        _ = Settings(
            data_dir=tmp_path,
            backends=[
                {
                    "name": "file",
                    "replication_targets": [{"backend_id": "dr", "pools": {"x": "/x"}}],
                }
            ],
        ).resolved_backends


def test_settings_refuse_a_target_of_the_wrong_kind(tmp_path: Path) -> None:
    element = {"url": "https://dr.test", "login": "admin", "password": "admin"}
    with pytest.raises(ValueError, match="a file backend's target names a secondary directory"):
        Settings(
            data_dir=tmp_path,
            backends=[
                {
                    "name": "file",
                    "replication_targets": [{"backend_id": "dr", "solidfire": element}],
                }
            ],
        )
    with pytest.raises(ValueError, match="a solidfire backend's target names another cluster"):
        Settings(
            data_dir=tmp_path,
            backends=[
                {
                    "name": "sf",
                    "driver": "solidfire",
                    "solidfire": element,
                    "replication_targets": [{"backend_id": "dr", "pools": {"default": "/x"}}],
                }
            ],
        )


def test_backends_without_replication_say_so(tmp_path: Path) -> None:
    with basalt.open(data_dir=tmp_path / "data") as b:
        with pytest.raises(ReplicationNotConfiguredError, match="backend file"):
            b.replication.freeze(HOST)
        with pytest.raises(ReplicationNotConfiguredError):
            b.replication.failover(HOST, "dr")
    assert NotSupportedError  # the SolidFire driver answers this (tests/api)


def test_a_volume_made_while_failed_over_keeps_its_data_after_failback(
    rb: basalt.Basalt, tmp_path: Path
) -> None:
    rb.volumes.create(size_gib=1, volume_type="replicated").wait(timeout=30)
    rb.replicator.run_once(force=True)
    rb.replication.failover(HOST, "dr").wait(timeout=30)
    made = rb.volumes.create(size_gib=1, pool="file#default").wait(timeout=30)
    assert secondary_file(tmp_path, made.id).is_file()  # new volumes go to the secondary
    write(secondary_file(tmp_path, made.id), 0, b"made while failed over")
    rb.replication.failover(HOST, "default").wait(timeout=30)
    assert read(primary_file(tmp_path, made.id), 0, 22) == b"made while failed over"
    assert rb.volumes.get(made.id).status == VolumeStatus.AVAILABLE


def test_retype_in_place_starts_and_stops_replication(rb: basalt.Basalt, tmp_path: Path) -> None:
    rb.types.create("plain")
    volume = rb.volumes.create(size_gib=1, volume_type="plain", pool="file#default").wait(
        timeout=30
    )
    assert rb.replication.volume_replication(volume.id) is None
    write(primary_file(tmp_path, volume.id), 0, b"replicated once retyped")
    retyped = rb.volumes.retype(volume.id, "replicated").wait(timeout=30)
    assert retyped.replication_status == "enabled"
    [shipped] = rb.replicator.run_once(force=True)
    assert shipped.volume_id == volume.id and shipped.full
    assert read(secondary_file(tmp_path, volume.id), 0, 23) == b"replicated once retyped"

    plain = rb.volumes.retype(volume.id, "plain").wait(timeout=30)
    assert plain.replication_status == "disabled"
    assert rb.replication.volume_replication(volume.id) is None
    assert not secondary_file(tmp_path, volume.id).exists()
    assert rb.replicator.run_once(force=True) == []


def test_a_migrated_volume_is_replicated_from_its_new_pool_and_its_old_copy_goes(
    tmp_path: Path,
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        backends=[
            {
                "name": "file",
                "pools": {"a": str(tmp_path / "a"), "b": str(tmp_path / "b")},
                "replication_targets": [
                    {
                        "backend_id": "dr",
                        "pools": {"a": str(tmp_path / "dr-a"), "b": str(tmp_path / "dr-b")},
                    }
                ],
            },
            {"name": "plain", "pools": {"default": str(tmp_path / "plain")}},
        ],
        replication={"run": False},
    )
    with basalt.Basalt(settings) as b:
        b.types.create("replicated", extra_specs={"replication_enabled": "<is> True"})
        b.types.create("on-plain", extra_specs={"volume_backend_name": "plain"})
        volume = b.volumes.create(size_gib=1, volume_type="replicated", pool="file#a").wait(
            timeout=30
        )
        write(tmp_path / "a" / "volumes" / f"{volume.id}.raw", 0, b"follows the volume")
        b.replicator.run_once(force=True)
        old_copy = tmp_path / "dr-a" / "volumes" / f"{volume.id}.raw"
        assert old_copy.is_file()

        moved = b.volumes.migrate(volume.id, "file#b").wait(timeout=30)
        assert (moved.pool, moved.replication_status) == ("b", "enabled")
        assert not old_copy.exists()
        [shipped] = b.replicator.run_once(force=True)
        assert shipped.full
        new_copy = tmp_path / "dr-b" / "volumes" / f"{volume.id}.raw"
        assert read(new_copy, 0, 18) == b"follows the volume"

        elsewhere = b.volumes.retype(volume.id, "on-plain", migration_policy="on-demand")
        gone = elsewhere.wait(timeout=30)
        assert (gone.backend, gone.replication_status) == ("plain", "disabled")
        assert not new_copy.exists()
        assert b.replication.volume_replication(volume.id) is None
