"""Accepting a volume transfer: the volume (and its snapshots) change project.

A member of another project gives the transfer id and the auth key. An unknown
id, a wrong key and a transfer accepted (or withdrawn) already all get the same
:class:`~basalt.errors.TransferKeyRefusedError`, whose words do not depend on
the transfer, so a guess learns nothing about other projects; the key is compared
in constant time, and an unknown id costs the same hash as a known one.

Then, as one operation record (kind ``accept_transfer``, on the volume):

1. in one transaction the transfer is *claimed* for the accepting project (a
   compare-and-set: a second accept or a cancel now loses) and the operation is
   written; the volume stays ``awaiting-transfer``;
2. the driver's hook runs when the backend keeps objects per project
   (:class:`~basalt.drivers.base.SupportsTransfer`; SolidFire moves the volume
   to the new project's account, the file driver needs none);
3. in one transaction the volume and its snapshots get the new project and user,
   the transfer is marked accepted, the volume is available, the operation
   succeeded.

A failure withdraws the transfer and leaves the volume with its project,
available; first the hook runs with the projects swapped, which moves the volume
back if it moved (an answer may have been lost) and changes nothing otherwise;
if that fails too, the volume goes to ``error`` with the reason. After a crash the next start
finishes the accept (:meth:`TransferAccept.recover_accept`): the hook is
idempotent.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from basalt.drivers.base import SupportsTransfer, VolumeDriver
from basalt.drivers.types import DriverUpdate
from basalt.errors import (
    BasaltError,
    InvalidInputError,
    InvalidStateError,
    ResourceBusyError,
    TransferKeyRefusedError,
    VolumeNotFoundError,
)
from basalt.model import (
    EventKind,
    Operation,
    OperationKind,
    Snapshot,
    Volume,
    VolumeStatus,
)
from basalt.model.quota import QuotaDeltas
from basalt.model.states import SNAPSHOT_BUSY
from basalt.model.transfer import MAX_AUTH_KEY_LENGTH, Transfer, key_matches, new_salt
from basalt.persistence.base import Transaction
from basalt.service.base import UseCases
from basalt.service.clock import utcnow
from basalt.service.context import RequestContext
from basalt.service.journal import move_volume, record
from basalt.service.refs import volume_ref
from basalt.service.runner import OperationHandle, OperationScope

log = logging.getLogger(__name__)
V = VolumeStatus
_DECOY = Transfer(
    id="", volume_id="", name="", source_project_id="", created_at=utcnow(), salt=new_salt(),
    crypt_hash="0" * 64,
)  # fmt: skip
"""Hashed against when the id is unknown, so that costs what a wrong key costs."""


class TransferAccept(UseCases):
    """The accept use case of TransferService."""

    def accept(
        self, transfer_id: str, auth_key: object, *, ctx: RequestContext | None = None
    ) -> OperationHandle[Volume]:
        """Take a volume offered by another project into the caller's project.

        Args:
            transfer_id: the transfer.
            auth_key: the key its creator was given.
            ctx: the caller (the default context when None); the volume becomes its
                project's and its user's.

        Returns:
            A handle; ``wait()`` returns the volume, now the caller's project's.

        Raises:
            TransferKeyRefusedError: no open transfer has this id and key (the same
                answer for an unknown id, a wrong key and a used transfer).
            InvalidInputError: the key is not text, or the transfer is the caller's own
                project's.
            InvalidStateError: the volume is no longer awaiting transfer.
            ResourceBusyError: another accept is under way, or a copy is being made
                from the volume's snapshots, or one of them is busy.
        """
        context = self._ctx(ctx, "transfer:accept")
        key = _checked_key(auth_key)
        with self.db.transaction() as tx:
            transfer = _acceptable(tx, transfer_id, key)
            volume, snapshots = self._offered(tx, transfer, context)
            self._check_destination_quota(tx, context.project_id, volume, snapshots)
            if not tx.transfers.claim(transfer.id, destination_project_id=context.project_id):
                raise _busy(transfer)
            operation = self._new_operation(
                tx,
                kind=OperationKind.ACCEPT_TRANSFER,
                resource_kind="volume",
                resource_id=volume.id,
                ctx=context,
                params=_params(transfer, context),
            )
            record(
                tx,
                resource_kind="volume",
                resource_id=volume.id,
                kind=EventKind.NOTE,
                message=f"transfer {transfer.id} is being accepted by project {context.project_id}",
                operation_id=operation.id,
            )
        return self._start(
            operation,
            lambda scope: self.run_accept(scope, transfer, volume),
            lambda: _owned_volume(self, volume.id, context),
        )

    def _check_destination_quota(
        self,
        tx: Transaction,
        project_id: str,
        volume: Volume,
        snapshots: list[Snapshot],
    ) -> None:
        """The destination project's quota check, in the accept's first transaction,
        before the claim, so a refusal changes nothing.

        Args:
            tx: the accept's transaction.
            project_id: the project taking the volume.
            volume: the volume (``size_gib`` GiB, one volume).
            snapshots: the snapshots that go with it (none for a ``no_snapshots`` transfer).

        Raises:
            QuotaExceededError: the destination project's quota refuses them.
        """
        self.quotas.check(tx, project_id, QuotaDeltas.for_transfer(volume, snapshots))

    def _offered(
        self, tx: Transaction, transfer: Transfer, ctx: RequestContext
    ) -> tuple[Volume, list[Snapshot]]:
        """The volume and snapshots the caller would take, checked."""
        if transfer.source_project_id == ctx.project_id:
            raise InvalidInputError(
                "transfer_id",
                f"transfer {transfer.id} is offered by project {ctx.project_id}, the caller's own",
                hint="a member of another project accepts it; delete it to cancel",
            )
        if not transfer.is_open:
            raise _busy(transfer)
        volume = tx.volumes.get(transfer.volume_id)
        if volume is None:  # a volume's deletion withdraws its transfers
            raise TransferKeyRefusedError()
        if volume.status != V.AWAITING_TRANSFER:
            raise InvalidStateError(
                kind="volume",
                resource_id=volume.id,
                status=str(volume.status),
                action="accept the transfer of",
                hint="its owner may offer it again",
            )
        snapshots = tx.snapshots.for_volume(volume.id)
        for snap in snapshots:
            if snap.status in SNAPSHOT_BUSY or tx.volumes.copies_in_progress(snap.id):
                raise ResourceBusyError(
                    f"snapshot {snap.id} of volume {volume.id} is busy ({snap.status})",
                    hint="accept the transfer when its work has finished",
                )
        return volume, snapshots

    def run_accept(self, scope: OperationScope, transfer: Transfer, volume: Volume) -> None:
        """Move the volume on the backend, then hand it over (also after a restart)."""
        destination = str(scope.operation.params["destination_project_id"])
        mover = self._mover(volume.backend)
        update: DriverUpdate | None = None
        try:
            if mover is not None:
                update = scope.driver_call(
                    "accept_transfer",
                    lambda: mover.accept_transfer(volume_ref(volume), destination),
                )
            with self.db.transaction() as tx:
                scope.finish(tx, result=self._hand_over(tx, scope, transfer, update))
        except Exception as exc:
            self._fail_accept(scope, transfer, volume, update=update, error=exc)
            raise

    def _hand_over(
        self,
        tx: Transaction,
        scope: OperationScope,
        transfer: Transfer,
        update: DriverUpdate | None,
    ) -> Volume:
        """The last transaction: new owner for the volume and its snapshots, accepted."""
        params = scope.operation.params
        destination, user = str(params["destination_project_id"]), str(params["user_id"])
        volume = tx.volumes.get(transfer.volume_id)
        if volume is None or not tx.transfers.mark_accepted(
            transfer.id, destination_project_id=destination
        ):
            raise BasaltError(f"transfer {transfer.id} changed while it was being accepted")
        now = utcnow()
        for snap in tx.snapshots.for_volume(volume.id):
            snap.project_id, snap.user_id, snap.updated_at = destination, user, now
            tx.snapshots.save(snap)
            scope.note(
                EventKind.NOTE,
                f"now project {destination}'s (transfer {transfer.id})",
                resource_kind="snapshot",
                resource_id=snap.id,
            )
        volume.project_id, volume.user_id = destination, user
        if update is not None and update.provider_location is not None:
            volume.provider_location = update.provider_location
        tx.volumes.save(volume)
        move_volume(
            tx,
            volume,
            V.AVAILABLE,
            action="accept the transfer of",
            operation_id=scope.operation.id,
            reason=f"transfer {transfer.id}: from project {transfer.source_project_id} "
            f"to project {destination}",
        )
        return volume

    def _fail_accept(
        self,
        scope: OperationScope,
        transfer: Transfer,
        volume: Volume,
        *,
        update: DriverUpdate | None,
        error: Exception,
    ) -> None:
        """Make sure the backend holds the volume for its project again (the hook may have
        moved it even when it failed: an answer can be lost), withdraw the transfer, and
        leave the volume with its project: available, or ``error`` when that failed.

        When the database cannot be read this raises at once and undoes nothing: the
        claim and the open operation stay, and the next start finishes the accept.
        """
        with self.db.transaction(write=False) as tx:
            stored = tx.transfers.get(transfer.id)
        if stored is not None and stored.accepted:  # the hand-over committed after all
            return
        destination = str(scope.operation.params["destination_project_id"])
        undone = self._mover(volume.backend) is None or self._undo_move(
            scope, volume, destination, update
        )
        scope.rolled_back = undone
        with self.db.transaction() as tx:
            scope.flush(tx)
            tx.transfers.withdraw(transfer.id, claimed_by=destination)
            current = tx.volumes.get(volume.id)
            if current is not None and current.status == V.AWAITING_TRANSFER:
                reason = f"accepting transfer {transfer.id} failed: {error}; it is withdrawn"
                if not undone:
                    reason += "; moving it back on the backend failed too"
                move_volume(
                    tx,
                    current,
                    V.AVAILABLE if undone else V.ERROR,
                    action="fail accepting the transfer of",
                    operation_id=scope.operation.id,
                    reason=reason,
                )

    def _undo_move(
        self, scope: OperationScope, volume: Volume, destination: str, update: DriverUpdate | None
    ) -> bool:
        mover = self._mover(volume.backend)
        assert mover is not None, "only a driver with the hook is asked to move a volume back"
        before = volume_ref(volume)
        location = update.provider_location if update is not None else None
        moved = replace(
            before, project_id=destination, provider_location=location or before.provider_location
        )
        try:
            scope.driver_call(
                "accept_transfer (undo)", lambda: mover.accept_transfer(moved, volume.project_id)
            )
        except Exception:  # noqa: BLE001 - on the timeline (driver_call); the volume goes to error
            log.exception("volume %s: moving it back after a failed accept failed", volume.id)
            return False
        return True

    def recover_accept(self, operation: Operation, scope: OperationScope) -> bool:
        """Resolve an accept a crash interrupted: finish it (the hook is idempotent).

        Returns:
            True when the volume was handed over, False when the accept was rolled back
            (or had ended before the crash without recording it).

        Raises:
            BasaltError: finishing failed and nothing needed undoing (the volume is
                available with its project again, the transfer withdrawn).
        """
        with self.db.transaction(write=False) as tx:
            transfer = tx.transfers.get(str(operation.params.get("transfer_id")))
            volume = tx.volumes.get(operation.resource_id)
        if transfer is None or volume is None:  # withdrawn by the failure path
            return False
        if transfer.accepted:
            return True
        if transfer.destination_project_id != operation.params.get("destination_project_id"):
            return False
        try:
            self.run_accept(scope, transfer, volume)
        except BasaltError:
            if scope.rolled_back:
                return False
            raise
        return True

    def release_orphan_claims(self) -> list[str]:
        """Open again the transfers claimed by no open operation (none should be); their
        ids. Runs after every interrupted operation was resolved."""
        released = []
        with self.db.transaction() as tx:
            for transfer in tx.transfers.claimed():
                if tx.operations.find(
                    project_id=None, resource_id=transfer.volume_id, open_only=True, limit=1
                ):
                    continue
                holder = str(transfer.destination_project_id)
                if tx.transfers.release(transfer.id, destination_project_id=holder):
                    released.append(transfer.id)
        return released

    def _mover(self, backend: str) -> SupportsTransfer | None:
        driver: VolumeDriver = self.pools.driver(backend)
        return driver if isinstance(driver, SupportsTransfer) else None


def _checked_key(auth_key: object) -> str:
    if isinstance(auth_key, int) and not isinstance(auth_key, bool):
        auth_key = str(auth_key)
    if not isinstance(auth_key, str) or not auth_key or len(auth_key) > MAX_AUTH_KEY_LENGTH:
        raise InvalidInputError(
            "auth_key", f"must be the text of the transfer's key (1 to {MAX_AUTH_KEY_LENGTH})"
        )
    return auth_key


def _acceptable(tx: Transaction, transfer_id: str, key: str) -> Transfer:
    """The transfer if the key is its key and it is not accepted; else the one refusal."""
    transfer = tx.transfers.get(transfer_id)
    if transfer is None:
        key_matches(_DECOY, key)  # the same work as a wrong key
        raise TransferKeyRefusedError()
    if not key_matches(transfer, key) or transfer.accepted:
        raise TransferKeyRefusedError()
    return transfer


def _busy(transfer: Transfer) -> ResourceBusyError:
    return ResourceBusyError(
        f"transfer {transfer.id} is being accepted",
        hint="a transfer is accepted once; see its volume's operations",
    )


def _params(transfer: Transfer, ctx: RequestContext) -> dict[str, object]:
    return {
        "transfer_id": transfer.id,
        "transfer_name": transfer.name,
        "source_project_id": transfer.source_project_id,
        "destination_project_id": ctx.project_id,
        "user_id": ctx.user_id,
    }


def _owned_volume(service: UseCases, volume_id: str, ctx: RequestContext) -> Volume:
    with service.db.transaction(write=False) as tx:
        volume = tx.volumes.get(volume_id)
    if volume is None or not ctx.can_see(volume.project_id):
        raise VolumeNotFoundError(volume_id, hint="the transfer has not been accepted (yet)")
    return volume
