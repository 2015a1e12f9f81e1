"""QoS reaches the backend and the host: SolidFire volumes carry their type's back-end QoS
(on create, copy and extend), hosts get the front-end limits in the connection info,
and a backend that cannot enforce back-end QoS refuses such a volume before making it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import basalt
from basalt.errors import InvalidInputError, NoValidBackendError
from basalt_emulators.solidfire import SolidFireBackend
from tests.integration.test_solidfire_service import open_basalt

WAIT = 30
HOST = {"host": "compute-a", "initiator": "iqn.2026-11.test.compute:a"}


@pytest.fixture
def backend(tmp_path: Path) -> SolidFireBackend:
    return SolidFireBackend(tmp_path / "cluster")


@pytest.fixture
def sf(tmp_path: Path, backend: SolidFireBackend) -> Iterator[basalt.Basalt]:
    with open_basalt(tmp_path, backend) as instance:
        yield instance


def element_qos(backend: SolidFireBackend, volume_id: str) -> tuple[int, int, int]:
    (found,) = [v for v in backend.volumes_by_id.values() if v.name == f"UUID-{volume_id}"]
    return found.qos.min_iops, found.qos.max_iops, found.qos.burst_iops


def typed(b: basalt.Basalt, name: str, consumer: str, **specs: str) -> str:
    kind = b.types.create(name)
    qos = b.qos.create(f"{name}-qos", consumer=consumer, specs=specs)
    b.qos.associate(qos.id, kind.id)
    return kind.id


def test_back_end_qos_on_create_copy_and_extend(
    sf: basalt.Basalt, backend: SolidFireBackend
) -> None:
    fast = typed(sf, "fast", "back-end", **{"sf-qos": "fast"})
    scaled = typed(
        sf,
        "scaled",
        "both",
        minIOPS="100",
        maxIOPS="200",
        burstIOPS="300",
        scaledIOPS="True",
        scaleMin="10",
        scaleMax="20",
        scaleBurst="30",
    )
    volume = sf.volumes.create(size_gib=1, volume_type=fast).wait(timeout=WAIT)
    assert element_qos(backend, volume.id) == (500, 1000, 1000)
    grown = sf.volumes.create(size_gib=1, volume_type=scaled).wait(timeout=WAIT)
    assert element_qos(backend, grown.id) == (100, 200, 300)
    sf.volumes.extend(grown.id, 3).wait(timeout=WAIT)
    assert element_qos(backend, grown.id) == (120, 240, 360)  # + scale * (3 - 1)
    clone = sf.volumes.clone(volume.id, volume_type=scaled).wait(timeout=WAIT)
    assert element_qos(backend, clone.id) == (100, 200, 300)  # the clone's type, not the source's


def test_front_end_limits_reach_the_host_scaled_to_the_volume(sf: basalt.Basalt) -> None:
    limited = typed(sf, "limited", "front-end", total_iops_sec_per_gb="10", read_bytes_sec="1000")
    volume = sf.volumes.create(size_gib=4, volume_type=limited).wait(timeout=WAIT)
    info = sf.attachments.attach(volume.id, HOST).connection_info
    assert info.data["qos_specs"] == {"total_iops_sec": 40, "read_bytes_sec": 1000}
    plain = sf.volumes.create(size_gib=1).wait(timeout=WAIT)
    assert sf.attachments.attach(plain.id, HOST).connection_info.data["qos_specs"] is None


def test_bad_back_end_qos_is_refused_before_anything_is_made(
    sf: basalt.Basalt, backend: SolidFireBackend
) -> None:
    broken = typed(sf, "broken", "back-end", **{"sf-qos": "ludicrous"})
    inverted = typed(sf, "inverted", "back-end", minIOPS="900", maxIOPS="200")
    for kind, words in ((broken, "sf-qos"), (inverted, "minIOPS <= maxIOPS")):
        with pytest.raises(InvalidInputError, match=words):
            sf.volumes.create(size_gib=1, volume_type=kind)
    assert sf.volumes.list() == [] and backend.volumes_by_id == {}


def test_a_backend_without_back_end_qos_refuses_such_volumes(b: basalt.Basalt) -> None:
    iops = typed(b, "iops", "back-end", maxIOPS="100")
    with pytest.raises(NoValidBackendError, match="QoS_support") as refused:
        b.volumes.create(size_gib=1, volume_type=iops)
    assert b.volumes.list() == []
    (verdict,) = refused.value.explanation.pools
    assert "QoS_support" in verdict.first_failure.reason
    host_only = typed(b, "host-only", "front-end", total_iops_sec="100")
    assert b.volumes.create(size_gib=1, volume_type=host_only).wait(timeout=WAIT)
