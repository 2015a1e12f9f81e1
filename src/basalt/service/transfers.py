"""Volume transfers between projects: offer, list, show, cancel (accept: transfer_accept.py).

The rules, close to the Block Storage API's:

- A member of the volume's project offers it (``create``): the volume must be
  ``available`` (so not attached or reserved), no copy may be being made from it
  or from its snapshots, and its snapshots, which go with it, must all be
  available. ``no_snapshots`` (3.55) offers a volume without snapshots; Basalt
  requires that it has none, since a snapshot stays with its volume's project
  (on SolidFire a snapshot belongs to its volume). The volume becomes
  ``awaiting-transfer`` (no attach, extend, snapshot, clone or delete) and the
  caller gets the auth key, this once: only its salted hash is stored.
- The offering project's members (and administrators) list and show open
  transfers, never with the key; an accepted transfer is kept as a record but no
  longer listed or shown.
- Deleting an open transfer cancels it: the volume is available again. A transfer
  being accepted cannot be deleted.
"""

from __future__ import annotations

import builtins

from basalt.errors import (
    InvalidInputError,
    InvalidStateError,
    ResourceBusyError,
    TransferNotFoundError,
    VolumeAttachedError,
)
from basalt.model import EventKind, Snapshot, SnapshotStatus, Volume, VolumeStatus
from basalt.model.transfer import NewTransfer, Transfer, hash_key, new_auth_key, new_salt
from basalt.model.validation import validate_flag, validate_name
from basalt.persistence.base import Transaction
from basalt.service.clock import new_id, utcnow
from basalt.service.context import RequestContext
from basalt.service.journal import move_volume, record
from basalt.service.transfer_accept import TransferAccept

V = VolumeStatus


class TransferService(TransferAccept):
    """Everything a caller can do with volume transfers."""

    def create(
        self,
        volume_id: str,
        *,
        name: object = None,
        no_snapshots: object = False,
        ctx: RequestContext | None = None,
    ) -> NewTransfer:
        """Offer a volume (with its snapshots) to another project.

        Args:
            volume_id: the volume.
            name: the transfer's name (None: empty).
            no_snapshots: offer the volume alone; it must then have no snapshots.
            ctx: the caller (the default context when None).

        Returns:
            The transfer and its auth key, which is shown this once and never stored.

        Raises:
            VolumeNotFoundError: the volume is unknown to the caller.
            InvalidInputError: a bad name, or ``no_snapshots`` for a volume with snapshots.
            InvalidStateError: the volume or one of its snapshots is not available.
            VolumeAttachedError: the volume has attachments.
            ResourceBusyError: a copy is being made from it or from a snapshot of it.
        """
        context = self._ctx(ctx, "transfer:create")
        transfer_name = validate_name("" if name is None else name)
        bare = validate_flag(no_snapshots, field="no_snapshots")
        key, salt = new_auth_key(), new_salt()
        with self.db.transaction() as tx:
            volume = self._volume(tx, volume_id, context)
            _require_transferable(tx, volume, no_snapshots=bare)
            transfer = Transfer(
                id=new_id(),
                volume_id=volume.id,
                name=transfer_name,
                source_project_id=volume.project_id,
                created_at=utcnow(),
                salt=salt,
                crypt_hash=hash_key(salt, key),
                no_snapshots=bare,
            )
            withdraw_transfers(tx, volume, reason="a new transfer replaces it")
            tx.transfers.add(transfer)
            move_volume(
                tx, volume, V.AWAITING_TRANSFER, action="transfer", reason=f"transfer {transfer.id}"
            )
        return NewTransfer(transfer=transfer, auth_key=key)

    def get(self, transfer_id: str, *, ctx: RequestContext | None = None) -> Transfer:
        """One open transfer of the caller's project (any project's for administrators).

        Raises:
            TransferNotFoundError: unknown, another project's, or accepted already.
        """
        context = self._ctx(ctx, "transfer:get")
        with self.db.transaction(write=False) as tx:
            return _visible(tx, transfer_id, context)

    def list(
        self,
        *,
        volume_id: str | None = None,
        all_projects: bool = False,
        ctx: RequestContext | None = None,
    ) -> builtins.list[Transfer]:
        """Open transfers of the caller's project (every project's for an administrator
        asking for all), newest first.

        Args:
            volume_id: only this volume's.
            all_projects: administrators: every project's.
            ctx: the caller (the default context when None).

        Returns:
            The transfers (their keys are not stored, so never shown).
        """
        context = self._ctx(ctx, "transfer:get")
        project = None if (all_projects and context.is_admin) else context.project_id
        with self.db.transaction(write=False) as tx:
            return tx.transfers.find(project_id=project, volume_id=volume_id)

    def delete(self, transfer_id: str, *, ctx: RequestContext | None = None) -> Transfer:
        """Cancel an open transfer; its volume is available again.

        Returns:
            The transfer as it was.

        Raises:
            TransferNotFoundError: unknown, another project's, or accepted already.
            ResourceBusyError: an accept is under way.
        """
        context = self._ctx(ctx, "transfer:delete")
        with self.db.transaction() as tx:
            transfer = _visible(tx, transfer_id, context)
            if not tx.transfers.withdraw(transfer.id):
                raise ResourceBusyError(
                    f"transfer {transfer.id} is being accepted",
                    hint="wait for the accept to finish (basalt operation list --open)",
                )
            volume = tx.volumes.get(transfer.volume_id)
            if volume is not None and volume.status == V.AWAITING_TRANSFER:
                move_volume(
                    tx,
                    volume,
                    V.AVAILABLE,
                    action="cancel the transfer of",
                    reason=f"transfer {transfer.id} deleted by {context.user_id}",
                )
        return transfer


