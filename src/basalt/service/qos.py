"""QoS specs (administrators): create, change keys, associate with volume types, delete.

A volume type has at most one QoS spec. Its consumer says who enforces it:
``back-end`` specs go to the driver (e.g. SolidFire's minIOPS/maxIOPS/burstIOPS),
``front-end`` specs to the host, in the connection info's ``qos_specs``, and
``both`` to both. Changes apply to what happens next: a new volume, an extend, a
new attachment.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping

from basalt.errors import (
    DuplicateNameError,
    InvalidInputError,
    QosSpecsNotFoundError,
    StillInUseError,
)
from basalt.model import EventKind
from basalt.model.validation import validate_name, validate_qos
from basalt.model.volume_type import QosConsumer, QosSpecs, VolumeType
from basalt.persistence.base import Transaction
from basalt.service.base import UseCases
from basalt.service.clock import new_id, utcnow
from basalt.service.context import RequestContext
from basalt.service.journal import record
from basalt.service.types import VolumeTypeService


class QosService(UseCases):
    """QoS specs and their associations with volume types."""

    types: VolumeTypeService

    def list(self, *, ctx: RequestContext | None = None) -> builtins.list[QosSpecs]:
        """Every QoS spec, by name."""
        self._ctx(ctx, "qos_specs:get")
        with self.db.transaction(write=False) as tx:
            return tx.qos_specs.find()

    def get(self, qos_id: str, *, ctx: RequestContext | None = None) -> QosSpecs:
        """One QoS spec.

        Raises:
            QosSpecsNotFoundError.
        """
        self._ctx(ctx, "qos_specs:get")
        with self.db.transaction(write=False) as tx:
            return _found(tx, qos_id)

    def create(
        self,
        name: object,
        *,
        consumer: object = "back-end",
        specs: Mapping[str, object] | None = None,
        ctx: RequestContext | None = None,
    ) -> QosSpecs:
        """Create a QoS spec.

        Raises:
            InvalidInputError: a bad name, consumer or key (see validate_qos).
            DuplicateNameError: one of that name exists.
        """
        context = self._ctx(ctx, "qos_specs:create")
        checked_name = validate_name(name)
        if not checked_name.strip():
            raise InvalidInputError("name", "must not be empty")
        checked_consumer, checked = validate_qos(consumer, specs or {})
        now = utcnow()
        qos = QosSpecs(
            id=new_id(),
            name=checked_name,
            consumer=QosConsumer(checked_consumer),
            specs=checked,
            created_at=now,
            updated_at=now,
        )
        with self.db.transaction() as tx:
            if not tx.qos_specs.add(qos):
                raise DuplicateNameError("QoS spec", qos.name)
            _note(tx, qos, f"created by {context.user_id}")
        return qos

    def set_keys(
        self, qos_id: str, specs: Mapping[str, object], *, ctx: RequestContext | None = None
    ) -> QosSpecs:
        """Add or change keys; ``consumer`` among them changes the consumer.

        Raises:
            QosSpecsNotFoundError, InvalidInputError.
        """
        context = self._ctx(ctx, "qos_specs:update")
        changes = dict(specs)
        with self.db.transaction() as tx:
            qos = _found(tx, qos_id)
            consumer = changes.pop("consumer", str(qos.consumer))
            checked_consumer, checked = validate_qos(consumer, {**qos.specs, **changes})
            qos.consumer, qos.specs = QosConsumer(checked_consumer), checked
            qos.updated_at = utcnow()
            tx.qos_specs.save(qos)
            _note(tx, qos, f"keys set by {context.user_id}: {', '.join(sorted(specs))}")
            return qos

    def unset_keys(
        self, qos_id: str, keys: Iterable[object], *, ctx: RequestContext | None = None
    ) -> QosSpecs:
        """Remove keys.

        Raises:
            QosSpecsNotFoundError: no such spec, or (naming it) no such key.
        """
        context = self._ctx(ctx, "qos_specs:update")
        names = [str(k) for k in keys]
        with self.db.transaction() as tx:
            qos = _found(tx, qos_id)
            missing = [k for k in names if k not in qos.specs]
            if missing:
                raise QosSpecsNotFoundError(f"{qos.id} key {missing[0]!r}")
            qos.specs = {k: v for k, v in qos.specs.items() if k not in names}
            qos.updated_at = utcnow()
            tx.qos_specs.save(qos)
            _note(tx, qos, f"keys unset by {context.user_id}: {', '.join(names)}")
            return qos

    def delete(
        self, qos_id: str, *, force: bool = False, ctx: RequestContext | None = None
    ) -> None:
        """Delete a QoS spec; one associated with types only with ``force``, which
        disassociates them first.

        Raises:
            QosSpecsNotFoundError. StillInUseError: associated, and no force.
        """
        context = self._ctx(ctx, "qos_specs:delete")
        with self.db.transaction() as tx:
            qos = _found(tx, qos_id)
            associated = tx.volume_types.with_qos(qos.id)
            if associated and not force:
                raise StillInUseError(
                    f"QoS spec {qos.name} is associated with volume type(s) "
                    f"{', '.join(t.name for t in associated)}",
                    hint="disassociate them, or delete with force",
                )
            for volume_type in associated:
                self._associate(tx, volume_type, None)
            tx.qos_specs.delete(qos.id)
            _note(tx, qos, f"deleted by {context.user_id}")

    def associations(
        self, qos_id: str, *, ctx: RequestContext | None = None
    ) -> builtins.list[VolumeType]:
        """The volume types a QoS spec is associated with.

        Raises:
            QosSpecsNotFoundError.
        """
        self._ctx(ctx, "qos_specs:get")
        with self.db.transaction(write=False) as tx:
            return tx.volume_types.with_qos(_found(tx, qos_id).id)

    def associate(
        self, qos_id: str, type_id: str | None, *, ctx: RequestContext | None = None
    ) -> None:
        """Give a volume type this QoS spec.

        Raises:
            QosSpecsNotFoundError, VolumeTypeNotFoundError.
            InvalidInputError: no type given, or it already has another QoS spec.
        """
        context = self._ctx(ctx, "qos_specs:update")
        wanted = _required_type(type_id)
        with self.db.transaction() as tx:
            qos = _found(tx, qos_id)
            volume_type = self.types.visible_type(tx, wanted, context)
            if volume_type.qos_specs_id not in (None, qos.id):
                raise InvalidInputError(
                    "vol_type_id",
                    f"volume type {volume_type.name} has another QoS spec "
                    f"({volume_type.qos_specs_id})",
                    hint="disassociate that one first",
                )
            self._associate(tx, volume_type, qos.id)
            _note(tx, qos, f"associated with volume type {volume_type.name}")

    def disassociate(
        self, qos_id: str, type_id: str | None = None, *, ctx: RequestContext | None = None
    ) -> None:
        """Take this QoS spec from one volume type (None: from every type).

        Raises:
            QosSpecsNotFoundError, VolumeTypeNotFoundError.
            InvalidInputError: that type does not have this QoS spec.
        """
        context = self._ctx(ctx, "qos_specs:update")
        if type_id is not None:
            type_id = _required_type(type_id)
        with self.db.transaction() as tx:
            qos = _found(tx, qos_id)
            if type_id is None:
                chosen = tx.volume_types.with_qos(qos.id)
            else:
                chosen = [self.types.visible_type(tx, type_id, context)]
                if chosen[0].qos_specs_id != qos.id:
                    raise InvalidInputError(
                        "vol_type_id",
                        f"volume type {chosen[0].name} does not have QoS spec {qos.name}",
                    )
            for volume_type in chosen:
                self._associate(tx, volume_type, None)
                _note(tx, qos, f"disassociated from volume type {volume_type.name}")

    def _associate(self, tx: Transaction, volume_type: VolumeType, qos_id: str | None) -> None:
        volume_type.qos_specs_id = qos_id
        volume_type.updated_at = utcnow()
        tx.volume_types.save(volume_type)


def _required_type(type_id: str | None) -> str:
    if not type_id:
        raise InvalidInputError("vol_type_id", "is required (the volume type's id)")
    return type_id


def _found(tx: Transaction, qos_id: str) -> QosSpecs:
    qos = tx.qos_specs.get(qos_id)
    if qos is None:
        raise QosSpecsNotFoundError(qos_id)
    return qos


def _note(tx: Transaction, qos: QosSpecs, message: str) -> None:
    record(
        tx,
        resource_kind="qos_specs",
        resource_id=qos.id,
        kind=EventKind.NOTE,
        message=f"QoS spec {qos.name}: {message}",
    )
