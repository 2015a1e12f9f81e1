"""Adopting files that are already in a pool (manage) and letting them go (unmanage).

A reference is ``{"source-name": <file name>}``, naming a regular file directly
inside the pool's ``volumes/`` (or ``snapshots/``) directory. Managing renames it
to ``<id>.raw`` and grows it to whole GiB; unmanaging renames it to
``volume-<id>.raw`` (``snapshot-<id>.raw``), which makes it manageable again.
The functions raise ManageExistingInvalidReferenceError or OSError;
:class:`FileManage` (the SupportsManage half of the FileDriver) turns OSError into
a DriverError.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

from basalt.drivers.file.copy import fsync_directory
from basalt.drivers.file.layout import SNAPSHOT_MODE, ObjectKind, PoolSet, basalt_id
from basalt.drivers.types import GIB, DriverUpdate, ManageableObject, SnapshotRef, VolumeRef
from basalt.errors import ManageExistingInvalidReferenceError

SOURCE_NAME = "source-name"
ALREADY_MANAGED = "already managed"
_FORBIDDEN_CHARACTERS = ("/", "\\", "\0")


def rounded_gib(size_bytes: int) -> int:
    """A size in whole GiB, rounded up; at least 1 (an empty file is a 1 GiB volume).

    Args:
        size_bytes: the size of a file.

    Returns:
        The smallest whole number of GiB that holds it, and never 0.
    """
    return max(1, -(-size_bytes // GIB))


def checked_source(directory: Path, reference: Mapping[str, str]) -> Path:
    """The file a manage reference names, after checking it may be adopted.

    Args:
        directory: the pool directory the name is looked up in.
        reference: the caller's reference, ``{"source-name": name}``.

    Returns:
        The path of a regular, not yet managed file directly inside ``directory``.

    Raises:
        ManageExistingInvalidReferenceError: the reference is malformed, names
            nothing, names something that is not a regular file, or names an
            object Basalt already manages.
        OSError: the file could not be inspected.
    """
    name = _checked_name(reference)
    path = directory / name
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise ManageExistingInvalidReferenceError(
            reference, f"there is no file {name!r} in {directory}"
        ) from exc
    if stat.S_ISLNK(mode):
        raise ManageExistingInvalidReferenceError(reference, f"{name!r} is a symbolic link")
    if not stat.S_ISREG(mode):
        raise ManageExistingInvalidReferenceError(reference, f"{name!r} is not a regular file")
    managed_id = basalt_id(name)
    if managed_id is not None:
        raise ManageExistingInvalidReferenceError(
            reference, f"{name!r} is already managed (as {managed_id})"
        )
    return path


def _checked_name(reference: Mapping[str, str]) -> str:
    if not isinstance(reference, Mapping) or SOURCE_NAME not in reference:
        raise ManageExistingInvalidReferenceError(
            reference, f"needs the key {SOURCE_NAME!r}, e.g. {{'{SOURCE_NAME}': 'disk.img'}}"
        )
    name = reference[SOURCE_NAME]
    if not isinstance(name, str) or not name:
        raise ManageExistingInvalidReferenceError(reference, "the name must be a non-empty string")
    if any(character in name for character in _FORBIDDEN_CHARACTERS):
        raise ManageExistingInvalidReferenceError(
            reference, "the name must be a bare file name (no '/', '\\' or NUL)"
        )
    if name.startswith("."):
        raise ManageExistingInvalidReferenceError(
            reference, "the name must not start with '.' ('.', '..' and hidden files are refused)"
        )
    return name


def adopt(source: Path, final: Path, *, mode: int | None = None) -> int:
    """Grow ``source`` to whole GiB and rename it to ``final``.

    Args:
        source: a checked file (see :func:`checked_source`).
        final: its Basalt name, in the same directory.
        mode: permission bits to set, or None to keep them.

    Returns:
        Its size in GiB, rounded up.

    Raises:
        OSError: FileExistsError when ``final`` exists; else the file could not be
            grown or renamed (in which case it keeps its name).
    """
    if os.path.lexists(final):
        raise FileExistsError(errno.EEXIST, "an object with this id exists", str(final))
    fd = os.open(source, os.O_RDWR)
    try:
        size_gib = rounded_gib(os.fstat(fd).st_size)
        # Growing only appends a hole: no byte of the adopted file is lost.
        os.ftruncate(fd, max(size_gib * GIB, os.fstat(fd).st_size))
        if mode is not None:
            os.fchmod(fd, mode)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(source, final)
    fsync_directory(final.parent)
    return size_gib


def release(current: Path, target: Path) -> bool:
    """Rename a managed file to its unmanaged name, keeping its data.

    Args:
        current: the Basalt-named file.
        target: the name it gets (not Basalt-named, same directory).

    Returns:
        True when the file was renamed, False when there was nothing to release.

    Raises:
        OSError: FileExistsError when ``target`` exists; else the rename failed.
    """
    if not os.path.lexists(current):
        return False
    if os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, "the unmanaged name is taken", str(target))
    os.rename(current, target)
    fsync_directory(target.parent)
    return True


def manageable(directory: Path) -> list[ManageableObject]:
    """Every regular, non-hidden file in a pool directory, as a manage candidate.

    Args:
        directory: the pool's ``volumes/`` or ``snapshots/`` directory.

    Returns:
        One entry per file, sorted by name; Basalt-named files are listed as not
        safe to manage ("already managed") with their id.

    Raises:
        OSError: the directory could not be read.
    """
    found: list[ManageableObject] = []
    try:
        with os.scandir(directory) as entries:
            candidates = sorted(entries, key=lambda entry: entry.name)
    except FileNotFoundError:
        return found
    for entry in candidates:
        if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
            continue
        try:
            size_bytes = entry.stat(follow_symlinks=False).st_size
        except FileNotFoundError:  # removed while we looked
            continue
        managed_id = basalt_id(entry.name)
        found.append(
            ManageableObject(
                reference={SOURCE_NAME: entry.name},
                size_gib=rounded_gib(size_bytes),
                safe_to_manage=managed_id is None,
                reason_not_safe=None if managed_id is None else ALREADY_MANAGED,
                basalt_id=managed_id,
                extra_info=f"{size_bytes} bytes",
            )
        )
    return found


class FileManage:
    """SupportsManage for the file driver; FileDriver sets ``_pools``."""

    _pools: PoolSet

    def manage_volume_get_size(self, pool: str, reference: Mapping[str, str]) -> int:
        """Size in GiB (rounded up, at least 1) of the file ``reference`` names.

        Raises:
            PoolNotFoundError: the backend has no such pool.
            ManageExistingInvalidReferenceError: the reference names nothing usable.
            DriverError: the file could not be inspected.
        """
        return self._size(pool, ObjectKind.VOLUME, reference)

    def manage_volume(self, volume: VolumeRef, reference: Mapping[str, str]) -> DriverUpdate:
        """Rename the referenced file to the volume's name, grown to whole GiB.

        Raises:
            ManageExistingInvalidReferenceError: the reference names nothing usable.
            DriverError: the volume's file exists already, or the rename failed.
        """
        return self._manage(volume.pool, ObjectKind.VOLUME, volume.id, reference)

    def unmanage_volume(self, volume: VolumeRef) -> None:
        """Rename the volume's file to ``volume-<id>.raw``; its data stays.

        Raises:
            DriverError: that name is taken, or the rename failed.
        """
        self._unmanage(volume.pool, ObjectKind.VOLUME, volume.id)

    def list_manageable_volumes(self, pool: str) -> Sequence[ManageableObject]:
        """Every regular file in the pool's volumes directory, and whether it may be managed.

        Raises:
            PoolNotFoundError: the backend has no such pool.
            DriverError: the directory could not be read.
        """
        return self._manageable(pool, ObjectKind.VOLUME)

    def manage_snapshot_get_size(self, pool: str, reference: Mapping[str, str]) -> int:
        """Size in GiB (rounded up, at least 1) of the snapshot file ``reference`` names.

        Raises:
            PoolNotFoundError: the backend has no such pool.
            ManageExistingInvalidReferenceError: the reference names nothing usable.
            DriverError: the file could not be inspected.
        """
        return self._size(pool, ObjectKind.SNAPSHOT, reference)

    def manage_snapshot(
        self, snapshot: SnapshotRef, volume: VolumeRef, reference: Mapping[str, str]
    ) -> DriverUpdate:
        """Rename the referenced file to the snapshot's name (read-only, whole GiB).

        Raises:
            ManageExistingInvalidReferenceError: the reference names nothing usable.
            DriverError: the snapshot's file exists already, or the rename failed.
        """
        return self._manage(snapshot.pool, ObjectKind.SNAPSHOT, snapshot.id, reference)

    def unmanage_snapshot(self, snapshot: SnapshotRef) -> None:
        """Rename the snapshot's file to ``snapshot-<id>.raw``; its data stays.

        Raises:
            DriverError: that name is taken, or the rename failed.
        """
        self._unmanage(snapshot.pool, ObjectKind.SNAPSHOT, snapshot.id)

    def list_manageable_snapshots(self, pool: str) -> Sequence[ManageableObject]:
        """Every regular file in the pool's snapshots directory, and whether it may be managed.

        Raises:
            PoolNotFoundError: the backend has no such pool.
            DriverError: the directory could not be read.
        """
        return self._manageable(pool, ObjectKind.SNAPSHOT)

    def _size(self, pool: str, kind: ObjectKind, reference: Mapping[str, str]) -> int:
        layout = self._pools.layout(pool)
        with self._pools.errors(pool, f"inspecting {reference!r}"):
            path = checked_source(layout.directory(kind), reference)
            size_gib = rounded_gib(path.stat().st_size)
        return size_gib

    def _manage(
        self, pool: str, kind: ObjectKind, object_id: str, reference: Mapping[str, str]
    ) -> DriverUpdate:
        layout = self._pools.layout(pool)
        with self._pools.errors(pool, f"managing {reference!r} as {kind.singular} {object_id}"):
            source = checked_source(layout.directory(kind), reference)
            final = layout.object_path(kind, object_id)
            mode = SNAPSHOT_MODE if kind is ObjectKind.SNAPSHOT else None
            size_gib = adopt(source, final, mode=mode)
        return DriverUpdate(provider_location=layout.location(final), size_gib=size_gib)

    def _unmanage(self, pool: str, kind: ObjectKind, object_id: str) -> None:
        layout = self._pools.layout(pool)
        with self._pools.errors(pool, f"unmanaging {kind.singular} {object_id}"):
            release(layout.object_path(kind, object_id), layout.unmanaged_path(kind, object_id))

    def _manageable(self, pool: str, kind: ObjectKind) -> list[ManageableObject]:
        layout = self._pools.layout(pool)
        with self._pools.errors(pool, f"listing manageable {kind.value}"):
            found = manageable(layout.directory(kind))
        return found
