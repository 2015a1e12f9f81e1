"""Replication of the file backend (SupportsReplication): secondary copies kept by deltas.

Each replication target names, for every pool of the backend, a secondary
directory laid out like a pool (``<secondary>/volumes/<id>.raw``), ideally on
another filesystem. One shipment of one volume:

1. finds what changed since the last shipped point:
   - on a pool with reflink, a point-in-time copy is taken with FICLONE
     (``<pool>/replication/<backend_id>/.<id>.point.partial``) and compared with the
     last shipped point (``<id>.base``) by FIEMAP (:mod:`basalt.drivers.file.fiemap`):
     the point is crash-consistent and the comparison reads no data;
   - elsewhere the live file is read in 1 MiB chunks and each chunk's digest is
     compared with the digests of what was shipped (``<id>.sums``): every write
     finished before the shipment started is caught, writes during it may or may
     not be (the copy is not crash-consistent across chunks);
2. writes the changed ranges into a delta journal beside the secondary copy and
   commits it (:mod:`basalt.drivers.file.delta`), applies it in place, fsyncs;
3. makes the point the new base (or stores the new digests).

The first shipment of a volume writes its data extents into a new secondary file
(built under a partial name, fsynced, renamed). Failover applies committed
journals, drops uncommitted ones and serves the volumes from the secondary
files; failback copies the secondary files back and serves from the primary
again. Both re-point the iSCSI LUNs of exported volumes (see
:meth:`basalt.export.IscsiExporter.repoint`).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from basalt.drivers.file import delta, fiemap
from basalt.drivers.file.copy import FICLONE, data_extents, publish
from basalt.drivers.file.layout import VOLUME_MODE, ObjectKind, PoolLayout, PoolSet
from basalt.drivers.types import ProgressCallback, ReplicationTarget, Shipment, VolumeRef
from basalt.errors import DriverError, NotSupportedError

if TYPE_CHECKING:
    from basalt.export import IscsiExporter

CHUNK_BYTES = 1024 * 1024
"""The unit the checksum method compares and ships."""
REPLICATION_DIR = "replication"
_DIGEST_BYTES = 16


@dataclass(frozen=True, slots=True)
class FileReplicaTarget:
    """A replication target of a file backend: a secondary directory per pool."""

    backend_id: str
    pools: Mapping[str, Path]
    interval_seconds: float


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=_DIGEST_BYTES).digest()


class _Sink:
    """Where a shipment writes: a delta journal, or straight into a new secondary file."""

    def __init__(self, *, replica: Path, journal: Path, full: bool) -> None:
        self.full = full
        self.replica = replica
        self.carried = 0
        self.count = 0
        self._journal = None if full else delta.JournalWriter(journal)
        self._partial = replica.with_name(f".{replica.name}.partial")
        self._fd = -1
        if full:
            self._partial.unlink(missing_ok=True)
            self._fd = os.open(self._partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, VOLUME_MODE)

    def add(self, offset: int, length: int, data: bytes | None) -> None:
        self.count += 1
        if self._journal is not None:
            self._journal.add(offset, length, data)
            self.carried = self._journal.carried
        elif data is not None:
            view = memoryview(data)
            position = offset
            while view:
                written = os.pwrite(self._fd, view, position)
                view, position = view[written:], position + written
            self.carried += len(data)

    def commit(self, size_bytes: int) -> None:
        if self._journal is not None:
            if self.count or os.stat(self.replica).st_size != size_bytes:
                self._journal.commit(size_bytes)
                delta.apply_journal(self._journal.journal, self.replica)
            else:
                self._journal.abort()
            return
        os.ftruncate(self._fd, size_bytes)
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = -1
        publish(self._partial, self.replica)

    def abort(self) -> None:
        if self._journal is not None:
            self._journal.abort()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._partial.unlink(missing_ok=True)


class FileReplication:
    """The replication half of the FileDriver."""

    backend_name: str
    _pools: PoolSet
    _primary: PoolSet
    _exporter: IscsiExporter | None
    _replica_targets: dict[str, FileReplicaTarget]
    _active_backend: str | None
    _volume_sources: dict[str, tuple[str, str]]
    """Volumes failed over one by one (a group's): volume id -> (pool, target)."""
    reflink_supported: Callable[[str], bool]  # FileDriver's

    # -- what is configured ----------------------------------------------------------

    def replication_targets(self) -> tuple[ReplicationTarget, ...]:
        """The configured targets (empty: the backend does not replicate)."""
        return tuple(
            ReplicationTarget(t.backend_id, t.interval_seconds)
            for t in self._replica_targets.values()
        )

    def active_backend_id(self) -> str | None:
        """The target the backend serves from now; None: its own (primary) pools."""
        return self._active_backend

    # -- shipping ------------------------------------------------------------------

    def replicate_volume(self, volume: VolumeRef, backend_id: str) -> Shipment:
        """Ship what changed in the volume since its last shipment to ``backend_id``.

        Raises:
            NotSupportedError: no such target.
            DriverError: the volume is missing, or reading or writing failed (the
                secondary still holds the last shipped point).
        """
        secondary = self._secondary(backend_id, volume.pool)
        primary = self._primary.layout(volume.pool)
        state = primary.root / REPLICATION_DIR / backend_id
        action = f"replicating volume {volume.id} to {backend_id}"
        with self._primary.errors(volume.pool, action):
            for directory in (state, secondary.directory(ObjectKind.VOLUME), _journals(secondary)):
                directory.mkdir(parents=True, exist_ok=True)
            source = primary.object_path(ObjectKind.VOLUME, volume.id)
            replica = secondary.object_path(ObjectKind.VOLUME, volume.id)
            if self.reflink_supported(volume.pool):
                return _ship_by_fiemap(volume.id, source, replica, state, _journals(secondary))
            return _ship_by_checksum(volume.id, source, replica, state, _journals(secondary))

    def delete_replica(self, volume: VolumeRef, backend_id: str) -> None:
        """Remove the volume's secondary copy and shipping state (idempotent).

        Raises:
            NotSupportedError: no such target. DriverError: a file could not be removed.
        """
        secondary = self._secondary(backend_id, volume.pool)
        primary = self._primary.layout(volume.pool)
        state = primary.root / REPLICATION_DIR / backend_id
        with self._primary.errors(volume.pool, f"deleting the replica of volume {volume.id}"):
            for path in (
                secondary.object_path(ObjectKind.VOLUME, volume.id),
                delta.journal_path(_journals(secondary), volume.id),
                state / f"{volume.id}.base",
                state / f"{volume.id}.sums",
            ):
                path.unlink(missing_ok=True)

    def replica_exists(self, volume: VolumeRef, backend_id: str) -> bool:
        """Whether the volume has a (whole) secondary copy at ``backend_id``."""
        layout = self._secondary(backend_id, volume.pool)
        return layout.object_path(ObjectKind.VOLUME, volume.id).is_file()

    # -- failover and failback -----------------------------------------------------

    def failover(self, backend_id: str, volumes: Sequence[VolumeRef]) -> Sequence[str]:
        """Serve ``volumes`` from their secondary copies at ``backend_id``: apply committed
        journals, drop unfinished ones, switch every pool, re-point exported LUNs.

        Idempotent (a re-run after a crash finds the journals applied and the pools
        switched). Data written after the last completed shipment is not there.

        Raises:
            NotSupportedError: no such target.
            DriverError: a journal could not be applied (nothing was switched).
        """
        done = self._make_whole(backend_id, [pool for pool, _ in self._primary.items()])
        self.serve_from(backend_id)
        for volume in volumes:
            self._repoint(volume)
        return done

    def failback(
        self, backend_id: str, volumes: Sequence[VolumeRef], *, progress: ProgressCallback
    ) -> int:
        """Copy what changed on the secondary copies back to the primary, then serve from it.

        Every volume is copied back while hosts keep using the secondary; then each
        exported volume's LUN is removed, the few bytes written meanwhile are copied,
        and the LUN comes back on the primary file. The shipping state is reset, so
        the next shipment finds the secondary already equal.

        Returns:
            The bytes copied back.

        Raises:
            NotSupportedError: no such target.
            DriverError: a copy failed (the backend still serves from the secondary).
        """
        return self._bring_back(
            backend_id, volumes, progress=progress, switch=lambda: self.serve_from(None)
        )

    def _bring_back(
        self,
        backend_id: str,
        volumes: Sequence[VolumeRef],
        *,
        progress: ProgressCallback,
        switch: Callable[[], None],
    ) -> int:
        """Copy ``volumes`` back while hosts use the secondary, ``switch`` to the primary,
        then re-point each exported LUN after copying what was written meanwhile."""
        total = sum(v.size_bytes for v in volumes) or 1
        copied = 0
        for index, volume in enumerate(volumes):
            copied += self._copy_back(volume, backend_id)
            progress(int(total * (index + 1) / (len(volumes) + 1)), total)
        switch()
        for volume in volumes:
            self._repoint(volume, before=partial(self._copy_back, volume, backend_id))
            self._reset_baseline(volume, backend_id)
        progress(total, total)
        return copied

    # -- one group's volumes ---------------------------------------------------------

    def failover_volumes(self, backend_id: str, volumes: Sequence[VolumeRef]) -> Sequence[str]:
        """Serve only ``volumes`` from their secondary copies at ``backend_id`` (a group's
        failover): apply committed journals, switch them, re-point exported LUNs. The
        rest of the backend stays on its primary pools.

        Raises:
            NotSupportedError: no such target.
            DriverError: a journal could not be applied, or a copy is missing (nothing
                was switched); or re-pointing a LUN failed (the volumes before it are
                switched: see :meth:`serving_target`).
        """
        done = self._make_whole(backend_id, sorted({v.pool for v in volumes}))
        for volume in volumes:
            if not self.replica_exists(volume, backend_id):
                raise DriverError(
                    self.backend_name,
                    f"pool {volume.pool}: volume {volume.id} has no copy at {backend_id} "
                    "(it was never shipped); no volume was switched",
                    hint="wait for its first shipment (replication status shows it)",
                )
        for volume in volumes:
            self.serve_volumes_from(backend_id, [volume])
            self._repoint(volume)
        return done

    def failback_volumes(
        self, backend_id: str, volumes: Sequence[VolumeRef], *, progress: ProgressCallback
    ) -> int:
        """Copy back the ``volumes`` served from ``backend_id`` and serve them from their
        primary pools again (a group's failback); the others are left alone.

        Returns:
            The bytes copied back.

        Raises:
            NotSupportedError: no such target.
            DriverError: a copy failed (those volumes still serve from the secondary).
        """
        moved = [v for v in volumes if self.serving_target(v) == backend_id]
        return self._bring_back(
            backend_id,
            moved,
            progress=progress,
            switch=lambda: self.serve_volumes_from(None, moved),
        )

    def serve_volumes_from(self, backend_id: str | None, volumes: Sequence[VolumeRef]) -> None:
        """Serve ``volumes`` from ``backend_id``'s copies (None: their primary pools),
        moving no data; used at start with the recorded state and by the group steps.

        Raises:
            NotSupportedError: no such target. PoolNotFoundError: a volume's pool.
        """
        for volume in volumes:
            if backend_id is None:
                self._volume_sources.pop(volume.id, None)
            else:
                self._secondary(backend_id, volume.pool)
                self._volume_sources[volume.id] = (volume.pool, backend_id)
        self._rebuild_pools()

    def serving_target(self, volume: VolumeRef) -> str | None:
        """The target ``volume`` is served from now (the backend's, or its own); None:
        its primary pool."""
        if self._active_backend is not None:
            return self._active_backend
        source = self._volume_sources.get(volume.id)
        return None if source is None else source[1]

    def forget_primary_copy(self, volume: VolumeRef) -> None:
        """After a volume served from a secondary copy is deleted: remove its old primary
        file too (it would otherwise outlive the volume), and stop routing it.

        Raises:
            DriverError: the file could not be removed.
        """
        if self.serving_target(volume) is None:
            return
        primary = self._primary.layout(volume.pool)
        with self._primary.errors(volume.pool, f"removing the primary copy of {volume.id}"):
            primary.object_path(ObjectKind.VOLUME, volume.id).unlink(missing_ok=True)
        if self._volume_sources.pop(volume.id, None) is not None:
            self._rebuild_pools()

    def serve_from(self, backend_id: str | None) -> None:
        """Serve every pool from ``backend_id``'s copies (None: the primary pools).
        No data moves; used at start with the recorded state and by failover/failback.

        Raises:
            NotSupportedError: no such target.
        """
        if backend_id is not None:
            self._target(backend_id)
        self._active_backend = backend_id
        self._rebuild_pools()

    def _rebuild_pools(self) -> None:
        """Point ``_pools`` where volumes are served from: every pool at the active
        target, else the primary pools with the individually failed-over volumes."""
        if self._active_backend is not None:
            target = self._target(self._active_backend)
            roots = {pool: layout.root for pool, layout in self._primary.items()}
            self._pools = PoolSet(
                backend_name=self.backend_name, pools=target.pools, snapshot_roots=roots
            )
        elif not self._volume_sources:
            self._pools = self._primary
        else:
            moved: dict[str, dict[str, Path]] = {}
            for volume_id, (pool, backend_id) in self._volume_sources.items():
                moved.setdefault(pool, {})[volume_id] = self._target(backend_id).pools[pool]
            self._pools = PoolSet(
                backend_name=self.backend_name,
                pools={pool: layout.root for pool, layout in self._primary.items()},
                volume_roots=moved,
            )

    def recover_replicas(self) -> Sequence[str]:
        """Apply committed journals and drop unfinished work of every target (at setup).

        Raises:
            DriverError: a journal could not be applied.
        """
        done: list[str] = []
        for target in self._replica_targets.values():
            for pool in target.pools:
                secondary = self._secondary(target.backend_id, pool)
                with self._primary.errors(pool, f"recovering the copies at {target.backend_id}"):
                    done += delta.recover(_journals(secondary))
                    state = self._primary.layout(pool).root / REPLICATION_DIR / target.backend_id
                    for stale in state.glob(".*.partial") if state.is_dir() else ():
                        stale.unlink(missing_ok=True)
        return done

    # -- helpers -------------------------------------------------------------------

    def _make_whole(self, backend_id: str, pools: Sequence[str]) -> list[str]:
        """Apply the committed journals of ``pools``' copies at ``backend_id``, drop
        unfinished ones (shipments are paused while this runs)."""
        done: list[str] = []
        for pool in pools:
            secondary = self._secondary(backend_id, pool)
            with self._primary.errors(pool, f"making the copies at {backend_id} whole"):
                secondary.directory(ObjectKind.VOLUME).mkdir(parents=True, exist_ok=True)
                done += delta.recover(_journals(secondary))
        return done

    def _target(self, backend_id: str) -> FileReplicaTarget:
        target = self._replica_targets.get(backend_id)
        if target is None:
            raise NotSupportedError(self.backend_name, f"replication to {backend_id!r}")
        return target

    def _secondary(self, backend_id: str, pool: str) -> PoolLayout:
        target = self._target(backend_id)
        self._primary.layout(pool)  # PoolNotFoundError for an unknown pool
        return PoolLayout(target.pools[pool])

    def _repoint(self, volume: VolumeRef, before: Callable[[], object] | None = None) -> None:
        path = self._pools.layout(volume.pool).object_path(ObjectKind.VOLUME, volume.id)
        if self._exporter is not None and self._exporter.running():
            self._exporter.repoint(volume.id, path, before=before)
        elif before is not None:
            before()

    def _copy_back(self, volume: VolumeRef, backend_id: str) -> int:
        """Make the primary file equal to the secondary copy; the bytes it wrote."""
        replica = self._secondary(backend_id, volume.pool).object_path(ObjectKind.VOLUME, volume.id)
        layout = self._primary.layout(volume.pool)
        final = layout.object_path(ObjectKind.VOLUME, volume.id)
        with self._primary.errors(volume.pool, f"copying volume {volume.id} back"):
            if not replica.is_file():
                return 0
            partial = layout.partial_path(final)
            partial.unlink(missing_ok=True)
            reflinked = final.is_file() and _clone(final, partial)
            if not reflinked:
                os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, VOLUME_MODE))
            written = _make_equal(replica, partial)
            publish(partial, final)
        return written

    def _reset_baseline(self, volume: VolumeRef, backend_id: str) -> None:
        """After a failback both copies are equal: make the next shipment find no change."""
        layout = self._primary.layout(volume.pool)
        state = layout.root / REPLICATION_DIR / backend_id
        source = layout.object_path(ObjectKind.VOLUME, volume.id)
        with self._primary.errors(volume.pool, f"resetting the replication of {volume.id}"):
            state.mkdir(parents=True, exist_ok=True)
            (state / f"{volume.id}.base").unlink(missing_ok=True)
            (state / f"{volume.id}.sums").unlink(missing_ok=True)
            if not source.is_file():
                return
            if self.reflink_supported(volume.pool):
                partial = state / f".{volume.id}.base.partial"
                partial.unlink(missing_ok=True)
                if _clone(source, partial):
                    publish(partial, state / f"{volume.id}.base")
                return
            fd = os.open(source, os.O_RDONLY)
            try:
                sums = b"".join(d for _, _, _, d in _chunks(fd, os.fstat(fd).st_size))
            finally:
                os.close(fd)
            _write_durably(state / f"{volume.id}.sums", sums)


