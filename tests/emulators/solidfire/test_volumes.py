"""Volumes: create, list, stats, modify, delete/restore/purge."""

from __future__ import annotations

import re

import pytest

from .conftest import GIB, Element, write_at

MIB = 1024 * 1024


def test_create_volume_returns_the_volume_in_element_shape(sf: Element) -> None:
    account = sf.account()
    result = sf.call(
        "CreateVolume",
        name="UUID-abc",
        accountID=account,
        sliceCount=1,
        totalSize=GIB,
        enable512e=True,
        attributes={"uuid": "abc", "is_clone": False},
        qos={"minIOPS": 100, "maxIOPS": 200, "burstIOPS": 200},
    )
    volume = result["volume"]
    assert result["volumeID"] == volume["volumeID"] == 1
    assert volume["name"] == "UUID-abc"
    assert volume["accountID"] == account
    assert volume["totalSize"] == GIB
    assert volume["enable512e"] is True
    assert volume["status"] == "active"
    assert volume["access"] == "readWrite"
    assert volume["attributes"] == {"uuid": "abc", "is_clone": False}
    assert {k: volume["qos"][k] for k in ("minIOPS", "maxIOPS", "burstIOPS")} == {
        "minIOPS": 100,
        "maxIOPS": 200,
        "burstIOPS": 200,
    }
    unique = sf.backend.unique_id
    assert volume["iqn"] == f"iqn.2010-01.com.solidfire:{unique}.uuid-abc.1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", volume["createTime"])
    assert volume["volumePairs"] == [] and volume["volumeAccessGroups"] == []
    assert sf.backend.volume_path(1).stat().st_size == GIB


def test_default_qos_and_partial_qos(sf: Element) -> None:
    account = sf.account()
    default = sf.call("CreateVolume", name="a", accountID=account, totalSize=GIB, qos={})
    assert default["volume"]["qos"]["minIOPS"] == 50
    assert default["volume"]["qos"]["maxIOPS"] == 15000
    partial = sf.call("CreateVolume", name="b", accountID=account, totalSize=GIB,
                      qos={"minIOPS": 1000})  # fmt: skip
    assert partial["volume"]["qos"]["minIOPS"] == 1000


@pytest.mark.parametrize(
    "qos",
    [
        {"minIOPS": 10},
        {"maxIOPS": 300000, "burstIOPS": 300000},
        {"minIOPS": 500, "maxIOPS": 400, "burstIOPS": 400},
        {"maxIOPS": 1000, "burstIOPS": 500},
    ],
)
def test_invalid_qos_is_refused(sf: Element, qos: dict[str, int]) -> None:
    account = sf.account()
    error = sf.error("CreateVolume", name="a", accountID=account, totalSize=GIB, qos=qos)
    assert error.name == "xInvalidParameter"
    assert sf.error("CreateVolume", name="a", accountID=account, totalSize=GIB,
                    qos={"minIOPS": "x"}).name == "xInvalidParameterType"  # fmt: skip


def test_sizes_are_rounded_up_to_a_mib_and_bounded(sf: Element) -> None:
    account = sf.account()
    odd = sf.call("CreateVolume", name="a", accountID=account, totalSize=GIB + 1)
    assert odd["volume"]["totalSize"] == GIB + MIB
    too_small = sf.error("CreateVolume", name="b", accountID=account, totalSize=MIB)
    too_big = sf.error("CreateVolume", name="b", accountID=account, totalSize=2**50)
    assert too_small.name == too_big.name == "xInvalidParameter"


def test_create_volume_errors(sf: Element) -> None:
    assert sf.error("CreateVolume", name="a", accountID=9, totalSize=GIB).name == (
        "xAccountIDDoesNotExist"
    )
    account = sf.account()
    assert sf.error("CreateVolume", name="a" * 65, accountID=account, totalSize=GIB).name == (
        "xInvalidParameter"
    )
    assert sf.error("CreateVolume", accountID=account, totalSize=GIB).name == "xMissingParameter"


def test_listings(sf: Element) -> None:
    account, other = sf.account("p1"), sf.account("p2")
    ids = [sf.volume(account, name=f"v{n}") for n in range(4)]
    foreign = sf.volume(other, name="foreign")
    sf.call("DeleteVolume", volumeID=ids[0])
    active = sf.call("ListActiveVolumes")["volumes"]
    assert [v["volumeID"] for v in active] == ids[1:] + [foreign]
    page = sf.call("ListActiveVolumes", startVolumeID=ids[2], limit=1)["volumes"]
    assert [v["volumeID"] for v in page] == [ids[2]]
    deleted = sf.call("ListDeletedVolumes")["volumes"]
    assert [(v["volumeID"], v["status"]) for v in deleted] == [(ids[0], "deleted")]
    mine = sf.call("ListVolumesForAccount", accountID=account)["volumes"]
    assert [v["volumeID"] for v in mine] == ids
    assert sf.error("ListVolumesForAccount", accountID=99).name == "xAccountIDDoesNotExist"


