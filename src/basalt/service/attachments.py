"""Attachment use cases: reserve, connect (export), complete, detach; and the exports' state.

A volume's export is derived from the database: every attachment that has a
connector and is attaching, attached or detaching admits its host. Each change
computes that spec afresh, under a per-volume lock, and hands it whole to the
driver, so two hosts attaching at once cannot undo each other's ACL entry. The
connection info (which holds the project's CHAP secret) is built for the caller
that connects and never stored or logged.

Flows (volume status follows the attachments, see basalt.model.attachment):

    reserve                  -> attachment reserved            volume reserved
    attach / connect         -> attaching + export + info      volume attaching
    complete                 -> attached                       volume in-use
    detach                   -> detaching, export narrowed, row deleted
    terminate (legacy)       -> export narrowed, detaching until detach deletes it
"""

from __future__ import annotations

import builtins
import logging
import secrets
import string
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from basalt.drivers.types import ChapCredentials, ConnectionInfo, Connector, ExportSpec, VolumeRef
from basalt.errors import (
    AttachmentNotFoundError,
    BasaltError,
    InvalidInputError,
    InvalidStateError,
    VolumeAttachedError,
)
from basalt.model import (
    Attachment,
    AttachMode,
    AttachStatus,
    EventKind,
    Operation,
    OperationKind,
    OperationPhase,
    Volume,
    VolumeStatus,
    volume_status_for,
)
from basalt.model.connector import validate_attach_mode, validate_connector
from basalt.model.validation import check_text
from basalt.persistence.base import Database, Transaction
from basalt.service.base import UseCases
from basalt.service.clock import new_id, utcnow
from basalt.service.context import RequestContext
from basalt.service.journal import move_attachment, move_volume, record
from basalt.service.pools import PoolService
from basalt.service.refs import volume_ref
from basalt.service.runner import OperationRunner, OperationScope, mark_phase
from basalt.service.types import host_qos

log = logging.getLogger(__name__)
V = VolumeStatus
A = AttachStatus

ATTACH_OWNED: frozenset[VolumeStatus] = frozenset(
    {V.AVAILABLE, V.RESERVED, V.ATTACHING, V.IN_USE, V.DETACHING}
)
"""Volume statuses that attachments decide; other statuses refuse attach and detach."""

_CHAP_ALPHABET = string.ascii_letters + string.digits
CHAP_USERNAME_LENGTH = 20
CHAP_SECRET_LENGTH = 16  # 12-16 is what every initiator accepts
_LOCK_STRIPES = 64


@dataclass(frozen=True, slots=True)
class AttachResult:
    """An attachment and the connection info for the host that connected."""

    attachment: Attachment
    connection_info: ConnectionInfo


