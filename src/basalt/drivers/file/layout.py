"""How a file pool lays out its objects on disk, in one place.

A pool is a directory::

    <pool>/volumes/<volume-id>.raw          a volume (sparse raw image)
    <pool>/snapshots/<snapshot-id>.raw      a snapshot (read-only)
    <pool>/volumes/.<volume-id>.raw.partial work in progress, renamed when whole
    <pool>/volumes/volume-<volume-id>.raw   an unmanaged volume (no longer Basalt's)

A file is *Basalt-named* iff its name is ``<uuid>.raw`` with the UUID in its
canonical form; only those count as Basalt's objects. Dot-files are never objects:
work in progress and probes start with a dot and end with ``.partial``.

:class:`PoolSet` resolves pool names and turns OSError into DriverError, the same
way for every part of the driver.
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from collections.abc import ItemsView, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from basalt.errors import DriverError, PoolNotFoundError

RAW_SUFFIX = ".raw"
PARTIAL_SUFFIX = ".partial"
PERMISSION_HINT = "check the owner and permissions of the pool directory"
_HINTS = {
    errno.ENOSPC: "the pool's filesystem is full: free space or add a pool",
    errno.EDQUOT: "the pool's filesystem quota is exhausted",
    errno.EACCES: PERMISSION_HINT,
    errno.EPERM: PERMISSION_HINT,
    errno.EROFS: "the pool's filesystem is mounted read-only",
    errno.ENOENT: "check that the pool directory exists and setup ran",
}


VOLUME_MODE = 0o600
"""Permission bits of a volume file."""
SNAPSHOT_MODE = 0o440
"""Permission bits of a snapshot file: read-only, so nothing writes into it by mistake."""


class ObjectKind(StrEnum):
    """The two kinds of object a pool holds; the value is the sub-directory name."""

    VOLUME = "volumes"
    SNAPSHOT = "snapshots"

    @property
    def singular(self) -> str:
        """``volume`` or ``snapshot``, for messages and unmanaged names."""
        return self.value[:-1]

    @property
    def unmanaged_prefix(self) -> str:
        """The prefix an unmanaged object's file name gets (``volume-``/``snapshot-``)."""
        return f"{self.singular}-"


def basalt_id(name: str) -> str | None:
    """The object id a file name carries, if it is Basalt-named.

    Args:
        name: a bare file name (no directory).

    Returns:
        The id (the canonical UUID string), or None when the name is not ``<uuid>.raw``.
    """
    if not name.endswith(RAW_SUFFIX):
        return None
    stem = name[: -len(RAW_SUFFIX)]
    try:
        parsed = uuid.UUID(stem)
    except ValueError:
        return None
    return stem if str(parsed) == stem else None


def is_partial(name: str) -> bool:
    """Whether a file name is work in progress (or a probe) that a crash may leave.

    Args:
        name: a bare file name.

    Returns:
        True for dot-files ending in ``.partial``.
    """
    return name.startswith(".") and name.endswith(PARTIAL_SUFFIX)


def entries(directory: Path) -> list[os.DirEntry[str]]:
    """The entries of a directory; none when it does not exist (setup has not run).

    Raises:
        OSError: the directory could not be read.
    """
    try:
        with os.scandir(directory) as found:
            return list(found)
    except FileNotFoundError:
        return []


def usage_bytes(directory: Path) -> tuple[int, int]:
    """(apparent, allocated) bytes of the ``.raw`` files in a directory ((0, 0) if missing).

    Allocated bytes count each file's blocks, so extents that reflinked files share
    are counted once per file: an upper bound of what the pool really uses.

    Raises:
        OSError: the directory could not be read.
    """
    apparent = allocated = 0
    for entry in entries(directory):
        if entry.name.endswith(RAW_SUFFIX) and not entry.name.startswith("."):
            with contextlib.suppress(FileNotFoundError):
                if entry.is_file(follow_symlinks=False):
                    stat = entry.stat(follow_symlinks=False)
                    apparent += stat.st_size
                    allocated += stat.st_blocks * 512
    return apparent, allocated


