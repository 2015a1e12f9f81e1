"""Sparse volume files: holes survive copies, targets keep their inode."""

from __future__ import annotations

from pathlib import Path

from basalt_emulators.core.sparse import (
    allocated_bytes,
    copy_sparse,
    create_sparse,
    remove_file,
    resize_sparse,
)

GIB = 1024**3


def test_copy_keeps_holes_and_data(tmp_path: Path) -> None:
    source, target = tmp_path / "s", tmp_path / "t"
    create_sparse(source, size_bytes=GIB)
    with open(source, "r+b") as f:
        f.seek(700 * 1024 * 1024)
        f.write(b"data")
        f.seek(4096)
        f.write(bytes(1024 * 1024))  # allocated zeros become a hole in the copy
    create_sparse(target, size_bytes=1)
    inode = target.stat().st_ino
    copy_sparse(source, target, size_bytes=2 * GIB)
    assert target.stat().st_ino == inode
    assert target.stat().st_size == 2 * GIB
    assert allocated_bytes(target) < 1024 * 1024
    with open(target, "rb") as f:
        f.seek(700 * 1024 * 1024)
        assert f.read(4) == b"data"


def test_copy_to_a_smaller_size_drops_the_tail(tmp_path: Path) -> None:
    source, target = tmp_path / "s", tmp_path / "t"
    create_sparse(source, size_bytes=GIB)
    with open(source, "r+b") as f:
        f.seek(GIB - 4)
        f.write(b"tail")
    copy_sparse(source, target, size_bytes=GIB // 2)
    assert target.stat().st_size == GIB // 2
    assert allocated_bytes(target) == 0


def test_resize_and_remove(tmp_path: Path) -> None:
    path = tmp_path / "v"
    create_sparse(path, size_bytes=GIB)
    resize_sparse(path, size_bytes=2 * GIB)
    assert path.stat().st_size == 2 * GIB
    remove_file(path)
    remove_file(path)
    assert allocated_bytes(path) == 0
