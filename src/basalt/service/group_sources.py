"""A new group from a source: a group snapshot (each member snapshot becomes a volume) or
a source group (each volume is copied as one cut, like a group snapshot).

One operation (kind ``create_group_from_src``, on the new group) makes them all: the
first transaction writes the group and every new volume (``creating``, quota checked
per volume), the body calls the driver's ``create_group`` and ``create_group_from_src``
(progress: bytes of the volumes made), and the last transaction makes the volumes and
the group available together. A failure leaves no new volume on the backend (the
driver removes what it made) and marks the volumes and the group ``error``; a crash
is rolled back the same way at the next start.

Also the helpers every group use case shares (the group's driver, failing a group).
"""

from __future__ import annotations

from collections.abc import Sequence

from basalt.drivers.base import SupportsGroups
from basalt.drivers.types import GroupRef, SnapshotRef, VolumeRef
from basalt.errors import GroupNotFoundError, InvalidInputError, InvalidStateError
from basalt.model import EventKind, Operation, OperationKind, Snapshot, Volume, VolumeStatus
from basalt.model.group import Group
from basalt.model.quota import QuotaDeltas
from basalt.model.states import GroupSnapshotStatus, GroupStatus
from basalt.model.validation import validate_description, validate_name
from basalt.persistence.base import Transaction
from basalt.service.base import UseCases
from basalt.service.clock import new_id, utcnow
from basalt.service.context import RequestContext
from basalt.service.group_rules import (
    group_driver,
    require_settled,
    visible_group,
    visible_group_snapshot,
)
from basalt.service.journal import move_group, move_volume, record
from basalt.service.refs import snapshot_ref, volume_ref
from basalt.service.replicator import Replicator
from basalt.service.runner import OperationHandle, OperationScope

G = GroupStatus
V = VolumeStatus
GIB = 1024**3
Source = tuple[Volume | Snapshot, Volume]
"""A new volume's source (a member snapshot, or a volume of the source group) and the
volume it came from (its type, pool and name)."""


