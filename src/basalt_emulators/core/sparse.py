"""Volume bytes as sparse files: create, grow, copy without filling holes, measure.

Emulators keep one file per volume and per snapshot so that tests can read and write the
bytes directly and compare them after a clone, snapshot or rollback.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

CHUNK_BYTES = 1024 * 1024
_ZERO_CHUNK = bytes(CHUNK_BYTES)


def create_sparse(path: Path, *, size_bytes: int) -> None:
    """Create (or empty) `path` as a hole of `size_bytes`.

    Args:
        path: the file to create; its directory must exist.
        size_bytes: the apparent size.
    """
    with open(path, "wb") as f:
        f.truncate(size_bytes)


def resize_sparse(path: Path, *, size_bytes: int) -> None:
    """Set the apparent size of `path` (growing adds a hole; shrinking drops the tail).

    Args:
        path: an existing file.
        size_bytes: the new apparent size.
    """
    with open(path, "r+b") as f:
        f.truncate(size_bytes)


def copy_sparse(source: Path, target: Path, *, size_bytes: int) -> None:
    """Copy `source` into `target` in place, keeping holes, and size `target` to `size_bytes`.

    `target` keeps its inode, so a reader holding it open sees the new bytes. Zero-filled
    chunks of `source` become holes in `target`.

    Args:
        source: the file to read.
        target: the file to (re)write; created if missing.
        size_bytes: the apparent size of `target` afterwards (bytes past it are not copied).
    """
    mode = "r+b" if target.exists() else "wb"
    with open(source, "rb") as src, open(target, mode) as dst:
        dst.truncate(0)
        dst.truncate(size_bytes)
        end = min(os.fstat(src.fileno()).st_size, size_bytes)
        for start, stop in _data_segments(src.fileno(), end):
            _copy_range(src.fileno(), dst.fileno(), start=start, stop=stop)


def allocated_bytes(path: Path) -> int:
    """The bytes `path` really occupies on disk (0 when it is missing).

    Args:
        path: the file to measure.

    Returns:
        The allocated size in bytes.
    """
    try:
        return os.stat(path).st_blocks * 512
    except FileNotFoundError:
        return 0


def remove_file(path: Path) -> None:
    """Delete `path` if it exists.

    Args:
        path: the file to delete.
    """
    path.unlink(missing_ok=True)


def _data_segments(fd: int, end: int) -> Iterator[tuple[int, int]]:
    offset = 0
    while offset < end:
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                return
            if exc.errno == errno.EINVAL:
                # No SEEK_DATA on this filesystem: copy everything, zero chunks are skipped.
                yield offset, end
                return
            raise
        if start >= end:
            return
        stop = min(os.lseek(fd, start, os.SEEK_HOLE), end)
        yield start, stop
        offset = stop


def _copy_range(src: int, dst: int, *, start: int, stop: int) -> None:
    offset = start
    while offset < stop:
        data = os.pread(src, min(CHUNK_BYTES, stop - offset), offset)
        if not data:
            return
        if data != _ZERO_CHUNK[: len(data)]:
            os.pwrite(dst, data, offset)
        offset += len(data)