def _journals(layout: PoolLayout) -> Path:
    return layout.root / REPLICATION_DIR


def _clone(source: Path, partial: Path) -> bool:
    """FICLONE ``source`` into a new ``partial``; False when the filesystem cannot."""
    src = os.open(source, os.O_RDONLY)
    try:
        dst = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, VOLUME_MODE)
        try:
            fcntl.ioctl(dst, FICLONE, src)
            return True
        except OSError:
            os.close(dst)
            dst = -1
            partial.unlink(missing_ok=True)
            return False
        finally:
            if dst >= 0:
                os.close(dst)
    finally:
        os.close(src)


def _ship_by_fiemap(
    volume_id: str, source: Path, replica: Path, state: Path, journals: Path
) -> Shipment:
    point = state / f".{volume_id}.point.partial"
    base = state / f"{volume_id}.base"
    point.unlink(missing_ok=True)
    if not _clone(source, point):
        raise OSError(f"FICLONE of {source} failed")
    try:
        point_fd = os.open(point, os.O_RDONLY)
        try:
            size = os.fstat(point_fd).st_size
            full = not (replica.is_file() and base.is_file())
            old = None if full else _extents_of(base, size)
            ranges = fiemap.changed_ranges(old, fiemap.extents(point_fd, size), size)
            sink = _Sink(
                replica=replica, journal=delta.journal_path(journals, volume_id), full=full
            )
            try:
                for offset, length, has_data in ranges:
                    for at, piece in _pieces(offset, length):
                        sink.add(at, piece, os.pread(point_fd, piece, at) if has_data else None)
                sink.commit(size)
            except BaseException:
                sink.abort()
                raise
        finally:
            os.close(point_fd)
        publish(point, base)
    finally:
        point.unlink(missing_ok=True)
    return Shipment(sink.carried, len(ranges), full, "full" if full else "fiemap")


