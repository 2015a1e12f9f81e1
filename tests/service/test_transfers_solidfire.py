"""Volume transfers through the library on a SolidFire backend (the Element emulator).

Element keeps each project's volumes in the project's account, so an accept really
moves the volume on the array; these tests read the emulator's own state to check
where it is, and inject the array's faults to check what a failure leaves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import basalt
from basalt.errors import DriverError, ResourceBusyError, TransferKeyRefusedError
from basalt.model import OperationPhase, VolumeStatus
from basalt.model.transfer import NewTransfer
from basalt.service.context import RequestContext
from basalt_emulators.solidfire import SolidFireBackend

from ..integration.test_solidfire_service import open_basalt

WAIT = 30
A = RequestContext(user_id="alice", project_id="pa", roles=frozenset({"member"}))
B = RequestContext(user_id="bob", project_id="pb", roles=frozenset({"member"}))
C = RequestContext(user_id="carl", project_id="pc", roles=frozenset({"member"}))
ADMIN = RequestContext(user_id="root", project_id="ops", roles=frozenset({"admin"}))


@pytest.fixture
def backend(tmp_path: Path) -> SolidFireBackend:
    return SolidFireBackend(tmp_path / "cluster")


@pytest.fixture
def b(tmp_path: Path, backend: SolidFireBackend) -> Iterator[basalt.Basalt]:
    with open_basalt(tmp_path, backend) as instance:
        yield instance


def account_of(backend: SolidFireBackend, volume_id: str) -> str:
    """The account (user name) that holds the Basalt volume on the array."""
    names = {a["accountID"]: a["username"] for a in backend.accounts()}
    (found,) = [v for v in backend.active_volumes() if v["name"] == f"UUID-{volume_id}"]
    return names[found["accountID"]]


def offered(b: basalt.Basalt, *, snapshots: int = 0) -> NewTransfer:
    volume = b.volumes.create(size_gib=1, ctx=A).wait(timeout=WAIT)
    for _ in range(snapshots):
        b.snapshots.create(volume.id, ctx=A).wait(timeout=WAIT)
    return b.transfers.create(volume.id, ctx=A)


def test_an_accept_moves_the_volume_to_the_new_projects_account(
    b: basalt.Basalt, backend: SolidFireBackend
) -> None:
    new = offered(b, snapshots=2)
    volume_id = new.transfer.volume_id
    assert account_of(backend, volume_id) == "basalt-pa"

    volume = b.transfers.accept(new.transfer.id, new.auth_key, ctx=B).wait(timeout=WAIT)

    assert account_of(backend, volume_id) == "basalt-pb"
    pb = {a["username"]: a["accountID"] for a in backend.accounts()}["basalt-pb"]
    assert volume.provider_location is not None and volume.provider_location.split()[1] == str(pb)
    assert (volume.project_id, volume.status) == ("pb", VolumeStatus.AVAILABLE)
    element_volume = int(volume.provider_location.split()[0])
    on_array = [s for s in backend.snapshots() if s["volumeID"] == element_volume]
    assert len(on_array) == 2 and len(b.snapshots.list(ctx=B)) == 2  # they follow their volume
    b.volumes.extend(volume_id, 2, ctx=B).wait(timeout=WAIT)
    snap = b.snapshots.list(ctx=B)[0]
    copy = b.volumes.create(size_gib=2, snapshot_id=snap.id, ctx=B).wait(timeout=WAIT)
    assert account_of(backend, copy.id) == "basalt-pb"
    b.volumes.delete(volume_id, cascade=True, ctx=B).wait(timeout=WAIT)


def test_an_array_refusal_leaves_the_volume_with_its_project(
    b: basalt.Basalt, backend: SolidFireBackend
) -> None:
    new = offered(b, snapshots=1)
    volume_id = new.transfer.volume_id
    backend.faults.inject("xInvalidParameter", method="ModifyVolume")
    handle = b.transfers.accept(new.transfer.id, new.auth_key, ctx=B)
    with pytest.raises(DriverError, match="ModifyVolume"):
        handle.wait(timeout=WAIT)
    volume = b.volumes.get(volume_id, ctx=A)
    assert (volume.project_id, volume.status) == ("pa", VolumeStatus.AVAILABLE)
    assert account_of(backend, volume_id) == "basalt-pa"
    assert {s.project_id for s in b.snapshots.list(ctx=A)} == {"pa"}
    assert handle.operation.phase == OperationPhase.ROLLED_BACK
    assert b.transfers.list(ctx=A) == []  # withdrawn: the owner offers it again if it wants
    with pytest.raises(TransferKeyRefusedError):
        b.transfers.accept(new.transfer.id, new.auth_key, ctx=B)
    (message,) = b.messages.list(ctx=B)
    assert volume_id in message.user_message and "ModifyVolume" in message.user_message


def test_a_move_whose_answer_was_lost_is_moved_back(
    b: basalt.Basalt, backend: SolidFireBackend
) -> None:
    """ModifyVolume runs on the array but every answer is lost: the volume did move, so
    the failure path moves it back before giving it to its project again."""
    new = offered(b)
    volume_id = new.transfer.volume_id
    tries = b.settings.resolved_backends[0].solidfire.retry_attempts  # type: ignore[union-attr]
    backend.faults.read_timeout(method="ModifyVolume", times=tries)
    handle = b.transfers.accept(new.transfer.id, new.auth_key, ctx=B)
    with pytest.raises(DriverError, match="no answer"):
        handle.wait(timeout=WAIT)
    assert backend.call_counts["ModifyVolume"] == tries + 1  # the tries, then the way back
    assert account_of(backend, volume_id) == "basalt-pa"
    volume = b.volumes.get(volume_id, ctx=A)
    assert (volume.project_id, volume.status) == ("pa", VolumeStatus.AVAILABLE)
    assert handle.operation.phase == OperationPhase.ROLLED_BACK


def test_when_the_way_back_fails_too_the_volume_says_so(
    b: basalt.Basalt, backend: SolidFireBackend
) -> None:
    new = offered(b)
    volume_id = new.transfer.volume_id
    tries = b.settings.resolved_backends[0].solidfire.retry_attempts  # type: ignore[union-attr]
    backend.faults.read_timeout(method="ModifyVolume", times=2 * tries)
    handle = b.transfers.accept(new.transfer.id, new.auth_key, ctx=B)
    with pytest.raises(DriverError):
        handle.wait(timeout=WAIT)
    volume = b.volumes.get(volume_id, ctx=A)
    assert (volume.project_id, volume.status) == ("pa", VolumeStatus.ERROR)
    timeline = [e.message for e in b.volumes.events(volume_id, ctx=A)]
    assert any("moving it back on the backend failed too" in m for m in timeline), timeline
    assert handle.operation.phase == OperationPhase.FAILED


def test_an_accept_under_way_holds_the_transfer(
    b: basalt.Basalt, backend: SolidFireBackend
) -> None:
    new = offered(b)
    backend.faults.latency(1.5, method="ModifyVolume")
    handle = b.transfers.accept(new.transfer.id, new.auth_key, ctx=B)
    deadline = time.monotonic() + WAIT
    while backend.call_counts["ModifyVolume"] == 0:  # the move is on the wire
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with pytest.raises(ResourceBusyError, match="being accepted"):
        b.transfers.accept(new.transfer.id, new.auth_key, ctx=C)
    with pytest.raises(ResourceBusyError, match="being accepted"):
        b.transfers.delete(new.transfer.id, ctx=A)
    with pytest.raises(ResourceBusyError, match="operation"):
        b.volumes.delete(new.transfer.volume_id, force=True, ctx=ADMIN)
    assert handle.wait(timeout=WAIT).project_id == "pb"
    assert account_of(backend, new.transfer.volume_id) == "basalt-pb"


def test_racing_accepts_have_one_winner(b: basalt.Basalt, backend: SolidFireBackend) -> None:
    new = offered(b)
    outcomes: list[object] = []
    barrier = threading.Barrier(4)

    def accept(ctx: RequestContext) -> None:
        barrier.wait()
        try:
            outcomes.append(b.transfers.accept(new.transfer.id, new.auth_key, ctx=ctx).wait(WAIT))
        except (ResourceBusyError, TransferKeyRefusedError) as exc:  # under way, or done
            outcomes.append(exc)

    member = frozenset({"member"})
    contexts = [RequestContext(f"u{n}", f"p{n}", member) for n in range(4)]
    threads = [threading.Thread(target=accept, args=(ctx,)) for ctx in contexts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT)
    winners = [o for o in outcomes if isinstance(o, basalt.Volume)]
    assert len(outcomes) == 4 and len(winners) == 1
    assert account_of(backend, new.transfer.volume_id) == f"basalt-{winners[0].project_id}"


def test_a_volume_being_copied_or_extended_is_not_offered(
    b: basalt.Basalt, backend: SolidFireBackend
) -> None:
    volume = b.volumes.create(size_gib=1, ctx=A).wait(timeout=WAIT)
    backend.faults.latency(1.0, method="CloneVolume")
    clone = b.volumes.clone(volume.id, ctx=A)
    deadline = time.monotonic() + WAIT
    while backend.call_counts["CloneVolume"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with pytest.raises(ResourceBusyError, match=f"created from volume {volume.id}"):
        b.transfers.create(volume.id, ctx=A)
    clone.wait(timeout=WAIT)
    backend.faults.clear()
    backend.faults.latency(1.0, method="ModifyVolume")
    extend = b.volumes.extend(volume.id, 2, ctx=A)
    with pytest.raises(basalt.InvalidStateError, match="extending"):
        b.transfers.create(volume.id, ctx=A)
    extend.wait(timeout=WAIT)
    assert b.transfers.list(ctx=A) == []
    assert b.volumes.get(volume.id, ctx=A).status == VolumeStatus.AVAILABLE
