"""Sparse and reflink copies of image files (on the tmp directory's filesystem)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from basalt.drivers.file import copy
from basalt.drivers.types import GIB, no_progress
from tests.support.content import file_digest

MIB = 1024**2
BLOCK = 4096


def make_sparse(path: Path, *, size_bytes: int, data_at: dict[int, bytes]) -> None:
    with open(path, "wb") as file:
        file.truncate(size_bytes)
        for offset, data in data_at.items():
            file.seek(offset)
            file.write(data)
        file.flush()
        os.fsync(file.fileno())


def allocated_bytes(path: Path) -> int:
    return path.stat().st_blocks * 512


def same_content(a: Path, b: Path) -> bool:
    """Same bytes, holes read as zeros (only the data extents are read)."""
    return file_digest(a) == file_digest(b)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A 1 GiB sparse file with 3 MiB of data in three places."""
    path = tmp_path / "source.raw"
    data_at = {0: b"a" * MIB, 300 * MIB: b"b" * MIB, GIB - MIB: b"c" * MIB}
    make_sparse(path, size_bytes=GIB, data_at=data_at)
    return path


def test_data_extents_finds_the_written_ranges(source: Path) -> None:
    fd = os.open(source, os.O_RDONLY)
    try:
        extents = copy.data_extents(fd, GIB)
    finally:
        os.close(fd)
    assert sum(length for _, length in extents) == 3 * MIB
    assert [start for start, _ in extents] == [0, 300 * MIB, GIB - MIB]


def test_data_extents_of_an_empty_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "holes.raw"
    make_sparse(path, size_bytes=GIB, data_at={})
    fd = os.open(path, os.O_RDONLY)
    try:
        assert copy.data_extents(fd, GIB) == []
    finally:
        os.close(fd)