def _extents_of(path: Path, size: int) -> list[fiemap.Extent]:
    fd = os.open(path, os.O_RDONLY)
    try:
        return fiemap.extents(fd, max(size, os.fstat(fd).st_size))
    finally:
        os.close(fd)


def _ship_by_checksum(
    volume_id: str, source: Path, replica: Path, state: Path, journals: Path
) -> Shipment:
    sums_path = state / f"{volume_id}.sums"
    full = not (replica.is_file() and sums_path.is_file())
    old = b"" if full else sums_path.read_bytes()
    fd = os.open(source, os.O_RDONLY)
    new: list[bytes] = []
    ranges = 0
    try:
        size = os.fstat(fd).st_size
        sink = _Sink(replica=replica, journal=delta.journal_path(journals, volume_id), full=full)
        try:
            for index, (offset, length, data, digest) in enumerate(_chunks(fd, size)):
                new.append(digest)
                shipped = old[index * _DIGEST_BYTES : (index + 1) * _DIGEST_BYTES]
                if shipped != digest and not (full and data is None):
                    sink.add(offset, length, data)
                    ranges += 1
            sink.commit(size)
        except BaseException:
            sink.abort()
            raise
    finally:
        os.close(fd)
    _write_durably(sums_path, b"".join(new))
    return Shipment(sink.carried, ranges, full, "full" if full else "checksum")


