"""TgtAdmin: one method per tgtadm operation, against one tgtd control port.

Every method runs ``tgtadm -C <control_port> --lld iscsi ...`` through the injected
runner and raises :class:`~basalt.export.commands.CommandFailedError` (an
ExportError whose message names the operation, the target and tgtadm's stderr) when
tgtadm refuses. tgtadm exits 22 for almost every refusal, so :func:`failed_because`
tells them apart by tgtadm's message.

Facts this relies on (tgt 1.0.85): accounts are global to tgtd and their password
cannot be changed (delete and re-create, which unbinds the account from every
target); ``--initiator-name`` is the ACL by name (``-I`` is by address); a LUN keeps
the size its backing file had when it was created; ``--op delete --mode system``
is refused while targets exist.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from basalt.errors import ExportError
from basalt.export.commands import CommandFailedError, CommandRunner, run
from basalt.export.show import (
    LunState,
    TargetState,
    parse_accounts,
    parse_portals,
    parse_system_state,
    parse_targets,
)

__all__ = ["LunState", "TargetState", "TgtAdmin", "failed_because"]

# tgtadm's messages (tgtadm_strerror) for the refusals callers handle.
NO_TARGET = "can't find the target"
NO_LUN = "can't find the logical unit"
NO_ACCOUNT = "can't find the account"
NO_ACL = "this access control rule does not exist"
NO_BINDING = "can't find the binding"
TARGET_EXISTS = "this target already exists"
ACCOUNT_EXISTS = "this account already exists"
ACL_EXISTS = "this access control rule already exists"
BINDING_EXISTS = "this binding already exists"
_BUSY = ("still active", "is busy")
_BUSY_ATTEMPTS = 10
_BUSY_DELAY_SECONDS = 0.2


def failed_because(exc: CommandFailedError, *messages: str) -> bool:
    """Whether tgtadm refused with one of ``messages`` (substrings of its stderr)."""
    return any(message in exc.stderr for message in messages)


class TgtAdmin:
    """Drives one tgtd through ``tgtadm -C <control_port>``.

    Args:
        control_port: tgtd's management port (its socket is
            ``/var/run/tgtd/socket.<port>``).
        tgtadm_path: the tgtadm program.
        timeout: seconds each tgtadm call may take.
        runner: runs the commands (tests inject a counting one).
    """

    def __init__(
        self,
        control_port: int,
        *,
        tgtadm_path: str = "tgtadm",
        timeout: float = 15.0,
        runner: CommandRunner = run,
    ) -> None:
        self.control_port = control_port
        self.tgtadm_path = tgtadm_path
        self.timeout = timeout
        self._runner = runner

    def _adm(self, *args: str, lld: bool = True) -> str:
        argv = [self.tgtadm_path, "-C", str(self.control_port)]
        if lld:
            argv += ["--lld", "iscsi"]
        return self._runner([*argv, *args], timeout=self.timeout).stdout

    # -- system ----------------------------------------------------------------

    def system_state(self) -> str:
        """tgtd's state (``ready`` or ``offline``).

        Raises:
            ExportError: tgtd does not answer on the control port.
        """
        return parse_system_state(self._adm("--op", "show", "--mode", "system", lld=False))

    def answers(self) -> bool:
        """Whether a tgtd answers on the control port (never raises ExportError)."""
        try:
            self.system_state()
        except ExportError:
            return False
        return True

    def set_system_state(self, state: str) -> None:
        """Set tgtd's state (``offline`` refuses new logins, ``ready`` accepts them).

        Raises:
            ExportError: tgtadm refused.
        """
        self._adm("--op", "update", "--mode", "sys", "--name", "State", "-v", state, lld=False)

    def delete_system(self) -> None:
        """Ask tgtd to exit (it refuses while targets exist).

        Raises:
            ExportError: tgtadm refused.
        """
        self._adm("--op", "delete", "--mode", "system", lld=False)

    # -- show ------------------------------------------------------------------

    def targets(self) -> tuple[TargetState, ...]:
        """Every target tgtd holds.

        Raises:
            ExportError: tgtadm failed.
        """
        return parse_targets(self._adm("--op", "show", "--mode", "target"))

    def accounts(self) -> frozenset[str]:
        """Every CHAP account (user name) tgtd holds.

        Raises:
            ExportError: tgtadm failed.
        """
        return parse_accounts(self._adm("--op", "show", "--mode", "account"))

    def portals(self) -> tuple[str, ...]:
        """The portals tgtd listens on (``host:port``).

        Raises:
            ExportError: tgtadm failed.
        """
        return parse_portals(self._adm("--op", "show", "--mode", "portal"))

    # -- targets and logical units ---------------------------------------------

    def new_target(self, tid: int, iqn: str) -> None:
        """Create target ``tid`` named ``iqn``.

        Raises:
            ExportError: tgtadm refused (e.g. :data:`TARGET_EXISTS`).
        """
        self._adm("--op", "new", "--mode", "target", "--tid", str(tid), "-T", iqn)

    def delete_target(self, tid: int, *, missing_ok: bool = True) -> None:
        """Delete target ``tid`` even if initiators are logged in (``--force``).

        Raises:
            ExportError: tgtadm refused (not when it is missing and ``missing_ok``).
        """
        try:
            self._adm("--op", "delete", "--mode", "target", "--tid", str(tid), "--force")
        except CommandFailedError as exc:
            if not (missing_ok and failed_because(exc, NO_TARGET)):
                raise

    def target_params(self, tid: int) -> dict[str, str]:
        """The iSCSI keys target ``tid`` offers at login (``MaxBurstLength``: ``"262144"``...).

        Raises:
            ExportError: tgtadm refused (e.g. :data:`NO_TARGET`).
        """
        shown = self._adm("--op", "show", "--mode", "target", "--tid", str(tid))
        pairs = (line.strip().partition("=") for line in shown.splitlines())
        return {key: value for key, sep, value in pairs if sep and key and " " not in key}

    def update_target_param(self, tid: int, name: str, value: str) -> None:
        """Set iSCSI key ``name`` of target ``tid`` (sessions logged in later negotiate it).

        Raises:
            ExportError: tgtadm refused (unknown key, value out of range).
        """
        self._adm(
            "--op", "update", "--mode", "target", "--tid", str(tid),
            "--name", name, "--value", value,
        )  # fmt: skip

    def new_lun(
        self, tid: int, lun: int, *, path: Path, bstype: str, bsoflags: Sequence[str] = ()
    ) -> None:
        """Add logical unit ``lun`` backed by ``path``; its size is the file's size now.

        Raises:
            ExportError: tgtadm refused (missing file, LUN exists, bad flags).
        """
        args = ["--op", "new", "--mode", "logicalunit", "--tid", str(tid), "--lun", str(lun)]
        args += ["-b", str(path), "--bstype", bstype]
        if bsoflags:
            args += ["--bsoflags", ":".join(bsoflags)]
        self._adm(*args)

    def update_lun(self, tid: int, lun: int, params: Mapping[str, str]) -> None:
        """Set logical unit parameters (``readonly``, ``thin_provisioning``, ``scsi_id``...).

        Raises:
            ExportError: tgtadm refused.
        """
        joined = ",".join(f"{key}={value}" for key, value in params.items())
        self._adm(
            "--op", "update", "--mode", "logicalunit", "--tid", str(tid), "--lun", str(lun),
            "--params", joined,
        )  # fmt: skip

    def delete_lun(self, tid: int, lun: int, *, missing_ok: bool = True) -> None:
        """Delete logical unit ``lun``, retrying while tgtd says it is busy.

        Raises:
            ExportError: tgtadm refused, or the LUN stayed busy.
        """
        args = ["--op", "delete", "--mode", "logicalunit", "--tid", str(tid), "--lun", str(lun)]
        for attempt in range(_BUSY_ATTEMPTS):
            try:
                self._adm(*args)
                return
            except CommandFailedError as exc:
                if missing_ok and failed_because(exc, NO_LUN):
                    return
                if not failed_because(exc, *_BUSY) or attempt == _BUSY_ATTEMPTS - 1:
                    raise
            time.sleep(_BUSY_DELAY_SECONDS)

    # -- accounts and ACLs -----------------------------------------------------

    def new_account(self, user: str, password: str) -> None:
        """Create CHAP account ``user`` (global to tgtd).

        Raises:
            ExportError: tgtadm refused (e.g. :data:`ACCOUNT_EXISTS`).
        """
        self._adm("--op", "new", "--mode", "account", "--user", user, "--password", password)

    def delete_account(self, user: str, *, missing_ok: bool = True) -> None:
        """Delete CHAP account ``user``; tgtd unbinds it from every target.

        Raises:
            ExportError: tgtadm refused (not when it is missing and ``missing_ok``).
        """
        try:
            self._adm("--op", "delete", "--mode", "account", "--user", user)
        except CommandFailedError as exc:
            if not (missing_ok and failed_because(exc, NO_ACCOUNT)):
                raise

    def bind_account(self, tid: int, user: str) -> None:
        """Require CHAP account ``user`` for logins to target ``tid`` (idempotent).

        Raises:
            ExportError: tgtadm refused (e.g. the account does not exist).
        """
        self._tolerate(
            (ACCOUNT_EXISTS, BINDING_EXISTS),
            "--op", "bind", "--mode", "account", "--tid", str(tid), "--user", user,
        )  # fmt: skip

    def unbind_account(self, tid: int, user: str, *, outgoing: bool = False) -> None:
        """Stop using account ``user`` for target ``tid`` (idempotent).

        Raises:
            ExportError: tgtadm refused.
        """
        args = ["--op", "unbind", "--mode", "account", "--tid", str(tid), "--user", user]
        self._tolerate((NO_ACCOUNT, NO_BINDING), *args, *(["--outgoing"] if outgoing else []))

    def bind_initiator(self, tid: int, name: str) -> None:
        """Allow the initiator named ``name`` to log in to target ``tid`` (idempotent).

        Raises:
            ExportError: tgtadm refused.
        """
        self._acl("bind", tid, "--initiator-name", name)

    def unbind_initiator(self, tid: int, name: str) -> None:
        """Stop allowing initiator ``name`` on target ``tid`` (idempotent).

        Raises:
            ExportError: tgtadm refused.
        """
        self._acl("unbind", tid, "--initiator-name", name)

    def unbind_address(self, tid: int, address: str) -> None:
        """Remove an address ACL entry (``-I``) from target ``tid`` (idempotent).

        Raises:
            ExportError: tgtadm refused.
        """
        self._acl("unbind", tid, "--initiator-address", address)

    def _acl(self, op: str, tid: int, kind: str, value: str) -> None:
        tolerated = (ACL_EXISTS,) if op == "bind" else (NO_ACL,)
        self._tolerate(tolerated, "--op", op, "--mode", "target", "--tid", str(tid), kind, value)

    def _tolerate(self, messages: Sequence[str], *args: str) -> None:
        try:
            self._adm(*args)
        except CommandFailedError as exc:
            if not failed_because(exc, *messages):
                raise

    # -- portals ---------------------------------------------------------------

    def new_portal(self, portal: str) -> None:
        """Listen on one more portal (``host:port``) without restarting tgtd.

        Raises:
            ExportError: tgtadm refused (e.g. the address is in use).
        """
        self._adm("--op", "new", "--mode", "portal", "--param", f"portal={portal}")

    def delete_portal(self, portal: str) -> None:
        """Stop listening on ``portal``.

        Raises:
            ExportError: tgtadm refused.
        """
        self._adm("--op", "delete", "--mode", "portal", "--param", f"portal={portal}")