class GroupSources(UseCases):
    """create-from-src of GroupService, and the helpers every group use case shares."""

    replicator: Replicator
    """Set by the Basalt facade: new volumes of replicated types get their record."""

    def create_from_src(
        self,
        *,
        group_snapshot_id: str | None = None,
        source_group_id: str | None = None,
        name: object = "",
        description: object = "",
        ctx: RequestContext | None = None,
    ) -> OperationHandle[Group]:
        """A new group holding a copy of every member of a group snapshot or a group.

        Raises:
            InvalidInputError: neither or both sources, a bad name.
            GroupSnapshotNotFoundError, GroupNotFoundError: the source is unknown.
            InvalidStateError: the source (or one of its volumes) is not settled, or empty.
            QuotaExceededError: the volumes do not fit the project's quota.
            NotSupportedError: the backend does not support groups.
        """
        context = self._ctx(ctx, "group:create")
        if (group_snapshot_id is None) == (source_group_id is None):
            raise InvalidInputError(
                "create-from-src", "give exactly one of group_snapshot_id and source_group_id"
            )
        name_, description_ = validate_name(name or ""), validate_description(description or "")
        with self.db.transaction() as tx:
            origin, sources = _sources(tx, context, group_snapshot_id, source_group_id)
            group_driver(self.pools.driver(str(origin.backend)), str(origin.backend))
            group = _new_group(origin, context, name_, description_)
            group.group_snapshot_id, group.source_group_id = group_snapshot_id, source_group_id
            tx.groups.add(group)
            operation = self._new_operation(
                tx,
                kind=OperationKind.CREATE_GROUP_FROM_SRC,
                resource_kind="group",
                resource_id=group.id,
                ctx=context,
                params={"group_snapshot_id": group_snapshot_id, "source_group_id": source_group_id},
            )
            volumes = [self._new_member(tx, group, source, operation) for source in sources]
        pairs = list(zip(volumes, [s for s, _ in sources], strict=True))
        return self._start(
            operation,
            lambda scope: self.run_create_from_src(scope, group, pairs),
            lambda: _load_group(self, group.id, context),
        )

    def _new_member(
        self, tx: Transaction, group: Group, source: Source, operation: Operation
    ) -> Volume:
        copied, origin = source
        now = utcnow()
        volume = Volume(
            id=new_id(),
            project_id=group.project_id,
            user_id=group.user_id,
            name=origin.name,
            description=origin.description,
            size_gib=max(copied.size_gib, origin.size_gib),
            status=V.CREATING,
            backend=origin.backend,
            pool=origin.pool,
            created_at=now,
            updated_at=now,
            snapshot_id=copied.id if isinstance(copied, Snapshot) else None,
            source_volume_id=copied.id if isinstance(copied, Volume) else None,
            availability_zone=origin.availability_zone,
            multiattach=origin.multiattach,
            volume_type_id=origin.volume_type_id,
            group_id=group.id,
        )
        self.quotas.check(tx, group.project_id, QuotaDeltas.for_volume(volume))
        type_ = (
            None if volume.volume_type_id is None else tx.volume_types.get(volume.volume_type_id)
        )
        if type_ is not None and type_.replication_enabled:
            self.replicator.record_new(tx, volume, group=group)
        tx.volumes.add(volume)
        record(
            tx,
            resource_kind="volume",
            resource_id=volume.id,
            kind=EventKind.STATUS_CHANGE,
            message=f"created in group {group.id} from {copied.id}",
            operation_id=operation.id,
        )
        return volume

    def run_create_from_src(
        self, scope: OperationScope, group: Group, pairs: Sequence[tuple[Volume, Volume | Snapshot]]
    ) -> None:
        """Make the group and copy every source into its new volume."""
        total = sum(v.size_gib for v, _ in pairs) * GIB
        sizes = [v.size_gib * GIB for v, _ in pairs]

        def progress(done: int, _: int) -> None:
            scope.progress(sum(sizes[:done]), total)

        refs: list[tuple[VolumeRef, VolumeRef | SnapshotRef]] = [
            (volume_ref(v), snapshot_ref(s, v.pool) if isinstance(s, Snapshot) else volume_ref(s))
            for v, s in pairs
        ]
        try:
            driver = self._group_driver(group)
            scope.driver_call("create_group", lambda: driver.create_group(group_ref_of(group)))
            cut = scope.driver_call(
                "create_group_from_src",
                lambda: driver.create_group_from_src(group_ref_of(group), refs, progress=progress),
            )
            locations = {m.copy_id: m.provider_location for m in cut.members}
            with self.db.transaction() as tx:
                for volume, _ in pairs:
                    volume.provider_location = locations.get(volume.id)
                    tx.volumes.save(volume)
                    move_volume(
                        tx,
                        volume,
                        V.AVAILABLE,
                        action="finish creating",
                        operation_id=scope.operation.id,
                    )
                scope.note(EventKind.NOTE, "copied as one cut", detail=cut.as_record())
                move_group(
                    tx,
                    group,
                    G.AVAILABLE,
                    action="finish creating",
                    operation_id=scope.operation.id,
                )
                scope.finish(tx, result=group)
        except Exception as exc:
            self._fail_group(scope, group, G.ERROR, exc, volumes=[v for v, _ in pairs])
            raise

    def recover_create_from_src(self, scope: OperationScope, group: Group) -> bool:
        """Roll back a group creation a crash interrupted: remove the new volumes' objects,
        mark them and the group ``error``. Returns False (rolled back), or True when it had
        finished."""
        if group.status != G.CREATING:
            return group.status == G.AVAILABLE
        with self.db.transaction(write=False) as tx:
            volumes = [v for v in tx.volumes.in_group(group.id) if v.status == V.CREATING]
        driver = self.pools.driver(str(group.backend))
        for volume in volumes:
            driver.delete_volume(volume_ref(volume))
        self._fail_group(
            scope, group, G.ERROR, RuntimeError("interrupted by a restart"), volumes=volumes
        )
        return False

    # -- shared --------------------------------------------------------------------

    def _group_driver(self, group: Group) -> SupportsGroups:
        backend = str(group.backend)
        return group_driver(self.pools.driver(backend), backend)

    def _fail_group(
        self,
        scope: OperationScope,
        group: Group,
        status: GroupStatus,
        error: BaseException,
        *,
        volumes: Sequence[Volume] = (),
    ) -> None:
        """Record a failed group step: the creating volumes go to error, the group (if it
        still has the status it had) to ``status``."""
        with self.db.transaction() as tx:
            scope.flush(tx)
            for volume in volumes:
                current = tx.volumes.get(volume.id)
                if current is not None and current.status == V.CREATING:
                    move_volume(
                        tx,
                        current,
                        V.ERROR,
                        action="fail creating",
                        operation_id=scope.operation.id,
                        reason=str(error),
                    )
            current_group = tx.groups.get(group.id)
            if (
                current_group is not None
                and current_group.status == group.status
                and status != group.status
            ):
                move_group(
                    tx,
                    current_group,
                    status,
                    action="fail",
                    operation_id=scope.operation.id,
                    reason=str(error),
                )


