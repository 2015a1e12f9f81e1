"""The scheduler places new volumes: through the library, over real `file` backends.

Backend ``fast`` (volume_backend_name ``gold``, two pools) and backend ``slow`` (in
zone ``az2``) share one filesystem, so capacity ties and the volume-count and
allocated-capacity weighers decide among equals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import basalt
from basalt.config import BackendSettings
from basalt.errors import (
    InvalidExtraSpecError,
    InvalidInputError,
    NoValidBackendError,
    PermissionDeniedError,
    VolumeNotFoundError,
)
from basalt.service.context import RequestContext

WAIT = 60
MEMBER = RequestContext(user_id="m", project_id="basalt", roles=frozenset({"member"}))


@pytest.fixture
def b(tmp_path: Path) -> Iterator[basalt.Basalt]:
    fast = BackendSettings(
        name="fast",
        volume_backend_name="gold",
        pools={"p1": str(tmp_path / "f1"), "p2": str(tmp_path / "f2")},
    )
    slow = BackendSettings(name="slow", availability_zone="az2", pools={"p1": str(tmp_path / "s1")})
    settings = basalt.Settings(data_dir=tmp_path / "data", backends=[fast, slow])
    with basalt.open(settings) as instance:
        yield instance


def placed(b: basalt.Basalt, **create: object) -> str:
    volume = b.volumes.create(size_gib=1, **create).wait(timeout=WAIT)  # type: ignore[arg-type]
    return f"{volume.backend}#{volume.pool}"


def test_equal_pools_take_turns(b: basalt.Basalt) -> None:
    hosts = Counter(placed(b) for _ in range(6))
    assert hosts == {"fast#p1": 2, "fast#p2": 2, "slow#p1": 2}


def test_a_type_goes_where_its_extra_specs_are_met(b: basalt.Basalt) -> None:
    b.types.create("gold", extra_specs={"volume_backend_name": "gold"})
    b.types.create("plain-az", extra_specs={"capabilities:pool_name": "<or> p2 <or> p9"})
    assert {placed(b, volume_type="gold") for _ in range(4)} == {"fast#p1", "fast#p2"}
    assert {placed(b, volume_type="plain-az") for _ in range(2)} == {"fast#p2"}
    assert placed(b, availability_zone="az2") == "slow#p1"


def test_a_type_no_pool_meets_is_refused_with_every_pools_reason(b: basalt.Basalt) -> None:
    b.types.create("nowhere", extra_specs={"volume_backend_name": "platinum"})
    with pytest.raises(NoValidBackendError, match="3 fail capabilities") as refused:
        b.volumes.create(size_gib=1, volume_type="nowhere")
    assert b.volumes.list() == [] and b.operations.list() == []
    reasons = {v.pool.host: v.first_failure for v in refused.value.explanation.pools}
    assert set(reasons) == {"basalt@fast#p1", "basalt@fast#p2", "basalt@slow#p1"}
    for verdict in reasons.values():
        assert verdict is not None and verdict.filter == "capabilities"
    assert "platinum" in str(reasons["basalt@slow#p1"].reason)  # type: ignore[union-attr]
    assert "slow" in str(reasons["basalt@slow#p1"].reason)  # type: ignore[union-attr]


def test_affinity_hints_follow_the_named_volumes(b: basalt.Basalt) -> None:
    anchor = b.volumes.create(size_gib=1, availability_zone="az2").wait(timeout=WAIT)
    assert placed(b, scheduler_hints={"same_host": anchor.id}) == "slow#p1"
    away = {placed(b, scheduler_hints={"different_host": [anchor.id]}) for _ in range(3)}
    assert away <= {"fast#p1", "fast#p2"}
    with pytest.raises(NoValidBackendError, match="same_backend"):
        b.volumes.create(
            size_gib=1,
            availability_zone="nova",
            scheduler_hints={"same_host": anchor.id},
        )
    with pytest.raises(VolumeNotFoundError):
        b.volumes.create(size_gib=1, scheduler_hints={"same_host": "no-such-volume"})
    with pytest.raises(InvalidInputError, match="scheduler_hints.different_host"):
        b.volumes.create(size_gib=1, scheduler_hints={"different_host": 7})
    with pytest.raises(InvalidInputError, match="not a zone"):
        b.volumes.create(size_gib=1, availability_zone="az9")
    assert len(b.volumes.list()) == 5


def test_a_disabled_backend_is_passed_over_and_explained(b: basalt.Basalt) -> None:
    b.deployment.disable("basalt@fast", reason="maintenance")
    assert {placed(b) for _ in range(3)} == {"slow#p1"}
    explanation = b.volumes.explain_placement(size_gib=1)
    assert explanation.chosen is not None and explanation.chosen.pool.host == "basalt@slow#p1"
    failed = {v.pool.host: v.first_failure for v in explanation.pools if not v.passed}
    assert set(failed) == {"basalt@fast#p1", "basalt@fast#p2"}
    assert all(f is not None and "maintenance" in f.reason for f in failed.values())


def test_explaining_is_for_administrators_and_changes_nothing(b: basalt.Basalt) -> None:
    with pytest.raises(PermissionDeniedError, match="scheduler:explain"):
        b.volumes.explain_placement(size_gib=1, ctx=MEMBER)
    first = b.volumes.explain_placement(size_gib=1).as_dict()
    again = b.volumes.explain_placement(size_gib=1).as_dict()
    assert first == again and first["chosen"] == "basalt@fast#p1"
    assert b.volumes.list() == []
    text = b.volumes.explain_placement(size_gib=10**6).as_text()
    assert "no pool can take 1000000 GiB: 3 fail capacity" in text


def test_unreadable_extra_specs_are_refused_when_the_type_is_saved(b: basalt.Basalt) -> None:
    with pytest.raises(InvalidExtraSpecError, match="maybe"):
        b.types.create("odd", extra_specs={"multiattach": "<is> maybe"})
    silver = b.types.create("silver", extra_specs={"thin_provisioning_support": "<is> True"})
    with pytest.raises(InvalidExtraSpecError):
        b.types.set_extra_specs(silver.id, {"free": ">= lots"})
    assert b.types.get("silver").extra_specs == {"thin_provisioning_support": "<is> True"}
    assert [t.name for t in b.types.list()].count("odd") == 0


def test_pools_report_the_capabilities_specs_match(b: basalt.Basalt) -> None:
    pools = {f"{p.backend}#{p.name}": p for p in b.list_pools()}
    fast, slow = pools["fast#p1"], pools["slow#p1"]
    assert fast.capabilities["volume_backend_name"] == "gold"
    assert slow.capabilities["volume_backend_name"] == "slow"
    assert (fast.availability_zone, slow.availability_zone) == ("nova", "az2")
    assert fast.capabilities["storage_protocol"] == "iSCSI"
    assert fast.capabilities["QoS_support"] is False


def test_a_migration_destination_must_meet_the_volumes_type(b: basalt.Basalt) -> None:
    b.types.create("gold", extra_specs={"volume_backend_name": "gold"})
    volume = b.volumes.create(size_gib=1, volume_type="gold").wait(timeout=WAIT)
    with pytest.raises(NoValidBackendError, match="capabilities"):
        b.volumes.migrate(volume.id, "slow#p1")
    assert b.volumes.get(volume.id).status == "available"
    other = "fast#p2" if volume.pool == "p1" else "fast#p1"
    moved = b.volumes.migrate(volume.id, other).wait(timeout=WAIT)
    assert f"{moved.backend}#{moved.pool}" == other
