"""Copying a volume's bytes between two local paths (generic migration).

Both paths come from drivers that give Basalt local access to their volumes
(:class:`basalt.drivers.base.SupportsDataAccess`). Only the source's data
extents are copied, so holes stay holes in a sparse target; the target is
fsynced before the copy counts as done.
"""

from __future__ import annotations

import os
from pathlib import Path

from basalt.drivers.file.copy import sparse_copy
from basalt.drivers.types import ProgressCallback


def copy_volume_data(
    source: Path, target: Path, *, size_bytes: int, progress: ProgressCallback
) -> int:
    """Copy the first ``size_bytes`` of ``source`` into ``target`` at the same offsets.

    Args:
        source: the volume's bytes, read.
        target: the new volume, already made at least ``size_bytes`` long.
        size_bytes: how much to copy (the volume's size).
        progress: called with (bytes_done, bytes_total) as the data is copied.

    Returns:
        The bytes of data copied.

    Raises:
        OSError: reading, writing or the fsync failed.
    """
    src_fd = os.open(source, os.O_RDONLY)
    try:
        dst_fd = os.open(target, os.O_WRONLY)
        try:
            copied = sparse_copy(src_fd, dst_fd, size_bytes=size_bytes, progress=progress)
            os.fsync(dst_fd)
        finally:
            os.close(dst_fd)
    finally:
        os.close(src_fd)
    return copied
