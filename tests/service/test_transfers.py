"""Volume transfers through the library, on the embedded file backend.

Project pa offers a volume; project pb accepts it with the key. The file driver
keeps no objects per project, so an accept only changes Basalt's records; the
SolidFire case, where the volume moves between accounts, is in
test_transfers_solidfire.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import basalt
from basalt.errors import (
    InvalidInputError,
    InvalidStateError,
    PermissionDeniedError,
    SnapshotNotFoundError,
    TransferKeyRefusedError,
    TransferNotFoundError,
    VolumeAttachedError,
    VolumeNotFoundError,
)
from basalt.model import OperationKind, OperationPhase, VolumeStatus
from basalt.model.transfer import NewTransfer
from basalt.service.context import RequestContext
from tests.service.conftest import volume_file

WAIT = 30
A = RequestContext(user_id="alice", project_id="pa", roles=frozenset({"member"}))
B = RequestContext(user_id="bob", project_id="pb", roles=frozenset({"member"}))
C = RequestContext(user_id="carl", project_id="pc", roles=frozenset({"member"}))
READER = RequestContext(user_id="rita", project_id="pa", roles=frozenset({"reader"}))
B_READER = RequestContext(user_id="rob", project_id="pb", roles=frozenset({"reader"}))
ADMIN = RequestContext(user_id="root", project_id="ops", roles=frozenset({"admin"}))


@pytest.fixture
def b(tmp_path: Path) -> Iterator[basalt.Basalt]:
    with basalt.open(data_dir=tmp_path / "data") as instance:
        yield instance


def offered(b: basalt.Basalt, *, snapshots: int = 0, **options: object) -> NewTransfer:
    volume = b.volumes.create(size_gib=1, name="db", ctx=A).wait(timeout=WAIT)
    for n in range(snapshots):
        b.snapshots.create(volume.id, name=f"s{n}", ctx=A).wait(timeout=WAIT)
    return b.transfers.create(volume.id, ctx=A, **options)


def everything(b: basalt.Basalt) -> object:
    """What an accept or an offer that was refused must leave as it was."""
    return (
        b.volumes.list(all_projects=True, ctx=ADMIN),
        b.snapshots.list(all_projects=True, ctx=ADMIN),
        b.transfers.list(all_projects=True, ctx=ADMIN),
        b.operations.list(all_projects=True, ctx=ADMIN),
    )


def test_an_accepted_volume_and_its_snapshots_change_project(b: basalt.Basalt) -> None:
    new = offered(b, snapshots=2, name="to-pb")
    transfer, volume_id = new.transfer, new.transfer.volume_id
    assert len(new.auth_key) == 32 and new.auth_key not in repr(new)
    assert (transfer.name, transfer.source_project_id, transfer.accepted) == ("to-pb", "pa", False)
    assert b.volumes.get(volume_id, ctx=A).status == VolumeStatus.AWAITING_TRANSFER
    assert b.transfers.list(ctx=A) == [transfer] and b.transfers.get(transfer.id, ctx=A) == transfer
    assert b.transfers.list(ctx=B) == []

    handle = b.transfers.accept(transfer.id, new.auth_key, ctx=B)
    volume = handle.wait(timeout=WAIT)

    assert (volume.project_id, volume.user_id, volume.status) == ("pb", "bob", "available")
    assert handle.operation.kind == OperationKind.ACCEPT_TRANSFER
    assert handle.operation.phase == OperationPhase.SUCCEEDED
    assert handle.operation.project_id == "pb"
    snaps = b.snapshots.list(ctx=B)
    assert len(snaps) == 2 and {(s.project_id, s.user_id) for s in snaps} == {("pb", "bob")}
    assert b.volumes.list(ctx=A) == [] and b.snapshots.list(ctx=A) == []
    with pytest.raises(VolumeNotFoundError):
        b.volumes.get(volume_id, ctx=A)
    with pytest.raises(SnapshotNotFoundError):
        b.snapshots.get(snaps[0].id, ctx=A)
    assert volume_file(b, volume_id).exists()  # the file driver keeps its bytes where they were
    with pytest.raises(TransferNotFoundError):
        b.transfers.get(transfer.id, ctx=A)
    assert b.transfers.list(ctx=A) == [] and b.transfers.list(all_projects=True, ctx=ADMIN) == []
    timeline = [e.message for e in b.volumes.events(volume_id, ctx=B)]
    assert any("from project pa to project pb" in m for m in timeline)
    b.volumes.extend(volume_id, 2, ctx=B).wait(timeout=WAIT)  # pb's to change now


def test_a_wrong_key_an_unknown_id_and_a_used_transfer_get_the_same_refusal(
    b: basalt.Basalt,
) -> None:
    first, second = offered(b), offered(b, snapshots=1)
    refusals = []
    before = everything(b)
    for transfer_id, key in [
        (first.transfer.id, second.auth_key),
        (second.transfer.id, first.auth_key),
        (second.transfer.id, "0" * 32),
        ("5f0d1a52-0000-4000-8000-000000000000", first.auth_key),
        ("not-even-a-uuid", "x"),
    ]:
        with pytest.raises(TransferKeyRefusedError) as refused:
            b.transfers.accept(transfer_id, key, ctx=C)
        refusals.append((refused.value.code, str(refused.value)))
    assert everything(b) == before
    b.transfers.accept(first.transfer.id, first.auth_key, ctx=B).wait(timeout=WAIT)
    for ctx in (B, C):
        with pytest.raises(TransferKeyRefusedError) as used:
            b.transfers.accept(first.transfer.id, first.auth_key, ctx=ctx)
        refusals.append((used.value.code, str(used.value)))
    assert len(set(refusals)) == 1, refusals
    code, text = refusals[0]
    assert code == "transfer_not_found"
    for secret in (first.transfer.volume_id, second.transfer.volume_id, "pa", "alice"):
        assert secret not in text


def test_refused_accepts_change_nothing(b: basalt.Basalt) -> None:
    new = offered(b)
    before = everything(b)
    with pytest.raises(InvalidInputError, match="caller's own"):
        b.transfers.accept(new.transfer.id, new.auth_key, ctx=A)
    with pytest.raises(InvalidInputError, match="auth_key"):
        b.transfers.accept(new.transfer.id, {"key": new.auth_key}, ctx=B)
    with pytest.raises(InvalidInputError, match="auth_key"):
        b.transfers.accept(new.transfer.id, "k" * 256, ctx=B)
    with pytest.raises(PermissionDeniedError):
        b.transfers.accept(new.transfer.id, new.auth_key, ctx=B_READER)
    assert everything(b) == before


def test_offers_of_volumes_that_cannot_move_are_refused_and_change_nothing(
    b: basalt.Basalt,
) -> None:
    reserved = b.volumes.create(size_gib=1, ctx=A).wait(timeout=WAIT)
    b.attachments.reserve(reserved.id, instance_id="server-1", ctx=A)
    with_snaps = b.volumes.create(size_gib=1, ctx=A).wait(timeout=WAIT)
    snap = b.snapshots.create(with_snaps.id, ctx=A).wait(timeout=WAIT)
    offered_once = offered(b)
    before = everything(b)
    with pytest.raises(VolumeAttachedError, match="has attachments"):
        b.transfers.create(reserved.id, ctx=A)
    with pytest.raises(InvalidInputError, match=r"no_snapshots: .* has 1 snapshot"):
        b.transfers.create(with_snaps.id, no_snapshots=True, ctx=A)
    with pytest.raises(InvalidStateError, match="awaiting-transfer"):
        b.transfers.create(offered_once.transfer.volume_id, ctx=A)
    with pytest.raises(VolumeNotFoundError):
        b.transfers.create(with_snaps.id, ctx=B)  # not pb's volume
    with pytest.raises(InvalidInputError, match="name"):
        b.transfers.create(with_snaps.id, name="a/b", ctx=A)
    with pytest.raises(InvalidInputError, match="no_snapshots"):
        b.transfers.create(with_snaps.id, no_snapshots="maybe", ctx=A)
    with pytest.raises(PermissionDeniedError):
        b.transfers.create(with_snaps.id, ctx=READER)
    assert everything(b) == before
    b.snapshots.reset_status(snap.id, "error", ctx=ADMIN)
    with pytest.raises(InvalidStateError, match=f"snapshot {snap.id}"):
        b.transfers.create(with_snaps.id, ctx=A)
    assert b.transfers.list(all_projects=True, ctx=ADMIN) == [offered_once.transfer]
    assert b.volumes.get(with_snaps.id, ctx=A).status == VolumeStatus.AVAILABLE


def test_a_volume_awaiting_transfer_is_held(b: basalt.Basalt) -> None:
    new = offered(b, snapshots=1)
    volume_id = new.transfer.volume_id
    with pytest.raises(InvalidStateError):
        b.volumes.extend(volume_id, 2, ctx=A)
    with pytest.raises(InvalidStateError):
        b.volumes.delete(volume_id, cascade=True, ctx=A)
    with pytest.raises(InvalidStateError):
        b.snapshots.create(volume_id, ctx=A)
    with pytest.raises(InvalidStateError):
        b.attachments.reserve(volume_id, instance_id="server-1", ctx=A)
    with pytest.raises(InvalidStateError):
        b.volumes.clone(volume_id, ctx=A)
    assert b.volumes.get(volume_id, ctx=A).status == VolumeStatus.AWAITING_TRANSFER


def test_deleting_a_transfer_cancels_it(b: basalt.Basalt) -> None:
    new = offered(b, no_snapshots=True)
    assert new.transfer.no_snapshots
    with pytest.raises(TransferNotFoundError):
        b.transfers.delete(new.transfer.id, ctx=B)
    with pytest.raises(PermissionDeniedError):
        b.transfers.delete(new.transfer.id, ctx=READER)
    assert b.transfers.get(new.transfer.id, ctx=READER) == new.transfer  # readers may look
    assert b.transfers.delete(new.transfer.id, ctx=A) == new.transfer
    assert b.volumes.get(new.transfer.volume_id, ctx=A).status == VolumeStatus.AVAILABLE
    assert b.transfers.list(ctx=A) == []
    with pytest.raises(TransferKeyRefusedError):
        b.transfers.accept(new.transfer.id, new.auth_key, ctx=B)
    with pytest.raises(TransferNotFoundError):
        b.transfers.delete(new.transfer.id, ctx=A)
    again = b.transfers.create(new.transfer.volume_id, ctx=A)  # offered again: a new key
    assert again.auth_key != new.auth_key
    b.transfers.accept(again.transfer.id, again.auth_key, ctx=B).wait(timeout=WAIT)
    with pytest.raises(TransferNotFoundError):
        b.transfers.delete(again.transfer.id, ctx=A)  # accepted: nothing to cancel


def test_administrators_see_every_projects_transfers_and_force_delete_withdraws(
    b: basalt.Basalt,
) -> None:
    new = offered(b)
    assert b.transfers.list(ctx=ADMIN) == []
    assert b.transfers.list(all_projects=True, ctx=ADMIN) == [new.transfer]
    assert b.transfers.list(all_projects=True, ctx=A) == [new.transfer]  # own project only
    assert b.transfers.list(all_projects=True, ctx=B) == []
    b.volumes.delete(new.transfer.volume_id, force=True, ctx=ADMIN).wait(timeout=WAIT)
    assert b.transfers.list(all_projects=True, ctx=ADMIN) == []
    with pytest.raises(TransferKeyRefusedError):
        b.transfers.accept(new.transfer.id, new.auth_key, ctx=B)


def test_the_destination_projects_quota_can_refuse_an_accept(b: basalt.Basalt) -> None:
    new = offered(b, snapshots=1)
    b.quotas.update("pb", {"snapshots": 0})
    before = everything(b)
    with pytest.raises(basalt.QuotaExceededError, match="snapshots in project pb"):
        b.transfers.accept(new.transfer.id, new.auth_key, ctx=B)
    assert everything(b) == before
    b.quotas.update("pb", {"snapshots": 1, "gigabytes": 1})  # the volume and its snapshot: 2 GiB
    with pytest.raises(basalt.QuotaExceededError, match="gigabytes in project pb"):
        b.transfers.accept(new.transfer.id, new.auth_key, ctx=B)
    b.quotas.update("pb", {"gigabytes": 2})
    moved = b.transfers.accept(new.transfer.id, new.auth_key, ctx=B).wait(timeout=WAIT)
    assert moved.project_id == "pb"
