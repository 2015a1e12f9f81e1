"""IscsiExporter against a real tgtd, with real initiators (qemu-io and libiscsi)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from basalt.drivers.types import ChapCredentials
from basalt.errors import ExportError, InvalidInputError
from basalt.export import IscsiExporter, scsi_serial, tgt_size_mb
from tests.export.conftest import (
    CHAP,
    CREDS,
    MIB,
    CountingRunner,
    MakeExporter,
    iscsi_settings,
    new_id,
    spec,
)
from tests.support import content
from tests.support.iscsi import (
    INITIATOR,
    free_tcp_port,
    login,
    qemu_io,
    qemu_io_ok,
    read_capacity,
    start_qemu_io,
)

pytestmark = pytest.mark.slow

VolumeFile = Callable[..., Path]
OTHER_INITIATOR = "iqn.1994-05.com.example:someone-else"


def portal(exporter: IscsiExporter, index: int = 0) -> str:
    return exporter.portals[index]


def test_export_writes_reach_the_backing_file(
    exporter: IscsiExporter, volume_file: VolumeFile
) -> None:
    volume_id, path = new_id(), volume_file("vol-a", size_mib=16)

    iqn = exporter.export(volume_id, path, spec())

    assert iqn == f"{exporter.settings.iqn_prefix}:{volume_id}"
    done = qemu_io(
        portal(exporter), iqn, "write -P 0xab 1M 1M", user=CHAP.username, secret=CHAP.secret
    )
    assert qemu_io_ok(done), done.stderr
    data = path.read_bytes()
    assert data[MIB : 2 * MIB] == b"\xab" * MIB
    assert data[:MIB] == b"\0" * MIB
    state = exporter.exported()[volume_id]
    assert state.backing_path == path
    assert state.lun1 is not None
    assert state.lun1.backing_type == exporter.settings.backing_store == "aio"  # the default
    assert not state.lun1.thin_provisioning and not exporter.discard  # aio frees nothing
    assert state.lun1.scsi_sn == scsi_serial(volume_id) == uuid.UUID(volume_id).hex


def test_unmap_punches_holes_in_the_backing_file(
    make_exporter: MakeExporter, volume_file: VolumeFile
) -> None:
    exporter = make_exporter(iscsi_settings(backing_store="rdwr", backing_store_flags=["direct"]))
    assert exporter.discard
    volume_id, path = new_id(), volume_file("vol-unmap", size_mib=16)
    iqn = exporter.export(volume_id, path, spec())

    assert qemu_io_ok(qemu_io(portal(exporter), iqn, "write -P 0xcd 0 8M", **CREDS))
    assert path.stat().st_blocks * 512 >= 8 * MIB
    assert qemu_io_ok(qemu_io(portal(exporter), iqn, "discard 0 8M", **CREDS))

    assert path.stat().st_blocks * 512 < MIB
    assert qemu_io_ok(qemu_io(portal(exporter), iqn, "read -P 0 0 8M", **CREDS))


def test_chap_refuses_missing_or_wrong_credentials(
    exporter: IscsiExporter, volume_file: VolumeFile
) -> None:
    iqn = exporter.export(new_id(), volume_file("vol-chap"), spec())

    no_creds = login(portal(exporter), iqn)
    wrong = login(portal(exporter), iqn, user=CHAP.username, secret="not-the-secret")
    right = login(portal(exporter), iqn, user=CHAP.username, secret=CHAP.secret)

    assert not no_creds and "Authentication failure" in no_creds.error
    assert not wrong and "Authentication failure" in wrong.error
    assert right, right.error


def test_acl_refuses_an_initiator_not_listed(
    exporter: IscsiExporter, volume_file: VolumeFile
) -> None:
    iqn = exporter.export(new_id(), volume_file("vol-acl"), spec())

    other = login(
        portal(exporter), iqn, user=CHAP.username, secret=CHAP.secret, initiator=OTHER_INITIATOR
    )

    assert not other and "Target not found" in other.error


def test_two_volumes_are_two_targets(exporter: IscsiExporter, volume_file: VolumeFile) -> None:
    first, second = new_id(), new_id()
    exporter.export(first, volume_file("vol-1"), spec())
    exporter.export(second, volume_file("vol-2"), spec())

    exported = exporter.exported()

    assert set(exported) == {first, second}
    assert exported[first].tid != exported[second].tid
    for volume_id in (first, second):
        assert login(
            portal(exporter), exporter.iqn_for(volume_id), user=CHAP.username, secret=CHAP.secret
        )


def test_export_twice_is_idempotent(make_exporter: MakeExporter, volume_file: VolumeFile) -> None:
    runner = CountingRunner()
    exporter = make_exporter(runner=runner)
    volume_id, path = new_id(), volume_file("vol-idem")
    exporter.export(volume_id, path, spec())
    tid = exporter.exported()[volume_id].tid
    runner.calls.clear()

    exporter.export(volume_id, path, spec())

    assert runner.ops("new", "delete", "bind", "unbind", "update") == []
    state = exporter.exported()[volume_id]
    assert state.tid == tid
    assert state.accounts == {CHAP.username}
    assert exporter.admin.accounts() == {CHAP.username}
    assert all("s3cret" not in " ".join(call) for call in runner.calls)


def test_export_fixes_drift_to_exactly_the_spec(
    exporter: IscsiExporter, volume_file: VolumeFile
) -> None:
    volume_id, path = new_id(), volume_file("vol-drift")
    exporter.export(volume_id, path, spec(INITIATOR, OTHER_INITIATOR))
    tid = exporter.exported()[volume_id].tid
    exporter.admin.bind_initiator(tid, "iqn.1994-05.com.example:intruder")
    exporter.admin.new_account("stray", "stray-secret-1")
    exporter.admin.bind_account(tid, "stray")

    exporter.export(volume_id, path, spec(INITIATOR))

    state = exporter.exported()[volume_id]
    assert state.initiators == {INITIATOR}
    assert state.accounts == {CHAP.username}


def test_a_new_secret_for_the_same_user_applies_to_every_target(
    exporter: IscsiExporter, volume_file: VolumeFile
) -> None:
    first, second = new_id(), new_id()
    exporter.export(first, volume_file("vol-s1"), spec())
    exporter.export(second, volume_file("vol-s2"), spec())
    new_chap = ChapCredentials(CHAP.username, "a-brand-new-secret")

    exporter.export(first, volume_file("vol-s1"), spec(chap=new_chap))

    for volume_id in (first, second):
        iqn = exporter.iqn_for(volume_id)
        assert login(portal(exporter), iqn, user=new_chap.username, secret=new_chap.secret)
        assert not login(portal(exporter), iqn, user=CHAP.username, secret=CHAP.secret)
    assert exporter.admin.accounts() == {CHAP.username}  # no guard account left behind
    assert all(t.accounts == {CHAP.username} for t in exporter.exported().values())


def test_unexport_removes_the_target_and_unused_accounts_only(
    exporter: IscsiExporter, volume_file: VolumeFile
) -> None:
    other_chap = ChapCredentials("basalt-proj2", "s3cret-proj2-Secret")
    shared_a, shared_b, alone = new_id(), new_id(), new_id()
    exporter.export(shared_a, volume_file("vol-a"), spec())
    exporter.export(shared_b, volume_file("vol-b"), spec())
    exporter.export(alone, volume_file("vol-c"), spec(chap=other_chap))

    exporter.unexport(shared_a)
    exporter.unexport(alone)
    exporter.unexport(alone)  # idempotent

    assert set(exporter.exported()) == {shared_b}
    assert exporter.admin.accounts() == {CHAP.username}
    assert login(
        portal(exporter), exporter.iqn_for(shared_b), user=CHAP.username, secret=CHAP.secret
    )


def test_refresh_size_shows_the_new_size_to_a_logged_in_session(
    exporter: IscsiExporter, volume_file: VolumeFile
) -> None:
    volume_id, path = new_id(), volume_file("vol-grow", size_mib=16)
    iqn = exporter.export(volume_id, path, spec())
    assert read_capacity(portal(exporter), iqn, **CREDS) == 16 * MIB
    session = start_qemu_io(
        portal(exporter), iqn, "write -P 0x5a 0 1M", "sleep 2500", "read -P 0x5a 0 1M", **CREDS
    )
    try:
        _wait_for_session(exporter, volume_id)
        _wait_for_bytes(path, b"\x5a" * 4096)  # the write is done: resize while it sleeps
        with path.open("r+b") as handle:
            handle.truncate(48 * MIB)

        exporter.refresh_size(volume_id)

        assert read_capacity(portal(exporter), iqn, **CREDS) == 48 * MIB
        out, err = session.communicate(timeout=30)
        assert session.returncode == 0, err
        assert "read 1048576/1048576" in out
    finally:
        if session.poll() is None:
            session.kill()
            session.wait()
    lun1 = exporter.exported()[volume_id].lun1
    assert lun1 is not None and lun1.size_mb == tgt_size_mb(48 * MIB)


def _wait_for_session(exporter: IscsiExporter, volume_id: str) -> None:
    deadline = time.monotonic() + 10
    while not exporter.exported()[volume_id].sessions:
        assert time.monotonic() < deadline, "qemu-io never logged in"
        time.sleep(0.05)


def _wait_for_bytes(path: Path, head: bytes) -> None:
    deadline = time.monotonic() + 30
    while content.head(path, len(head)) != head:
        assert time.monotonic() < deadline, f"{path} never began with {head[:8]!r}..."
        time.sleep(0.05)


def test_refresh_size_of_a_volume_not_exported_does_nothing(exporter: IscsiExporter) -> None:
    exporter.refresh_size(new_id())
    assert exporter.exported() == {}


def test_read_only_export_refuses_writes(exporter: IscsiExporter, volume_file: VolumeFile) -> None:
    volume_id, path = new_id(), volume_file("vol-ro")
    path.write_bytes(b"\x42" * MIB + b"\0" * (15 * MIB))
    iqn = exporter.export(volume_id, path, spec(read_only=True))

    write = qemu_io(portal(exporter), iqn, "write -P 0xab 0 4k", **CREDS)
    read = qemu_io(portal(exporter), iqn, "read -P 0x42 0 1M", read_only=True, **CREDS)

    assert not qemu_io_ok(write) and "write protected" in write.stderr
    assert qemu_io_ok(read), read.stdout + read.stderr
    assert path.read_bytes()[:4096] == b"\x42" * 4096


def test_two_portals_both_accept_logins(
    make_exporter: MakeExporter, volume_file: VolumeFile
) -> None:
    portals = [f"127.0.0.1:{free_tcp_port()}", f"127.0.0.2:{free_tcp_port('127.0.0.2')}"]
    exporter = make_exporter(iscsi_settings(portals=portals))
    iqn = exporter.export(new_id(), volume_file("vol-mp"), spec())

    assert sorted(exporter.admin.portals()) == sorted(portals)
    for address in portals:
        result = login(address, iqn, user=CHAP.username, secret=CHAP.secret)
        assert result, f"{address}: {result.error}"


def test_a_bad_volume_id_or_missing_file_is_refused(
    exporter: IscsiExporter, volume_file: VolumeFile, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInputError):
        exporter.export("Not An IQN!", volume_file("vol-x"), spec())
    volume_id = new_id()
    with pytest.raises(ExportError, match="missing or not a file") as caught:
        exporter.export(volume_id, tmp_path / "absent", spec())
    assert exporter.iqn_for(volume_id) in str(caught.value)
    assert exporter.exported() == {}


def test_concurrent_exports_from_many_threads(
    exporter: IscsiExporter, volume_file: VolumeFile
) -> None:
    jobs = {new_id(): volume_file(f"vol-t{i}") for i in range(6)}
    with ThreadPoolExecutor(max_workers=6) as pool:
        iqns = list(pool.map(lambda item: exporter.export(item[0], item[1], spec()), jobs.items()))

    exported = exporter.exported()
    assert set(exported) == set(jobs)
    assert len({t.tid for t in exported.values()}) == len(jobs)
    assert exporter.admin.accounts() == {CHAP.username}
    assert login(portal(exporter), iqns[-1], user=CHAP.username, secret=CHAP.secret)


def test_secrets_never_reach_the_log(
    exporter: IscsiExporter, volume_file: VolumeFile, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="basalt.export")
    volume_id, path = new_id(), volume_file("vol-log")
    exporter.export(volume_id, path, spec())
    exporter.export(volume_id, path, spec(chap=ChapCredentials(CHAP.username, "second-s3cret")))
    exporter.unexport(volume_id)

    assert "--password ***" in caplog.text
    assert CHAP.secret not in caplog.text and "second-s3cret" not in caplog.text


def test_accounts_and_daemon_pid_before_and_after_first_use(
    exporter: IscsiExporter, volume_file: VolumeFile
) -> None:
    assert exporter.accounts() == [] and exporter.daemon_pid() is None
    assert not exporter.running()

    exporter.export(new_id(), volume_file("vol-acc"), spec())

    assert exporter.accounts() == [CHAP.username]
    assert exporter.daemon_pid() == exporter.daemon.pid is not None
    assert exporter.running()


def test_new_targets_offer_the_configured_login_keys_and_tgtd_gets_the_malloc_tuning(
    make_exporter: MakeExporter, volume_file: VolumeFile
) -> None:
    exporter = make_exporter(iscsi_settings(max_recv_data_segment_bytes=131072))
    volume_id, path = new_id(), volume_file("vol-keys")
    exporter.export(volume_id, path, spec())
    tid = exporter.exported()[volume_id].tid
    assert exporter.admin.target_params(tid)["MaxRecvDataSegmentLength"] == "131072"
    pid = exporter.daemon_pid()
    assert pid is not None
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    threshold = exporter.settings.tgtd_malloc_mmap_threshold_bytes
    assert f"MALLOC_MMAP_THRESHOLD_={threshold}".encode() in environ
    assert qemu_io_ok(
        qemu_io(portal(exporter), exporter.iqn_for(volume_id), "write -P 0x1 0 1M", **CREDS)
    )
