from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import basalt


@pytest.fixture
def b(tmp_path: Path) -> Iterator[basalt.Basalt]:
    """A Basalt on the embedded defaults in a fresh data directory."""
    with basalt.open(data_dir=tmp_path / "data") as instance:
        yield instance


def pool_dir(instance: basalt.Basalt) -> Path:
    return instance.settings.data_dir / "pools" / "file" / "default"


def volume_file(instance: basalt.Basalt, volume_id: str) -> Path:
    return pool_dir(instance) / "volumes" / f"{volume_id}.raw"


def pool_files(instance: basalt.Basalt) -> set[str]:
    root = pool_dir(instance)
    return {f"{d}/{p.name}" for d in ("volumes", "snapshots") for p in (root / d).iterdir()}