class AttachmentService(UseCases):
    """Everything a caller can do to attach volumes to hosts."""

    def __init__(
        self,
        *,
        db: Database,
        runner: OperationRunner,
        pools: PoolService,
        default_context: RequestContext,
    ) -> None:
        super().__init__(db=db, runner=runner, pools=pools, default_context=default_context)
        self._stripes = [threading.Lock() for _ in range(_LOCK_STRIPES)]

    # -- reading ---------------------------------------------------------------------

    def get(self, attachment_id: str, *, ctx: RequestContext | None = None) -> Attachment:
        """One attachment.

        Raises:
            AttachmentNotFoundError: it does not exist or belongs to another project.
        """
        with self.db.transaction(write=False) as tx:
            return self._attachment(tx, attachment_id, self._ctx(ctx, "volume:get"))

    def list(
        self,
        *,
        volume_id: str | None = None,
        ctx: RequestContext | None = None,
        all_projects: bool = False,
    ) -> builtins.list[Attachment]:
        """Attachments visible to the caller, oldest first, optionally of one volume."""
        context = self._ctx(ctx, "volume:get")
        project = None if (all_projects and context.is_admin) else context.project_id
        with self.db.transaction(write=False) as tx:
            return tx.attachments.find(project_id=project, volume_id=volume_id)

    def for_volumes(self, volume_ids: builtins.list[str]) -> dict[str, builtins.list[Attachment]]:
        """Attachments of each volume (for volume views), without visibility checks."""
        with self.db.transaction(write=False) as tx:
            return tx.attachments.for_volumes(volume_ids)

    # -- attaching -------------------------------------------------------------------

    def reserve(
        self,
        volume_id: str,
        *,
        instance_id: object | None = None,
        mode: object = "rw",
        ctx: RequestContext | None = None,
    ) -> Attachment:
        """Reserve the volume for a host that will connect later (no export yet).

        Raises:
            InvalidInputError: a bad mode or instance id.
            VolumeNotFoundError, InvalidStateError: the volume cannot be attached now.
            VolumeAttachedError: it is attached elsewhere and does not allow multiattach.
        """
        context = self._ctx(ctx, "volume:attach")
        checked_mode = validate_attach_mode(mode)
        instance = _instance(instance_id)
        with self.db.transaction() as tx:
            volume = self._volume(tx, volume_id, context)
            self._admit(volume, tx.attachments.for_volume(volume.id))
            mode_now = AttachMode.READ_ONLY if volume.readonly else checked_mode
            attachment = self._new_attachment(volume, context, A.RESERVED, mode_now, instance)
            operation = self._instant_operation(tx, OperationKind.RESERVE_VOLUME, volume, context)
            tx.attachments.add(attachment)
            self._note(tx, attachment, f"reserved for {instance or 'a host'}", operation.id)
            self._settle(tx, volume, action="reserve", operation_id=operation.id)
        return attachment

    def attach(
        self,
        volume_id: str,
        connector: object,
        *,
        instance_id: object | None = None,
        mode: object = "rw",
        ctx: RequestContext | None = None,
    ) -> AttachResult:
        """Attach the volume to the connector's host: export it and return the connection info.

        The same host (and instance) attaching again gets the same attachment and the
        same info. The attachment is ``attaching`` until :meth:`complete`.

        Raises:
            InvalidInputError: a bad connector, mode or instance id.
            VolumeNotFoundError, InvalidStateError: the volume cannot be attached now.
            VolumeAttachedError: it is attached elsewhere and does not allow multiattach.
            ExportUnavailableError, ExportError, DriverError: the backend could not export
                it; nothing is left attached or exported.
        """
        context = self._ctx(ctx, "volume:attach")
        checked = validate_connector(connector)
        checked_mode = validate_attach_mode(mode)
        instance = _instance(instance_id)
        with self.db.transaction(write=False) as tx:
            volume = self._volume(tx, volume_id, context)
            same = _same_host(tx.attachments.for_volume(volume.id), checked, instance)
        if same is not None and same.exporting:
            return self._reconnect(same, volume, checked)
        with self.db.transaction() as tx:
            volume = self._volume(tx, volume_id, context)
            existing = tx.attachments.for_volume(volume.id)
            reserved = _reservation(existing, instance)
            if reserved is None:
                self._admit(volume, existing)
                mode_now = AttachMode.READ_ONLY if volume.readonly else checked_mode
                attachment = self._new_attachment(volume, context, A.ATTACHING, mode_now, instance)
                attachment.connector = checked.as_dict()
                attachment.attached_host = checked.host
                tx.attachments.add(attachment)
                created = True
            else:
                attachment = reserved
                mode_now = AttachMode.READ_ONLY if volume.readonly else checked_mode
                self._take_connector(tx, attachment, checked, mode_now)
                created = False
            operation = self._connect_operation(tx, volume, attachment, context, created)
        return self._connect(operation, attachment, volume, checked, created=created)

    def connect(
        self, attachment_id: str, connector: object, *, ctx: RequestContext | None = None
    ) -> AttachResult:
        """Give a reserved attachment its host's connector: export and return the info.

        Raises:
            AttachmentNotFoundError, InvalidInputError, InvalidStateError, and the export
            errors of :meth:`attach`.
        """
        context = self._ctx(ctx, "volume:attach")
        checked = validate_connector(connector)
        with self.db.transaction(write=False) as tx:
            attachment = self._attachment(tx, attachment_id, context)
            volume = self._volume(tx, attachment.volume_id, context)
        if attachment.exporting and _connector_matches(attachment, checked):
            return self._reconnect(attachment, volume, checked)
        with self.db.transaction() as tx:
            attachment = self._attachment(tx, attachment_id, context)
            volume = self._volume(tx, attachment.volume_id, context)
            if attachment.exporting:
                raise InvalidStateError(
                    kind="attachment",
                    resource_id=attachment.id,
                    status=str(attachment.status),
                    action="connect another host to",
                )
            self._require_owned(volume, action="attach")
            self._take_connector(tx, attachment, checked, attachment.mode)
            operation = self._connect_operation(tx, volume, attachment, context, created=False)
        return self._connect(operation, attachment, volume, checked, created=False)

    def complete(
        self,
        attachment_id: str,
        *,
        mountpoint: object | None = None,
        ctx: RequestContext | None = None,
    ) -> Attachment:
        """The host says the volume is in use: the attachment becomes attached.

        Raises:
            AttachmentNotFoundError; InvalidStateError when it was never connected.
        """
        context = self._ctx(ctx, "volume:attach")
        where = None if mountpoint is None else _text(mountpoint, "mountpoint")
        with self.db.transaction() as tx:
            attachment = self._attachment(tx, attachment_id, context)
            if attachment.status == A.ATTACHED:
                return attachment
            volume = self._volume(tx, attachment.volume_id, context)
            operation = self._instant_operation(tx, OperationKind.ATTACH_VOLUME, volume, context)
            move_attachment(
                tx, attachment, A.ATTACHED, action="complete", operation_id=operation.id
            )
            attachment.attached_at = utcnow()
            attachment.mountpoint = where or attachment.mountpoint
            tx.attachments.save(attachment)
            self._settle(tx, volume, action="complete attaching", operation_id=operation.id)
        return attachment

    # -- detaching -------------------------------------------------------------------

    def detach(self, attachment_id: str, *, ctx: RequestContext | None = None) -> None:
        """Disconnect the attachment's host and delete the attachment.

        The export is narrowed to the other attachments, and removed with the last.

        Raises:
            AttachmentNotFoundError: no such attachment (e.g. it was detached already).
            InvalidStateError: the volume is busy with something else (e.g. extending).
            ExportError, DriverError: the export could not be changed; the attachment is
                left in error_detaching and a retry tries again.
        """
        context = self._ctx(ctx, "volume:detach")
        with self.db.transaction() as tx:
            attachment = self._attachment(tx, attachment_id, context)
            volume = self._volume(tx, attachment.volume_id, context)
            self._require_owned(volume, action="detach")
            if not attachment.exporting:
                operation = self._instant_operation(
                    tx, OperationKind.DETACH_VOLUME, volume, context
                )
                tx.attachments.delete(attachment.id)
                self._note(tx, attachment, "dropped (it held no export)", operation.id)
                self._settle(tx, volume, action="detach", operation_id=operation.id)
                return
            if attachment.status != A.DETACHING:
                move_attachment(tx, attachment, A.DETACHING, action="detach")
            self._settle(tx, volume, action="detach")
            operation = self._new_operation(
                tx,
                kind=OperationKind.DETACH_VOLUME,
                resource_kind="volume",
                resource_id=volume.id,
                ctx=context,
                params={"attachment_id": attachment.id},
            )
        self.runner.run_inline(operation, lambda scope: self.run_detach(scope, attachment, volume))

    def terminate(
        self, volume_id: str, connector: object | None, *, ctx: RequestContext | None = None
    ) -> builtins.list[Attachment]:
        """Legacy terminate_connection: stop serving the connector's host (every host if None).

        The matching attachments lose their export and stay ``detaching`` until
        :meth:`detach` deletes them (os-detach), as in Cinder's legacy flow.

        Raises:
            InvalidInputError: a bad connector; VolumeAttachedError: nothing matches it.
        """
        context = self._ctx(ctx, "volume:detach")
        checked = None if connector is None else validate_connector(connector)
        with self.db.transaction(write=False) as tx:
            volume = self._volume(tx, volume_id, context)
            matching = [
                a
                for a in tx.attachments.for_volume(volume.id)
                if a.exporting and (checked is None or _connector_matches(a, checked))
            ]
        if not matching:
            raise VolumeAttachedError(
                volume.id,
                "has no connection to that host" if checked else "has no connections",
                hint="list its attachments: basalt volume show",
            )
        released = []
        for attachment in matching:
            released.append(self._release(attachment, volume, context))
        return released

    def force_detach(
        self,
        volume_id: str,
        *,
        attachment_id: str | None = None,
        connector: object | None = None,
        ctx: RequestContext | None = None,
    ) -> builtins.list[str]:
        """Detach attachments whatever their status (administrators, os-force_detach):
        the named one, those of the connector's host, or every one. Each loses its export.

        Returns:
            The ids of the attachments detached.

        Raises:
            PermissionDeniedError: not an administrator.
            InvalidInputError: a bad connector.
            VolumeAttachedError: nothing matches.
            ExportError, DriverError: an export could not be removed (that attachment is
                left in error_detaching; retrying tries again).
        """
        context = self._ctx(ctx, "volume:force_detach")
        checked = None if connector is None else validate_connector(connector)
        with self.db.transaction(write=False) as tx:
            volume = self._volume(tx, volume_id, context)
            chosen = [
                a
                for a in tx.attachments.for_volume(volume.id)
                if (attachment_id is None or a.id == attachment_id)
                and (checked is None or _connector_matches(a, checked))
            ]
        if not chosen:
            raise VolumeAttachedError(
                volume.id, "has no attachment that matches", hint="list them: basalt volume show"
            )
        for attachment in chosen:
            self.detach(attachment.id, ctx=context)
        return [a.id for a in chosen]

    def run_detach(self, scope: OperationScope, attachment: Attachment, volume: Volume) -> None:
        """Narrow the export, then delete the attachment (also used after a restart)."""
        connector = _stored_connector(attachment)
        driver = self.pools.driver(volume.backend)
        try:
            with self._volume_lock(volume.id):
                remaining = self._spec(volume, exclude=attachment.id)
                scope.driver_call(
                    "disconnect",
                    lambda: driver.disconnect(volume_ref(volume), connector, remaining),
                )
        except Exception as exc:
            with self.db.transaction() as tx:
                scope.flush(tx)
                current = tx.attachments.get(attachment.id)
                if current is not None and current.status == A.DETACHING:
                    move_attachment(
                        tx,
                        current,
                        A.ERROR_DETACHING,
                        action="fail detach",
                        operation_id=scope.operation.id,
                        reason=str(exc),
                    )
                self._settle(tx, volume, action="fail detach", operation_id=scope.operation.id)
            raise
        with self.db.transaction() as tx:
            tx.attachments.delete(attachment.id)
            self._note(tx, attachment, "detached", scope.operation.id)
            self._settle(tx, volume, action="finish detaching", operation_id=scope.operation.id)
            scope.finish(tx)

    # -- the legacy volume actions (os-reserve ... os-detach) ---------------------------

    def initialize_connection(
        self, volume_id: str, connector: object, *, ctx: RequestContext | None = None
    ) -> ConnectionInfo:
        """Legacy os-initialize_connection: connect a reservation, or attach anew.

        Raises:
            as :meth:`attach`.
        """
        return self.attach(volume_id, connector, ctx=ctx).connection_info

    def unreserve(self, volume_id: str, *, ctx: RequestContext | None = None) -> int:
        """Legacy os-unreserve: drop the volume's reservations that never connected.

        Raises:
            VolumeNotFoundError; VolumeAttachedError when there is none.
        """
        context = self._ctx(ctx, "volume:detach")
        with self.db.transaction() as tx:
            volume = self._volume(tx, volume_id, context)
            reserved = [a for a in tx.attachments.for_volume(volume.id) if a.status == A.RESERVED]
            if not reserved:
                raise VolumeAttachedError(volume.id, "has no reservation to drop")
            operation = self._instant_operation(tx, OperationKind.DETACH_VOLUME, volume, context)
            for attachment in reserved:
                tx.attachments.delete(attachment.id)
                self._note(tx, attachment, "reservation dropped", operation.id)
            self._settle(tx, volume, action="unreserve", operation_id=operation.id)
        return len(reserved)

    def complete_for_volume(
        self,
        volume_id: str,
        *,
        instance_id: object | None = None,
        host_name: object | None = None,
        mountpoint: object | None = None,
        ctx: RequestContext | None = None,
    ) -> Attachment:
        """Legacy os-attach: complete the volume's connection (of ``host_name`` if given).

        Raises:
            VolumeAttachedError: no connection waits to be completed.
        """
        context = self._ctx(ctx, "volume:attach")
        host = None if host_name is None else _text(host_name, "host_name")
        instance = _instance(instance_id)
        with self.db.transaction(write=False) as tx:
            volume = self._volume(tx, volume_id, context)
            waiting = [
                a
                for a in tx.attachments.for_volume(volume.id)
                if a.status == A.ATTACHING and (host is None or a.attached_host == host)
            ]
        if not waiting:
            raise VolumeAttachedError(
                volume.id,
                "has no connection to complete",
                hint="call os-initialize_connection with the host's connector first",
            )
        attachment = waiting[0]
        if instance is not None and attachment.instance_id is None:
            with self.db.transaction() as tx:
                attachment.instance_id = instance
                tx.attachments.save(attachment)
        return self.complete(attachment.id, mountpoint=mountpoint, ctx=context)

    def detach_volume(
        self,
        volume_id: str,
        *,
        attachment_id: str | None = None,
        ctx: RequestContext | None = None,
    ) -> None:
        """Legacy os-detach: detach the named attachment, or the volume's only one.

        Raises:
            VolumeAttachedError: the volume is not attached, or has several attachments
                and none was named.
        """
        context = self._ctx(ctx, "volume:detach")
        with self.db.transaction(write=False) as tx:
            volume = self._volume(tx, volume_id, context)
            attachments = tx.attachments.for_volume(volume.id)
        if attachment_id is None:
            if not attachments:
                raise VolumeAttachedError(volume.id, "is not attached")
            if len(attachments) > 1:
                raise VolumeAttachedError(
                    volume.id,
                    f"has {len(attachments)} attachments",
                    hint="name one with attachment_id",
                )
            attachment_id = attachments[0].id
        elif attachment_id not in {a.id for a in attachments}:
            raise AttachmentNotFoundError(attachment_id, hint=f"not an attachment of {volume.id}")
        self.detach(attachment_id, ctx=context)

    def begin_detaching(self, volume_id: str, *, ctx: RequestContext | None = None) -> Attachment:
        """Legacy os-begin_detaching: the volume's single attached attachment starts detaching.

        Raises:
            VolumeAttachedError: it has no attached attachment, or several.
        """
        return self._flip(
            volume_id, A.ATTACHED, A.DETACHING, "begin detaching", self._ctx(ctx, "volume:detach")
        )

    def roll_detaching(self, volume_id: str, *, ctx: RequestContext | None = None) -> Attachment:
        """Legacy os-roll_detaching: a detach that the host gave up on; attached again.

        Raises:
            VolumeAttachedError: nothing is detaching.
        """
        return self._flip(
            volume_id,
            A.DETACHING,
            A.ATTACHED,
            "roll back detaching",
            self._ctx(ctx, "volume:detach"),
        )

    def _flip(
        self,
        volume_id: str,
        old: AttachStatus,
        new: AttachStatus,
        action: str,
        ctx: RequestContext,
    ) -> Attachment:
        with self.db.transaction() as tx:
            volume = self._volume(tx, volume_id, ctx)
            found = [
                a
                for a in tx.attachments.for_volume(volume.id)
                if a.status == old and a.connector is not None
            ]
            if len(found) != 1:
                raise VolumeAttachedError(
                    volume.id,
                    f"has {len(found)} {old} attachment(s); cannot {action}",
                    hint="use the attachments API to name one" if found else None,
                )
            move_attachment(tx, found[0], new, action=action)
            self._settle(tx, volume, action=action)
            return found[0]

    # -- exports as a whole ----------------------------------------------------------

    def ensure_exports(self) -> builtins.list[str]:
        """Make every backend export what the database says (at start, ensure_export).

        Errors are logged per backend and do not stop the others.
        """
        changes: builtins.list[str] = []
        with self.db.transaction(write=False) as tx:
            exporting = [a for a in tx.attachments.in_statuses(list(A)) if a.exporting]
            volumes = {a.volume_id: tx.volumes.get(a.volume_id) for a in exporting}
        for backend in self.pools.backend_names:
            wanted: dict[str, tuple[VolumeRef, ExportSpec]] = {}
            for volume in volumes.values():
                # An attached volume in error was left behind by a failover (not
                # replicated): its target, if any, stays as it is.
                if volume is not None and volume.backend == backend and volume.status != V.ERROR:
                    wanted[volume.id] = (volume_ref(volume), self._spec(volume))
            try:
                done = self.pools.driver(backend).ensure_exports(wanted)
            except BasaltError as exc:
                log.error("backend %s: could not re-create its exports: %s", backend, exc)
                changes.append(f"{backend}: failed: {exc}")
                continue
            changes += [f"{backend}: {line}" for line in done]
        if changes:
            log.warning("exports re-created from the database: %s", changes)
        return changes

    def recover(self, operation: Operation, scope: OperationScope) -> bool:
        """Resolve an attach or detach that a restart interrupted; True when finished.

        An unfinished connect is rolled back (the host never got its info, or cannot
        rely on it); an unfinished detach is finished. ensure_exports then makes the
        targets match.
        """
        attachment_id = str(operation.params.get("attachment_id", ""))
        with self.db.transaction() as tx:
            attachment = tx.attachments.get(attachment_id)
            volume = tx.volumes.get(operation.resource_id)
            if attachment is None or volume is None:
                return operation.kind == OperationKind.DETACH_VOLUME
            if operation.kind == OperationKind.DETACH_VOLUME:
                tx.attachments.delete(attachment.id)
                self._note(tx, attachment, "detached after a restart", operation.id)
                self._settle(tx, volume, action="finish detaching", operation_id=operation.id)
                return True
            if attachment.status != A.ATTACHING:
                return attachment.status == A.ATTACHED
            if operation.params.get("created"):
                tx.attachments.delete(attachment.id)
            else:
                move_attachment(tx, attachment, A.RESERVED, action="roll back connect")
                attachment.connector, attachment.attached_host = None, None
                tx.attachments.save(attachment)
            self._note(tx, attachment, "connect rolled back after a restart", operation.id)
            self._settle(tx, volume, action="roll back attaching", operation_id=operation.id)
            return False

    def settle_all(self) -> builtins.list[str]:
        """Give every attachment-owned volume the status its attachments say (after a restart)."""
        fixed: builtins.list[str] = []
        with self.db.transaction() as tx:
            for volume in tx.volumes.in_statuses(ATTACH_OWNED - {V.AVAILABLE}):
                if self._settle(tx, volume, action="settle after restart"):
                    fixed.append(volume.id)
        return fixed

    # -- helpers ---------------------------------------------------------------------

    def _connect(
        self,
        operation: Operation,
        attachment: Attachment,
        volume: Volume,
        connector: Connector,
        *,
        created: bool,
    ) -> AttachResult:
        driver = self.pools.driver(volume.backend)

        def body(scope: OperationScope) -> None:
            try:
                with self._volume_lock(volume.id):
                    spec = self._spec(volume)
                    info = scope.driver_call(
                        "connect", lambda: driver.connect(volume_ref(volume), connector, spec)
                    )
            except Exception as exc:
                self._undo_connect(scope, attachment, volume, connector, created, exc)
                raise
            with self.db.transaction() as tx:
                self._note(tx, attachment, f"connected host {connector.host}", operation.id)
                scope.finish(tx, result=info)

        info = self.runner.run_inline(operation, body)
        assert isinstance(info, ConnectionInfo)
        return AttachResult(
            attachment=attachment,
            connection_info=_for(attachment, volume, info, self._limits(volume)),
        )

    def _reconnect(
        self, attachment: Attachment, volume: Volume, connector: Connector
    ) -> AttachResult:
        """The same host asked again: the same export, the same info, nothing recorded."""
        driver = self.pools.driver(volume.backend)
        with self._volume_lock(volume.id):
            info = driver.connect(volume_ref(volume), connector, self._spec(volume))
        return AttachResult(
            attachment=attachment,
            connection_info=_for(attachment, volume, info, self._limits(volume)),
        )

    def _undo_connect(
        self,
        scope: OperationScope,
        attachment: Attachment,
        volume: Volume,
        connector: Connector,
        created: bool,
        error: Exception,
    ) -> None:
        with self.db.transaction() as tx:
            scope.flush(tx)
            current = tx.attachments.get(attachment.id)
            if current is not None and created:
                tx.attachments.delete(current.id)
            elif current is not None and current.status == A.ATTACHING:
                move_attachment(
                    tx, current, A.RESERVED, action="roll back connect", reason=str(error)
                )
                current.connector, current.attached_host = None, None
                tx.attachments.save(current)
            self._settle(tx, volume, action="fail attaching", operation_id=scope.operation.id)
        try:  # take back whatever part of the export the failed connect made
            with self._volume_lock(volume.id):
                remaining = self._spec(volume)
                self.pools.driver(volume.backend).disconnect(
                    volume_ref(volume), connector, remaining
                )
        except Exception as exc:  # the next ensure_exports (start) removes it
            log.error("volume %s: could not undo a failed connect: %s", volume.id, exc)
        scope.rolled_back = True

    def _release(self, attachment: Attachment, volume: Volume, ctx: RequestContext) -> Attachment:
        """Legacy terminate: narrow the export, keep the attachment detaching without connector."""
        with self.db.transaction() as tx:
            if attachment.status != A.DETACHING:
                move_attachment(tx, attachment, A.DETACHING, action="terminate connection")
            self._settle(tx, volume, action="terminate connection")
            operation = self._new_operation(
                tx,
                kind=OperationKind.DETACH_VOLUME,
                resource_kind="volume",
                resource_id=volume.id,
                ctx=ctx,
                params={"attachment_id": attachment.id, "keep_attachment": True},
            )
        connector = _stored_connector(attachment)
        driver = self.pools.driver(volume.backend)

        def body(scope: OperationScope) -> None:
            with self._volume_lock(volume.id):
                remaining = self._spec(volume, exclude=attachment.id)
                scope.driver_call(
                    "disconnect",
                    lambda: driver.disconnect(volume_ref(volume), connector, remaining),
                )
            with self.db.transaction() as tx:
                attachment.connector = None
                tx.attachments.save(attachment)
                self._note(tx, attachment, f"host {connector.host} disconnected", operation.id)
                scope.finish(tx)

        self.runner.run_inline(operation, body)
        return attachment

    def _limits(self, volume: Volume) -> dict[str, int] | None:
        """The front-end QoS limits of the volume's type, for the connection info."""
        with self.db.transaction(write=False) as tx:
            return host_qos(tx, volume)

    def _spec(self, volume: Volume, *, exclude: str | None = None) -> ExportSpec:
        """The export the volume's attachments need now, read from the database."""
        with self.db.transaction() as tx:
            attachments = [
                a for a in tx.attachments.for_volume(volume.id) if a.exporting and a.id != exclude
            ]
            chap = self._credentials(tx, volume.project_id)
        local = [a for a in attachments if (a.connector or {}).get("do_local_attach") is True]
        initiators = frozenset(
            a.initiator for a in attachments if a.initiator is not None and a not in local
        )
        read_only = volume.readonly or (
            bool(attachments) and all(a.mode == AttachMode.READ_ONLY for a in attachments)
        )
        return ExportSpec(initiators=initiators, chap=chap, read_only=read_only, local=bool(local))

    def _credentials(self, tx: Transaction, project_id: str) -> ChapCredentials:
        """The project's CHAP credentials, made on its first export."""
        stored = tx.credentials.get(project_id)
        if stored is not None:
            return stored
        fresh = ChapCredentials(
            username=_random(CHAP_USERNAME_LENGTH), secret=_random(CHAP_SECRET_LENGTH)
        )
        return tx.credentials.claim(project_id, fresh, created_at=utcnow())

    def _settle(
        self, tx: Transaction, volume: Volume, *, action: str, operation_id: str | None = None
    ) -> bool:
        """Move the volume to the status its attachments give it; True if it moved."""
        current = tx.volumes.get(volume.id)
        if current is None or current.status not in ATTACH_OWNED:
            return False
        wanted = volume_status_for(a.status for a in tx.attachments.for_volume(volume.id))
        if wanted == current.status:
            volume.status = current.status
            return False
        move_volume(tx, current, wanted, action=action, operation_id=operation_id)
        volume.status, volume.updated_at = current.status, current.updated_at
        return True

    def _admit(self, volume: Volume, attachments: builtins.list[Attachment]) -> None:
        self._require_owned(volume, action="attach")
        if attachments and not volume.multiattach:
            hosts = sorted({a.attached_host or "a reservation" for a in attachments})
            raise VolumeAttachedError(
                volume.id,
                f"is already attached ({', '.join(hosts)}) and does not allow multiattach",
                hint="detach it first, or use a volume created with multiattach",
            )

    def _require_owned(self, volume: Volume, *, action: str) -> None:
        if volume.status not in ATTACH_OWNED:
            raise InvalidStateError(
                kind="volume", resource_id=volume.id, status=str(volume.status), action=action
            )

    def _take_connector(
        self, tx: Transaction, attachment: Attachment, connector: Connector, mode: AttachMode
    ) -> None:
        move_attachment(tx, attachment, A.ATTACHING, action="connect")
        attachment.connector = connector.as_dict()
        attachment.attached_host = connector.host
        attachment.mode = mode
        tx.attachments.save(attachment)

    def _connect_operation(
        self,
        tx: Transaction,
        volume: Volume,
        attachment: Attachment,
        ctx: RequestContext,
        created: bool,
    ) -> Operation:
        operation = self._new_operation(
            tx,
            kind=OperationKind.ATTACH_VOLUME,
            resource_kind="volume",
            resource_id=volume.id,
            ctx=ctx,
            params={"attachment_id": attachment.id, "created": created},
        )
        self._note(tx, attachment, f"connecting host {attachment.attached_host}", operation.id)
        self._settle(tx, volume, action="attach", operation_id=operation.id)
        return operation

    def _instant_operation(
        self, tx: Transaction, kind: OperationKind, volume: Volume, ctx: RequestContext
    ) -> Operation:
        """An operation that is done when its transaction commits (no backend work)."""
        operation = self._new_operation(
            tx, kind=kind, resource_kind="volume", resource_id=volume.id, ctx=ctx
        )
        mark_phase(operation, OperationPhase.RUNNING)
        mark_phase(operation, OperationPhase.SUCCEEDED)
        tx.operations.save(operation)
        return operation

    def _new_attachment(
        self,
        volume: Volume,
        ctx: RequestContext,
        status: AttachStatus,
        mode: AttachMode,
        instance: str | None,
    ) -> Attachment:
        now = utcnow()
        return Attachment(
            id=new_id(),
            volume_id=volume.id,
            project_id=volume.project_id,
            user_id=ctx.user_id,
            status=status,
            mode=mode,
            created_at=now,
            updated_at=now,
            instance_id=instance,
        )

    def _attachment(self, tx: Transaction, attachment_id: str, ctx: RequestContext) -> Attachment:
        attachment = tx.attachments.get(attachment_id)
        if attachment is None or not ctx.can_see(attachment.project_id):
            raise AttachmentNotFoundError(attachment_id)
        return attachment

    def _note(
        self, tx: Transaction, attachment: Attachment, message: str, operation_id: str | None
    ) -> None:
        record(
            tx,
            resource_kind="volume",
            resource_id=attachment.volume_id,
            kind=EventKind.NOTE,
            message=f"attachment {attachment.id}: {message}",
            operation_id=operation_id,
        )

    @contextmanager
    def _volume_lock(self, volume_id: str) -> Iterator[None]:
        lock = self._stripes[zlib.crc32(volume_id.encode()) % _LOCK_STRIPES]
        with lock:
            yield