def checked_object_id(object_id: str) -> str:
    """Refuse ids that are not canonical UUIDs, so an id can never name a path.

    Args:
        object_id: the volume or snapshot id given by the service.

    Returns:
        The id unchanged.

    Raises:
        ValueError: the id is not a canonical UUID string.
    """
    if basalt_id(object_id + RAW_SUFFIX) != object_id:
        raise ValueError(f"object id {object_id!r} is not a canonical UUID")
    return object_id


@dataclass(frozen=True, slots=True)
class PoolLayout:
    """The paths of one pool directory."""

    root: Path
    snapshot_root: Path | None = None
    """Where snapshots live when not under ``root``: a failed-over pool serves its
    volumes from the secondary copy, and its snapshots (not replicated) stay put."""
    volume_roots: Mapping[str, Path] = field(default_factory=dict)
    """Volumes served from another root (volume id -> a secondary pool directory):
    the members of a failed-over group, while the rest of the pool stays here."""

    def directory(self, kind: ObjectKind) -> Path:
        """The directory holding objects of ``kind``."""
        if kind is ObjectKind.SNAPSHOT and self.snapshot_root is not None:
            return self.snapshot_root / kind.value
        return self.root / kind.value

    def object_path(self, kind: ObjectKind, object_id: str) -> Path:
        """Where the whole object lives.

        Raises:
            ValueError: the id is not a canonical UUID.
        """
        name = f"{checked_object_id(object_id)}{RAW_SUFFIX}"
        if kind is ObjectKind.VOLUME and object_id in self.volume_roots:
            return self.volume_roots[object_id] / kind.value / name
        return self.directory(kind) / name

    def partial_path(self, final: Path) -> Path:
        """Where an object is built before it is renamed to ``final``."""
        return final.with_name(f".{final.name}{PARTIAL_SUFFIX}")

    def unmanaged_path(self, kind: ObjectKind, object_id: str) -> Path:
        """Where an object goes when Basalt stops managing it."""
        name = f"{kind.unmanaged_prefix}{checked_object_id(object_id)}{RAW_SUFFIX}"
        return self.directory(kind) / name

    def probe_path(self, tag: str) -> Path:
        """A scratch file for feature probes (removed by cleanup if a crash leaves it)."""
        return self.directory(ObjectKind.VOLUME) / f".probe-{tag}{PARTIAL_SUFFIX}"

    def location(self, path: Path) -> str:
        """The provider location of an object: its path relative to the pool."""
        return f"{path.parent.name}/{path.name}"


class PoolSet:
    """The pools of one backend, by name, and how their errors are reported."""

    def __init__(
        self,
        *,
        backend_name: str,
        pools: Mapping[str, str | Path],
        snapshot_roots: Mapping[str, str | Path] | None = None,
        volume_roots: Mapping[str, Mapping[str, Path]] | None = None,
    ) -> None:
        self.backend_name = backend_name
        kept = snapshot_roots or {}
        moved = volume_roots or {}
        self._layouts = {
            name: PoolLayout(
                Path(path),
                None if name not in kept else Path(kept[name]),
                dict(moved.get(name, {})),
            )
            for name, path in pools.items()
        }

    def items(self) -> ItemsView[str, PoolLayout]:
        """(pool name, layout) for every pool."""
        return self._layouts.items()

    def layout(self, pool: str) -> PoolLayout:
        """The layout of a pool.

        Raises:
            PoolNotFoundError: the backend has no such pool.
        """
        try:
            return self._layouts[pool]
        except KeyError:
            raise PoolNotFoundError(
                pool, hint=f"backend {self.backend_name} has pools {sorted(self._layouts)}"
            ) from None

    @contextlib.contextmanager
    def errors(self, pool: str, action: str) -> Iterator[None]:
        """Turn OSError (and invalid ids) inside the block into a DriverError.

        Args:
            pool: the pool the block works on.
            action: what the block does, for the message ("creating volume X").

        Raises:
            DriverError: naming the backend, the pool, the action and the cause.
        """
        try:
            yield
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            cause = exc.strerror or str(exc)
            raise DriverError(
                self.backend_name,
                f"pool {pool}: {action} failed: {cause}{where}",
                hint=_HINTS.get(exc.errno or 0),
            ) from exc
        except ValueError as exc:
            raise DriverError(self.backend_name, f"pool {pool}: {action}: {exc}") from exc
