"""Attach over real iSCSI: Basalt's own tgtd as target, qemu-io and libiscsi tools as initiators.

Every test opens Basalt on the embedded ``file`` backend with a tgtd of its own
(a free loopback portal, its own control port) and stops that tgtd by its PID at
the end. They need root and the Debian packages tgt, libiscsi-bin, qemu-utils and
qemu-block-extra: without them they skip with the reason, unless
BASALT_REQUIRE_ISCSI=1 (CI), when they fail instead.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import basalt
from basalt.config import IscsiSettings
from basalt.drivers.types import ConnectionInfo
from basalt.errors import ExportUnavailableError
from tests.support.iscsi import (
    free_control_port,
    free_tcp_port,
    kill_tgtd,
    login_error,
    qemu_io,
    read_capacity,
    require_iscsi,
)
from tests.support.server import start_server

pytestmark = pytest.mark.slow
GIB = 1024**3
MIB = 1024**2
WAIT = 60
HOST_A = {"host": "compute-a", "initiator": "iqn.2026-11.test.compute:a"}
HOST_B = {"host": "compute-b", "initiator": "iqn.2026-11.test.compute:b"}


def iscsi_settings(state: Path, *, portals: int = 1) -> IscsiSettings:
    return IscsiSettings(
        portals=[f"127.0.0.1:{free_tcp_port()}" for _ in range(portals)],
        control_port=free_control_port(),
        check_interval_seconds=0.2,
    )


def open_basalt(data_dir: Path, iscsi: IscsiSettings) -> basalt.Basalt:
    return basalt.open(basalt.Settings(data_dir=data_dir, iscsi=iscsi))


@pytest.fixture
def iscsi(tmp_path: Path) -> IscsiSettings:
    require_iscsi()
    return iscsi_settings(tmp_path)


@pytest.fixture
def b(tmp_path: Path, iscsi: IscsiSettings) -> Iterator[basalt.Basalt]:
    instance = open_basalt(tmp_path / "data", iscsi)
    try:
        yield instance
    finally:
        instance.close()  # stops the managed tgtd by its PID


def volume_file(b: basalt.Basalt, volume_id: str) -> Path:
    return b.settings.data_dir / "pools" / "file" / "default" / "volumes" / f"{volume_id}.raw"


def target(info: ConnectionInfo) -> dict[str, object]:
    data = info.data
    return {
        "portal": str(data["target_portal"]),
        "iqn": str(data["target_iqn"]),
        "user": str(data["auth_username"]),
        "secret": str(data["auth_password"]),
    }


def io(info: ConnectionInfo, initiator: str, *commands: str) -> subprocess.CompletedProcess[str]:
    return qemu_io(**target(info), initiator=initiator, commands=commands)  # type: ignore[arg-type]


def attach(b: basalt.Basalt, volume_id: str, connector: dict[str, object]) -> ConnectionInfo:
    result = b.attachments.attach(volume_id, connector)
    b.attachments.complete(result.attachment.id)
    return result.connection_info


def test_a_pattern_written_over_iscsi_is_in_the_file_and_in_a_clone_of_its_snapshot(
    b: basalt.Basalt,
) -> None:
    volume = b.volumes.create(size_gib=1, name="data").wait(timeout=WAIT)
    info = attach(b, volume.id, HOST_A)
    assert info.driver_volume_type == "iscsi"
    assert info.data["target_iqn"] == f"iqn.2026-11.org.basalt:{volume.id}"
    assert info.data["target_lun"] == 1
    assert b.volumes.get(volume.id).status == "in-use"

    written = io(info, HOST_A["initiator"], f"write -P 0x5a {3 * MIB} {MIB}")
    assert written.returncode == 0, written.stderr
    read = io(info, HOST_A["initiator"], f"read -P 0x5a {3 * MIB} {MIB}")
    assert read.returncode == 0 and "Pattern verification failed" not in read.stdout, read
    with volume_file(b, volume.id).open("rb") as backing:
        backing.seek(3 * MIB)
        assert backing.read(MIB) == b"\x5a" * MIB

    snapshot = b.snapshots.create(volume.id).wait(timeout=WAIT)  # of the in-use volume
    clone = b.volumes.create(size_gib=1, snapshot_id=snapshot.id).wait(timeout=WAIT)
    clone_info = attach(b, clone.id, HOST_A)
    assert clone_info.data["target_iqn"] != info.data["target_iqn"]  # a target per volume
    from_clone = io(clone_info, HOST_A["initiator"], f"read -P 0x5a {3 * MIB} {MIB}")
    assert from_clone.returncode == 0 and "verification failed" not in from_clone.stdout
    untouched = io(clone_info, HOST_A["initiator"], f"read -P 0x00 0 {MIB}")
    assert "verification failed" not in untouched.stdout


def test_chap_and_the_initiator_acl_decide_who_logs_in(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1).wait(timeout=WAIT)
    info = attach(b, volume.id, HOST_A)
    where = target(info)
    initiator = HOST_A["initiator"]
    assert "Authentication" in login_error(where["portal"], where["iqn"], initiator=initiator)
    wrong = login_error(
        where["portal"],
        where["iqn"],
        user=where["user"],
        secret="wrong-secret",
        initiator=initiator,
    )
    assert "Authentication" in wrong
    assert login_error(**where, initiator=initiator) == ""
    stranger = login_error(**where, initiator="iqn.2026-11.test.compute:stranger")
    assert stranger != "" and "Target not found" in stranger
    assert read_capacity(**where, initiator=initiator) == GIB


def test_extending_an_attached_volume_shows_the_new_size_after_a_rescan(
    b: basalt.Basalt,
) -> None:
    volume = b.volumes.create(size_gib=1).wait(timeout=WAIT)
    where = target(attach(b, volume.id, HOST_A))
    assert read_capacity(**where, initiator=HOST_A["initiator"]) == GIB
    grown = b.volumes.extend(volume.id, 3).wait(timeout=WAIT)
    assert (grown.size_gib, grown.status) == (3, "in-use")
    assert read_capacity(**where, initiator=HOST_A["initiator"]) == 3 * GIB


def test_the_last_detach_removes_the_target_and_a_second_volume_has_its_own(
    b: basalt.Basalt,
) -> None:
    assert b.exporter is not None
    first = b.volumes.create(size_gib=1, multiattach=True).wait(timeout=WAIT)
    second = b.volumes.create(size_gib=1).wait(timeout=WAIT)
    a1 = b.attachments.attach(first.id, HOST_A).attachment
    b1 = b.attachments.attach(first.id, HOST_B).attachment
    attach(b, second.id, HOST_A)
    exported = b.exporter.exported()
    assert set(exported) == {first.id, second.id}
    assert set(exported[first.id].initiators) == {HOST_A["initiator"], HOST_B["initiator"]}
    b.attachments.detach(a1.id)
    assert set(b.exporter.exported()[first.id].initiators) == {HOST_B["initiator"]}
    b.attachments.detach(b1.id)
    assert set(b.exporter.exported()) == {second.id}
    b.attachments.detach_volume(second.id)
    assert b.exporter.exported() == {}
    assert b.exporter.accounts() == []
    assert {b.volumes.get(v).status for v in (first.id, second.id)} == {"available"}


def test_a_killed_tgtd_is_restarted_and_the_same_credentials_log_in_again(
    b: basalt.Basalt,
) -> None:
    assert b.exporter is not None
    volume = b.volumes.create(size_gib=1).wait(timeout=WAIT)
    info = attach(b, volume.id, HOST_A)
    assert io(info, HOST_A["initiator"], f"write -P 0x33 0 {MIB}").returncode == 0
    pid = b.exporter.daemon_pid()
    assert pid is not None
    restarts = b.exporter.restart_count()
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while b.exporter.restart_count() == restarts and time.monotonic() < deadline:
        time.sleep(0.1)
    assert b.exporter.restart_count() > restarts, "the watcher did not restart tgtd"
    assert b.exporter.daemon_pid() not in (None, pid)
    read = io(info, HOST_A["initiator"], f"read -P 0x33 0 {MIB}")
    assert read.returncode == 0 and "verification failed" not in read.stdout, read


def test_a_restarted_basalt_re_creates_the_targets_the_database_holds(
    tmp_path: Path, iscsi: IscsiSettings
) -> None:
    with open_basalt(tmp_path / "data", iscsi) as first:
        volume = first.volumes.create(size_gib=1).wait(timeout=WAIT)
        info = attach(first, volume.id, HOST_A)
        assert io(info, HOST_A["initiator"], f"write -P 0x44 0 {MIB}").returncode == 0
    # Closing stopped tgtd (keep_tgtd_running is off): every target is gone with it.
    with open_basalt(tmp_path / "data", iscsi) as second:
        assert second.last_reconcile is not None
        assert any(volume.id in line for line in second.last_reconcile.exports)
        read = io(info, HOST_A["initiator"], f"read -P 0x44 0 {MIB}")
        assert read.returncode == 0 and "verification failed" not in read.stdout, read
        assert second.volumes.get(volume.id).status == "in-use"


def test_without_tgt_connect_says_what_to_install_and_leaves_nothing(tmp_path: Path) -> None:
    settings = IscsiSettings(
        portals=[f"127.0.0.1:{free_tcp_port()}"], tgtd_path="/nonexistent/tgtd"
    )
    with open_basalt(tmp_path / "data", settings) as b:
        volume = b.volumes.create(size_gib=1).wait(timeout=WAIT)
        with pytest.raises(ExportUnavailableError) as caught:
            b.attachments.attach(volume.id, HOST_A)
        assert "tgt" in f"{caught.value} {caught.value.hint}"
        assert b.attachments.list(volume_id=volume.id) == []
        assert b.volumes.get(volume.id).status == "available"


def test_concurrent_attaches_from_many_hosts_leave_one_target_with_every_initiator(
    b: basalt.Basalt,
) -> None:
    assert b.exporter is not None
    volume = b.volumes.create(size_gib=1, multiattach=True).wait(timeout=WAIT)
    hosts = [{"host": f"h{i}", "initiator": f"iqn.2026-11.test.many:{i}"} for i in range(6)]
    errors: list[BaseException] = []

    def attach_one(connector: dict[str, object]) -> None:
        try:
            b.attachments.attach(volume.id, connector)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=attach_one, args=(h,)) for h in hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    state = b.exporter.exported()[volume.id]
    assert set(state.initiators) == {str(h["initiator"]) for h in hosts}
    for attachment in b.attachments.list(volume_id=volume.id):
        b.attachments.detach(attachment.id)
    assert b.exporter.exported() == {} and b.exporter.accounts() == []


def test_a_read_only_attachment_refuses_writes(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1).wait(timeout=WAIT)
    result = b.attachments.attach(volume.id, HOST_A, mode="ro")
    assert result.connection_info.data["access_mode"] == "ro"
    written = io(result.connection_info, HOST_A["initiator"], f"write -P 0x11 0 {MIB}")
    assert written.returncode != 0 or "error" in (written.stdout + written.stderr).lower()
    with volume_file(b, volume.id).open("rb") as backing:
        assert backing.read(MIB) == b"\0" * MIB


def test_two_portals_give_multipath_connection_info_and_both_paths_work(
    tmp_path: Path,
) -> None:
    require_iscsi()
    with open_basalt(tmp_path / "data", iscsi_settings(tmp_path, portals=2)) as b:
        volume = b.volumes.create(size_gib=1).wait(timeout=WAIT)
        info = attach(b, volume.id, {**HOST_A, "multipath": True})
        portals = info.data["target_portals"]
        assert isinstance(portals, list) and len(portals) == 2
        assert info.data["target_iqns"] == [info.data["target_iqn"]] * 2
        assert info.data["target_luns"] == [1, 1]
        where = target(info)
        for portal in portals:
            assert login_error(**{**where, "portal": portal}, initiator=HOST_A["initiator"]) == ""


def test_local_attach_gives_a_loop_device_holding_the_volume(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1).wait(timeout=WAIT)
    result = b.attachments.attach(volume.id, {"host": "localhost", "do_local_attach": True})
    info = result.connection_info
    assert info.driver_volume_type == "local"
    device = Path(str(info.data["device_path"]))
    assert device.is_block_device()
    with device.open("r+b", buffering=0) as block:
        block.seek(MIB)
        block.write(b"\x77" * 4096)
        os.fsync(block.fileno())
    with volume_file(b, volume.id).open("rb") as backing:
        backing.seek(MIB)
        assert backing.read(4096) == b"\x77" * 4096
    b.attachments.detach(result.attachment.id)
    listed = subprocess.run(
        ["losetup", "--associated", str(volume_file(b, volume.id))],
        capture_output=True,
        text=True,
        check=True,
    )
    assert listed.stdout.strip() == ""


def test_after_a_crash_of_basalt_and_tgtd_the_restarted_service_serves_the_same_login(
    tmp_path: Path,
) -> None:
    require_iscsi()
    env = {
        "BASALT_ISCSI__PORTALS": json.dumps([f"127.0.0.1:{free_tcp_port()}"]),
        "BASALT_ISCSI__CONTROL_PORT": str(free_control_port()),
    }
    data_dir = tmp_path / "data"
    server = start_server(data_dir, env=env)
    try:
        with httpx.Client(base_url=server.project_url, timeout=30) as http:
            volume_id = http.post("/volumes", json={"volume": {"size": 1}}).json()["volume"]["id"]
            body = {"attachment": {"volume_uuid": volume_id, "connector": HOST_A}}
            info = http.post("/attachments", json=body).json()["attachment"]["connection_info"]
        data = info["data"]
        where = {
            "portal": data["target_portal"],
            "iqn": data["target_iqn"],
            "user": data["auth_username"],
            "secret": data["auth_password"],
        }
        initiator = HOST_A["initiator"]
        written = qemu_io(**where, initiator=initiator, commands=[f"write -P 0x66 0 {MIB}"])
        assert written.returncode == 0, written.stderr
        tgtd_pid = int((data_dir / "iscsi" / "tgtd.pid").read_text())
        server.kill_hard()
        kill_tgtd(tgtd_pid, server.control_port)  # the whole machine went down, say
        assert login_error(**where, initiator=initiator) != ""
        server = start_server(data_dir, env=env)
        read = qemu_io(**where, initiator=initiator, commands=[f"read -P 0x66 0 {MIB}"])
        assert read.returncode == 0 and "verification failed" not in read.stdout, read
        assert "re-created the target" in server.log()
    finally:
        server.stop()


def test_racing_attaches_of_a_single_attach_volume_leak_no_target_or_account(
    b: basalt.Basalt,
) -> None:
    assert b.exporter is not None
    volume = b.volumes.create(size_gib=1).wait(timeout=WAIT)
    hosts = [{"host": f"r{i}", "initiator": f"iqn.2026-11.test.race:{i}"} for i in range(6)]
    outcomes: list[object] = []
    barrier = threading.Barrier(len(hosts))

    def attach_one(connector: dict[str, object]) -> None:
        barrier.wait()
        try:
            outcomes.append(b.attachments.attach(volume.id, connector))
        except basalt.BasaltError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=attach_one, args=(h,)) for h in hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(winners) == 1, outcomes
    state = b.exporter.exported()
    assert set(state) == {volume.id} and len(state[volume.id].initiators) == 1
    assert len(b.exporter.accounts()) == 1
    b.attachments.detach_volume(volume.id)
    assert b.exporter.exported() == {} and b.exporter.accounts() == []


def test_a_readonly_volume_is_exported_read_only_to_every_host(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1).wait(timeout=WAIT)
    assert b.volumes.set_readonly(volume.id, True).readonly
    result = b.attachments.attach(volume.id, HOST_A)  # asked rw
    assert result.attachment.mode == "ro"
    assert result.connection_info.data["access_mode"] == "ro"
    written = io(result.connection_info, HOST_A["initiator"], f"write -P 0x22 0 {MIB}")
    assert written.returncode != 0 or "error" in (written.stdout + written.stderr).lower()
    with pytest.raises(basalt.VolumeAttachedError, match="is attached"):
        b.volumes.set_readonly(volume.id, False)
    b.attachments.detach(result.attachment.id)
    b.volumes.set_readonly(volume.id, False)
    again = b.attachments.attach(volume.id, HOST_A)
    assert again.connection_info.data["access_mode"] == "rw"
    assert io(again.connection_info, HOST_A["initiator"], f"write -P 0x22 0 {MIB}").returncode == 0
