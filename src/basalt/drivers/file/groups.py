"""Groups on the ``file`` backend: nothing is kept per group; group snapshots and groups
made from a source group are one cut across the members' files.

The cut (:meth:`FileGroups._cut`): every member's bytes are copied (FICLONE where the
pool can, else a sparse copy) into partial files while tgtd's I/O is paused
(:meth:`basalt.export.IscsiExporter.paused`; only when some member is exported over
iSCSI), each copy's time recorded; the sources' dirty pages are written back just
before the pause, so the reflinks inside it have little to flush; then I/O continues
and the copies are grown, fsynced and renamed into place outside the pause. A member
held by a local loop device cannot be paused (its writes do not pass through tgtd):
the cut refuses it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from basalt.drivers.file import local
from basalt.drivers.file.copy import copy_into, finish_copy
from basalt.drivers.file.layout import SNAPSHOT_MODE, VOLUME_MODE, ObjectKind, PoolSet
from basalt.drivers.types import (
    GroupCut,
    GroupRef,
    MemberCopy,
    ProgressCallback,
    SnapshotRef,
    VolumeRef,
)
from basalt.errors import DriverError
from basalt.export.pause import IoPause

if TYPE_CHECKING:
    from basalt.export import IscsiExporter


@dataclass(frozen=True, slots=True)
class _Copy:
    """One file of a cut: where from, where to, through which partial file."""

    volume_id: str
    copy_id: str
    pool: str
    source: Path
    final: Path
    partial: Path
    reflink: bool
    size_bytes: int | None
    mode: int


class FileGroups:
    """The SupportsGroups half of the FileDriver."""

    backend_name: str
    _pools: PoolSet
    _exporter: IscsiExporter | None
    _can_reflink: Callable[[str, str], bool]  # FileDriver's
    _delete: Callable[[str, ObjectKind, str], None]  # FileDriver's

    def create_group(self, group: GroupRef) -> None:
        """Nothing to make: a group is only Basalt's record."""

    def update_group(
        self, group: GroupRef, *, add: Sequence[VolumeRef], remove: Sequence[VolumeRef]
    ) -> None:
        """Nothing to change: membership is only Basalt's record."""

    def delete_group(self, group: GroupRef) -> None:
        """Nothing to remove."""

    def create_group_snapshot(
        self, group: GroupRef, members: Sequence[tuple[SnapshotRef, VolumeRef]]
    ) -> GroupCut:
        """Copy every member into its snapshot file as one cut (module docstring).

        Raises:
            DriverError: a member is missing or locally attached, or a copy failed.
            ExportError: I/O could not be paused, or the pause reached its limit.
        """
        copies = [
            self._plan(
                volume,
                target=(snapshot.pool, ObjectKind.SNAPSHOT, snapshot.id),
                size_bytes=None,
            )
            for snapshot, volume in members
        ]
        return self._cut(copies, progress=None)

    def delete_group_snapshot(self, group: GroupRef, snapshots: Sequence[SnapshotRef]) -> None:
        """Remove every member snapshot's file (those already gone are fine).

        Raises:
            DriverError: a file could not be removed.
        """
        for snapshot in snapshots:
            self._delete(snapshot.pool, ObjectKind.SNAPSHOT, snapshot.id)

    def create_group_from_src(
        self,
        group: GroupRef,
        members: Sequence[tuple[VolumeRef, VolumeRef | SnapshotRef]],
        *,
        progress: ProgressCallback,
    ) -> GroupCut:
        """Copy each source into its new volume: snapshots one after another (they do
        not change), volumes of a source group as one cut.

        Raises:
            DriverError: a source is missing or locally attached, or a copy failed.
            ExportError: I/O could not be paused, or the pause reached its limit.
        """
        copies = []
        for volume, source in members:
            if isinstance(source, SnapshotRef):
                copies.append(
                    self._plan_from(
                        source.volume_id,
                        (source.pool, ObjectKind.SNAPSHOT, source.id),
                        target=(volume.pool, ObjectKind.VOLUME, volume.id),
                        size_bytes=volume.size_bytes,
                    )
                )
            else:
                copies.append(
                    self._plan(
                        source,
                        target=(volume.pool, ObjectKind.VOLUME, volume.id),
                        size_bytes=volume.size_bytes,
                    )
                )
        return self._cut(copies, progress=progress)

    # -- the cut -------------------------------------------------------------------

    def _plan(
        self, volume: VolumeRef, *, target: tuple[str, ObjectKind, str], size_bytes: int | None
    ) -> _Copy:
        source = (volume.pool, ObjectKind.VOLUME, volume.id)
        return self._plan_from(volume.id, source, target=target, size_bytes=size_bytes)

    def _plan_from(
        self,
        volume_id: str,
        source: tuple[str, ObjectKind, str],
        *,
        target: tuple[str, ObjectKind, str],
        size_bytes: int | None,
    ) -> _Copy:
        (src_pool, src_kind, src_id), (dst_pool, dst_kind, dst_id) = source, target
        final = self._pools.layout(dst_pool).object_path(dst_kind, dst_id)
        return _Copy(
            volume_id=volume_id,
            copy_id=dst_id,
            pool=dst_pool,
            source=self._pools.layout(src_pool).object_path(src_kind, src_id),
            final=final,
            partial=self._pools.layout(dst_pool).partial_path(final),
            reflink=self._can_reflink(src_pool, dst_pool),
            size_bytes=size_bytes,
            mode=SNAPSHOT_MODE if dst_kind is ObjectKind.SNAPSHOT else VOLUME_MODE,
        )

    def _cut(self, copies: list[_Copy], *, progress: ProgressCallback | None) -> GroupCut:
        """Copy every source inside one pause, then finish the copies outside it."""
        self._refuse_local_devices(copies)
        live = [c.volume_id for c in copies if c.source.parent.name == ObjectKind.VOLUME.value]
        started = _now()
        self._flush_sources(copies)
        captured: list[MemberCopy] = []
        try:
            with self._paused(live) as pause:
                for copy in copies:
                    with self._pools.errors(copy.pool, f"copying volume {copy.volume_id}"):
                        copy_into(copy.source, copy.partial, reflink=copy.reflink)
                    captured.append(self._member(copy))
            if pause.expired:
                raise DriverError(
                    self.backend_name,
                    f"the I/O pause reached its limit ({pause.seconds:.1f} s) before "
                    f"{len(copies)} member(s) were copied; the copies are not one cut",
                    hint="raise iscsi.quiesce_max_seconds, or use a pool with reflink (XFS)",
                )
            for done, copy in enumerate(copies, start=1):
                with self._pools.errors(copy.pool, f"finishing the copy {copy.copy_id}"):
                    finish_copy(
                        copy.partial, copy.final, size_bytes=copy.size_bytes, mode=copy.mode
                    )
                if progress is not None:
                    progress(done, len(copies))
        except BaseException:
            self._discard(copies)
            raise
        return GroupCut(
            members=tuple(captured),
            quiesced=pause.paused,
            pause_ms=pause.seconds * 1000,
            started_at=started,
            finished_at=_now(),
        )

    def _member(self, copy: _Copy) -> MemberCopy:
        location = self._pools.layout(copy.pool).location(copy.final)
        return MemberCopy(
            volume_id=copy.volume_id,
            copy_id=copy.copy_id,
            provider_location=location,
            captured_at=_now(),
        )

    @contextlib.contextmanager
    def _paused(self, volume_ids: list[str]) -> Iterator[IoPause]:
        if self._exporter is None or not volume_ids:
            yield IoPause()
            return
        with self._exporter.paused(volume_ids) as pause:
            yield pause

    def _flush_sources(self, copies: list[_Copy]) -> None:
        """Write the sources' dirty pages back before the pause: a reflink flushes them
        first, so without this the pause would last as long as that writeback (tgt's
        rdwr store writes through the page cache; aio writes bypass it)."""
        for copy in copies:
            with self._pools.errors(copy.pool, f"flushing volume {copy.volume_id}"):
                fd = os.open(copy.source, os.O_RDONLY)
                try:
                    os.fdatasync(fd)
                finally:
                    os.close(fd)

    def _refuse_local_devices(self, copies: list[_Copy]) -> None:
        held = local.backing_files()
        for copy in copies:
            if copy.source in held:
                raise DriverError(
                    self.backend_name,
                    f"volume {copy.volume_id} is attached through a local loop device, "
                    "whose writes Basalt cannot pause for a consistent cut",
                    hint="detach it (or attach it over iSCSI), then snapshot the group",
                )

    def _discard(self, copies: list[_Copy]) -> None:
        """Remove what a failed cut made (partial files, and copies already renamed)."""
        for copy in copies:
            for path in (copy.partial, copy.final):
                with contextlib.suppress(OSError):
                    path.unlink()


def _now() -> datetime:
    return datetime.now(UTC)
