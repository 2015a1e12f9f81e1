"""Copying image files: reflink where the filesystem shares extents, else sparse.

A reflink (FICLONE) shares the source's extents, so it costs the same for any
size. Without it we copy only the source's data extents (found with
SEEK_DATA/SEEK_HOLE) into a destination already truncated to the full size, so
holes stay holes: a plain copy_file_range loop on ext4 would allocate every block.

Every object is built in a partial file and renamed into place, so after a
process crash it exists whole or not at all. Copies carry data, so they are also
fsynced (file, then directory) before they count as done. An empty sparse
create holds no data and is not fsynced: an fsync forces an ext4 journal commit
(several milliseconds on a busy disk, and they queue), which made fsync the
bottleneck of create/delete cycles. After a power loss such an object may be
missing, which start-up reconciliation detects and reports (see
basalt.service.reconcile), exactly as it does for the database's own last
commits under synchronous=NORMAL.
Functions here raise OSError; the driver turns it into a DriverError.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from basalt.drivers.types import ProgressCallback

FICLONE = 0x40049409
"""ioctl number of FICLONE (_IOW(0x94, 9, int)): share all of a file's extents."""

MIB = 1024**2
PROGRESS_CHUNK_BYTES = 64 * MIB
"""Sparse copies report progress at least once per this many bytes."""

_USER_COPY_BUFFER_BYTES = 8 * MIB
_KERNEL_COPY_UNSUPPORTED = frozenset(
    {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP}
)
_REFLINK_UNSUPPORTED = frozenset(
    {errno.EXDEV, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL, errno.ENOTTY}
)
_PROBE_BYTES = b"\xa5" * 4096


