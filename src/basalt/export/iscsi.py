"""IscsiExporter: the one object the ``file`` backends use to export volumes over iSCSI.

    exporter = IscsiExporter(settings.iscsi, state_dir=data_dir / "iscsi")
    iqn = exporter.export(volume_id, path, ExportSpec(initiators, chap))
    exporter.refresh_size(volume_id)   # after the file grew
    exporter.unexport(volume_id)
    exporter.close()

Each volume gets one target, IQN ``<iqn_prefix>:<volume-id>``, holding LUN 1 on the
volume's file (see :mod:`basalt.export.reconcile`). The exporter starts (or adopts)
tgtd on first use and remembers what it exported; a watcher thread restarts a
managed tgtd that died and re-applies every remembered export, and re-applies
exports whose targets disappeared. Targets whose IQN lacks the prefix are never
touched. All tgtd work is serialised by one lock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType

from basalt.config import IscsiSettings
from basalt.drivers.types import ExportSpec
from basalt.errors import BasaltUsageError, ExportError, ExportUnavailableError, InvalidInputError
from basalt.export.commands import CommandRunner, run
from basalt.export.daemon import SOCKET_DIR, TgtDaemon
from basalt.export.pause import IoPause, TgtPause, peer_pid
from basalt.export.reconcile import DATA_LUN, DesiredExport, LunConfig, Outcome, Reconciler
from basalt.export.show import TargetState
from basalt.export.sync import SyncReport, basalt_targets, sync_targets
from basalt.export.tgt import TgtAdmin
from basalt.export.watcher import Watcher

log = logging.getLogger("basalt.export")

_VOLUME_ID = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
_MAX_IQN_CHARS = 223


class IscsiExporter:
    """Exports volume files as iSCSI targets through one tgtd (thread-safe).

    Args:
        settings: the ``[iscsi]`` settings.
        state_dir: where the managed tgtd's pid file and log live.
        runner: runs tgtadm (tests inject a counting one); subprocess by default.
    """

    def __init__(
        self, settings: IscsiSettings, *, state_dir: Path, runner: CommandRunner | None = None
    ) -> None:
        self.settings = settings
        self.state_dir = state_dir
        self.admin = TgtAdmin(
            settings.control_port,
            tgtadm_path=settings.tgtadm_path,
            timeout=settings.command_timeout_seconds,
            runner=runner or run,
        )
        self.daemon = TgtDaemon(settings, state_dir=state_dir, admin=self.admin)
        lun_config = LunConfig(settings.backing_store, tuple(settings.backing_store_flags))
        self._reconciler = Reconciler(
            self.admin, lun_config=lun_config, target_params=settings.target_params()
        )
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._desired: dict[str, DesiredExport] = {}
        self._watcher = Watcher(self._watch_once, interval_seconds=settings.check_interval_seconds)
        self._started = False
        self._closed = False
        self._restarts = 0
        self._reapplies = 0
        self._reported: dict[str, str] = {}

    # -- names -----------------------------------------------------------------

    @property
    def portals(self) -> tuple[str, ...]:
        """The portals (``host:port``) initiators log in through."""
        return tuple(self.settings.portals)

    @property
    def discard(self) -> bool:
        """Whether data LUNs offer UNMAP that frees space (the rdwr backing store)."""
        return self._reconciler.lun_config.discard

    def iqn_for(self, volume_id: str) -> str:
        """The target IQN of a volume: ``<iqn_prefix>:<volume_id>``.

        Raises:
            InvalidInputError: the id cannot be part of an IQN (lower case, digits, ``.-``).
        """
        iqn = f"{self.settings.iqn_prefix}:{volume_id}"
        if not _VOLUME_ID.match(volume_id) or len(iqn) > _MAX_IQN_CHARS:
            raise InvalidInputError(
                "volume_id", f"{volume_id!r} cannot be part of an iSCSI name (IQN)"
            )
        return iqn

    # -- availability ------------------------------------------------------------

    def check_available(self) -> None:
        """Check that tgt can be used here (programs installed; root when managing tgtd).

        Raises:
            ExportUnavailableError: the hint says what to install or change.
        """
        programs = [self.settings.tgtadm_path]
        if self.settings.manage_tgtd:
            programs.insert(0, self.settings.tgtd_path)
        missing = [p for p in programs if shutil.which(p) is None]
        if missing:
            raise ExportUnavailableError(
                f"iSCSI export needs {' and '.join(missing)}, which cannot be found",
                hint="install tgt (apt-get install tgt), or set iscsi.tgtd_path and "
                "iscsi.tgtadm_path to where they are",
            )
        if self.settings.manage_tgtd and os.geteuid() != 0:
            raise ExportUnavailableError(
                "managing tgtd needs root (it listens on portals and drives the volume files)",
                hint="run Basalt as root, or run tgtd as root yourself and set "
                "iscsi.manage_tgtd = false",
            )

    def running(self) -> bool:
        """Whether a tgtd answers now (adopts a managed one left running; starts nothing)."""
        with self._lock:
            if self._closed:
                return False
            if self.settings.manage_tgtd and self.daemon.pid is None:
                if not self.daemon.adopt():
                    return False
                self._started = True
                self._watcher.start()
            return self.daemon.alive()

    # -- exports -----------------------------------------------------------------

    def export(self, volume_id: str, backing_path: Path, spec: ExportSpec) -> str:
        """Export a volume file (idempotent): its target holds exactly what ``spec`` says.

        Args:
            volume_id: the volume (names the target).
            backing_path: the volume's file.
            spec: who may log in (initiator names), the CHAP account, read-only or not.
                The account is global to tgtd: a new secret for the same user name
                applies to every target that uses it.

        Returns:
            The target's IQN.

        Raises:
            InvalidInputError: the volume id cannot be part of an IQN.
            ExportUnavailableError: tgt is not installed, not root, or no tgtd answers.
            ExportError: tgtd could not be started, or the target could not be made.
        """
        desired = DesiredExport(
            volume_id, self.iqn_for(volume_id), Path(backing_path).absolute(), spec
        )
        with self._lock:
            self._ensure_started()
            outcome = self._reconciler.apply(desired)
            self._remember(desired)
        _log_outcome(desired.iqn, outcome)
        return desired.iqn

    def unexport(self, volume_id: str) -> None:
        """Remove a volume's target (idempotent) and CHAP accounts no target uses any more.

        Raises:
            InvalidInputError: the volume id cannot be part of an IQN.
            ExportUnavailableError: tgt is not installed or no tgtd answers.
            ExportError: tgtadm refused.
        """
        iqn = self.iqn_for(volume_id)
        with self._lock:
            self._desired.pop(volume_id, None)
            self._ensure_started()
            targets = self.admin.targets()
            target = next((t for t in targets if t.iqn == iqn), None)
            if target is None:
                return
            self._reconciler.remove(target, others=[t for t in targets if t is not target])
        log.info("removed target %s", iqn)

    def refresh_size(self, volume_id: str) -> None:
        """Show the grown size of a volume's file to initiators (no-op if not exported).

        Logged-in sessions stay; they see the new size on their next READ CAPACITY.

        Raises:
            ExportUnavailableError: tgt is not installed or no tgtd answers.
            ExportError: LUN 1 could not be re-created.
        """
        iqn = self.iqn_for(volume_id)
        with self._lock:
            self._ensure_started()
            desired = self._desired.get(volume_id)
            if desired is not None:
                self._reconciler.apply(desired, recreate_lun=True)
            else:
                target = next((t for t in self.admin.targets() if t.iqn == iqn), None)
                if target is None:
                    return
                self._reconciler.refresh_lun(target, volume_id)
        log.info("target %s: LUN 1 re-created with its file's current size", iqn)

    def repoint(
        self, volume_id: str, backing_path: Path, *, before: Callable[[], object] | None = None
    ) -> bool:
        """Serve a volume's target from another file (failover, failback).

        tgt cannot change a LUN's backing store: LUN 1 is deleted (initiators' commands
        to it fail from then on; their sessions stay logged in), ``before`` runs (the
        last copy, while nothing can write), and LUN 1 is created on ``backing_path``
        with the same SCSI id and serial, so a host sees the same disk again.

        Returns:
            Whether the volume had a target (``before`` runs either way).

        Raises:
            ExportUnavailableError: tgt is not installed or no tgtd answers.
            ExportError: tgtadm refused.
        """
        iqn = self.iqn_for(volume_id)
        path = Path(backing_path).absolute()
        with self._lock:
            self._ensure_started()
            target = next((t for t in self.admin.targets() if t.iqn == iqn), None)
            if target is not None and target.lun1 is not None:
                self.admin.delete_lun(target.tid, DATA_LUN)
            if before is not None:
                before()
            desired = self._desired.get(volume_id)
            if desired is not None:
                desired = dataclasses.replace(desired, backing_path=path)
                self._reconciler.apply(desired)
                self._remember(desired)
            elif target is not None:
                read_only = target.lun1 is not None and target.lun1.read_only
                self._reconciler.new_lun(target.tid, volume_id, path, read_only=read_only)
        if target is not None:
            log.info("target %s: LUN 1 now on %s", iqn, path)
        return target is not None

    def exported(self) -> dict[str, TargetState]:
        """Basalt's targets in tgtd (IQN with our prefix), by volume id.

        Raises:
            ExportUnavailableError: tgt is not installed or no tgtd answers.
            ExportError: tgtadm failed.
        """
        with self._lock:
            self._ensure_started()
            return basalt_targets(self.admin.targets(), self.settings.iqn_prefix)

    def accounts(self) -> list[str]:
        """Every CHAP account (user name) tgtd holds, sorted; [] if no tgtd runs.

        Starts nothing (a managed tgtd left running is adopted, as by :meth:`running`).

        Raises:
            ExportError: tgtadm failed.
        """
        with self._lock:
            if not self.running():
                return []
            return sorted(self.admin.accounts())

    def sync(self, desired: Mapping[str, tuple[Path, ExportSpec]]) -> SyncReport:
        """Make tgtd hold exactly these Basalt exports; leave foreign targets alone.

        Creates missing targets, fixes drifted ones, removes Basalt targets not listed.
        One volume failing does not stop the others: it is reported in ``failed``.
        Afterwards the exporter remembers exactly the exports that succeeded.

        Args:
            desired: backing file and spec by volume id.

        Returns:
            What was created, fixed, removed, left alone or failed, by volume id.

        Raises:
            ExportUnavailableError: tgt is not installed or no tgtd answers.
            ExportError: tgtd could not be started or listed.
        """
        wanted: dict[str, DesiredExport] = {}
        failed: dict[str, ExportError] = {}
        for volume_id, (path, spec) in desired.items():
            try:
                wanted[volume_id] = DesiredExport(
                    volume_id, self.iqn_for(volume_id), Path(path).absolute(), spec
                )
            except InvalidInputError as exc:
                failed[volume_id] = ExportError(exc.message, hint=exc.hint)
        with self._lock:
            self._ensure_started()
            report, applied = sync_targets(
                self._reconciler, wanted, iqn_prefix=self.settings.iqn_prefix, failed=failed
            )
            self._desired = {}
            for export in applied.values():
                self._remember(export)
        return report

    @contextlib.contextmanager
    def paused(self, volume_ids: Collection[str]) -> Iterator[IoPause]:
        """Pause every I/O tgtd serves while the block runs, if one of ``volume_ids`` is
        exported (see :mod:`basalt.export.pause`); else change nothing.

        No write to any exported volume completes during the block. The exporter's lock
        is held throughout, so no tgtadm call of this Basalt meets a stopped tgtd. The
        pause ends at the block's end or at ``iscsi.quiesce_max_seconds``, whichever
        comes first; the yielded :class:`IoPause` then says which (``expired``) and how
        long it lasted.

        Raises:
            ExportError: tgtd could not be paused.
            ExportUnavailableError: the tgtd serving them cannot be found.
        """
        with self._lock:
            exported = [v for v in volume_ids if v in self._desired]
            if not exported or self._closed or not self.running():
                yield IoPause()
                return
            pid = self.daemon.pid
            if pid is None:  # a tgtd Basalt does not manage: ask its control socket
                pid = peer_pid(SOCKET_DIR / f"socket.{self.settings.control_port}")
            pause = TgtPause(pid, max_seconds=self.settings.quiesce_max_seconds)
            with pause.held() as result:
                yield result

    # -- watching ----------------------------------------------------------------

    def daemon_pid(self) -> int | None:
        """The managed tgtd's PID (None before first use, when stopped or not managed)."""
        with self._lock:
            return self.daemon.pid

    def restart_count(self) -> int:
        """How often a managed tgtd was found dead and started again."""
        with self._lock:
            return self._restarts

    def reapply_count(self) -> int:
        """How often remembered exports were re-applied (after a restart or a lost target)."""
        with self._lock:
            return self._reapplies

    def wait_for_reapply(self, *, since: int, timeout: float) -> bool:
        """Wait until :meth:`reapply_count` exceeds ``since``.

        Returns:
            Whether it did within ``timeout`` seconds.
        """
        with self._changed:
            return self._changed.wait_for(lambda: self._reapplies > since, timeout)

    def close(self) -> None:
        """Stop the watcher and the managed tgtd (unless ``keep_tgtd_running``). Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True  # from now on nothing starts tgtd or the watcher
        self._watcher.stop()  # outside the lock: a running check may need it to finish
        with self._lock:
            if not self.settings.keep_tgtd_running and self.daemon.pid is not None:
                self.daemon.stop(self.settings.command_timeout_seconds)

    def __enter__(self) -> IscsiExporter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------

    def _ensure_started(self) -> None:
        """Start or adopt tgtd if needed; re-apply remembered exports to a new one."""
        if self._closed:
            raise BasaltUsageError("the iSCSI exporter is closed")
        if not self._started:
            self.check_available()
        if self.daemon.ensure_running():
            self._reconciler.forget_secrets()
            if self._started:
                self._restarts += 1
                log.warning(
                    "tgtd was restarted (pid %s); re-applying %d export(s)",
                    self.daemon.pid,
                    len(self._desired),
                )
                self._reapply(list(self._desired.values()))
        self._started = True
        self._watcher.start()

    def _watch_once(self) -> None:
        with self._lock:
            if self._closed:
                return
            try:
                self._ensure_started()
                present = {t.iqn for t in self.admin.targets()}
            except ExportError as exc:
                self._report("tgtd", f"tgt watcher: {exc}")
                return
            self._reported.pop("tgtd", None)
            missing = [d for d in self._desired.values() if d.iqn not in present]
            if missing:
                log.warning("%d target(s) are missing from tgtd; re-applying", len(missing))
                self._reapply(missing)

    def _reapply(self, exports: Iterable[DesiredExport]) -> None:
        for desired in exports:
            try:
                self._reconciler.apply(desired)
                self._reported.pop(desired.volume_id, None)
            except ExportError as exc:
                self._report(desired.volume_id, f"re-applying {desired.iqn} failed: {exc}")
        self._reapplies += 1
        self._changed.notify_all()

    def _report(self, key: str, message: str) -> None:
        """Log a watcher problem once, not on every check."""
        if self._reported.get(key) != message:
            log.warning("%s", message)
            self._reported[key] = message

    def _remember(self, desired: DesiredExport) -> None:
        chap = desired.spec.chap
        for volume_id, other in list(self._desired.items()):
            if other.spec.chap.username == chap.username and other.spec.chap != chap:
                spec = dataclasses.replace(other.spec, chap=chap)
                self._desired[volume_id] = dataclasses.replace(other, spec=spec)
        self._desired[desired.volume_id] = desired


def _log_outcome(iqn: str, outcome: Outcome) -> None:
    level = logging.DEBUG if outcome is Outcome.UNCHANGED else logging.INFO
    log.log(level, "export %s: %s", iqn, outcome.value)
