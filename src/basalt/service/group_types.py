"""Group types: create, show, list, update, delete, and their group specs (administrators
change them; every caller reads the public ones, administrators also the private ones)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping

from basalt.errors import (
    DuplicateNameError,
    GroupTypeNotFoundError,
    InvalidInputError,
    MetadataKeyNotFoundError,
    StillInUseError,
)
from basalt.model import EventKind
from basalt.model.group import GroupType
from basalt.model.validation import (
    validate_description,
    validate_flag,
    validate_name,
    validate_specs,
)
from basalt.persistence.base import Transaction
from basalt.service.base import UseCases
from basalt.service.clock import new_id, utcnow
from basalt.service.context import RequestContext
from basalt.service.journal import record


class GroupTypeService(UseCases):
    """Everything a caller can do to group types."""

    def list(self, *, ctx: RequestContext | None = None) -> builtins.list[GroupType]:
        """The public group types (administrators: every one), by name."""
        context = self._ctx(ctx, "group_type:get")
        with self.db.transaction(write=False) as tx:
            return tx.group_types.find(public_only=not context.is_admin)

    def get(self, type_ref: str, *, ctx: RequestContext | None = None) -> GroupType:
        """A group type by id or name.

        Raises:
            GroupTypeNotFoundError: unknown, or private and the caller no administrator.
        """
        context = self._ctx(ctx, "group_type:get")
        with self.db.transaction(write=False) as tx:
            return visible_group_type(tx, type_ref, context)

    def create(
        self,
        name: object,
        *,
        description: object = "",
        is_public: object = True,
        group_specs: Mapping[str, object] | None = None,
        ctx: RequestContext | None = None,
    ) -> GroupType:
        """Create a group type (administrators).

        Raises:
            InvalidInputError: a bad name, description, flag or spec.
            DuplicateNameError: a group type of that name exists.
        """
        context = self._ctx(ctx, "group_type:create")
        now = utcnow()
        group_type = GroupType(
            id=new_id(),
            name=_type_name(name),
            description=validate_description(description or ""),
            is_public=validate_flag(is_public, field="is_public"),
            created_at=now,
            updated_at=now,
            group_specs=validate_specs(group_specs or {}, field="group_specs"),
        )
        with self.db.transaction() as tx:
            if not tx.group_types.add(group_type):
                raise DuplicateNameError("group type", group_type.name)
            _note(tx, group_type, f"created by {context.user_id}")
        return group_type

    def update(
        self,
        type_id: str,
        *,
        name: object | None = None,
        description: object | None = None,
        is_public: object | None = None,
        ctx: RequestContext | None = None,
    ) -> GroupType:
        """Change a group type's name, description or visibility (administrators).

        Raises:
            GroupTypeNotFoundError, InvalidInputError, DuplicateNameError.
        """
        context = self._ctx(ctx, "group_type:update")
        with self.db.transaction() as tx:
            group_type = visible_group_type(tx, type_id, context)
            if name is not None:
                group_type.name = _type_name(name)
            if description is not None:
                group_type.description = validate_description(description)
            if is_public is not None:
                group_type.is_public = validate_flag(is_public, field="is_public")
            group_type.updated_at = utcnow()
            if not tx.group_types.save(group_type):
                raise DuplicateNameError("group type", group_type.name)
            _note(tx, group_type, f"updated by {context.user_id}")
            return group_type

    def set_specs(
        self, type_id: str, specs: Mapping[str, object], *, ctx: RequestContext | None = None
    ) -> dict[str, str]:
        """Add or change group specs; returns every spec the type now has.

        Raises:
            GroupTypeNotFoundError, InvalidInputError.
        """
        context = self._ctx(ctx, "group_type:update")
        given = validate_specs(specs, field="group_specs")
        with self.db.transaction() as tx:
            group_type = visible_group_type(tx, type_id, context)
            group_type.group_specs = validate_specs(
                {**group_type.group_specs, **given}, field="group_specs"
            )
            group_type.updated_at = utcnow()
            tx.group_types.save(group_type)
            _note(tx, group_type, f"group specs {', '.join(sorted(given))} set")
            return dict(group_type.group_specs)

    def delete_spec(self, type_id: str, key: str, *, ctx: RequestContext | None = None) -> None:
        """Remove one group spec.

        Raises:
            GroupTypeNotFoundError, MetadataKeyNotFoundError.
        """
        context = self._ctx(ctx, "group_type:update")
        with self.db.transaction() as tx:
            group_type = visible_group_type(tx, type_id, context)
            if key not in group_type.group_specs:
                raise MetadataKeyNotFoundError(key, hint=f"group type {type_id} has no such spec")
            del group_type.group_specs[key]
            group_type.updated_at = utcnow()
            tx.group_types.save(group_type)
            _note(tx, group_type, f"group spec {key!r} removed")

    def delete(self, type_id: str, *, ctx: RequestContext | None = None) -> None:
        """Delete a group type no group uses (administrators).

        Raises:
            GroupTypeNotFoundError, StillInUseError.
        """
        context = self._ctx(ctx, "group_type:delete")
        with self.db.transaction() as tx:
            group_type = visible_group_type(tx, type_id, context)
            used = tx.group_types.group_count(group_type.id)
            if used:
                raise StillInUseError(
                    f"group type {group_type.name} is used by {used} group(s)",
                    hint="delete those groups first",
                )
            tx.group_types.delete(group_type.id)
            _note(tx, group_type, f"deleted by {context.user_id}")


def visible_group_type(tx: Transaction, type_ref: str, ctx: RequestContext) -> GroupType:
    """The group type ``type_ref`` (id or name) names, if the caller may see it.

    Raises:
        GroupTypeNotFoundError: unknown, or private and the caller no administrator.
    """
    found = tx.group_types.get(type_ref) or tx.group_types.get_by_name(type_ref)
    if found is None or not (found.is_public or ctx.is_admin):
        raise GroupTypeNotFoundError(type_ref[:64])
    return found


def _type_name(value: object) -> str:
    name = validate_name(value)
    if not name.strip():
        raise InvalidInputError("name", "must not be empty")
    return name


def _note(tx: Transaction, group_type: GroupType, message: str) -> None:
    record(
        tx,
        resource_kind="group_type",
        resource_id=group_type.id,
        kind=EventKind.NOTE,
        message=message,
    )