def reflink_supported(source_probe: Path, target_probe: Path) -> bool:
    """Whether the filesystem holding the probe paths can FICLONE between files.

    Args:
        source_probe: a scratch path to create (removed again).
        target_probe: a second scratch path in the same directory (removed again).

    Returns:
        True when FICLONE succeeded between the two scratch files.

    Raises:
        OSError: the scratch files could not be created.
    """
    fds: list[int] = []
    try:
        fds.append(os.open(source_probe, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600))
        os.pwrite(fds[0], _PROBE_BYTES, 0)
        fds.append(os.open(target_probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        try:
            fcntl.ioctl(fds[1], FICLONE, fds[0])
        except OSError:
            return False
        return True
    finally:
        for fd in fds:
            os.close(fd)
        for path in (source_probe, target_probe):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def data_extents(fd: int, end: int) -> list[tuple[int, int]]:
    """The (offset, length) of every data extent of an open file, up to ``end``.

    Args:
        fd: a file descriptor open for reading.
        end: stop looking at this offset (normally the file's size).

    Returns:
        The extents in order; the whole range as one extent when the filesystem
        cannot tell data from holes.

    Raises:
        OSError: lseek failed for another reason.
    """
    extents: list[tuple[int, int]] = []
    offset = 0
    while offset < end:
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # only a hole remains
                break
            if exc.errno == errno.EINVAL and offset == 0:  # no SEEK_DATA here
                return [(0, end)]
            raise
        if start >= end:
            break
        stop = min(os.lseek(fd, start, os.SEEK_HOLE), end)
        extents.append((start, stop - start))
        offset = stop
    return extents


def sparse_copy(
    src_fd: int,
    dst_fd: int,
    *,
    size_bytes: int,
    progress: ProgressCallback,
    chunk_bytes: int = PROGRESS_CHUNK_BYTES,
) -> int:
    """Copy the data extents of ``src_fd`` into ``dst_fd`` at the same offsets.

    The destination should already have its full size (holes are left alone).

    Args:
        src_fd: source, open for reading.
        dst_fd: destination, open for writing.
        size_bytes: how much of the source to consider.
        progress: called with (bytes_done, bytes_total) at least once per
            ``chunk_bytes`` and once at the end; bytes_total is the data to copy.
        chunk_bytes: the largest piece copied between two progress calls.

    Returns:
        The number of data bytes copied.

    Raises:
        OSError: reading or writing failed.
    """
    extents = data_extents(src_fd, size_bytes)
    total = sum(length for _, length in extents)
    done = 0
    kernel_copy = True
    for start, length in extents:
        for offset in range(start, start + length, chunk_bytes):
            piece = min(chunk_bytes, start + length - offset)
            kernel_copy = _copy_range(src_fd, dst_fd, offset, piece, kernel_copy=kernel_copy)
            done += piece
            if done < total:
                progress(done, total)
    progress(total, total)
    return total


def _copy_range(src_fd: int, dst_fd: int, offset: int, length: int, *, kernel_copy: bool) -> bool:
    """Copy one range; returns whether copy_file_range can still be used."""
    if kernel_copy:
        try:
            _kernel_copy(src_fd, dst_fd, offset, length)
            return True
        except OSError as exc:
            if exc.errno not in _KERNEL_COPY_UNSUPPORTED:
                raise
    _user_copy(src_fd, dst_fd, offset, length)
    return False


def _kernel_copy(src_fd: int, dst_fd: int, offset: int, length: int) -> None:
    position, end = offset, offset + length
    while position < end:
        copied = os.copy_file_range(src_fd, dst_fd, end - position, position, position)
        if copied == 0:  # the source ended early; the rest stays a hole
            return
        position += copied


def _user_copy(src_fd: int, dst_fd: int, offset: int, length: int) -> None:
    position, end = offset, offset + length
    while position < end:
        data = os.pread(src_fd, min(_USER_COPY_BUFFER_BYTES, end - position), position)
        if not data:
            return
        view = memoryview(data)
        while view:
            written = os.pwrite(dst_fd, view, position)
            view = view[written:]
            position += written


def copy_file(
    source: Path,
    final: Path,
    *,
    partial: Path,
    size_bytes: int,
    reflink: bool,
    progress: ProgressCallback,
    mode: int = 0o600,
) -> None:
    """Copy ``source`` to ``final`` through ``partial``, growing it to ``size_bytes``.

    Args:
        source: the file to copy.
        final: where the whole copy ends up.
        partial: the scratch name the copy is built under (same directory).
        size_bytes: the copy's apparent size; at least the source's size.
        reflink: share extents with FICLONE instead of copying data (falling back
            to a sparse copy when these two files cannot share extents).
        progress: see :func:`sparse_copy`; a reflink reports (size, size) once.
        mode: the permission bits of the finished file.

    Raises:
        ValueError: size_bytes is smaller than the source.
        OSError: the copy failed; the partial file is removed.
    """
    src_fd = os.open(source, os.O_RDONLY)
    try:
        source_bytes = os.fstat(src_fd).st_size
        if size_bytes < source_bytes:
            raise ValueError(f"{size_bytes} bytes cannot hold {source} ({source_bytes} bytes)")
        with _built_in(partial, final, mode=mode) as dst_fd:
            if not (reflink and _reflinked(src_fd, dst_fd)):
                os.ftruncate(dst_fd, source_bytes)
                sparse_copy(src_fd, dst_fd, size_bytes=source_bytes, progress=progress)
            else:
                progress(source_bytes, source_bytes)
            if size_bytes > source_bytes:
                os.ftruncate(dst_fd, size_bytes)
    finally:
        os.close(src_fd)


def copy_into(source: Path, partial: Path, *, reflink: bool) -> int:
    """The part of a copy that reads the source: its bytes into a new ``partial`` file
    (reflink, else sparse), nothing synced or renamed; :func:`finish_copy` does the rest.

    A group snapshot runs this for every member inside one I/O pause and finishes the
    copies after it, so the pause lasts only as long as the reads of the sources.

    Args:
        source: the file to copy.
        partial: the scratch file to create (removed first if a crash left it).
        reflink: share extents with FICLONE where these two files can.

    Returns:
        The source's size in bytes.

    Raises:
        OSError: the copy failed; the partial file is removed.
    """
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    src_fd = os.open(source, os.O_RDONLY)
    try:
        dst_fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            source_bytes = os.fstat(src_fd).st_size
            if not (reflink and _reflinked(src_fd, dst_fd)):
                os.ftruncate(dst_fd, source_bytes)
                sparse_copy(src_fd, dst_fd, size_bytes=source_bytes, progress=_ignore)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            raise
        finally:
            os.close(dst_fd)
    finally:
        os.close(src_fd)
    return source_bytes


def finish_copy(partial: Path, final: Path, *, size_bytes: int | None, mode: int) -> None:
    """Grow (to ``size_bytes``; None keeps the size), chmod, fsync and publish a partial
    file made by :func:`copy_into`.

    Raises:
        OSError: it failed; the partial file is removed.
    """
    try:
        fd = os.open(partial, os.O_WRONLY)
        try:
            if size_bytes is not None and size_bytes > os.fstat(fd).st_size:
                os.ftruncate(fd, size_bytes)
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        publish(partial, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise


def _ignore(done: int, total: int) -> None:
    """No progress: a copy inside a pause reports none."""


def _reflinked(src_fd: int, dst_fd: int) -> bool:
    """FICLONE the whole source; False when this pair of files cannot share extents."""
    try:
        fcntl.ioctl(dst_fd, FICLONE, src_fd)
    except OSError as exc:
        if exc.errno not in _REFLINK_UNSUPPORTED:
            raise
        return False
    return True


def create_sparse(final: Path, *, partial: Path, size_bytes: int, mode: int = 0o600) -> None:
    """Create ``final`` as an all-hole file of ``size_bytes``, through ``partial``.

    Args:
        final: the file to create.
        partial: the scratch name it is built under (same directory).
        size_bytes: its apparent size.
        mode: its permission bits.

    Raises:
        OSError: it could not be created; the partial file is removed.
    """
    with _built_in(partial, final, mode=mode, durable=False) as fd:
        os.ftruncate(fd, size_bytes)


@contextlib.contextmanager
def _built_in(partial: Path, final: Path, *, mode: int, durable: bool = True) -> Iterator[int]:
    """Yield a fresh fd on ``partial``; on success chmod, fsync (if durable), publish."""
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()  # a crashed earlier attempt
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            yield fd
            os.fchmod(fd, mode)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        publish(partial, final, durable=durable)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise


def publish(partial: Path, final: Path, *, durable: bool = True) -> None:
    """Rename a finished file into place and (if durable) make the rename durable.

    Args:
        partial: the finished file (already fsynced).
        final: its name from now on (same directory).

    Raises:
        OSError: the rename or the directory fsync failed.
    """
    os.rename(partial, final)
    if durable:
        fsync_directory(final.parent)


def fsync_directory(directory: Path) -> None:
    """fsync a directory, so renames and unlinks inside it survive a crash.

    Args:
        directory: the directory.

    Raises:
        OSError: it could not be opened or synced.
    """
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
