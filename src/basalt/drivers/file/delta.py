"""Delta journals: changed ranges of a volume, applied to its secondary copy crash-safely.

A journal is written beside the secondary copy as ``.<id>.delta.partial``,
fsynced, and renamed to ``<id>.delta``: the rename is the commit. Only then are
its ranges written into the secondary file in place (fsynced), and the journal
is removed. Applying a journal writes absolute ranges, so applying it again
gives the same bytes. After a crash, :func:`recover` applies every committed
journal and removes every uncommitted one, so the secondary holds exactly the
last point whose journal was committed, never a mix of two points.

Layout (little-endian): the data of the data ranges in order, then per range
offset (u64), length (u64) and whether it holds data (u8), then a trailer: magic
``BSLTDLT1``, the volume's size (u64), the number of ranges (u32). The data comes
first so that a journal is written in one pass while the changes are found.
Ranges without data are holes in the point: the secondary gets a hole there.

Functions here raise OSError; the driver turns it into a DriverError.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import struct
from pathlib import Path
from typing import BinaryIO

from basalt.drivers.file.copy import fsync_directory, publish

MAGIC = b"BSLTDLT1"
DELTA_SUFFIX = ".delta"
_HEAD = struct.Struct("<8sQI")
_RANGE = struct.Struct("<QQB")
_CHUNK_BYTES = 4 * 1024 * 1024
_ZEROS = bytes(_CHUNK_BYTES)
FALLOC_FL_KEEP_SIZE = 0x1
FALLOC_FL_PUNCH_HOLE = 0x2
_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_libc.fallocate.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong)


def journal_path(directory: Path, volume_id: str) -> Path:
    """Where the committed journal of a volume lives."""
    return directory / f"{volume_id}{DELTA_SUFFIX}"


class JournalWriter:
    """Builds one journal: data appended as it is found, the range table and the
    header written at the end (a trailer), then fsync and the committing rename.

    Args:
        journal: the committed journal's path (built under a partial name first).
    """

    def __init__(self, journal: Path) -> None:
        self.journal = journal
        self.partial = journal.with_name(f".{journal.name}.partial")
        self.partial.unlink(missing_ok=True)
        self._fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._ranges: list[bytes] = []
        self.carried = 0

    def add(self, offset: int, length: int, data: bytes | None) -> None:
        """Record that ``length`` bytes at ``offset`` now hold ``data`` (None: a hole).

        Raises:
            OSError: writing failed.
        """
        self._ranges.append(_RANGE.pack(offset, length, int(data is not None)))
        if data is not None:
            _write_all(self._fd, data)
            self.carried += len(data)

    def commit(self, size_bytes: int) -> None:
        """Write the table and trailer, fsync, and rename into place (the commit).

        Raises:
            OSError: writing failed (call :meth:`abort`).
        """
        table = b"".join(self._ranges)
        _write_all(self._fd, table + _HEAD.pack(MAGIC, size_bytes, len(self._ranges)))
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = -1
        publish(self.partial, self.journal)

    def abort(self) -> None:
        """Drop the unfinished journal."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self.partial.unlink(missing_ok=True)


def apply_journal(journal: Path, target: Path) -> None:
    """Write a committed journal's ranges into ``target``, fsync it, remove the journal.

    Idempotent: the ranges are absolute, so a re-run after a crash gives the same file.

    Raises:
        OSError: the journal is damaged (EIO) or I/O failed.
    """
    with open(journal, "rb") as src:
        src.seek(-_HEAD.size, os.SEEK_END)
        magic, size_bytes, count = _HEAD.unpack(src.read(_HEAD.size))
        if magic != MAGIC:
            raise OSError(errno.EIO, f"{journal} is not a Basalt delta journal")
        src.seek(-_HEAD.size - count * _RANGE.size, os.SEEK_END)
        table = src.read(count * _RANGE.size)
        ranges = [_RANGE.unpack_from(table, i * _RANGE.size) for i in range(count)]
        src.seek(0)
        fd = os.open(target, os.O_WRONLY)
        try:
            if os.fstat(fd).st_size < size_bytes:
                os.ftruncate(fd, size_bytes)
            for offset, length, data in ranges:
                if data:
                    _copy_in(src, fd, offset, length)
                else:
                    punch_hole(fd, offset, length)
            os.fsync(fd)
        finally:
            os.close(fd)
    journal.unlink()
    fsync_directory(journal.parent)


def recover(directory: Path, target_of: dict[str, Path] | None = None) -> list[str]:
    """Apply every committed journal in ``directory``; remove the uncommitted ones.

    Args:
        directory: the secondary's journal directory.
        target_of: volume id -> secondary file; None: ``<directory>/../volumes/<id>.raw``.

    Returns:
        What was done, one line per journal.

    Raises:
        OSError: a journal could not be applied.
    """
    done: list[str] = []
    for entry in _entries(directory):
        path = Path(entry)
        if path.name.startswith(".") and path.name.endswith(".partial"):
            path.unlink(missing_ok=True)
            done.append(f"removed the uncommitted journal {path}")
        elif path.name.endswith(DELTA_SUFFIX):
            volume_id = path.name[: -len(DELTA_SUFFIX)]
            target = (target_of or {}).get(volume_id) or (
                directory.parent / "volumes" / f"{volume_id}.raw"
            )
            if target.is_file():
                apply_journal(path, target)
                done.append(f"applied the committed journal {path}")
            else:
                path.unlink()
                done.append(f"removed the journal {path} of a volume without a copy")
    return done


def punch_hole(fd: int, offset: int, length: int) -> None:
    """Make a range read as zeros, freeing its blocks where the filesystem can.

    Raises:
        OSError: writing zeros failed.
    """
    mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
    if _libc.fallocate(fd, mode, offset, length) == 0:
        return
    position, end = offset, offset + length
    while position < end:
        position += os.pwrite(fd, _ZEROS[: min(_CHUNK_BYTES, end - position)], position)


def _entries(directory: Path) -> list[str]:
    try:
        with os.scandir(directory) as found:
            return sorted(e.path for e in found if e.is_file(follow_symlinks=False))
    except FileNotFoundError:
        return []


def _copy_in(src: BinaryIO, fd: int, offset: int, length: int) -> None:
    reader = src.read
    position, end = offset, offset + length
    while position < end:
        data = reader(min(_CHUNK_BYTES, end - position))
        if not data:
            raise OSError(errno.EIO, "the delta journal ended early")
        view = memoryview(data)
        while view:
            written = os.pwrite(fd, view, position)
            view, position = view[written:], position + written


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
