"""Groups of volumes: create, show, list, update (name, description, add and remove
volumes), delete (with or without its volumes), reset-status. Group snapshots are in
group_snapshots.py, groups made from a source in group_sources.py, the membership rules
in group_rules.py.

A group lives on one backend: the first enabled backend, by name, whose driver
supports groups (in the zone asked for); its volumes are placed there. Adding and
removing volumes is an operation run in the caller's thread (the driver's
``update_group``, then one transaction that moves the volumes and makes the group
available again); deleting runs on a worker with progress in bytes of the volumes
it deletes.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Sequence

from basalt.drivers.base import SupportsGroups
from basalt.errors import (
    InvalidInputError,
    NotSupportedError,
)
from basalt.model import Event, EventKind, OperationKind, Volume, VolumeStatus
from basalt.model.group import MAX_GROUP_VOLUME_TYPES, Group
from basalt.model.states import GroupSnapshotStatus, GroupStatus
from basalt.model.validation import validate_description, validate_name
from basalt.persistence.base import Transaction
from basalt.service.clock import new_id, utcnow
from basalt.service.context import RequestContext
from basalt.service.group_changes import GroupChanges
from basalt.service.group_rules import refuse_open_operation, visible_group
from basalt.service.group_sources import group_ref_of
from basalt.service.group_types import visible_group_type
from basalt.service.journal import move_group, override_group_status, record
from basalt.service.runner import OperationHandle, OperationScope
from basalt.service.types import VolumeTypeService

G = GroupStatus
V = VolumeStatus
DELETABLE_MEMBER = frozenset({V.AVAILABLE, V.ERROR})
RESETTABLE_GROUP_STATUSES = frozenset({G.AVAILABLE, G.ERROR})
BUSY_GROUP_SNAPSHOT = (GroupSnapshotStatus.CREATING, GroupSnapshotStatus.DELETING)


class GroupService(GroupChanges):
    """Everything a caller can do to groups."""

    types: VolumeTypeService

    def get(self, group_id: str, *, ctx: RequestContext | None = None) -> Group:
        """One group.

        Raises:
            GroupNotFoundError: unknown or another project's.
        """
        context = self._ctx(ctx, "group:get")
        with self.db.transaction(write=False) as tx:
            return visible_group(tx, group_id, context)

    def list(
        self, *, all_projects: bool = False, ctx: RequestContext | None = None
    ) -> builtins.list[Group]:
        """The caller's project's groups (every project's for an administrator asking for
        all), newest first."""
        context = self._ctx(ctx, "group:get")
        project = None if (all_projects and context.is_admin) else context.project_id
        with self.db.transaction(write=False) as tx:
            return tx.groups.find(project_id=project)

    def volumes(self, group_id: str, *, ctx: RequestContext | None = None) -> builtins.list[Volume]:
        """The group's volumes, oldest first.

        Raises:
            GroupNotFoundError.
        """
        context = self._ctx(ctx, "group:get")
        with self.db.transaction(write=False) as tx:
            return tx.volumes.in_group(visible_group(tx, group_id, context).id)

    def events(self, group_id: str, *, ctx: RequestContext | None = None) -> builtins.list[Event]:
        """The group's timeline, oldest first.

        Raises:
            GroupNotFoundError.
        """
        context = self._ctx(ctx, "group:get")
        with self.db.transaction(write=False) as tx:
            visible_group(tx, group_id, context)
            return tx.events.timeline(resource_kind="group", resource_id=group_id)

    def create(
        self,
        *,
        group_type: str,
        volume_types: Sequence[str],
        name: object = "",
        description: object = "",
        availability_zone: str | None = None,
        ctx: RequestContext | None = None,
    ) -> OperationHandle[Group]:
        """Create an empty group.

        Args:
            group_type: the group type's id or name.
            volume_types: the volume types (ids or names) its volumes may have; at least one.
            name, description: as for volumes.
            availability_zone: the zone its backend must be in (None: any).
            ctx: the caller (the default context when None).

        Returns:
            A handle; ``wait()`` returns the available group.

        Raises:
            GroupTypeNotFoundError, VolumeTypeNotFoundError, InvalidInputError,
            NotSupportedError (no enabled backend, in that zone, supports groups).
        """
        context = self._ctx(ctx, "group:create")
        name_, description_ = validate_name(name or ""), validate_description(description or "")
        self.pools.require_known_zone(availability_zone)
        backend = self._backend_for_groups(availability_zone)
        with self.db.transaction() as tx:
            type_ = visible_group_type(tx, group_type, context)
            type_ids = self._volume_type_ids(tx, volume_types, context)
            now = utcnow()
            group = Group(
                id=new_id(),
                project_id=context.project_id,
                user_id=context.user_id,
                name=name_,
                description=description_,
                status=G.CREATING,
                group_type_id=type_.id,
                volume_type_ids=type_ids,
                availability_zone=self.pools.availability_zone(backend),
                created_at=now,
                updated_at=now,
                backend=backend,
                replication_status="disabled" if type_.replication_enabled else None,
            )
            tx.groups.add(group)
            operation = self._new_operation(
                tx,
                kind=OperationKind.CREATE_GROUP,
                resource_kind="group",
                resource_id=group.id,
                ctx=context,
                params={"name": name_, "group_type_id": type_.id, "volume_type_ids": type_ids},
            )
            record(
                tx,
                resource_kind="group",
                resource_id=group.id,
                kind=EventKind.STATUS_CHANGE,
                message=f"created on backend {backend}",
                operation_id=operation.id,
            )
        return self._start(
            operation,
            lambda scope: self.run_create(scope, group),
            lambda: self.get(group.id, ctx=context),
        )

    def run_create(self, scope: OperationScope, group: Group) -> None:
        """Make the group on its backend, then make it available (also after a restart)."""
        try:
            driver = self._group_driver(group)
            scope.driver_call("create_group", lambda: driver.create_group(group_ref_of(group)))
            with self.db.transaction() as tx:
                move_group(
                    tx,
                    group,
                    G.AVAILABLE,
                    action="finish creating",
                    operation_id=scope.operation.id,
                )
                scope.finish(tx, result=group)
        except Exception as exc:
            self._fail_group(scope, group, G.ERROR, exc)
            raise

    def reset_status(
        self, group_id: str, status: object, *, ctx: RequestContext | None = None
    ) -> Group:
        """Set a group's status to available or error (administrators).

        Raises:
            PermissionDeniedError, InvalidInputError, ResourceBusyError, GroupNotFoundError.
        """
        context = self._ctx(ctx, "group:reset_status")
        allowed = {str(s): s for s in RESETTABLE_GROUP_STATUSES}
        if not isinstance(status, str) or status.lower() not in allowed:
            raise InvalidInputError(
                "status", f"{str(status)[:64]!r} is not one of {', '.join(sorted(allowed))}"
            )
        with self.db.transaction() as tx:
            group = visible_group(tx, group_id, context)
            refuse_open_operation(tx, group.id, "group")
            if group.status != allowed[status.lower()]:
                override_group_status(tx, group, allowed[status.lower()], actor=context.user_id)
            return group

    # -- shared --------------------------------------------------------------------

    def _backend_for_groups(self, zone: str | None) -> str:
        disabled = self.pools.disabled_backends()
        names = sorted(self.pools.backend_names)
        for name in names:
            in_zone = zone is None or self.pools.availability_zone(name) == zone
            if (
                name not in disabled
                and in_zone
                and isinstance(self.pools.driver(name), SupportsGroups)
            ):
                return name
        raise NotSupportedError(", ".join(names), "groups (on every enabled backend in the zone)")

    def _volume_type_ids(
        self, tx: Transaction, refs: Collection[str], ctx: RequestContext
    ) -> builtins.list[str]:
        if isinstance(refs, str) or not refs or not all(isinstance(r, str) for r in refs):
            raise InvalidInputError("volume_types", "must name at least one volume type")
        if len(refs) > MAX_GROUP_VOLUME_TYPES:
            raise InvalidInputError("volume_types", f"at most {MAX_GROUP_VOLUME_TYPES} types")
        return list(dict.fromkeys(self.types.visible_type(tx, r, ctx).id for r in refs))