def test_list_volumes_filters(sf: Element) -> None:
    account, other = sf.account("p1"), sf.account("p2")
    first = sf.volume(account, name="alpha")
    second = sf.volume(account, name="beta")
    third = sf.volume(other, name="alpha")
    sf.call("DeleteVolume", volumeID=second)

    def ids(**params: object) -> list[int]:
        return [v["volumeID"] for v in sf.call("ListVolumes", **params)["volumes"]]

    assert ids() == [first, second, third]
    assert ids(volumeName="alpha") == [first, third]
    assert ids(accounts=[other]) == [third]
    assert ids(volumeIDs=[third, second]) == [second, third]
    assert ids(volumeStatus="active") == [first, third]
    assert ids(volumeStatus="deleted") == [second]
    assert ids(startVolumeID=second, limit=1) == [second]
    assert ids(isPaired=True) == []
    assert ids(isPaired=False) == [first, second, third]
    assert sf.error("ListVolumes", volumeStatus="gone").name == "xUnrecognizedEnumString"


def test_volume_stats_measure_written_blocks(sf: Element) -> None:
    volume = sf.volume(sf.account())
    stats = sf.call("GetVolumeStats", volumeID=volume)["volumeStats"]
    assert stats["volumeID"] == volume and stats["nonZeroBlocks"] == 0
    write_at(sf.backend.volume_path(volume), 4096 * 10, b"\x07" * 8192)
    stats = sf.call("GetVolumeStats", volumeID=volume)["volumeStats"]
    assert stats["nonZeroBlocks"] >= 2
    assert stats["volumeAccessGroups"] == []
    assert sf.error("GetVolumeStats", volumeID=77).name == "xVolumeIDDoesNotExist"


def test_modify_volume(sf: Element) -> None:
    account, other = sf.account("p1"), sf.account("p2")
    volume = sf.volume(account)
    changed = sf.call(
        "ModifyVolume",
        volumeID=volume,
        totalSize=2 * GIB,
        qos={"minIOPS": 500, "maxIOPS": 1000, "burstIOPS": 1000},
        attributes={"retyped_at": "now"},
        accountID=other,
        access="readOnly",
    )["volume"]
    assert changed["totalSize"] == 2 * GIB
    assert sf.backend.volume_path(volume).stat().st_size == 2 * GIB
    assert changed["qos"]["maxIOPS"] == 1000
    assert changed["attributes"] == {"retyped_at": "now"}
    assert changed["accountID"] == other
    assert changed["access"] == "readOnly"
    assert sf.call("GetAccountByID", accountID=other)["account"]["volumes"] == [volume]


def test_modify_volume_refusals_change_nothing(sf: Element) -> None:
    volume = sf.volume(sf.account(), size=2 * GIB)
    shrink = sf.error("ModifyVolume", volumeID=volume, totalSize=GIB, attributes={"a": 1})
    assert shrink.name == "xVolumeShrinkProhibited"
    bad_access = sf.error("ModifyVolume", volumeID=volume, access="everyone")
    assert bad_access.name == "xUnrecognizedEnumString"
    assert sf.error("ModifyVolume", volumeID=volume, accountID=50).name == (
        "xAccountIDDoesNotExist"
    )
    assert sf.error("ModifyVolume", volumeID=99).name == "xVolumeIDDoesNotExist"
    volume_now = sf.call("ListActiveVolumes")["volumes"][0]
    assert volume_now["totalSize"] == 2 * GIB and volume_now["attributes"] == {}


def test_delete_restore_purge(sf: Element) -> None:
    volume = sf.volume(sf.account())
    deleted = sf.call("DeleteVolume", volumeID=volume)["volume"]
    assert deleted["status"] == "deleted" and deleted["deleteTime"]
    assert sf.error("DeleteVolume", volumeID=volume).name == "xVolumeIDDoesNotExist"
    assert sf.error("ModifyVolume", volumeID=volume, totalSize=2 * GIB).name == (
        "xVolumeIDDoesNotExist"
    )
    assert sf.call("RestoreDeletedVolume", volumeID=volume) == {}
    assert sf.call("ListActiveVolumes")["volumes"][0]["status"] == "active"
    assert sf.error("RestoreDeletedVolume", volumeID=volume).name == "xVolumeIDDoesNotExist"
    assert sf.error("PurgeDeletedVolume", volumeID=volume).name == "xVolumeIDDoesNotExist"
    sf.call("DeleteVolume", volumeID=volume)
    assert sf.call("PurgeDeletedVolume", volumeID=volume) == {}
    assert not sf.backend.volume_path(volume).exists()
    assert sf.call("ListVolumes")["volumes"] == []
    assert sf.error("PurgeDeletedVolume", volumeID=volume).name == "xVolumeIDDoesNotExist"


def test_volume_ids_are_never_reused(sf: Element) -> None:
    account = sf.account()
    first = sf.volume(account)
    sf.call("DeleteVolume", volumeID=first)
    sf.call("PurgeDeletedVolume", volumeID=first)
    assert sf.volume(account) == first + 1
