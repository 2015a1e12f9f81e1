"""Which byte ranges differ between two reflinked copies of one file, from FIEMAP.

A reflink (FICLONE) copy shares its source's extents; a later write to the
source is copy-on-write: it gets new physical blocks, and the copy keeps the old
ones. So between two point-in-time copies of a volume (the *base*, shipped last
time, and the *point*, taken now) a byte range is unchanged exactly when both map
it to the same physical address, and changed where the addresses differ or one
of them is a hole. FICLONE writes the source's dirty pages back first, so the
point's extents are all real allocations (checked on XFS with reflink=1: a
4 KiB write into a shared 1 MiB extent splits it and only those 4 KiB get a new
address; see docs/architecture.md, *Replication*).

An extent whose address FIEMAP cannot give (delayed allocation, inline data,
encoded, unknown) is counted as changed: the answer may be too large, never too
small. Functions here raise OSError; the driver turns it into a DriverError.
"""

from __future__ import annotations

import fcntl
import struct
from dataclasses import dataclass

FS_IOC_FIEMAP = 0xC020660B
"""ioctl number of FS_IOC_FIEMAP (_IOWR('f', 11, struct fiemap))."""
FIEMAP_FLAG_SYNC = 0x1
FIEMAP_EXTENT_LAST = 0x1
FIEMAP_EXTENT_UNWRITTEN = 0x800
_NO_ADDRESS = 0x2 | 0x4 | 0x8 | 0x80 | 0x200  # unknown, delalloc, encoded, encrypted, inline
_HEADER = struct.Struct("=QQLLLL")
_EXTENT = struct.Struct("=QQQQQLLLL")
_BATCH = 512


@dataclass(frozen=True, slots=True)
class Extent:
    """One mapped range of a file: logical offset, physical address, length, flags."""

    logical: int
    physical: int
    length: int
    flags: int

    @property
    def end(self) -> int:
        return self.logical + self.length

    @property
    def comparable(self) -> bool:
        """Whether its physical address means something (else: count it as changed)."""
        return not self.flags & _NO_ADDRESS


def extents(fd: int, size_bytes: int) -> list[Extent]:
    """Every extent of an open file up to ``size_bytes``, in logical order.

    Args:
        fd: a file descriptor on the file.
        size_bytes: how far to map.

    Raises:
        OSError: the filesystem has no FIEMAP (ENOTTY/EOPNOTSUPP) or the ioctl failed.
    """
    found: list[Extent] = []
    start = 0
    while start < size_bytes:
        request = bytearray(_HEADER.size + _EXTENT.size * _BATCH)
        _HEADER.pack_into(request, 0, start, size_bytes - start, FIEMAP_FLAG_SYNC, 0, _BATCH, 0)
        fcntl.ioctl(fd, FS_IOC_FIEMAP, request)
        mapped = _HEADER.unpack_from(request, 0)[3]
        if mapped == 0:
            break
        last = False
        for index in range(mapped):
            logical, physical, length, _, _, flags, *_ = _EXTENT.unpack_from(
                request, _HEADER.size + _EXTENT.size * index
            )
            found.append(Extent(logical, physical, length, flags))
            last = bool(flags & FIEMAP_EXTENT_LAST)
        if last:
            break
        start = found[-1].end
    return [e for e in found if e.logical < size_bytes]


def changed_ranges(
    base: list[Extent] | None, point: list[Extent], size_bytes: int
) -> list[tuple[int, int, bool]]:
    """The ranges where ``point`` differs from ``base``, merged and in order.

    Args:
        base: the base copy's extents; None when there is no base (everything
            the point holds is new).
        point: the new copy's extents.
        size_bytes: the point's size.

    Returns:
        ``(offset, length, has_data)``: has_data False means the point holds a hole
        there (the range reads as zeros now).
    """
    if base is None:
        return _merge([(e.logical, min(e.end, size_bytes), True) for e in point])
    cuts = {0, size_bytes}
    for extent in (*base, *point):
        cuts.update((min(extent.logical, size_bytes), min(extent.end, size_bytes)))
    edges = sorted(cuts)
    pieces: list[tuple[int, int, bool]] = []
    base_at, point_at = _Cursor(base), _Cursor(point)
    for start, stop in zip(edges, edges[1:], strict=False):
        old, new = base_at.covering(start), point_at.covering(start)
        if _same(old, new, start):
            continue
        pieces.append((start, stop, new is not None))
    return _merge(pieces)


class _Cursor:
    """Walks a sorted extent list as the queried offsets grow."""

    def __init__(self, found: list[Extent]) -> None:
        self._found = found
        self._index = 0

    def covering(self, offset: int) -> Extent | None:
        while self._index < len(self._found) and self._found[self._index].end <= offset:
            self._index += 1
        if self._index < len(self._found) and self._found[self._index].logical <= offset:
            return self._found[self._index]
        return None


def _same(old: Extent | None, new: Extent | None, offset: int) -> bool:
    if old is None or new is None:
        return old is None and new is None
    if not (old.comparable and new.comparable):
        return False
    if (old.flags ^ new.flags) & FIEMAP_EXTENT_UNWRITTEN:
        return False
    return old.physical + (offset - old.logical) == new.physical + (offset - new.logical)


def _merge(pieces: list[tuple[int, int, bool]]) -> list[tuple[int, int, bool]]:
    """(start, stop, data) pieces -> (offset, length, data) with neighbours joined."""
    merged: list[tuple[int, int, bool]] = []
    for start, stop, data in pieces:
        if stop <= start:
            continue
        if merged and merged[-1][2] == data and merged[-1][0] + merged[-1][1] == start:
            offset, length, _ = merged[-1]
            merged[-1] = (offset, length + stop - start, data)
        else:
            merged.append((start, stop - start, data))
    return merged
