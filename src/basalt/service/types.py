"""Volume types: create, find, change, delete, extra specs, and which projects may use
a private one.

Everyone sees the public types and the private types shared with their project;
administrators see and manage every type. The default type (``settings.
default_volume_type``, ``__DEFAULT__`` unless configured) is what a volume gets
when it names none; it cannot be deleted, renamed or made private.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping

from basalt.errors import (
    ConflictError,
    DuplicateNameError,
    InvalidInputError,
    StillInUseError,
    VolumeTypeNotFoundError,
)
from basalt.model import EventKind, Volume
from basalt.model.validation import (
    validate_description,
    validate_flag,
    validate_name,
    validate_specs,
)
from basalt.model.volume_type import QosSpecs, VolumeType, front_end_qos
from basalt.persistence.base import Transaction
from basalt.service.base import UseCases
from basalt.service.clock import new_id, utcnow
from basalt.service.context import RequestContext
from basalt.service.journal import record
from basalt.service.scheduler.specs import check_extra_specs


class VolumeTypeService(UseCases):
    """Everything a caller can do to volume types."""

    default_type_name: str = "__DEFAULT__"

    def list(
        self, *, ctx: RequestContext | None = None, include_private: bool = True
    ) -> builtins.list[VolumeType]:
        """The types the caller may use (administrators: every type; ``include_private``
        off: the public ones only), by name."""
        context = self._ctx(ctx, "volume_type:get")
        with self.db.transaction(write=False) as tx:
            found = tx.volume_types.find(
                project_id=None if context.is_admin else context.project_id
            )
        return found if include_private else [t for t in found if t.is_public]

    def names(self) -> dict[str, str]:
        """Every type's name by id, for showing the types of volumes the caller already
        sees (so no policy or visibility check of its own)."""
        with self.db.transaction(write=False) as tx:
            return {t.id: t.name for t in tx.volume_types.find(project_id=None)}

    def get(self, type_ref: str, *, ctx: RequestContext | None = None) -> VolumeType:
        """A type by id or by name.

        Raises:
            VolumeTypeNotFoundError: unknown, or private and not shared with the caller.
        """
        context = self._ctx(ctx, "volume_type:get")
        with self.db.transaction(write=False) as tx:
            return self.visible_type(tx, type_ref, context)

    def visible_type(self, tx: Transaction, type_ref: str, ctx: RequestContext) -> VolumeType:
        """The type ``type_ref`` (id or name) names, if the caller may use it.

        Raises:
            VolumeTypeNotFoundError: unknown, or private and not shared with the caller.
        """
        found = tx.volume_types.get(type_ref) or tx.volume_types.get_by_name(type_ref)
        if found is None or not (
            found.is_public or ctx.is_admin or ctx.project_id in tx.volume_types.projects(found.id)
        ):
            raise VolumeTypeNotFoundError(type_ref)
        return found

    def default_type(self, tx: Transaction) -> VolumeType:
        """The type volumes get when they name none.

        Raises:
            VolumeTypeNotFoundError: the configured default type does not exist.
        """
        found = tx.volume_types.get_by_name(self.default_type_name)
        if found is None:
            raise VolumeTypeNotFoundError(
                self.default_type_name, hint="create it, or set default_volume_type to a type"
            )
        return found

    def create(
        self,
        name: object,
        *,
        description: object = "",
        is_public: object = True,
        extra_specs: Mapping[str, object] | None = None,
        ctx: RequestContext | None = None,
    ) -> VolumeType:
        """Create a type (administrators).

        Raises:
            InvalidInputError: a bad name, description, flag or spec.
            DuplicateNameError: a type of that name exists.
        """
        context = self._ctx(ctx, "volume_type:create")
        now = utcnow()
        volume_type = VolumeType(
            id=new_id(),
            name=_type_name(name),
            description=validate_description(description),
            is_public=validate_flag(is_public, field="is_public"),
            created_at=now,
            updated_at=now,
            extra_specs=_readable(validate_specs(extra_specs or {}, field="extra_specs")),
        )
        with self.db.transaction() as tx:
            if not tx.volume_types.add(volume_type):
                raise DuplicateNameError("volume type", volume_type.name)
            self._note(tx, volume_type, f"created by {context.user_id}")
        return volume_type

    def update(
        self,
        type_id: str,
        *,
        name: object | None = None,
        description: object | None = None,
        is_public: object | None = None,
        ctx: RequestContext | None = None,
    ) -> VolumeType:
        """Rename, re-describe or change the visibility of a type (administrators).

        Raises:
            VolumeTypeNotFoundError, InvalidInputError, DuplicateNameError.
        """
        context = self._ctx(ctx, "volume_type:update")
        with self.db.transaction() as tx:
            volume_type = self.visible_type(tx, type_id, context)
            if name is not None:
                volume_type.name = _type_name(name)
            if description is not None:
                volume_type.description = validate_description(description)
            if is_public is not None:
                volume_type.is_public = validate_flag(is_public, field="is_public")
            self._refuse_default_change(tx, volume_type)
            volume_type.updated_at = utcnow()
            if not tx.volume_types.save(volume_type):
                raise DuplicateNameError("volume type", volume_type.name)
            self._note(tx, volume_type, f"updated by {context.user_id}")
            return volume_type

    def delete(self, type_id: str, *, ctx: RequestContext | None = None) -> None:
        """Delete a type no volume has (administrators).

        Raises:
            VolumeTypeNotFoundError.
            StillInUseError: volumes have it, or it is the default type.
        """
        context = self._ctx(ctx, "volume_type:delete")
        with self.db.transaction() as tx:
            volume_type = self.visible_type(tx, type_id, context)
            if volume_type.name == self.default_type_name:
                raise StillInUseError(
                    f"volume type {volume_type.name} is the default type",
                    hint="set default_volume_type to another type first",
                )
            count = tx.volume_types.volume_count(volume_type.id)
            if count:
                raise StillInUseError(
                    f"volume type {volume_type.name} is the type of {count} volume(s)",
                    hint="retype or delete them first",
                )
            tx.volume_types.delete(volume_type.id)
            self._note(tx, volume_type, f"deleted by {context.user_id}")

    def set_extra_specs(
        self, type_id: str, specs: Mapping[str, object], *, ctx: RequestContext | None = None
    ) -> dict[str, str]:
        """Add or change extra specs (administrators); return all of them.

        Raises:
            VolumeTypeNotFoundError, InvalidInputError.
        """
        context = self._ctx(ctx, "volume_type:update")
        given = validate_specs(specs, field="extra_specs")
        with self.db.transaction() as tx:
            volume_type = self.visible_type(tx, type_id, context)
            volume_type.extra_specs = _readable(
                validate_specs({**volume_type.extra_specs, **given}, field="extra_specs")
            )
            self._save(tx, volume_type, f"extra specs set: {', '.join(sorted(given))}")
            return dict(volume_type.extra_specs)

    def unset_extra_spec(
        self, type_id: str, key: str, *, ctx: RequestContext | None = None
    ) -> None:
        """Remove one extra spec (administrators).

        Raises:
            VolumeTypeNotFoundError: no such type, or (naming the key) no such spec.
        """
        context = self._ctx(ctx, "volume_type:update")
        with self.db.transaction() as tx:
            volume_type = self.visible_type(tx, type_id, context)
            if key not in volume_type.extra_specs:
                raise VolumeTypeNotFoundError(
                    f"{volume_type.id} extra spec {key!r}", hint="list them: GET .../extra_specs"
                )
            del volume_type.extra_specs[key]
            self._save(tx, volume_type, f"extra spec {key!r} unset")

    def projects(self, type_id: str, *, ctx: RequestContext | None = None) -> builtins.list[str]:
        """The projects a private type is shared with (administrators).

        Raises:
            VolumeTypeNotFoundError.
            InvalidInputError: the type is public (access lists are for private types).
        """
        context = self._ctx(ctx, "volume_type:access")
        with self.db.transaction(write=False) as tx:
            volume_type = self._private(tx, type_id, context)
            return tx.volume_types.projects(volume_type.id)

    def share(
        self, type_id: str, project_id: object, *, grant: bool, ctx: RequestContext | None = None
    ) -> None:
        """Let a project use a private type (``grant``), or stop it (administrators).

        Raises:
            VolumeTypeNotFoundError, InvalidInputError (public type, bad project id),
            ConflictError: granted twice; VolumeTypeNotFoundError: revoked access it
            did not have.
        """
        context = self._ctx(ctx, "volume_type:access")
        project = validate_name(project_id, field="project")
        if not project:
            raise InvalidInputError("project", "must not be empty")
        with self.db.transaction() as tx:
            volume_type = self._private(tx, type_id, context)
            if grant and not tx.volume_types.grant(volume_type.id, project):
                raise ConflictError(
                    f"volume type {volume_type.name} is already shared with project {project}"
                )
            if not grant and not tx.volume_types.revoke(volume_type.id, project):
                raise VolumeTypeNotFoundError(f"{volume_type.id} access for project {project}")
            verb = "shared with" if grant else "no longer shared with"
            self._note(tx, volume_type, f"{verb} project {project} by {context.user_id}")

    def _private(self, tx: Transaction, type_id: str, ctx: RequestContext) -> VolumeType:
        volume_type = self.visible_type(tx, type_id, ctx)
        if volume_type.is_public:
            raise InvalidInputError(
                "volume_type",
                f"{volume_type.name} is public: access lists are for private types",
                hint="make it private first (is_public false)",
            )
        return volume_type

    def _refuse_default_change(self, tx: Transaction, volume_type: VolumeType) -> None:
        stored = tx.volume_types.get(volume_type.id)
        if stored is None or stored.name != self.default_type_name:
            return
        if volume_type.name != stored.name or not volume_type.is_public:
            raise InvalidInputError(
                "volume_type",
                f"{stored.name} is the default type: it keeps its name and stays public",
            )

    def _save(self, tx: Transaction, volume_type: VolumeType, message: str) -> None:
        volume_type.updated_at = utcnow()
        tx.volume_types.save(volume_type)
        self._note(tx, volume_type, message)

    def _note(self, tx: Transaction, volume_type: VolumeType, message: str) -> None:
        record(
            tx,
            resource_kind="volume_type",
            resource_id=volume_type.id,
            kind=EventKind.NOTE,
            message=f"volume type {volume_type.name}: {message}",
        )


def _readable(specs: dict[str, str]) -> dict[str, str]:
    """The specs, once the scheduler can read each (``<is> maybe`` is refused now, not
    at every create).

    Raises:
        InvalidExtraSpecError: the first spec it cannot read, with the reason.
    """
    check_extra_specs(specs)
    return specs


def _type_name(value: object) -> str:
    name = validate_name(value)
    if not name.strip():
        raise InvalidInputError("name", "must not be empty")
    return name


def qos_of_type(tx: Transaction, volume_type: VolumeType | None) -> QosSpecs | None:
    """The QoS spec associated with a type, if any."""
    if volume_type is None or volume_type.qos_specs_id is None:
        return None
    return tx.qos_specs.get(volume_type.qos_specs_id)


def backend_qos(tx: Transaction, volume: Volume) -> dict[str, str]:
    """The back-end QoS specs of the volume's type (empty when it has none)."""
    qos = qos_of_type(tx, type_of(tx, volume))
    return dict(qos.specs) if qos is not None and qos.for_backend else {}


def host_qos(tx: Transaction, volume: Volume) -> dict[str, int] | None:
    """The front-end limits of the volume's type at its size (None when it has none), for
    the connection info's ``qos_specs``."""
    qos = qos_of_type(tx, type_of(tx, volume))
    if qos is None or not qos.for_host:
        return None
    return front_end_qos(qos.specs, size_gib=volume.size_gib) or None


def type_of(tx: Transaction, volume: Volume) -> VolumeType | None:
    """The volume's type (None for a volume recorded without one)."""
    return None if volume.volume_type_id is None else tx.volume_types.get(volume.volume_type_id)
