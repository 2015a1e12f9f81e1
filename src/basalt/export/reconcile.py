"""Make one tgtd target match one desired export, and remove targets cleanly.

A Basalt target holds exactly: LUN 1 on the volume's file (configured bstype and
flags, ``thin_provisioning=1`` so UNMAP punches holes, SCSI id and serial derived
from the volume id so they survive tgtd restarts, ``readonly`` per spec), the
project's CHAP account as its only account, and the spec's initiator names as its
only ACL entries. The configured iSCSI keys (``MaxRecvDataSegmentLength``...) are
set when the target is created, before any login; an existing target keeps its own.

tgtd cannot show an account's password, so the Reconciler remembers which secret
it set for each account in the current tgtd; an account whose secret it does not
know (an adopted tgtd) or that differs is deleted and re-created, then bound again
to every target that had it; meanwhile a guard account with a random secret stays
bound to those targets, so none of them accepts a login without CHAP.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from basalt.drivers.types import ExportSpec
from basalt.errors import ExportError, ExportUnavailableError
from basalt.export.errors import CommandFailedError, TargetExportError
from basalt.export.show import LunState, TargetState, tgt_size_mb
from basalt.export.tgt import TARGET_EXISTS, TgtAdmin, failed_because

log = logging.getLogger("basalt.export")

DATA_LUN = 1
_NEW_TARGET_ATTEMPTS = 5


class Outcome(StrEnum):
    """What applying one export did."""

    CREATED = "created"
    FIXED = "fixed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class DesiredExport:
    """One volume's export as Basalt wants it."""

    volume_id: str
    iqn: str
    backing_path: Path
    spec: ExportSpec


@dataclass(frozen=True, slots=True)
class LunConfig:
    """How every data LUN is opened (from the ``[iscsi]`` settings)."""

    bstype: str
    bsoflags: tuple[str, ...]

    @property
    def discard(self) -> bool:
        """Whether UNMAP frees space in the file: tgt's rdwr punches holes, aio does not
        (it answers UNMAP with success and frees nothing), so aio LUNs do not offer it."""
        return self.bstype == "rdwr"


def scsi_serial(volume_id: str) -> str:
    """A stable 32-character SCSI id/serial for a volume (its UUID's hex digits).

    Args:
        volume_id: the volume's id (a UUID, or any string, which is hashed).

    Returns:
        32 lower-case hex digits (tgt accepts serials up to 36 characters).
    """
    try:
        return uuid.UUID(volume_id).hex
    except ValueError:
        return hashlib.sha256(volume_id.encode()).hexdigest()[:32]


def lun_params(volume_id: str, *, read_only: bool, discard: bool = True) -> dict[str, str]:
    """The ``--params`` every Basalt data LUN gets (thin provisioning = UNMAP offered)."""
    serial = scsi_serial(volume_id)
    return {
        "readonly": "1" if read_only else "0",
        "thin_provisioning": "1" if discard else "0",
        "scsi_id": serial,
        "scsi_sn": serial,
    }


def free_tid(targets: Sequence[TargetState]) -> int:
    """The smallest target id no target uses (tids start at 1)."""
    used = {t.tid for t in targets}
    return next(tid for tid in range(1, len(used) + 2) if tid not in used)


