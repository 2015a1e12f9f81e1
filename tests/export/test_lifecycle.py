"""tgtd's life under Basalt: start, adopt, watch, restart, sync, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from basalt.errors import ExportError, ExportUnavailableError
from basalt.export import IscsiExporter
from basalt.export.daemon import SOCKET_DIR
from tests.export.conftest import CHAP, CREDS, MakeExporter, iscsi_settings, new_id, spec
from tests.support.iscsi import free_tcp_port, login, qemu_io, qemu_io_ok

pytestmark = pytest.mark.slow

VolumeFile = Callable[..., Path]


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_watcher_restarts_a_killed_tgtd_and_reapplies_exports(
    exporter: IscsiExporter, volume_file: VolumeFile
) -> None:
    volume_id = new_id()
    iqn = exporter.export(volume_id, volume_file("vol-w"), spec())
    assert qemu_io_ok(qemu_io(exporter.portals[0], iqn, "write -P 0x77 0 1M", **CREDS))
    old_pid = exporter.daemon.pid
    assert old_pid is not None
    since = exporter.reapply_count()

    os.kill(old_pid, signal.SIGKILL)

    assert exporter.wait_for_reapply(since=since, timeout=20)
    assert exporter.restart_count() == 1
    assert exporter.daemon.pid not in (None, old_pid)
    assert not pid_alive(old_pid)
    assert (exporter.daemon.pid_path.read_text().strip()) == str(exporter.daemon.pid)
    read = qemu_io(exporter.portals[0], iqn, "read -P 0x77 0 1M", **CREDS)
    assert qemu_io_ok(read), read.stdout + read.stderr
    assert not login(exporter.portals[0], iqn, user=CHAP.username, secret="wrong-secret")


def test_watcher_reapplies_a_target_deleted_behind_its_back(
    exporter: IscsiExporter, volume_file: VolumeFile
) -> None:
    volume_id = new_id()
    exporter.export(volume_id, volume_file("vol-gone"), spec())
    since = exporter.reapply_count()

    exporter.admin.delete_target(exporter.exported()[volume_id].tid)

    assert exporter.wait_for_reapply(since=since, timeout=10)
    assert volume_id in exporter.exported()
    assert exporter.restart_count() == 0


def test_sync_creates_fixes_removes_and_leaves_foreign_targets(
    exporter: IscsiExporter, volume_file: VolumeFile
) -> None:
    kept, stale, wanted = new_id(), new_id(), new_id()
    exporter.export(kept, volume_file("vol-kept"), spec())
    exporter.export(stale, volume_file("vol-stale"), spec())
    foreign_iqn = "iqn.2003-01.org.example:not-basalt"
    exporter.admin.new_target(50, foreign_iqn)
    exporter.admin.bind_initiator(exporter.exported()[kept].tid, "iqn.2000-01.com.example:drift")

    report = exporter.sync(
        {kept: (volume_file("vol-kept"), spec()), wanted: (volume_file("vol-new"), spec())}
    )

    assert (report.created, report.fixed, report.removed) == ((wanted,), (kept,), (stale,))
    assert report.failed == {} and report.changed
    assert set(exporter.exported()) == {kept, wanted}
    assert foreign_iqn in {t.iqn for t in exporter.admin.targets()}
    again = exporter.sync(
        {kept: (volume_file("vol-kept"), spec()), wanted: (volume_file("vol-new"), spec())}
    )
    assert sorted(again.unchanged) == sorted([kept, wanted]) and not again.changed


def test_sync_reports_a_failing_volume_and_does_the_rest(
    exporter: IscsiExporter, volume_file: VolumeFile, tmp_path: Path
) -> None:
    good, bad = new_id(), new_id()

    report = exporter.sync(
        {good: (volume_file("vol-good"), spec()), bad: (tmp_path / "no", spec())}
    )

    assert report.created == (good,)
    assert set(report.failed) == {bad}
    assert exporter.iqn_for(bad) in str(report.failed[bad])
    assert set(exporter.exported()) == {good}


def test_close_stops_tgtd_and_leaves_no_process(
    exporter: IscsiExporter, volume_file: VolumeFile
) -> None:
    exporter.export(new_id(), volume_file("vol-stop"), spec())
    pid = exporter.daemon.pid
    assert pid is not None and pid_alive(pid)

    exporter.close()

    assert not pid_alive(pid)
    assert not exporter.daemon.pid_path.exists()
    assert not (SOCKET_DIR / f"socket.{exporter.settings.control_port}").exists()
    assert not exporter.running()


def test_keep_running_then_adopt_through_the_pid_file(
    make_exporter: MakeExporter, volume_file: VolumeFile, tmp_path: Path
) -> None:
    settings = iscsi_settings(keep_tgtd_running=True)
    state_dir = tmp_path / "shared-state"
    first = make_exporter(settings, state_dir=state_dir)
    volume_id = new_id()
    iqn = first.export(volume_id, volume_file("vol-keep"), spec())
    pid = first.daemon.pid
    first.close()
    assert pid is not None and pid_alive(pid)

    second = make_exporter(
        settings.model_copy(update={"keep_tgtd_running": False}), state_dir=state_dir
    )

    assert second.running()
    assert second.daemon.pid == pid
    assert volume_id in second.exported()
    assert login(second.portals[0], iqn, user=CHAP.username, secret=CHAP.secret)
    second.close()
    assert not pid_alive(pid)


def test_start_refuses_a_control_port_another_tgtd_answers_on(
    make_exporter: MakeExporter, volume_file: VolumeFile
) -> None:
    first = make_exporter()
    first.export(new_id(), volume_file("vol-1"), spec())
    intruder = make_exporter(first.settings.model_copy(update={"portals": ["127.0.0.1:1"]}))

    with pytest.raises(ExportError, match="already answers on control port") as caught:
        intruder.export(new_id(), volume_file("vol-2"), spec())

    assert "manage_tgtd = false" in (caught.value.hint or "")
    assert intruder.daemon.pid is None


def test_unmanaged_mode_uses_a_running_tgtd_and_never_stops_it(
    make_exporter: MakeExporter, volume_file: VolumeFile
) -> None:
    managed = make_exporter()
    managed.exported()  # starts tgtd
    unmanaged = make_exporter(managed.settings.model_copy(update={"manage_tgtd": False}))
    volume_id = new_id()

    iqn = unmanaged.export(volume_id, volume_file("vol-u"), spec())
    unmanaged.close()

    assert managed.running() and volume_id in managed.exported()
    assert login(managed.portals[0], iqn, user=CHAP.username, secret=CHAP.secret)


def test_unmanaged_mode_without_tgtd_is_unavailable(
    make_exporter: MakeExporter, volume_file: VolumeFile
) -> None:
    exporter = make_exporter(iscsi_settings(manage_tgtd=False))

    with pytest.raises(ExportUnavailableError, match="no tgtd answers") as caught:
        exporter.export(new_id(), volume_file("vol-n"), spec())
    assert "manage_tgtd" in (caught.value.hint or "")


def test_a_portal_in_use_fails_start_and_leaves_no_process(
    make_exporter: MakeExporter, volume_file: VolumeFile
) -> None:
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = f"127.0.0.1:{busy.getsockname()[1]}"
        exporter = make_exporter(iscsi_settings(portals=[taken]))

        with pytest.raises(ExportError, match=f"could not listen on portal.*{taken}"):
            exporter.export(new_id(), volume_file("vol-p"), spec())

    assert exporter.daemon.pid is None
    assert not exporter.admin.answers()


def test_missing_tgtd_binary_is_unavailable_with_a_hint(
    make_exporter: MakeExporter, volume_file: VolumeFile
) -> None:
    exporter = make_exporter(iscsi_settings(tgtd_path="/nonexistent/tgtd"))

    with pytest.raises(ExportUnavailableError) as caught:
        exporter.export(new_id(), volume_file("vol-m"), spec())

    assert "/nonexistent/tgtd" in str(caught.value)
    assert "apt-get install tgt" in (caught.value.hint or "")
    with pytest.raises(ExportUnavailableError):
        exporter.check_available()


def test_io_threads_are_passed_to_tgtd(make_exporter: MakeExporter) -> None:
    exporter = make_exporter(iscsi_settings(io_threads=2))
    exporter.exported()
    pid = exporter.daemon.pid
    assert pid is not None
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert [b"-t", b"2"] == cmdline[cmdline.index(b"-t") : cmdline.index(b"-t") + 2]


def test_start_fails_clearly_when_a_hung_tgtd_holds_the_lock(
    make_exporter: MakeExporter, volume_file: VolumeFile, tmp_path: Path
) -> None:
    settings = iscsi_settings(command_timeout_seconds=1.0)
    port = settings.control_port
    log = (tmp_path / "hung.log").open("wb")
    hung = subprocess.Popen(
        ["tgtd", "-f", "-C", str(port), "--iscsi", f"portal=127.0.0.1:{free_tcp_port()}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        exporter = make_exporter(settings)
        assert _wait(lambda: exporter.admin.answers(), timeout=10)
        hung.send_signal(signal.SIGSTOP)  # holds the lock, answers nothing

        with pytest.raises(ExportError, match="exited at start") as caught:
            exporter.export(new_id(), volume_file("vol-h"), spec())

        assert "another tgtd holds control port" in (caught.value.hint or "")
        assert exporter.daemon.pid is None
    finally:
        hung.kill()
        hung.wait(timeout=10)
        log.close()


def test_adopting_adds_portals_configured_since(
    make_exporter: MakeExporter, volume_file: VolumeFile, tmp_path: Path
) -> None:
    settings = iscsi_settings(keep_tgtd_running=True)
    state_dir = tmp_path / "state"
    first = make_exporter(settings, state_dir=state_dir)
    iqn = first.export(new_id(), volume_file("vol-ap"), spec())
    first.close()
    added = f"127.0.0.1:{free_tcp_port()}"
    wider = settings.model_copy(
        update={"portals": [*settings.portals, added], "keep_tgtd_running": False}
    )

    second = make_exporter(wider, state_dir=state_dir)

    assert second.running()
    assert added in second.admin.portals()
    assert login(added, iqn, user=CHAP.username, secret=CHAP.secret)


def test_not_root_is_unavailable_when_managing_tgtd(
    make_exporter: MakeExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    exporter = make_exporter()
    monkeypatch.setattr("basalt.export.iscsi.os.geteuid", lambda: 1000)

    with pytest.raises(ExportUnavailableError, match="needs root") as caught:
        exporter.check_available()
    assert "manage_tgtd = false" in (caught.value.hint or "")


def _wait(condition: Callable[[], bool], *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_pid_file_naming_another_process_is_not_adopted(
    make_exporter: MakeExporter, tmp_path: Path
) -> None:
    exporter = make_exporter()
    exporter.daemon.state_dir.mkdir(parents=True)
    exporter.daemon.pid_path.write_text(f"{os.getpid()}\n")

    exporter.exported()

    assert exporter.daemon.pid not in (None, os.getpid())
    assert exporter.daemon.pid_path.read_text().strip() == str(exporter.daemon.pid)


def test_aio_backing_store_ignores_flags_tgt_would_refuse(
    make_exporter: MakeExporter, volume_file: VolumeFile
) -> None:
    exporter = make_exporter(iscsi_settings(backing_store="aio", backing_store_flags=["direct"]))
    volume_id, path = new_id(), volume_file("vol-aio")

    iqn = exporter.export(volume_id, path, spec())

    lun1 = exporter.exported()[volume_id].lun1
    assert lun1 is not None and lun1.backing_type == "aio"
    assert qemu_io_ok(qemu_io(exporter.portals[0], iqn, "write -P 0x3c 0 64k", **CREDS))
    assert path.read_bytes()[:65536] == b"\x3c" * 65536
    assert exporter.sync({volume_id: (path, spec())}).unchanged == (volume_id,)
