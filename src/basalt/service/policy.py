"""Who may do what: the one table of policy rules.

Every public use case names its action (``"volume:extend"``) and calls
:func:`authorize` before it reads or changes anything. A rule is the least role
the action needs; roles imply each other as Keystone's defaults do::

    admin  ->  member  ->  reader

- a **reader** sees its project's resources and changes nothing;
- a **member** also creates, changes, attaches and deletes them;
- an **admin** may do everything, in every project, including the actions that
  bypass the usual checks or touch what lies under Basalt (reset-status,
  force-delete, manage/unmanage, migrate, services, failover).

Which project a resource belongs to is a separate check (``RequestContext.can_see``):
a member of one project never sees another's resources, whatever the action.
docs/api.md renders this table.
"""

from __future__ import annotations

from enum import StrEnum

from basalt.errors import BasaltUsageError, PermissionDeniedError
from basalt.service.context import RequestContext


class Role(StrEnum):
    READER = "reader"
    MEMBER = "member"
    ADMIN = "admin"


IMPLIED_ROLES: dict[str, frozenset[Role]] = {
    Role.ADMIN: frozenset({Role.ADMIN, Role.MEMBER, Role.READER}),
    Role.MEMBER: frozenset({Role.MEMBER, Role.READER}),
    Role.READER: frozenset({Role.READER}),
}

R, M, A = Role.READER, Role.MEMBER, Role.ADMIN

RULES: dict[str, Role] = {
    # volumes
    "volume:get": R,
    "volume_replication:get": R,  # its replication: status, last shipment, lag
    "volume:create": M,
    "volume:update": M,  # name, description, metadata, bootable
    "volume:update_readonly_flag": M,
    "volume:extend": M,
    "volume:revert": M,
    "volume:upload_image": M,
    "volume:delete": M,
    "volume:attach": M,  # reserve, connect, complete (attachments and os-* actions)
    "volume:detach": M,  # begin/roll back detaching, terminate, detach, unreserve
    "volume:reset_status": A,
    "volume:force_delete": A,
    "volume:force_detach": A,
    "volume:migrate": A,
    "volume:retype": M,
    "volume:list_manageable": A,
    "volume:manage": A,
    "volume:unmanage": A,
    # snapshots
    "snapshot:get": R,
    "snapshot:create": M,
    "snapshot:update": M,
    "snapshot:delete": M,
    "snapshot:reset_status": A,
    "snapshot:force_delete": A,
    "snapshot:list_manageable": A,
    "snapshot:manage": A,
    "snapshot:unmanage": A,
    # volume transfers between projects
    "transfer:get": R,  # the offering project's transfers (never the auth key)
    "transfer:create": M,
    "transfer:delete": M,
    "transfer:accept": M,  # into the caller's own project, with the auth key
    # volume types and QoS specs
    "volume_type:get": R,
    "volume_type:create": A,
    "volume_type:update": A,  # also extra specs
    "volume_type:delete": A,
    "volume_type:access": A,
    "qos_specs:get": A,
    "qos_specs:create": A,
    "qos_specs:update": A,  # keys, associations
    "qos_specs:delete": A,
    # groups of volumes and group snapshots
    "group_type:get": R,
    "group_type:create": A,
    "group_type:update": A,  # also group specs
    "group_type:delete": A,
    "group:get": R,
    "group:create": M,  # also from a group snapshot or a source group
    "group:update": M,  # name, description, add and remove volumes
    "group:delete": M,
    "group:reset_status": A,
    "group:enable_replication": M,
    "group:disable_replication": M,
    "group:failover_replication": M,  # also failback (secondary_backend_id default)
    "group_snapshot:get": R,
    "group_snapshot:create": M,
    "group_snapshot:delete": M,
    "group_snapshot:reset_status": A,
    # quotas and limits
    "quota:get": R,  # its own project's (administrators: any project's), also the defaults
    "quota:update": A,
    "quota:delete": A,
    "quota_class:get": A,
    "quota_class:update": A,
    "limits:get": R,
    # records about the work
    "operation:get": R,
    "message:get": R,
    "message:delete": M,
    # the deployment itself
    "availability_zone:get": R,
    "extension:get": R,
    "resource_filter:get": R,
    "pool:get": A,  # also backend capabilities
    "scheduler:explain": A,  # every pool's verdicts: the deployment's inner state
    "service:get": A,
    "service:update": A,
    "service:failover": A,
    "cluster:get": A,
    "cluster:update": A,
}


def roles_of(granted: frozenset[str]) -> frozenset[Role]:
    """Every role the granted ones imply (unknown role names imply nothing)."""
    held: set[Role] = set()
    for name in granted:
        held |= IMPLIED_ROLES.get(name, frozenset())
    return frozenset(held)


def allows(ctx: RequestContext, action: str) -> bool:
    """Whether the caller's roles satisfy the action's rule.

    Raises:
        BasaltUsageError: the action has no rule (a bug: every action needs one).
    """
    try:
        needed = RULES[action]
    except KeyError:
        raise BasaltUsageError(f"policy: no rule for action {action!r}") from None
    return needed in roles_of(ctx.roles)


def authorize(ctx: RequestContext, action: str) -> RequestContext:
    """Return ``ctx`` if it may perform ``action``.

    Raises:
        PermissionDeniedError: its roles do not satisfy the rule (HTTP 403).
        BasaltUsageError: the action has no rule.
    """
    if not allows(ctx, action):
        raise PermissionDeniedError(
            action,
            needed=str(RULES[action]),
            held=sorted(str(r) for r in roles_of(ctx.roles)) or sorted(ctx.roles),
        )
    return ctx
