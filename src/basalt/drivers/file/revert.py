"""Reverting a volume file to one of its snapshots (SupportsRevert for the file driver).

The snapshot is copied (reflinked where the pool can) into a partial file beside
the volume, grown to the volume's size, fsynced and renamed over the volume:
the rename is atomic, so a failure or a crash leaves the old bytes or the new
ones, never a mix, and a re-run after a crash does the same copy again.
"""

from __future__ import annotations

from collections.abc import Callable

from basalt.drivers.file.copy import copy_file
from basalt.drivers.file.layout import VOLUME_MODE, ObjectKind, PoolSet
from basalt.drivers.types import ProgressCallback, SnapshotRef, VolumeRef
from basalt.errors import DriverError


class FileRevert:
    """The revert half of the FileDriver."""

    backend_name: str
    _pools: PoolSet
    _can_reflink: Callable[[str, str], bool]  # FileDriver's

    def revert_volume_to_snapshot(
        self, volume: VolumeRef, snapshot: SnapshotRef, *, progress: ProgressCallback
    ) -> None:
        """Replace the volume's file with a copy of the snapshot's, at the volume's size.

        Raises:
            DriverError: either file is missing, the snapshot is larger than the
                volume, or the copy failed (the volume is untouched).
        """
        layout = self._pools.layout(volume.pool)
        source = self._pools.layout(snapshot.pool).object_path(ObjectKind.SNAPSHOT, snapshot.id)
        final = layout.object_path(ObjectKind.VOLUME, volume.id)
        action = f"reverting volume {volume.id} to snapshot {snapshot.id}"
        with self._pools.errors(volume.pool, action):
            if not final.is_file():
                raise FileNotFoundError(final)
            if source.stat().st_size > volume.size_bytes:
                raise DriverError(
                    self.backend_name,
                    f"pool {volume.pool}: {action}: the snapshot is larger than the volume",
                )
            copy_file(
                source,
                final,
                partial=layout.partial_path(final),
                size_bytes=volume.size_bytes,
                reflink=self._can_reflink(snapshot.pool, volume.pool),
                progress=progress,
                mode=VOLUME_MODE,
            )
