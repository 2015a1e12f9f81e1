"""Replication of one group through the library: a replicated group starts disabled,
enable and disable gate its volumes' shipments, failover serves only its volumes from
their secondary copies while the rest of the backend stays home, failback brings the
changes home; every refusal leaves the group, its volumes and the files as they were."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import basalt
from basalt.drivers.types import VolumeRef
from basalt.errors import (
    BackendFrozenError,
    FailoverStateError,
    GroupMembershipError,
    GroupNotFoundError,
    GroupReplicationStateError,
    InvalidInputError,
    InvalidStateError,
    PermissionDeniedError,
    ReplicationTargetNotFoundError,
)
from basalt.model import Operation, OperationKind, OperationPhase, Volume
from basalt.model.group import Group
from basalt.model.states import GroupStatus
from basalt.service.clock import new_id, utcnow
from basalt.service.context import RequestContext
from basalt.service.journal import move_group
from tests.service.test_replication import (
    HOST,
    MIB,
    primary_file,
    read,
    replicated_settings,
    secondary_file,
    write,
)

OWNER = RequestContext(user_id="alice", project_id="basalt", roles=frozenset({"member"}))
STRANGER = RequestContext(user_id="eve", project_id="other", roles=frozenset({"member"}))
READER = RequestContext(user_id="rita", project_id="basalt", roles=frozenset({"reader"}))


def make_types(b: basalt.Basalt) -> None:
    """The volume types and group types every test here uses."""
    b.types.create("replicated", extra_specs={"replication_enabled": "<is> True"})
    b.types.create("plain")
    b.group_types.create(
        "replicated-group", group_specs={"consistent_group_replication_enabled": "<is> True"}
    )
    b.group_types.create("snapshots-only")


@pytest.fixture
def rb(tmp_path: Path) -> Iterator[basalt.Basalt]:
    with basalt.Basalt(replicated_settings(tmp_path)) as instance:
        make_types(instance)
        yield instance


def new_group(b: basalt.Basalt, members: int, *, group_type: str = "replicated-group") -> Group:
    group = b.groups.create(group_type=group_type, volume_types=["replicated", "plain"]).wait(
        timeout=30
    )
    for _ in range(members):
        b.volumes.create(size_gib=1, volume_type="replicated", group_id=group.id).wait(timeout=30)
    return b.groups.get(group.id)


def members(b: basalt.Basalt, group: Group) -> list[Volume]:
    return b.groups.volumes(group.id)


def served_path(b: basalt.Basalt, volume: Volume) -> Path:
    driver = b.pools.driver("file")
    return driver.data_path(VolumeRef(volume.id, volume.size_gib, volume.pool))  # type: ignore[attr-defined,no-any-return]


def state(b: basalt.Basalt, group: Group) -> tuple[object, ...]:
    seen = b.groups.get(group.id)
    volumes = tuple((v.id, v.status, v.replication_status) for v in members(b, group))
    return seen.status, seen.replication_status, seen.replication_target, volumes


def test_a_replicated_group_starts_disabled_and_enable_and_disable_gate_its_shipments(
    rb: basalt.Basalt, tmp_path: Path
) -> None:
    group = new_group(rb, 2)
    assert group.replication_status == "disabled"
    assert {v.replication_status for v in members(rb, group)} == {"disabled"}
    outside = rb.volumes.create(size_gib=1, volume_type="replicated").wait(timeout=30)
    shipped = rb.replicator.run_once(force=True)
    assert [s.volume_id for s in shipped] == [outside.id]  # the group's are not shipped

    enabled = rb.group_replication.enable(group.id, ctx=OWNER)
    assert enabled.replication_status == "enabled"
    assert {v.replication_status for v in members(rb, group)} == {"enabled"}
    first = members(rb, group)[0]
    write(primary_file(tmp_path, first.id), 0, b"shipped once enabled")
    shipped_ids = {s.volume_id for s in rb.replicator.run_once(force=True)}
    assert {v.id for v in members(rb, group)} <= shipped_ids
    assert read(secondary_file(tmp_path, first.id), 0, 20) == b"shipped once enabled"

    disabled = rb.group_replication.disable(group.id, ctx=OWNER)
    assert disabled.replication_status == "disabled"
    write(primary_file(tmp_path, first.id), 0, b"not shipped: disabled")
    assert {s.volume_id for s in rb.replicator.run_once(force=True)} == {outside.id}
    assert read(secondary_file(tmp_path, first.id), 0, 20) == b"shipped once enabled"
    assert rb.group_replication.enable(group.id).replication_status == "enabled"
    [again] = [s for s in rb.replicator.run_once(force=True) if s.volume_id == first.id]
    assert not again.full  # shipping resumed from the last shipped point
    assert read(secondary_file(tmp_path, first.id), 0, 21) == b"not shipped: disabled"


def test_volumes_take_the_groups_gate_when_they_join_and_their_own_when_they_leave(
    rb: basalt.Basalt,
) -> None:
    group = new_group(rb, 0)
    loose = rb.volumes.create(size_gib=1, volume_type="replicated").wait(timeout=30)
    assert loose.replication_status == "enabled"
    rb.groups.update(group.id, add_volumes=[loose.id])
    assert rb.volumes.get(loose.id).replication_status == "disabled"
    rb.groups.update(group.id, remove_volumes=[loose.id])
    assert rb.volumes.get(loose.id).replication_status == "enabled"


def test_failover_serves_only_the_groups_volumes_and_failback_brings_changes_home(
    rb: basalt.Basalt, tmp_path: Path
) -> None:
    group = new_group(rb, 2)
    rb.group_replication.enable(group.id)
    outside = rb.volumes.create(size_gib=1, volume_type="replicated").wait(timeout=30)
    plain = rb.volumes.create(size_gib=1, volume_type="plain", pool="file#default").wait(timeout=30)
    one, two = members(rb, group)
    for volume, text in ((one, b"one: shipped"), (two, b"two: shipped"), (outside, b"out")):
        write(primary_file(tmp_path, volume.id), 0, text)
    rb.replicator.run_once(force=True)
    write(primary_file(tmp_path, one.id), MIB, b"after the shipment: lost")

    handle = rb.group_replication.failover(group.id, "dr", ctx=OWNER)
    done = handle.wait(timeout=30)
    assert (done.status, done.replication_status, done.replication_target) == (
        "available",
        "failed-over",
        "dr",
    )
    assert handle.operation.kind == "failover_group" and handle.operation.phase == "succeeded"
    assert {v.replication_status for v in members(rb, group)} == {"failed-over"}
    assert served_path(rb, one) == secondary_file(tmp_path, one.id)
    assert read(served_path(rb, one), 0, 12) == b"one: shipped"
    assert read(served_path(rb, one), MIB, 24) == bytes(24)
    # The rest of the backend is untouched: served from the primary, still shipped.
    assert served_path(rb, outside) == primary_file(tmp_path, outside.id)
    assert rb.volumes.get(outside.id).replication_status == "enabled"
    assert rb.volumes.get(plain.id).status == "available"
    assert {s.host: s for s in rb.deployment.services()}[HOST].replication_status == "enabled"
    write(primary_file(tmp_path, outside.id), 0, b"OUT")
    assert {s.volume_id for s in rb.replicator.run_once(force=True)} == {outside.id}

    write(served_path(rb, two), 2 * MIB, b"written while failed over")
    with pytest.raises(GroupReplicationStateError, match="already"):
        rb.group_replication.failover(group.id, "dr")
    with pytest.raises(FailoverStateError, match=f"group {group.id}"):
        rb.replication.failover(HOST, "dr")  # the backend waits for the group
    with pytest.raises(GroupMembershipError, match="failed-over"):
        rb.volumes.create(size_gib=1, volume_type="replicated", group_id=group.id)
    moved_state = state(rb, group)
    with pytest.raises(InvalidStateError, match="failed-over"):
        rb.volumes.migrate(one.id, "plain#default")
    with pytest.raises(InvalidStateError, match="failed-over"):
        rb.manage.unmanage_volume(one.id)
    with pytest.raises(GroupReplicationStateError, match="failed-over"):
        rb.groups.update(group.id, remove_volumes=[one.id])
    assert state(rb, group) == moved_state

    back = rb.group_replication.failover(group.id, "default").wait(timeout=30)
    assert (back.replication_status, back.replication_target) == ("enabled", None)
    assert served_path(rb, two) == primary_file(tmp_path, two.id)
    assert read(primary_file(tmp_path, two.id), 2 * MIB, 25) == b"written while failed over"
    assert read(primary_file(tmp_path, one.id), MIB, 24) == bytes(24)  # the recovery point
    assert {v.replication_status for v in members(rb, group)} == {"enabled"}
    shipped = {s.volume_id: s for s in rb.replicator.run_once(force=True)}
    assert shipped[two.id].bytes_shipped == 0  # both copies equal after the failback


def test_deleting_a_failed_over_volume_leaves_no_file_behind(
    rb: basalt.Basalt, tmp_path: Path
) -> None:
    group = new_group(rb, 1)
    rb.group_replication.enable(group.id)
    rb.replicator.run_once(force=True)
    rb.group_replication.failover(group.id).wait(timeout=30)
    rb.groups.delete(group.id, delete_volumes=True).wait(timeout=30)
    assert list((tmp_path / "primary" / "volumes").glob("*.raw")) == []
    assert list((tmp_path / "dr" / "volumes").glob("*.raw")) == []


def test_bad_group_replication_requests_are_refused_and_change_nothing(
    rb: basalt.Basalt, tmp_path: Path
) -> None:
    group = new_group(rb, 1)
    before = state(rb, group)
    files = sorted(p.name for p in tmp_path.rglob("*.raw"))
    plain_group = new_group(rb, 0, group_type="snapshots-only")
    refusals: list[tuple[type[Exception], str, object]] = [
        (GroupReplicationStateError, "disabled", lambda: rb.group_replication.failover(group.id)),
        (
            ReplicationTargetNotFoundError,
            "'elsewhere'",
            lambda: rb.group_replication.failover(group.id, "elsewhere"),
        ),
        (
            GroupReplicationStateError,
            "not failed over",
            lambda: rb.group_replication.failover(group.id, "default"),
        ),
        (
            GroupReplicationStateError,
            "does not replicate groups",
            lambda: rb.group_replication.enable(plain_group.id),
        ),
        (GroupNotFoundError, group.id, lambda: rb.group_replication.enable(group.id, ctx=STRANGER)),
        (
            PermissionDeniedError,
            "enable_replication",
            lambda: rb.group_replication.enable(group.id, ctx=READER),
        ),
        (
            InvalidInputError,
            "allow_attached_volume",
            lambda: rb.group_replication.failover(group.id, allow_attached_volume="perhaps"),
        ),
    ]
    for error, text, call in refusals:
        with pytest.raises(error, match=text):
            call()  # type: ignore[operator]
    assert [t.backend_id for t in rb.group_replication.targets(group.id, ctx=READER)] == ["dr"]

    plain = rb.volumes.create(size_gib=1, volume_type="plain", pool="file#default").wait(timeout=30)
    rb.groups.update(group.id, add_volumes=[plain.id])
    with_plain = state(rb, group)
    with pytest.raises(GroupReplicationStateError, match=f"volume {plain.id} is not replicated"):
        rb.group_replication.enable(group.id)
    assert state(rb, group) == with_plain
    rb.groups.update(group.id, remove_volumes=[plain.id])

    rb.replication.freeze(HOST)
    with pytest.raises(BackendFrozenError):
        rb.group_replication.enable(group.id)
    rb.replication.thaw(HOST)
    assert state(rb, group) == before
    assert sorted(p.name for p in tmp_path.rglob("*.raw")) == sorted([*files, f"{plain.id}.raw"])


def test_a_backend_that_fails_over_whole_is_not_split_by_groups(rb: basalt.Basalt) -> None:
    group = new_group(rb, 1)
    rb.group_replication.enable(group.id)
    rb.replicator.run_once(force=True)
    rb.replication.failover(HOST, "dr").wait(timeout=30)
    with pytest.raises(GroupReplicationStateError, match="as a whole"):
        rb.group_replication.failover(group.id)
    rb.replication.failover(HOST, "default").wait(timeout=30)
    assert rb.group_replication.failover(group.id).wait(timeout=30).replication_status == (
        "failed-over"
    )


def test_a_failed_over_group_survives_a_restart(tmp_path: Path) -> None:
    settings = replicated_settings(tmp_path)
    with basalt.Basalt(settings) as first:
        make_types(first)
        group = new_group(first, 1)
        first.group_replication.enable(group.id)
        [volume] = members(first, group)
        write(primary_file(tmp_path, volume.id), 0, b"shipped before the restart")
        first.replicator.run_once(force=True)
        first.group_replication.failover(group.id).wait(timeout=30)
    with basalt.Basalt(settings) as second:
        assert second.groups.get(group.id).replication_status == "failed-over"
        assert served_path(second, volume) == secondary_file(tmp_path, volume.id)
        back = second.group_replication.failover(group.id, "default").wait(timeout=30)
        assert back.replication_status == "enabled"


def stage_interrupted_failover(settings: basalt.Settings, tmp_path: Path) -> tuple[Group, Volume]:
    """The state a crash leaves right after a failover request committed: the group
    updating and failing-over, its operation open, nothing switched yet."""
    with basalt.Basalt(settings) as first:
        make_types(first)
        group = new_group(first, 2)
        first.group_replication.enable(group.id)
        volume = members(first, group)[0]
        write(primary_file(tmp_path, volume.id), 0, b"shipped before the crash")
        first.replicator.run_once(force=True)
        with first.db.transaction() as tx:
            stored = tx.groups.get(group.id)
            assert stored is not None
            move_group(tx, stored, GroupStatus.UPDATING, action="fail over")
            stored.replication_status, stored.replication_target = "failing-over", "dr"
            tx.groups.save(stored)
            now = utcnow()
            tx.operations.add(
                Operation(
                    id=new_id(),
                    kind=OperationKind.FAILOVER_GROUP,
                    resource_kind="group",
                    resource_id=group.id,
                    project_id=group.project_id,
                    phase=OperationPhase.RUNNING,
                    created_at=now,
                    updated_at=now,
                    params={"target": "dr", "from": "enabled"},
                )
            )
    return group, volume


def test_a_group_failover_a_crash_interrupted_is_finished_at_the_next_start(
    tmp_path: Path,
) -> None:
    settings = replicated_settings(tmp_path)
    group, volume = stage_interrupted_failover(settings, tmp_path)
    with basalt.Basalt(settings) as second:
        report = second.last_reconcile
        assert report is not None and len(report.finished) == 1
        done = second.groups.get(group.id)
        assert (done.status, done.replication_status, done.replication_target) == (
            "available",
            "failed-over",
            "dr",
        )
        assert {v.replication_status for v in members(second, group)} == {"failed-over"}
        assert read(served_path(second, volume), 0, 24) == b"shipped before the crash"


def test_an_interrupted_group_failover_that_cannot_finish_gives_the_group_back(
    tmp_path: Path,
) -> None:
    group, volume = stage_interrupted_failover(replicated_settings(tmp_path), tmp_path)
    without_target = replicated_settings(tmp_path)
    without_target.backends[0].replication_targets = []
    with basalt.Basalt(without_target) as second:
        report = second.last_reconcile
        assert report is not None and len(report.rolled_back) == 1
        back = second.groups.get(group.id)
        assert (back.status, back.replication_status, back.replication_target) == (
            "available",
            "enabled",
            None,
        )
        assert served_path(second, volume) == primary_file(tmp_path, volume.id)
        assert second.volumes.get(volume.id).replication_status == "enabled"


def test_a_group_whose_volume_was_never_shipped_does_not_fail_over(rb: basalt.Basalt) -> None:
    group = new_group(rb, 1)
    rb.group_replication.enable(group.id)
    rb.replicator.run_once(force=True)
    late = rb.volumes.create(size_gib=1, volume_type="replicated", group_id=group.id).wait(
        timeout=30
    )
    assert late.replication_status == "enabled"  # it joined an enabled group: shipped next
    before = state(rb, group)
    with pytest.raises(GroupReplicationStateError, match=f"volume {late.id} has no copy yet"):
        rb.group_replication.failover(group.id)
    assert state(rb, group) == before
    rb.replicator.run_once(force=True)
    assert rb.group_replication.failover(group.id).wait(timeout=30).replication_status == (
        "failed-over"
    )
