"""What a (sparse) volume file holds, compared without reading gigabytes of zeros.

Volume files are mostly holes: a 2 GiB volume with a few MiB written is a few MiB of
data. Hashing every byte of it (or ``read_bytes()``, which also allocates all of it)
costs seconds per file; :func:`file_digest` reads only the data extents and feeds
holes as zero markers, so two files with the same content have the same digest
however they are stored (a dense zero block and a hole agree).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

MIB = 1024**2
DIGEST_BLOCK_BYTES = MIB


class ContentDigest:
    """A digest of content that does not depend on how it is stored.

    Content is fed in blocks; an all-zero block is fed as a marker, so an adapter
    can skip holes without reading them and still agree with a dense copy.
    """

    def __init__(self) -> None:
        self._hash = hashlib.blake2b(digest_size=20)

    def add_zeros(self, length: int) -> None:
        self._hash.update(b"Z%d;" % length)

    def add(self, block: bytes) -> None:
        if block.count(0) == len(block):
            self.add_zeros(len(block))
        else:
            self._hash.update(b"D%d;" % len(block))
            self._hash.update(block)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def zero_digest(length: int) -> str:
    """The digest of ``length`` zero bytes, as every adapter computes it."""
    digest = ContentDigest()
    for offset in range(0, length, DIGEST_BLOCK_BYTES):
        digest.add_zeros(min(DIGEST_BLOCK_BYTES, length - offset))
    return digest.hexdigest()


def file_digest(path: Path, *, start: int = 0, length: int | None = None) -> str:
    """The :class:`ContentDigest` of a range of a (sparse) file; holes are not read.

    The range must lie within the file (a range past its end would be short, not zeros).
    """
    digest = ContentDigest()
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        end = size if length is None else start + length
        assert end <= size, f"{path} is {size} bytes, shorter than the range up to {end}"
        for offset in range(start, end, DIGEST_BLOCK_BYTES):
            block_bytes = min(DIGEST_BLOCK_BYTES, end - offset)
            if _is_hole(fd, offset, block_bytes):
                digest.add_zeros(block_bytes)
            else:
                digest.add(os.pread(fd, block_bytes, offset))
    finally:
        os.close(fd)
    return digest.hexdigest()


def _is_hole(fd: int, offset: int, length: int) -> bool:
    """Whether [offset, offset+length) holds no data extent."""
    try:
        return os.lseek(fd, offset, os.SEEK_DATA) >= offset + length
    except OSError:  # ENXIO: nothing but holes until the end
        return True


def head(path: Path, length: int) -> bytes:
    """The first ``length`` bytes of a file (without reading the rest of it)."""
    with path.open("rb") as handle:
        return handle.read(length)