def _for(
    attachment: Attachment, volume: Volume, info: ConnectionInfo, limits: dict[str, int] | None
) -> ConnectionInfo:
    """The info as this attachment sees it: its own access mode (the LUN is read-only
    only when every attachment is; a read-only host on a shared LUN is told ro), and the
    front-end QoS limits the host is to enforce (``qos_specs``; None without any)."""
    read_only = volume.readonly or attachment.mode == AttachMode.READ_ONLY
    data = {**info.data, "access_mode": "ro" if read_only else "rw", "qos_specs": limits}
    return ConnectionInfo(info.driver_volume_type, data)


def _random(length: int) -> str:
    return "".join(secrets.choice(_CHAP_ALPHABET) for _ in range(length))


def _instance(value: object | None) -> str | None:
    return None if value is None else _text(value, "instance_id")


def _text(value: object, field: str) -> str:
    return check_text(value, field=field, max_length=255, allow_empty=False)


def _stored_connector(attachment: Attachment) -> Connector:
    if attachment.connector is None:
        raise InvalidInputError("attachment", f"attachment {attachment.id} has no connector")
    return validate_connector(attachment.connector)


def _connector_matches(attachment: Attachment, connector: Connector) -> bool:
    stored = attachment.connector or {}
    return (
        stored.get("host") == connector.host
        and stored.get("initiator") == connector.initiator
        and bool(stored.get("do_local_attach", False)) == connector.do_local_attach
    )


def _same_host(
    attachments: builtins.list[Attachment], connector: Connector, instance: str | None
) -> Attachment | None:
    """The attachment the same host (and instance) already has, if any."""
    for attachment in attachments:
        if attachment.instance_id == instance and _connector_matches(attachment, connector):
            return attachment
    return None


def _reservation(attachments: builtins.list[Attachment], instance: str | None) -> Attachment | None:
    """A reserved attachment (no connector yet) of this instance, to connect."""
    for attachment in attachments:
        if attachment.status == A.RESERVED and attachment.instance_id == instance:
            return attachment
    return None
