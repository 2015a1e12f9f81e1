"""SolidFire volume access groups (``enable_vag``) against the Element emulator."""

from __future__ import annotations

import uuid

import pytest

from basalt.drivers.solidfire import SolidFireDriver
from basalt.drivers.solidfire.access import group_name
from basalt.drivers.solidfire.client import SolidFireClient
from basalt.drivers.solidfire.options import SolidFireOptions
from basalt.drivers.types import ChapCredentials, Connector, ExportSpec, VolumeRef
from basalt.errors import DriverError
from basalt_emulators.solidfire import SolidFireBackend

CHAP = ChapCredentials(username="unused", secret="unused-by-element")
HOST_A = Connector(host="a", initiator="iqn.2026-11.test.sf:host-a")
HOST_B = Connector(host="b", initiator="iqn.2026-11.test.sf:host-b")


@pytest.fixture
def vag_driver(client: SolidFireClient) -> SolidFireDriver:
    options = SolidFireOptions(poll_interval_seconds=0.01, settle_seconds=0.2, enable_vag=True)
    made = SolidFireDriver(backend_name="sf-vag", client=client, options=options)
    made.setup()
    return made


def spec(*connectors: Connector) -> ExportSpec:
    return ExportSpec(initiators=frozenset(str(c.initiator) for c in connectors), chap=CHAP)


def new_volume(driver: SolidFireDriver) -> VolumeRef:
    ref = VolumeRef(id=str(uuid.uuid4()), size_gib=1, pool="default", project_id="p1")
    driver.create_volume(ref)
    return ref


def element_id(backend: SolidFireBackend, ref: VolumeRef) -> int:
    (found,) = [v for v in backend.active_volumes() if v["name"] == f"UUID-{ref.id}"]
    return int(found["volumeID"])


def groups(backend: SolidFireBackend) -> dict[str, tuple[set[str], set[int]]]:
    return {g["name"]: (set(g["initiators"]), set(g["volumes"])) for g in backend.access_groups()}


def test_connect_puts_the_volume_in_its_initiators_group_and_the_last_disconnect_removes_it(
    backend: SolidFireBackend, vag_driver: SolidFireDriver
) -> None:
    first, second = new_volume(vag_driver), new_volume(vag_driver)
    vag_driver.connect(first, HOST_A, spec(HOST_A))
    vag_driver.connect(first, HOST_B, spec(HOST_A, HOST_B))
    vag_driver.connect(second, HOST_A, spec(HOST_A))
    name_a, name_b = group_name(str(HOST_A.initiator)), group_name(str(HOST_B.initiator))
    assert name_a == "iqn-2026-11-test-sf-host-a"
    ids = element_id(backend, first), element_id(backend, second)
    assert groups(backend) == {
        name_a: ({str(HOST_A.initiator)}, set(ids)),
        name_b: ({str(HOST_B.initiator)}, {ids[0]}),
    }
    vag_driver.disconnect(first, HOST_B, spec(HOST_A))
    assert set(groups(backend)) == {name_a}  # B's group held nothing more: deleted
    vag_driver.disconnect(first, HOST_A, spec())
    assert groups(backend)[name_a][1] == {ids[1]}
    vag_driver.disconnect(second, None, spec())
    assert groups(backend) == {}


def test_connecting_twice_is_idempotent_and_ensure_exports_restores_membership(
    backend: SolidFireBackend, vag_driver: SolidFireDriver
) -> None:
    ref = new_volume(vag_driver)
    vag_driver.connect(ref, HOST_A, spec(HOST_A))
    vag_driver.connect(ref, HOST_A, spec(HOST_A))
    (group,) = backend.access_groups()
    assert group["volumes"] == [element_id(backend, ref)]
    backend.remove_volumes(group["volumeAccessGroupID"], [element_id(backend, ref)])
    assert vag_driver.ensure_exports({ref.id: (ref, spec(HOST_A))}) == []
    assert backend.access_groups()[0]["volumes"] == [element_id(backend, ref)]


def test_an_initiator_in_someone_elses_group_is_used_and_never_deleted(
    backend: SolidFireBackend, vag_driver: SolidFireDriver
) -> None:
    backend.create_access_group(
        "ops-made", initiators=[str(HOST_A.initiator)], volume_ids=[], attributes={}
    )
    ref = new_volume(vag_driver)
    vag_driver.connect(ref, HOST_A, spec(HOST_A))
    assert groups(backend) == {"ops-made": ({str(HOST_A.initiator)}, {element_id(backend, ref)})}
    vag_driver.disconnect(ref, HOST_A, spec())
    assert groups(backend) == {"ops-made": ({str(HOST_A.initiator)}, set())}


def test_without_enable_vag_no_group_is_touched(
    backend: SolidFireBackend, driver: SolidFireDriver
) -> None:
    ref = new_volume(driver)
    info = driver.connect(ref, HOST_A, spec(HOST_A))
    assert info.data["auth_method"] == "CHAP"
    driver.disconnect(ref, HOST_A, spec())
    assert backend.access_groups() == []


def test_a_full_group_is_a_clear_error(
    backend: SolidFireBackend, vag_driver: SolidFireDriver
) -> None:
    backend.faults.inject("xExceededLimit", method="CreateVolumeAccessGroup", times=1)
    ref = new_volume(vag_driver)
    with pytest.raises(DriverError, match="cannot admit initiator") as caught:
        vag_driver.connect(ref, HOST_A, spec(HOST_A))
    assert caught.value.hint and "one access group" in caught.value.hint