def group_ref_of(group: Group) -> GroupRef:
    """What the driver gets for ``group``."""
    return GroupRef(id=group.id, project_id=group.project_id)


def _sources(
    tx: Transaction, ctx: RequestContext, group_snapshot_id: str | None, source_group_id: str | None
) -> tuple[Group, list[Source]]:
    """The group copied (the group snapshot's group, or the source group) and the sources."""
    if group_snapshot_id is not None:
        snapshot = visible_group_snapshot(tx, group_snapshot_id, ctx)
        if snapshot.status != GroupSnapshotStatus.AVAILABLE:
            raise InvalidStateError(
                kind="group snapshot", resource_id=snapshot.id, status=str(snapshot.status),
                action="create a group from",
            )  # fmt: skip
        origin = tx.groups.get(snapshot.group_id)
        if origin is None:  # a group with group snapshots is never deleted
            raise GroupNotFoundError(snapshot.group_id)
        members = tx.snapshots.in_group_snapshot(snapshot.id)
        sources: list[Source] = []
        for member in members:
            volume = tx.volumes.get(member.volume_id)
            assert volume is not None, "a snapshot row outlived its volume"
            sources.append((member, volume))
    else:
        origin = visible_group(tx, str(source_group_id), ctx)
        if origin.status != G.AVAILABLE:
            raise InvalidStateError(
                kind="group", resource_id=origin.id, status=str(origin.status), action="copy"
            )
        sources = []
        for volume in tx.volumes.in_group(origin.id):
            require_settled(volume, "copy with its group")
            sources.append((volume, volume))
    if not sources:
        raise InvalidStateError(
            kind="group", resource_id=origin.id, status="empty", action="create a group from",
            hint="a source with at least one volume",
        )  # fmt: skip
    return origin, sources


def _new_group(origin: Group, ctx: RequestContext, name: str, description: str) -> Group:
    now = utcnow()
    return Group(
        id=new_id(),
        project_id=ctx.project_id,
        user_id=ctx.user_id,
        name=name,
        description=description,
        status=G.CREATING,
        group_type_id=origin.group_type_id,
        volume_type_ids=list(origin.volume_type_ids),
        availability_zone=origin.availability_zone,
        created_at=now,
        updated_at=now,
        backend=origin.backend,
        replication_status=None if origin.replication_status is None else "disabled",
    )


def _load_group(service: UseCases, group_id: str, ctx: RequestContext) -> Group:
    with service.db.transaction(write=False) as tx:
        return visible_group(tx, group_id, ctx)