class Reconciler:
    """Applies desired exports to one tgtd through a TgtAdmin (callers hold the lock).

    Args:
        admin: the tgtd's TgtAdmin.
        lun_config: bstype and flags for data LUNs.
        target_params: iSCSI keys set on each new target (``IscsiSettings.target_params()``).
    """

    def __init__(
        self,
        admin: TgtAdmin,
        *,
        lun_config: LunConfig,
        target_params: Mapping[str, str] | None = None,
    ) -> None:
        self.admin = admin
        self.lun_config = lun_config
        self.target_params = dict(target_params or {})
        self._secrets: dict[str, str] = {}

    def forget_secrets(self) -> None:
        """Forget the accounts set so far (a new tgtd holds none)."""
        self._secrets.clear()

    def apply(self, desired: DesiredExport, *, recreate_lun: bool = False) -> Outcome:
        """Make the target of ``desired`` exist and hold exactly what it should.

        A target created here is deleted again if a later step fails.

        Args:
            desired: the export.
            recreate_lun: re-create LUN 1 even if it looks right (after an extend).

        Returns:
            What was done.

        Raises:
            TargetExportError: the backing file is unusable or tgtadm refused.
            ExportUnavailableError: tgtadm cannot be run.
        """
        _check_backing_file(desired)
        targets = self.admin.targets()
        current = next((t for t in targets if t.iqn == desired.iqn), None)
        created = current is None
        try:
            if current is None:
                current = self._new_target(desired.iqn, targets)
                for name, value in self.target_params.items():
                    self.admin.update_target_param(current.tid, name, value)
            changed = self._apply_lun(desired, current, recreate=recreate_lun)
            changed |= self._apply_account(desired, current, targets)
            changed |= self._apply_acl(desired, current)
        except ExportError as exc:
            if created and current is not None:
                self._delete_quietly(current)
            raise naming(desired.iqn, exc) from exc
        if created:
            return Outcome.CREATED
        return Outcome.FIXED if changed else Outcome.UNCHANGED

    def refresh_lun(self, target: TargetState, volume_id: str) -> None:
        """Re-create LUN 1 of a target Basalt has no desired state for (same file, params).

        Raises:
            ExportError: tgtadm refused.
        """
        lun1 = target.lun1
        if lun1 is None or lun1.backing_path is None:
            return
        try:
            self._recreate_lun(target.tid, volume_id, lun1.backing_path, read_only=lun1.read_only)
        except ExportError as exc:
            raise naming(target.iqn, exc) from exc

    def new_lun(self, tid: int, volume_id: str, path: Path, *, read_only: bool) -> None:
        """Create LUN 1 of target ``tid`` on ``path`` (it has none now).

        Raises:
            ExportError: tgtadm refused.
        """
        self._recreate_lun(tid, volume_id, path, read_only=read_only, exists=False)

    def remove(self, target: TargetState, *, others: Sequence[TargetState]) -> None:
        """Delete ``target`` (logged-in sessions are dropped) and its now unused accounts.

        Args:
            target: the target to delete.
            others: every other target tgtd holds (their accounts are kept).

        Raises:
            ExportError: tgtadm refused.
        """
        try:
            self.admin.delete_target(target.tid)
            still_bound = {a for t in others for a in t.accounts | t.outgoing_accounts}
            for user in sorted((target.accounts | target.outgoing_accounts) - still_bound):
                self.admin.delete_account(user)
                self._secrets.pop(user, None)
                log.info("deleted CHAP account %s: no target uses it any more", user)
        except ExportError as exc:
            raise naming(target.iqn, exc) from exc

    def _delete_quietly(self, target: TargetState) -> None:
        try:
            self.admin.delete_target(target.tid)
        except ExportError as exc:
            log.warning("could not delete the half-made target %s: %s", target.iqn, exc)

    # -- the three parts of a target --------------------------------------------

    def _new_target(self, iqn: str, targets: Sequence[TargetState]) -> TargetState:
        for _ in range(_NEW_TARGET_ATTEMPTS):
            tid = free_tid(targets)
            try:
                self.admin.new_target(tid, iqn)
                log.info("created target %s (tid %d)", iqn, tid)
                return TargetState(tid=tid, iqn=iqn)
            except CommandFailedError as exc:
                if not failed_because(exc, TARGET_EXISTS):
                    raise
            targets = self.admin.targets()  # someone else took the tid (a shared tgtd)
            existing = next((t for t in targets if t.iqn == iqn), None)
            if existing is not None:
                return existing
        raise ExportError(f"no free tid after {_NEW_TARGET_ATTEMPTS} attempts")

    def _apply_lun(self, desired: DesiredExport, target: TargetState, *, recreate: bool) -> bool:
        lun1 = target.lun1
        read_only = desired.spec.read_only
        params = lun_params(desired.volume_id, read_only=read_only, discard=self.lun_config.discard)
        extras = [lu.lun for lu in target.luns if lu.lun > DATA_LUN]
        for extra in extras:
            self.admin.delete_lun(target.tid, extra)
        if recreate or lun1 is None or not self._lun_matches(lun1, desired.backing_path):
            self._recreate_lun(
                target.tid,
                desired.volume_id,
                desired.backing_path,
                read_only=read_only,
                exists=lun1 is not None,
            )
            return True
        changed = bool(extras)
        if not _params_match(lun1, params):
            self.admin.update_lun(target.tid, DATA_LUN, params)
            changed = True
        return changed

    def _recreate_lun(
        self, tid: int, volume_id: str, path: Path, *, read_only: bool, exists: bool = True
    ) -> None:
        # tgt fixes a LUN's size when it is created: re-creating it is how a grown file
        # becomes visible. Logged-in sessions survive (they see a new READ CAPACITY).
        if exists:
            self.admin.delete_lun(tid, DATA_LUN)
        bsoflags = self.lun_config.bsoflags if self.lun_config.bstype == "rdwr" else ()
        bstype = self.lun_config.bstype
        self.admin.new_lun(tid, DATA_LUN, path=path, bstype=bstype, bsoflags=bsoflags)
        self.admin.update_lun(
            tid,
            DATA_LUN,
            lun_params(volume_id, read_only=read_only, discard=self.lun_config.discard),
        )

    def _lun_matches(self, lun1: LunState, path: Path) -> bool:
        flags = self.lun_config.bsoflags if self.lun_config.bstype == "rdwr" else ()
        return (
            lun1.backing_path == path
            and lun1.backing_type == self.lun_config.bstype
            and lun1.backing_flags == frozenset(flags)
            and lun1.size_mb == tgt_size_mb(path.stat().st_size)
        )

    def _apply_account(
        self, desired: DesiredExport, target: TargetState, targets: Sequence[TargetState]
    ) -> bool:
        user, secret = desired.spec.chap.username, desired.spec.chap.secret
        for other in sorted(target.accounts - {user}):
            self.admin.unbind_account(target.tid, other)
        for other in sorted(target.outgoing_accounts):
            self.admin.unbind_account(target.tid, other, outgoing=True)
        changed = bool(target.accounts - {user}) or bool(target.outgoing_accounts)
        existing = self.admin.accounts()
        if user not in existing or self._secrets.get(user) != secret:
            self._set_account(user, secret, exists=user in existing, targets=targets)
            changed = True
        if changed or user not in target.accounts:
            self.admin.bind_account(target.tid, user)
        return changed or user not in target.accounts

    def _set_account(
        self, user: str, secret: str, *, exists: bool, targets: Sequence[TargetState]
    ) -> None:
        if not exists:
            self.admin.new_account(user, secret)
            self._secrets[user] = secret
            log.info("created CHAP account %s", user)
            return
        # tgtadm cannot change a password: delete the account (which unbinds it from
        # every target) and re-create it. Meanwhile a guard account with a random
        # secret stays bound, so those targets never accept a login without CHAP.
        rebind = [t.tid for t in targets if user in t.accounts]
        guard = f"basalt-guard-{secrets.token_hex(6)}"
        self.admin.new_account(guard, secrets.token_urlsafe(24))
        try:
            for tid in rebind:
                self.admin.bind_account(tid, guard)
            self.admin.delete_account(user)
            self.admin.new_account(user, secret)
            self._secrets[user] = secret
            for tid in rebind:
                self.admin.bind_account(tid, user)
        finally:
            self.admin.delete_account(guard)
        log.info("set CHAP account %s again; re-bound to %d target(s)", user, len(rebind))

    def _apply_acl(self, desired: DesiredExport, target: TargetState) -> bool:
        wanted = desired.spec.initiators
        for name in sorted(wanted - target.initiators):
            self.admin.bind_initiator(target.tid, name)
        for name in sorted(target.initiators - wanted):
            self.admin.unbind_initiator(target.tid, name)
        for address in sorted(target.initiator_addresses):
            self.admin.unbind_address(target.tid, address)
        return bool(wanted ^ target.initiators) or bool(target.initiator_addresses)


def naming(iqn: str, exc: ExportError) -> ExportError:
    """``exc`` as a TargetExportError naming ``iqn`` (unavailability is kept as it is)."""
    if isinstance(exc, ExportUnavailableError | TargetExportError):
        return exc
    return TargetExportError(iqn, exc)


def _params_match(lun1: LunState, params: dict[str, str]) -> bool:
    return (
        lun1.read_only == (params["readonly"] == "1")
        and lun1.thin_provisioning == (params["thin_provisioning"] == "1")
        and lun1.scsi_id == params["scsi_id"]
        and lun1.scsi_sn == params["scsi_sn"]
    )


def _check_backing_file(desired: DesiredExport) -> None:
    path = desired.backing_path
    if "," in str(path):
        raise TargetExportError(
            desired.iqn,
            ExportError(
                f"tgt cannot use a backing file whose path has a comma: {path}",
                hint="use a pool directory without commas in its path",
            ),
        )
    if not path.is_file():
        raise TargetExportError(
            desired.iqn,
            ExportError(
                f"the backing file {path} of volume {desired.volume_id} is missing or not a file",
                hint="check that the pool is mounted and the volume exists",
            ),
        )