def test_sparse_copy_keeps_holes_as_holes(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "target.raw"
    copy.copy_file(
        source,
        target,
        partial=tmp_path / ".target.raw.partial",
        size_bytes=GIB,
        reflink=False,
        progress=no_progress,
    )
    assert target.stat().st_size == GIB
    assert same_content(source, target)
    # Allocated like the source (3 MiB), not like its size (1 GiB).
    assert allocated_bytes(target) <= allocated_bytes(source) + MIB
    assert not (tmp_path / ".target.raw.partial").exists()


def test_copy_grows_to_the_asked_size_with_a_hole(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "bigger.raw"
    copy.copy_file(
        source,
        target,
        partial=tmp_path / ".bigger.raw.partial",
        size_bytes=3 * GIB,
        reflink=False,
        progress=no_progress,
        mode=0o440,
    )
    assert target.stat().st_size == 3 * GIB
    assert target.stat().st_mode & 0o777 == 0o440
    assert allocated_bytes(target) <= allocated_bytes(source) + MIB
    with open(target, "rb") as file:
        assert file.read(MIB) == b"a" * MIB
        file.seek(GIB - MIB)
        assert file.read(MIB) == b"c" * MIB
        assert file.read(MIB) == bytes(MIB)


def test_copy_into_a_smaller_size_is_refused_without_leaving_files(
    source: Path, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        copy.copy_file(
            source,
            tmp_path / "small.raw",
            partial=tmp_path / ".small.raw.partial",
            size_bytes=GIB - MIB,
            reflink=False,
            progress=no_progress,
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source.raw"]


def test_a_failed_copy_leaves_neither_partial_nor_final(source: Path, tmp_path: Path) -> None:
    def fail(done: int, total: int) -> None:
        raise OSError(errno.EIO, "simulated failure")

    with pytest.raises(OSError, match="simulated"):
        copy.copy_file(
            source,
            tmp_path / "broken.raw",
            partial=tmp_path / ".broken.raw.partial",
            size_bytes=GIB,
            reflink=False,
            progress=fail,
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source.raw"]


def test_progress_rises_to_the_data_total_in_chunks(tmp_path: Path) -> None:
    source = tmp_path / "source.raw"
    make_sparse(source, size_bytes=GIB, data_at={0: b"x" * 5 * MIB, 512 * MIB: b"y" * MIB})
    calls: list[tuple[int, int]] = []
    fd_in = os.open(source, os.O_RDONLY)
    fd_out = os.open(tmp_path / "out.raw", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.ftruncate(fd_out, GIB)
        copied = copy.sparse_copy(
            fd_in,
            fd_out,
            size_bytes=GIB,
            progress=lambda done, total: calls.append((done, total)),
            chunk_bytes=2 * MIB,
        )
    finally:
        os.close(fd_in)
        os.close(fd_out)
    assert copied == 6 * MIB
    assert {total for _, total in calls} == {6 * MIB}
    dones = [done for done, _ in calls]
    assert dones == sorted(dones) and dones[-1] == 6 * MIB
    assert all(b - a <= 2 * MIB for a, b in zip([0, *dones], dones, strict=False))
    assert dones.count(6 * MIB) == 1


def test_progress_of_an_empty_source_is_one_final_call(tmp_path: Path) -> None:
    source = tmp_path / "empty.raw"
    make_sparse(source, size_bytes=GIB, data_at={})
    calls: list[tuple[int, int]] = []
    copy.copy_file(
        source,
        tmp_path / "copy.raw",
        partial=tmp_path / ".copy.raw.partial",
        size_bytes=GIB,
        reflink=False,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(0, 0)]
    assert allocated_bytes(tmp_path / "copy.raw") == 0


def test_falls_back_to_read_write_when_copy_file_range_is_unsupported(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[int] = []

    def unsupported(*args: object) -> int:
        attempts.append(1)
        raise OSError(errno.EXDEV, "cross-device copy_file_range")

    monkeypatch.setattr(os, "copy_file_range", unsupported)
    target = tmp_path / "target.raw"
    copy.copy_file(
        source,
        target,
        partial=tmp_path / ".target.raw.partial",
        size_bytes=GIB,
        reflink=False,
        progress=no_progress,
    )
    assert same_content(source, target)
    assert len(attempts) == 1  # tried once, then read/write for every range
    assert allocated_bytes(target) <= allocated_bytes(source) + MIB


def test_other_copy_file_range_errors_are_raised(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> int:
        raise OSError(errno.EIO, "disk on fire")

    monkeypatch.setattr(os, "copy_file_range", broken)
    with pytest.raises(OSError, match="disk on fire"):
        copy.copy_file(
            source,
            tmp_path / "t.raw",
            partial=tmp_path / ".t.raw.partial",
            size_bytes=GIB,
            reflink=False,
            progress=no_progress,
        )
    assert not (tmp_path / ".t.raw.partial").exists()


def test_create_sparse_allocates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "new.raw"
    copy.create_sparse(target, partial=tmp_path / ".new.raw.partial", size_bytes=10 * GIB)
    assert target.stat().st_size == 10 * GIB
    assert allocated_bytes(target) == 0
    assert target.stat().st_mode & 0o777 == 0o600


def test_a_stale_partial_from_a_crash_is_replaced(tmp_path: Path) -> None:
    partial = tmp_path / ".new.raw.partial"
    partial.write_bytes(b"left by a crash")
    partial.chmod(0o400)
    copy.create_sparse(tmp_path / "new.raw", partial=partial, size_bytes=GIB)
    assert not partial.exists()
    assert (tmp_path / "new.raw").stat().st_size == GIB


def test_reflink_probe_cleans_up_after_itself(tmp_path: Path) -> None:
    result = copy.reflink_supported(tmp_path / ".a.partial", tmp_path / ".b.partial")
    assert isinstance(result, bool)
    assert list(tmp_path.iterdir()) == []


def test_reflink_request_falls_back_to_a_sparse_copy_where_unsupported(
    source: Path, tmp_path: Path
) -> None:
    target = tmp_path / "target.raw"
    calls: list[tuple[int, int]] = []
    copy.copy_file(
        source,
        target,
        partial=tmp_path / ".target.raw.partial",
        size_bytes=GIB,
        reflink=True,  # ext4 refuses FICLONE; the copy must still happen
        progress=lambda done, total: calls.append((done, total)),
    )
    assert same_content(source, target)
    assert calls[-1][0] == calls[-1][1]
    assert allocated_bytes(target) <= allocated_bytes(source) + MIB