def withdraw_transfers(tx: Transaction, volume: Volume, *, reason: str) -> None:
    """Remove the volume's open transfers (its deletion or a new offer makes them void),
    with a note on its timeline for each."""
    for transfer in tx.transfers.find(project_id=None, volume_id=volume.id):
        if tx.transfers.withdraw(transfer.id):
            record(
                tx,
                resource_kind="volume",
                resource_id=volume.id,
                kind=EventKind.NOTE,
                message=f"transfer {transfer.id} withdrawn: {reason}",
            )


def _visible(tx: Transaction, transfer_id: str, ctx: RequestContext) -> Transfer:
    transfer = tx.transfers.get(transfer_id)
    if transfer is None or transfer.accepted or not ctx.can_see(transfer.source_project_id):
        raise TransferNotFoundError(transfer_id)
    return transfer


def _require_transferable(tx: Transaction, volume: Volume, *, no_snapshots: bool) -> None:
    """The create rules of the module docstring."""
    if tx.attachments.for_volume(volume.id):
        raise VolumeAttachedError(
            volume.id, "has attachments", hint="detach it before offering it to another project"
        )
    if volume.status != V.AVAILABLE:
        raise InvalidStateError(
            kind="volume", resource_id=volume.id, status=str(volume.status), action="transfer"
        )
    snapshots = tx.snapshots.for_volume(volume.id)
    if no_snapshots and snapshots:
        raise InvalidInputError(
            "no_snapshots",
            f"volume {volume.id} has {len(snapshots)} snapshot(s); a snapshot stays with its "
            "volume's project",
            hint="delete them first, or transfer the volume with its snapshots",
        )
    require_settled_snapshots(snapshots, action="transfer")
    require_no_copies(tx, volume, snapshots)


def require_settled_snapshots(snapshots: builtins.list[Snapshot], *, action: str) -> None:
    """Refuse while a snapshot that would go with the volume is not available.

    Raises:
        InvalidStateError: naming the first such snapshot.
    """
    for snap in snapshots:
        if snap.status != SnapshotStatus.AVAILABLE:
            raise InvalidStateError(
                kind="snapshot", resource_id=snap.id, status=str(snap.status), action=action
            )


def require_no_copies(tx: Transaction, volume: Volume, snapshots: builtins.list[Snapshot]) -> None:
    """Refuse while a new volume is being made from the volume or one of its snapshots.

    Raises:
        ResourceBusyError: naming the source.
    """
    sources: builtins.list[Volume | Snapshot] = [volume, *snapshots]
    for source in sources:
        if tx.volumes.copies_in_progress(source.id):
            kind = "volume" if source is volume else "snapshot"
            raise ResourceBusyError(
                f"a volume is being created from {kind} {source.id}",
                hint="transfer it when the new volume is available",
            )
