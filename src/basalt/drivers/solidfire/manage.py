"""Adopting volumes already on the cluster (manage) and letting them go (unmanage).

A reference is ``{"source-id": "<volumeID>"}`` or ``{"source-name": "<name>"}`` (a
name must match exactly one active volume). Element cannot rename a volume
(ModifyVolume has no ``name``), so managing claims it instead: one ModifyVolume
moves it into the project's account, grows it to whole GiB and adds the
attributes ``basalt-name`` (``<volume_prefix><id>``, the name Basalt knows it by),
``uuid``, ``os_imported_at`` and ``old_name`` (its Element name). Unmanaging sets
``basalt-name`` to ``""`` and adds ``os_exported_at``: the volume, its name, data,
account and other attributes stay, and it can be managed again.

Snapshots: Element cannot rename a snapshot (ModifySnapshot has no name) and an
Element snapshot belongs to the volume it was taken of, so existing snapshots are
listed, sized and checked but ``manage_snapshot`` answers NotSupportedError.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from basalt.drivers.solidfire.common import SolidFireCommon
from basalt.drivers.solidfire.naming import MANAGED_NAME, provider_id, rounded_gib
from basalt.drivers.solidfire.objects import READ_WRITE, ElementSnapshot, ElementVolume
from basalt.drivers.types import GIB, DriverUpdate, ManageableObject, SnapshotRef, VolumeRef
from basalt.errors import ManageExistingInvalidReferenceError, NotSupportedError

SOURCE_ID = "source-id"
SOURCE_NAME = "source-name"
ALREADY_MANAGED = "already managed"
NO_SNAPSHOT_MANAGE = (
    "Element cannot rename a snapshot, so Basalt cannot adopt existing SolidFire snapshots"
)
MANAGE_API_VERSION = "5.0"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SolidFireManage(SolidFireCommon):
    """SupportsManage for the SolidFire driver."""

    # -- volumes -------------------------------------------------------------------

    def manage_volume_get_size(self, pool: str, reference: Mapping[str, str]) -> int:
        """Size in GiB (rounded up, at least 1) of the volume ``reference`` names.

        Raises:
            PoolNotFoundError: the backend has no such pool.
            ManageExistingInvalidReferenceError: the reference names nothing usable.
            DriverError: the cluster could not be read.
        """
        self.check_pool(pool)
        return rounded_gib(self._referenced_volume(reference).total_size_bytes)

    def manage_volume(self, volume: VolumeRef, reference: Mapping[str, str]) -> DriverUpdate:
        """Claim the volume as ``volume``, move it to the project's account, grow it to whole GiB.

        Raises:
            PoolNotFoundError: the backend has no such pool.
            ManageExistingInvalidReferenceError: the reference names nothing usable.
            DriverError: the cluster refused.
        """
        self.check_pool(volume.pool)
        found = self._referenced_volume(reference)
        account = self.array.ensure_account(self.naming.account_name(volume.project_id))
        size_gib = rounded_gib(found.total_size_bytes)
        attributes = {
            **found.attributes,
            MANAGED_NAME: self.naming.volume_name(volume.id),
            "uuid": volume.id,
            "os_imported_at": _now(),
            "old_name": found.name,
        }
        params: dict[str, Any] = {
            "volumeID": found.volume_id,
            "accountID": account.account_id,
            "attributes": attributes,
        }
        if size_gib * GIB != found.total_size_bytes:
            params["totalSize"] = size_gib * GIB
        self.array.client.call("ModifyVolume", params, version=MANAGE_API_VERSION)
        location = provider_id(found.volume_id, account.account_id, self.cluster.uuid)
        return DriverUpdate(provider_location=location, size_gib=size_gib)

    def unmanage_volume(self, volume: VolumeRef) -> None:
        """Release the volume's claim (``basalt-name`` = ``""``) and mark it exported.

        Raises:
            DriverError: the cluster refused.
        """
        for found in self.find_volumes(volume):
            attributes = {**found.attributes, MANAGED_NAME: "", "os_exported_at": _now()}
            params = {"volumeID": found.volume_id, "attributes": attributes}
            self.array.client.call("ModifyVolume", params, version=MANAGE_API_VERSION)

    def list_manageable_volumes(self, pool: str) -> Sequence[ManageableObject]:
        """Every active volume, and whether it may be managed (and why not).

        A unique name is referenced by ``source-name``, a shared one by ``source-id``.

        Raises:
            PoolNotFoundError: the backend has no such pool.
            DriverError: the cluster could not be listed.
        """
        self.check_pool(pool)
        volumes = sorted(self.array.active_volumes(), key=lambda v: v.volume_id)
        names = Counter(v.name for v in volumes)
        listed = []
        for found in volumes:
            reason = self._volume_not_safe(found)
            reference = (
                {SOURCE_NAME: found.name}
                if names[found.name] == 1
                else {SOURCE_ID: str(found.volume_id)}
            )
            listed.append(
                ManageableObject(
                    reference=reference,
                    size_gib=rounded_gib(found.total_size_bytes),
                    safe_to_manage=reason is None,
                    reason_not_safe=reason,
                    basalt_id=self.naming.basalt_id(found.claimed_name),
                    extra_info=f"volumeID {found.volume_id}, accountID {found.account_id}, "
                    f"{found.total_size_bytes} bytes",
                )
            )
        return listed

    def _volume_not_safe(self, found: ElementVolume) -> str | None:
        if self.naming.basalt_id(found.claimed_name) is not None:
            return ALREADY_MANAGED
        if found.access != READ_WRITE:
            return f"its access is {found.access!r}, not {READ_WRITE!r}"
        if found.paired:
            return "it is paired for replication"
        return None

    def _referenced_volume(self, reference: Mapping[str, str]) -> ElementVolume:
        key, value = _checked_reference(reference)
        if key == SOURCE_ID:
            found = self.array.volume_by_id(_volume_id(reference, value))
            if found is None:
                raise ManageExistingInvalidReferenceError(
                    reference, f"no active volume has volumeID {value}"
                )
        else:
            candidates = self.array.volumes_named(value)
            if not candidates:
                raise ManageExistingInvalidReferenceError(
                    reference, f"no active volume is named {value!r}"
                )
            if len(candidates) > 1:
                ids = ", ".join(str(v.volume_id) for v in candidates)
                raise ManageExistingInvalidReferenceError(
                    reference,
                    f"{len(candidates)} volumes are named {value!r} (volumeIDs {ids}); "
                    f"use {SOURCE_ID}",
                )
            found = candidates[0]
        reason = self._volume_not_safe(found)
        if reason is not None:
            raise ManageExistingInvalidReferenceError(reference, reason)
        return found

    # -- snapshots -----------------------------------------------------------------

    def manage_snapshot_get_size(self, pool: str, reference: Mapping[str, str]) -> int:
        """Size in GiB (rounded up) of the snapshot ``reference`` names.

        Raises:
            PoolNotFoundError: the backend has no such pool.
            ManageExistingInvalidReferenceError: the reference names nothing usable.
            DriverError: the cluster could not be read.
        """
        self.check_pool(pool)
        return self._snapshot_size_gib(self._referenced_snapshot(reference))

    def manage_snapshot(
        self, snapshot: SnapshotRef, volume: VolumeRef, reference: Mapping[str, str]
    ) -> DriverUpdate:
        """Check the reference, then refuse: see the module docstring.

        Raises:
            ManageExistingInvalidReferenceError: the reference names nothing usable.
            NotSupportedError: it names a snapshot, which Element cannot rename.
        """
        self.check_pool(snapshot.pool)
        self._referenced_snapshot(reference)
        raise NotSupportedError(self.backend_name, "managing existing snapshots")

    def unmanage_snapshot(self, snapshot: SnapshotRef) -> None:
        """Refused: see the module docstring.

        Raises:
            NotSupportedError: always.
        """
        raise NotSupportedError(self.backend_name, "unmanaging snapshots")

    def list_manageable_snapshots(self, pool: str) -> Sequence[ManageableObject]:
        """Every snapshot on the cluster; none is safe to manage (see the module docstring).

        Raises:
            PoolNotFoundError: the backend has no such pool.
            DriverError: the cluster could not be listed.
        """
        self.check_pool(pool)
        snapshots = sorted(self.array.snapshots(), key=lambda s: s.snapshot_id)
        names = Counter(s.name for s in snapshots)
        return [
            ManageableObject(
                reference={SOURCE_NAME: s.name}
                if names[s.name] == 1
                else {SOURCE_ID: str(s.snapshot_id)},
                size_gib=self._snapshot_size_gib(s),
                safe_to_manage=False,
                reason_not_safe=ALREADY_MANAGED
                if self.naming.basalt_id(s.name)
                else NO_SNAPSHOT_MANAGE,
                basalt_id=self.naming.basalt_id(s.name),
                extra_info=f"snapshotID {s.snapshot_id} of volumeID {s.volume_id}",
            )
            for s in snapshots
        ]

    def _snapshot_size_gib(self, found: ElementSnapshot) -> int:
        if found.total_size_bytes is not None:
            return rounded_gib(found.total_size_bytes)
        volume = self.array.volume_by_id(found.volume_id)
        return rounded_gib(volume.total_size_bytes if volume is not None else 0)

    def _referenced_snapshot(self, reference: Mapping[str, str]) -> ElementSnapshot:
        key, value = _checked_reference(reference)
        snapshots = self.array.snapshots()
        if key == SOURCE_ID:
            snapshot_id = _volume_id(reference, value)
            matching = [s for s in snapshots if s.snapshot_id == snapshot_id]
        else:
            matching = [s for s in snapshots if s.name == value]
        if not matching:
            raise ManageExistingInvalidReferenceError(reference, "no snapshot matches it")
        if len(matching) > 1:
            raise ManageExistingInvalidReferenceError(
                reference, f"{len(matching)} snapshots are named {value!r}; use {SOURCE_ID}"
            )
        if self.naming.basalt_id(matching[0].name) is not None:
            raise ManageExistingInvalidReferenceError(reference, ALREADY_MANAGED)
        return matching[0]


def _checked_reference(reference: Mapping[str, str]) -> tuple[str, str]:
    """(key, value) of a reference with exactly one of source-id / source-name."""
    if not isinstance(reference, Mapping):
        raise ManageExistingInvalidReferenceError(reference, "it must be a mapping")
    keys = [k for k in (SOURCE_ID, SOURCE_NAME) if k in reference]
    if len(keys) != 1:
        raise ManageExistingInvalidReferenceError(
            reference,
            f"it needs exactly one of {SOURCE_ID!r} (the Element id) or {SOURCE_NAME!r}",
        )
    value = reference[keys[0]]
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise ManageExistingInvalidReferenceError(reference, "the value must be a non-empty string")
    return keys[0], value


def _volume_id(reference: Mapping[str, str], value: str) -> int:
    if not value.isascii() or not value.isdigit() or int(value) <= 0:
        raise ManageExistingInvalidReferenceError(
            reference, f"{SOURCE_ID} must be a positive integer, not {value!r}"
        )
    return int(value)
