"""Administrators' overrides of volumes (reset-status) and the per-project summary.

Reset-status repairs the record, not the backend: it sets a settled status (never
one that claims work is under way, which nothing would finish), refuses while an
operation still works on the volume, and never pretends a volume with
attachments is detached (force-detach them first, which also removes their
exports). Every override is written to the timeline with who made it.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from basalt.errors import InvalidInputError, VolumeAttachedError
from basalt.model import Attachment, EventKind, Volume, VolumeStatus
from basalt.model.attachment import HOLDS_ATTACHMENTS
from basalt.service.base import UseCases
from basalt.service.context import RequestContext
from basalt.service.journal import override_status, record

V = VolumeStatus
RESETTABLE_VOLUME_STATUSES = frozenset(
    {V.AVAILABLE, V.ERROR, V.ERROR_DELETING, V.ERROR_EXTENDING, V.ERROR_MANAGING}
)
"""What reset-status may set: settled statuses (in-use follows the attachments)."""
ATTACH_STATUSES = frozenset({"attached", "detached"})
RESETTABLE_MIGRATION_STATUSES = {"none": None, "error": "error", "success": "success"}
"""Migration statuses an administrator may set (``none`` clears it); the busy ones
(starting, migrating, completing) would claim a migration that is not running."""


@dataclass(frozen=True, slots=True)
class VolumeSummary:
    """How many volumes, how many GiB, and which metadata values (``/volumes/summary``)."""

    count: int
    total_gib: int
    metadata: dict[str, builtins.list[str]] = field(default_factory=dict)


class VolumeAdmin(UseCases):
    """reset_status and summary of VolumeService."""

    def reset_status(
        self,
        volume_id: str,
        *,
        status: object = None,
        attach_status: object = None,
        migration_status: object = None,
        ctx: RequestContext | None = None,
    ) -> Volume:
        """Set the volume's status and/or migration status (administrators).

        Args:
            status: one of RESETTABLE_VOLUME_STATUSES, or None to leave it.
            attach_status: ``detached`` (checked: the volume has no attachments) or
                ``attached`` (checked: it has some); None to leave it.
            migration_status: ``none``, ``error`` or ``success``; None to leave it.

        Raises:
            PermissionDeniedError: not an administrator.
            InvalidInputError: nothing to set, or a value outside the lists above.
            VolumeAttachedError: the attach status named disagrees with the attachments.
            ResourceBusyError: an operation is still working on the volume.
            VolumeNotFoundError.
        """
        context = self._ctx(ctx, "volume:reset_status")
        new_status = _checked(status, "status", {str(s): s for s in RESETTABLE_VOLUME_STATUSES})
        attach = _checked(attach_status, "attach_status", {s: s for s in ATTACH_STATUSES})
        migration = _checked(migration_status, "migration_status", RESETTABLE_MIGRATION_STATUSES)
        if status is None and attach_status is None and migration_status is None:
            raise InvalidInputError(
                "os-reset_status", "give status, attach_status or migration_status"
            )
        with self.db.transaction() as tx:
            volume = self._volume(tx, volume_id, context)
            self._refuse_if_busy(tx, volume, "reset the status of")
            held = volume.status in HOLDS_ATTACHMENTS
            attachments = tx.attachments.for_volume(volume.id) if held else []
            _check_attachments(volume, attachments, attach, new_status is not None)
            if migration_status is not None:
                volume.migration_status = None if migration is None else str(migration)
                tx.volumes.save(volume)
                record(
                    tx,
                    resource_kind="volume",
                    resource_id=volume.id,
                    kind=EventKind.NOTE,
                    message=f"migration status reset to {migration} by {context.user_id}",
                )
            if isinstance(new_status, VolumeStatus) and new_status != volume.status:
                override_status(tx, volume, new_status, actor=context.user_id, action="reset")
            return volume

    def summary(
        self, *, ctx: RequestContext | None = None, all_projects: bool = False
    ) -> VolumeSummary:
        """Count, total GiB and metadata values of the caller's volumes (every project's
        for an administrator asking for all)."""
        context = self._ctx(ctx, "volume:get")
        project = None if (all_projects and context.is_admin) else context.project_id
        with self.db.transaction(write=False) as tx:
            count, total_gib = tx.volumes.usage(project)
            metadata = tx.volumes.metadata_of(project)
        values: dict[str, set[str]] = {}
        for items in metadata:
            for key, value in items.items():
                values.setdefault(key, set()).add(value)
        return VolumeSummary(
            count=count,
            total_gib=total_gib,
            metadata={key: sorted(found) for key, found in sorted(values.items())},
        )


def _checked(value: object, field: str, allowed: Mapping[str, object]) -> object:
    if value is None:
        return None
    if not isinstance(value, str) or value.lower() not in allowed:
        raise InvalidInputError(
            field, f"{str(value)[:64]!r} is not one of {', '.join(sorted(allowed))}"
        )
    return allowed[value.lower()]


def _check_attachments(
    volume: Volume, attachments: Sequence[Attachment], attach: object, status_given: bool
) -> None:
    if attach == "detached" and attachments:
        raise VolumeAttachedError(
            volume.id,
            f"has {len(attachments)} attachment(s); resetting the record would leave their "
            "exports behind",
            hint="force-detach them first (os-force_detach), which removes the exports",
        )
    if attach == "attached" and not attachments:
        raise VolumeAttachedError(volume.id, "has no attachments to be attached by")
    if status_given and attachments:
        raise VolumeAttachedError(
            volume.id,
            "has attachments: its status follows them",
            hint="force-detach them first (os-force_detach)",
        )
