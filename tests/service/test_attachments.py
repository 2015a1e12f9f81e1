"""Attachments through the library: statuses, idempotency, multiattach, bad input, restarts.

These run on a SolidFire backend (the Element emulator in-process), whose connect
needs no iSCSI target on this machine, so the bookkeeping is tested everywhere;
tests/integration/test_iscsi_attach.py proves the data path through tgt.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import basalt
from basalt.errors import (
    AttachmentNotFoundError,
    InvalidInputError,
    InvalidStateError,
    ResourceBusyError,
    VolumeAttachedError,
)
from basalt.model import AttachStatus, OperationKind, VolumeStatus
from basalt.service.context import RequestContext
from basalt_emulators.solidfire import SolidFireBackend

from ..integration.test_solidfire_service import open_basalt

WAIT = 30
HOST_A = {"host": "compute-a", "initiator": "iqn.2026-11.test.compute:a", "ip": "10.0.0.1"}
HOST_B = {"host": "compute-b", "initiator": "iqn.2026-11.test.compute:b"}
OTHER = RequestContext(user_id="u2", project_id="someone-else", roles=frozenset({"member"}))


@pytest.fixture
def backend(tmp_path: Path) -> SolidFireBackend:
    return SolidFireBackend(tmp_path / "cluster")


@pytest.fixture
def b(tmp_path: Path, backend: SolidFireBackend) -> Iterator[basalt.Basalt]:
    with open_basalt(tmp_path, backend) as instance:
        yield instance


def new_volume(b: basalt.Basalt, *, multiattach: bool = False) -> str:
    volume = b.volumes.create(size_gib=1, multiattach=multiattach).wait(timeout=WAIT)
    return volume.id


def status(b: basalt.Basalt, volume_id: str) -> VolumeStatus:
    return b.volumes.get(volume_id).status


def test_reserve_connect_complete_detach_walks_the_volume_statuses(b: basalt.Basalt) -> None:
    volume_id = new_volume(b)
    reserved = b.attachments.reserve(volume_id, instance_id="server-1")
    assert (reserved.status, status(b, volume_id)) == (AttachStatus.RESERVED, "reserved")

    result = b.attachments.connect(reserved.id, HOST_A)
    assert result.attachment.id == reserved.id
    assert (result.attachment.status, status(b, volume_id)) == ("attaching", "attaching")
    data = result.connection_info.data
    assert result.connection_info.driver_volume_type == "iscsi"
    assert data["auth_method"] == "CHAP" and data["auth_password"]
    assert "password" not in repr(result.connection_info).replace("auth_password': '***", "")

    done = b.attachments.complete(reserved.id, mountpoint="/dev/vdb")
    assert (done.status, status(b, volume_id)) == (AttachStatus.ATTACHED, "in-use")
    assert done.attached_at is not None and done.mountpoint == "/dev/vdb"

    b.attachments.detach(reserved.id)
    assert status(b, volume_id) == "available"
    assert b.attachments.list(volume_id=volume_id) == []
    kinds = [o.kind for o in b.operations.list() if o.resource_id == volume_id]
    assert OperationKind.ATTACH_VOLUME in kinds and OperationKind.DETACH_VOLUME in kinds


def test_attaching_again_from_the_same_host_is_idempotent(b: basalt.Basalt) -> None:
    volume_id = new_volume(b)
    first = b.attachments.attach(volume_id, HOST_A, instance_id="server-1")
    again = b.attachments.attach(volume_id, HOST_A, instance_id="server-1")
    assert again.attachment.id == first.attachment.id
    assert again.connection_info.as_dict() == first.connection_info.as_dict()
    assert len(b.attachments.list(volume_id=volume_id)) == 1


def test_a_second_host_is_refused_without_multiattach_and_nothing_changes(
    b: basalt.Basalt,
) -> None:
    volume_id = new_volume(b)
    first = b.attachments.attach(volume_id, HOST_A)
    b.attachments.complete(first.attachment.id)
    with pytest.raises(VolumeAttachedError, match="does not allow multiattach"):
        b.attachments.attach(volume_id, HOST_B)
    with pytest.raises(VolumeAttachedError):
        b.attachments.reserve(volume_id)
    assert [a.id for a in b.attachments.list(volume_id=volume_id)] == [first.attachment.id]
    assert status(b, volume_id) == "in-use"


def test_multiattach_volumes_take_several_hosts_and_stay_in_use_until_the_last_detach(
    b: basalt.Basalt,
) -> None:
    volume_id = new_volume(b, multiattach=True)
    a = b.attachments.attach(volume_id, HOST_A).attachment
    b.attachments.complete(a.id)
    second = b.attachments.attach(volume_id, HOST_B).attachment
    assert status(b, volume_id) == "in-use"  # attached somewhere wins over attaching
    b.attachments.complete(second.id)
    b.attachments.detach(a.id)
    assert status(b, volume_id) == "in-use"
    b.attachments.detach(second.id)
    assert status(b, volume_id) == "available"


@pytest.mark.parametrize(
    ("connector", "field"),
    [
        ({"initiator": "iqn.2026-11.test:x"}, "connector.host"),
        ({"host": "h"}, "connector.initiator"),
        ({"host": "h", "initiator": "not-an-iqn"}, "connector.initiator"),
        ({"host": "h", "initiator": "iqn.26-11.test:x"}, "connector.initiator"),
        ({"host": "h", "initiator": "iqn.2026-11.test:has space"}, "connector.initiator"),
        ({"host": "h", "initiator": ""}, "connector.initiator"),
        ({"host": "h", "initiator": 42}, "connector.initiator"),
        ({"host": "h", "initiator": "iqn.2026-11.test:x", "ip": "999.1.1.1"}, "connector.ip"),
        (
            {"host": "h", "initiator": "iqn.2026-11.test:x", "multipath": "yes"},
            "connector.multipath",
        ),
        ("iqn.2026-11.test:x", "connector"),
        ({"host": "h\x00", "initiator": "iqn.2026-11.test:x"}, "connector.host"),
    ],
)
def test_bad_connectors_are_refused_by_name_and_change_nothing(
    b: basalt.Basalt, connector: object, field: str
) -> None:
    volume_id = new_volume(b)
    operations_before = len(b.operations.list())
    with pytest.raises(InvalidInputError) as caught:
        b.attachments.attach(volume_id, connector)
    assert caught.value.field == field
    assert status(b, volume_id) == "available"
    assert b.attachments.list(volume_id=volume_id) == []
    assert len(b.operations.list()) == operations_before


def test_eui_and_naa_initiator_names_are_accepted(b: basalt.Basalt) -> None:
    volume_id = new_volume(b, multiattach=True)
    for name in ("eui.02004567A425678D", "naa.52004567BA64678D"):
        b.attachments.attach(volume_id, {"host": name, "initiator": name})
    assert len(b.attachments.list(volume_id=volume_id)) == 2


def test_wrong_state_attaches_and_detaches_are_refused(b: basalt.Basalt) -> None:
    volume_id = new_volume(b)
    handle = b.volumes.extend(volume_id, 2)
    handle.wait(timeout=WAIT)
    b.volumes.delete(volume_id).wait(timeout=WAIT)
    with pytest.raises(basalt.errors.VolumeNotFoundError):
        b.attachments.attach(volume_id, HOST_A)
    with pytest.raises(AttachmentNotFoundError):
        b.attachments.detach("0a8b0c5e-9d5c-4c53-a6c4-e0b7c0a0a0a0")
    volume_id = new_volume(b)
    with pytest.raises(VolumeAttachedError, match="is not attached"):
        b.attachments.detach_volume(volume_id)
    with pytest.raises(VolumeAttachedError, match="no connections"):
        b.attachments.terminate(volume_id, None)


def test_an_attached_volume_cannot_be_deleted_and_can_be_extended(b: basalt.Basalt) -> None:
    volume_id = new_volume(b)
    attachment = b.attachments.attach(volume_id, HOST_A).attachment
    b.attachments.complete(attachment.id)
    with pytest.raises(VolumeAttachedError, match="1 attachment"):
        b.volumes.delete(volume_id)
    grown = b.volumes.extend(volume_id, 3).wait(timeout=WAIT)
    assert (grown.size_gib, grown.status) == (3, "in-use")
    snapshot = b.snapshots.create(volume_id).wait(timeout=WAIT)  # of an in-use volume
    assert snapshot.status == "available"


def test_other_projects_see_no_attachments(b: basalt.Basalt) -> None:
    volume_id = new_volume(b)
    attachment = b.attachments.attach(volume_id, HOST_A).attachment
    with pytest.raises(AttachmentNotFoundError):
        b.attachments.get(attachment.id, ctx=OTHER)
    with pytest.raises(AttachmentNotFoundError):
        b.attachments.detach(attachment.id, ctx=OTHER)
    with pytest.raises(basalt.errors.VolumeNotFoundError):
        b.attachments.attach(volume_id, HOST_B, ctx=OTHER)
    assert b.attachments.list(ctx=OTHER) == []


def test_concurrent_attaches_of_one_volume_leave_exactly_one_attachment(
    b: basalt.Basalt,
) -> None:
    volume_id = new_volume(b)
    outcomes: list[object] = []
    barrier = threading.Barrier(8)

    def attach(index: int) -> None:
        connector = {"host": f"h{index}", "initiator": f"iqn.2026-11.test.race:{index}"}
        barrier.wait()
        try:
            outcomes.append(b.attachments.attach(volume_id, connector))
        except (VolumeAttachedError, ResourceBusyError, InvalidStateError) as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=attach, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(winners) == 1, outcomes
    assert len(b.attachments.list(volume_id=volume_id)) == 1
    assert status(b, volume_id) == "attaching"


def test_legacy_actions_follow_cinders_flow(b: basalt.Basalt) -> None:
    volume_id = new_volume(b)
    b.attachments.reserve(volume_id)
    info = b.attachments.initialize_connection(volume_id, HOST_A)
    assert info.data["target_iqn"]
    (attachment,) = b.attachments.list(volume_id=volume_id)  # the reservation was connected
    b.attachments.complete_for_volume(volume_id, instance_id="srv", mountpoint="/dev/vdc")
    assert status(b, volume_id) == "in-use"
    b.attachments.begin_detaching(volume_id)
    assert status(b, volume_id) == "detaching"
    b.attachments.roll_detaching(volume_id)
    assert status(b, volume_id) == "in-use"
    b.attachments.terminate(volume_id, HOST_A)
    assert status(b, volume_id) == "detaching"
    b.attachments.detach_volume(volume_id, attachment_id=attachment.id)
    assert status(b, volume_id) == "available"
    b.attachments.reserve(volume_id)
    assert b.attachments.unreserve(volume_id) == 1
    assert status(b, volume_id) == "available"


def test_a_restart_rolls_back_an_interrupted_connect_and_keeps_completed_attachments(
    tmp_path: Path, backend: SolidFireBackend
) -> None:
    with open_basalt(tmp_path, backend) as first:
        kept = new_volume(first)
        attached = first.attachments.attach(kept, HOST_A).attachment
        first.attachments.complete(attached.id)
        interrupted = new_volume(first)
        # What a crash between the connect's first transaction and the driver call leaves.
        reservation = first.attachments.reserve(interrupted)
        with first.db.transaction() as tx:
            from basalt.service.journal import move_attachment, move_volume

            row = tx.attachments.get(reservation.id)
            assert row is not None
            move_attachment(tx, row, AttachStatus.ATTACHING, action="simulate")
            row.connector = dict(HOST_B)
            tx.attachments.save(row)
            volume = tx.volumes.get(interrupted)
            assert volume is not None
            move_volume(tx, volume, VolumeStatus.ATTACHING, action="simulate")
            operation = first.attachments._new_operation(  # noqa: SLF001 - staging a crash
                tx,
                kind=OperationKind.ATTACH_VOLUME,
                resource_kind="volume",
                resource_id=interrupted,
                ctx=first.default_context,
                params={"attachment_id": reservation.id, "created": False},
            )
        assert operation.phase == "pending"
    with open_basalt(tmp_path, backend) as second:
        assert status(second, kept) == "in-use"
        assert status(second, interrupted) == "reserved"
        (back,) = second.attachments.list(volume_id=interrupted)
        assert (back.status, back.connector) == (AttachStatus.RESERVED, None)
        assert second.operations.get(operation.id).phase == "rolled_back"


def test_volumes_in_error_or_being_created_cannot_be_attached(
    b: basalt.Basalt, backend: SolidFireBackend
) -> None:
    backend.faults.inject("xVolumeCreateFailed", method="CreateVolume", times=1)
    failed = b.volumes.create(size_gib=1)
    with pytest.raises(basalt.errors.DriverError):
        failed.wait(timeout=WAIT)
    assert status(b, failed.resource_id) == "error"
    with pytest.raises(InvalidStateError, match="its status is 'error'"):
        b.attachments.attach(failed.resource_id, HOST_A)
    with pytest.raises(InvalidStateError, match="'error'"):
        b.attachments.reserve(failed.resource_id)
    backend.faults.latency(2.0, method="CreateVolume")
    creating = b.volumes.create(size_gib=1)
    with pytest.raises(InvalidStateError, match="'creating'"):
        b.attachments.attach(creating.resource_id, HOST_A)
    backend.faults.clear()
    creating.wait(timeout=WAIT)
    assert b.attachments.list() == []