def _chunks(fd: int, size: int) -> Iterator[tuple[int, int, bytes | None, bytes]]:
    """(offset, length, data or None for a hole/zeros, digest of what the chunk reads as)."""
    extents = data_extents(fd, size)
    zero_digests: dict[int, bytes] = {}
    index = 0
    for offset in range(0, size, CHUNK_BYTES):
        length = min(CHUNK_BYTES, size - offset)
        while index < len(extents) and sum(extents[index]) <= offset:
            index += 1
        touched = index < len(extents) and extents[index][0] < offset + length
        data = os.pread(fd, length, offset) if touched else None
        if data is not None and len(data) < length:
            data += bytes(length - len(data))
        if data is not None and not any(data):
            data = None
        if data is None:
            if length not in zero_digests:
                zero_digests[length] = _digest(bytes(length))
            yield offset, length, None, zero_digests[length]
        else:
            yield offset, length, data, _digest(data)


def _make_equal(source: Path, target: Path) -> int:
    """Write into ``target`` every chunk where it differs from ``source``; fsync it."""
    written = 0
    src = os.open(source, os.O_RDONLY)
    dst = os.open(target, os.O_RDWR)
    try:
        size = os.fstat(src).st_size
        os.ftruncate(dst, max(size, os.fstat(dst).st_size))
        wanted = data_extents(src, size)
        have = data_extents(dst, size)
        for offset, length in _merge_extents(wanted + have, size):
            for at, piece in _pieces(offset, length):
                data = os.pread(src, piece, at)
                data += bytes(piece - len(data))
                if os.pread(dst, piece, at) != data:
                    if any(data):
                        os.pwrite(dst, data, at)
                        written += piece
                    else:
                        delta.punch_hole(dst, at, piece)
        os.fsync(dst)
    finally:
        os.close(src)
        os.close(dst)
    return written


def _merge_extents(extents: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, length in sorted(extents):
        stop = min(start + length, size)
        if merged and start <= merged[-1][0] + merged[-1][1]:
            first = merged[-1][0]
            merged[-1] = (first, max(merged[-1][0] + merged[-1][1], stop) - first)
        elif stop > start:
            merged.append((start, stop - start))
    return merged


def _pieces(offset: int, length: int) -> list[tuple[int, int]]:
    end = offset + length
    return [(at, min(CHUNK_BYTES, end - at)) for at in range(offset, end, CHUNK_BYTES)]


def _write_durably(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    publish(partial, path)
