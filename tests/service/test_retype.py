"""Retype through the library: in place, by migration (bytes compared), or refused.

Backend ``fast`` (volume_backend_name ``gold``, pools p1 and p2) and backend
``slow`` are `file` backends on one filesystem; a move between backends is a
generic copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import basalt
from basalt.config import BackendSettings
from basalt.errors import (
    InvalidInputError,
    NoValidBackendError,
    PermissionDeniedError,
    QuotaExceededError,
    VolumeTypeNotFoundError,
)
from basalt.model import OperationKind, VolumeStatus
from basalt.service.context import RequestContext

MIB = 1024**2
WAIT = 120
READER = RequestContext(user_id="r", project_id="basalt", roles=frozenset({"reader"}))


@pytest.fixture
def b(tmp_path: Path) -> Iterator[basalt.Basalt]:
    fast = BackendSettings(
        name="fast",
        volume_backend_name="gold",
        pools={"p1": str(tmp_path / "f1"), "p2": str(tmp_path / "f2")},
    )
    slow = BackendSettings(name="slow", pools={"p1": str(tmp_path / "s1")})
    settings = basalt.Settings(data_dir=tmp_path / "data", backends=[fast, slow])
    with basalt.open(settings) as instance:
        instance.types.create("gold", extra_specs={"volume_backend_name": "gold"})
        instance.types.create("anywhere")
        yield instance


def volume_file(b: basalt.Basalt, backend: str, pool: str, volume_id: str) -> Path:
    root = {(p.backend, p.name): Path(p.location) for p in b.list_pools()}[backend, pool]
    return root / "volumes" / f"{volume_id}.raw"


def fill(path: Path) -> str:
    with path.open("r+b") as handle:
        for i in range(4):
            handle.seek(i * 3 * MIB)
            handle.write(bytes([i + 1]) * MIB)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def type_id(b: basalt.Basalt, name: str) -> str:
    return b.types.get(name).id


def test_a_type_the_pool_meets_is_taken_in_place(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1, volume_type="gold").wait(timeout=WAIT)
    b.types.create("gold-thin", extra_specs={"volume_backend_name": "gold", "reflink": "s!= x"})
    handle = b.volumes.retype(volume.id, "gold-thin")
    done = handle.wait(timeout=WAIT)
    assert done.volume_type_id == type_id(b, "gold-thin")
    assert (done.backend, done.pool, done.status) == (volume.backend, volume.pool, "available")
    assert b.operations.get(handle.operation_id).kind == OperationKind.RETYPE_VOLUME
    assert "driver retype" in [e.message for e in b.volumes.events(volume.id)]


def test_a_pool_that_does_not_meet_the_type_refuses_unless_migration_is_allowed(
    b: basalt.Basalt,
) -> None:
    volume = b.volumes.create(size_gib=1, volume_type="anywhere", pool="slow#p1").wait(WAIT)
    before = fill(volume_file(b, "slow", "p1", volume.id))
    with pytest.raises(InvalidInputError, match="volume_backend_name") as refused:
        b.volumes.retype(volume.id, "gold")
    assert "on-demand" in str(refused.value.hint)
    kept = b.volumes.get(volume.id)
    assert (kept.volume_type_id, kept.status) == (type_id(b, "anywhere"), "available")

    moved = b.volumes.retype(volume.id, "gold", migration_policy="on-demand").wait(WAIT)
    assert (moved.id, moved.backend, moved.status) == (volume.id, "fast", "available")
    assert moved.volume_type_id == type_id(b, "gold")
    assert moved.migration_status == "success"
    path = volume_file(b, "fast", moved.pool, volume.id)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not volume_file(b, "slow", "p1", volume.id).exists()


def test_bad_retypes_change_nothing(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1, volume_type="gold").wait(timeout=WAIT)
    iops = b.qos.create("iops", consumer="back-end", specs={"maxIOPS": "500"})
    qos_type = b.types.create("limited", extra_specs={"volume_backend_name": "gold"})
    b.qos.associate(iops.id, qos_type.id)
    cases: list[tuple[dict[str, str], type[Exception], str]] = [
        ({"new_type": "gold"}, InvalidInputError, "already"),
        ({"new_type": "platinum"}, VolumeTypeNotFoundError, "platinum"),
        ({"new_type": "anywhere", "migration_policy": "always"}, InvalidInputError, "always"),
        ({"new_type": "limited"}, InvalidInputError, "QoS_support"),
        (
            {"new_type": "limited", "migration_policy": "on-demand"},
            NoValidBackendError,
            "QoS_support",
        ),
    ]
    for kwargs, error, words in cases:
        with pytest.raises(error, match=words):
            b.volumes.retype(volume.id, **kwargs)
    with pytest.raises(PermissionDeniedError, match="volume:retype"):
        b.volumes.retype(volume.id, "anywhere", ctx=READER)
    kept = b.volumes.get(volume.id)
    assert (kept.volume_type_id, kept.status) == (type_id(b, "gold"), VolumeStatus.AVAILABLE)
    assert [o.kind for o in b.operations.list()] == [OperationKind.CREATE_VOLUME]


def test_the_new_types_quota_is_checked_before_anything_moves(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1, volume_type="anywhere", pool="fast#p1").wait(WAIT)
    b.quotas.update("basalt", {"volumes_gold": 0})
    with pytest.raises(QuotaExceededError, match="volumes_gold"):
        b.volumes.retype(volume.id, "gold")
    assert b.volumes.get(volume.id).volume_type_id == type_id(b, "anywhere")
    b.quotas.update("basalt", {"volumes_gold": 1})
    assert b.volumes.retype(volume.id, "gold").wait(WAIT).volume_type_id == type_id(b, "gold")
