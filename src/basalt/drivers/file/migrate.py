"""Moving a volume file between pools of one file backend, and handing its path to Basalt.

Two pools on one filesystem (same ``st_dev``) take a rename: constant time,
atomic, fsynced on both directories. Pools on different filesystems cannot be
renamed across; :meth:`FileMigrate.migrate_volume` answers None and Basalt copies
the data itself (generic migration, through :meth:`FileMigrate.data_path`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from basalt.drivers.file.copy import fsync_directory
from basalt.drivers.file.layout import ObjectKind, PoolSet
from basalt.drivers.types import DriverUpdate, VolumeRef
from basalt.errors import DriverError


class FileMigrate:
    """The migration, retype and data-access parts of the FileDriver."""

    backend_name: str
    _pools: PoolSet

    def data_path(self, volume: VolumeRef) -> Path:
        """The volume's file (SupportsDataAccess).

        Raises:
            DriverError: it does not exist.
        """
        path = self._pools.layout(volume.pool).object_path(ObjectKind.VOLUME, volume.id)
        if not path.is_file():
            raise DriverError(
                self.backend_name, f"pool {volume.pool}: volume {volume.id} has no file"
            )
        return path

    def retype(
        self, volume: VolumeRef, *, new_specs: Mapping[str, str], new_qos: Mapping[str, str]
    ) -> bool:
        """A file volume has nothing a type changes, unless the new type asks for back-end
        QoS, which no file pool enforces (SupportsRetype): then False."""
        return not new_qos

    def migrate_volume(self, volume: VolumeRef, dest_pool: str) -> DriverUpdate | None:
        """Rename the file into ``dest_pool`` when both pools share a filesystem; else None.

        Raises:
            PoolNotFoundError: ``dest_pool`` is not this backend's.
            DriverError: the rename failed (the file is where it was), or the destination
                already holds an object of that id.
        """
        source_layout, dest_layout = self._pools.layout(volume.pool), self._pools.layout(dest_pool)
        source = source_layout.object_path(ObjectKind.VOLUME, volume.id)
        target = dest_layout.object_path(ObjectKind.VOLUME, volume.id)
        action = f"moving volume {volume.id} to pool {dest_pool}"
        with self._pools.errors(volume.pool, action):
            if source_layout.root.stat().st_dev != dest_layout.root.stat().st_dev:
                return None
            if target.exists():
                raise DriverError(
                    self.backend_name, f"pool {dest_pool}: {action}: {target} exists already"
                )
            os.rename(source, target)
            fsync_directory(target.parent)
            fsync_directory(source.parent)
        return DriverUpdate(provider_location=dest_layout.location(target))
