"""Volume access groups and their error names."""

from __future__ import annotations

import dataclasses

from .conftest import Element

IQN = "iqn.1993-08.org.debian:01:abc123"
IQN2 = "iqn.1993-08.org.debian:01:def456"


def _vag(sf: Element, **params: object) -> int:
    return int(sf.call("CreateVolumeAccessGroup", **params)["volumeAccessGroupID"])


def test_create_and_list(sf: Element) -> None:
    volume = sf.volume(sf.account())
    result = sf.call(
        "CreateVolumeAccessGroup", name="iqn-1993-08-org-debian-01-abc123", initiators=[IQN],
        volumes=[volume], attributes={"openstack": True},
    )  # fmt: skip
    group = result["volumeAccessGroup"]
    assert group["volumeAccessGroupID"] == result["volumeAccessGroupID"]
    assert group["initiators"] == [IQN] and group["volumes"] == [volume]
    assert group["deletedVolumes"] == [] and group["attributes"] == {"openstack": True}
    assert len(group["initiatorIDs"]) == 1
    listed = sf.call("ListVolumeAccessGroups")
    assert listed["volumeAccessGroups"] == [group]
    volume_view = sf.call("ListActiveVolumes")["volumes"][0]
    assert volume_view["volumeAccessGroups"] == [group["volumeAccessGroupID"]]


def test_list_filters(sf: Element) -> None:
    ids = [_vag(sf, name=f"g{n}") for n in range(3)]
    page = sf.call("ListVolumeAccessGroups", startVolumeAccessGroupID=ids[1], limit=1)
    assert [g["name"] for g in page["volumeAccessGroups"]] == ["g1"]
    chosen = sf.call("ListVolumeAccessGroups", volumeAccessGroups=[ids[2], 99])
    assert [g["name"] for g in chosen["volumeAccessGroups"]] == ["g2"]
    assert chosen["volumeAccessGroupsNotFound"] == [99]


def test_initiators(sf: Element) -> None:
    group = _vag(sf, name="g")
    added = sf.call("AddInitiatorsToVolumeAccessGroup", volumeAccessGroupID=group,
                    initiators=[IQN, IQN2])  # fmt: skip
    assert added["volumeAccessGroup"]["initiators"] == [IQN, IQN2]
    again = sf.error("AddInitiatorsToVolumeAccessGroup", volumeAccessGroupID=group,
                     initiators=[IQN])  # fmt: skip
    assert again.name == "xAlreadyInVolumeAccessGroup"
    removed = sf.call("RemoveInitiatorsFromVolumeAccessGroup", volumeAccessGroupID=group,
                      initiators=[IQN])  # fmt: skip
    assert removed["volumeAccessGroup"]["initiators"] == [IQN2]
    missing = sf.error("RemoveInitiatorsFromVolumeAccessGroup", volumeAccessGroupID=group,
                       initiators=[IQN])  # fmt: skip
    assert missing.name == "xNotInVolumeAccessGroup"


def test_an_initiator_belongs_to_one_group_only(sf: Element) -> None:
    _vag(sf, name="first", initiators=[IQN])
    error = sf.error("CreateVolumeAccessGroup", name="second", initiators=[IQN])
    assert error.name == "xExceededLimit"
    assert IQN in error.message
    other = _vag(sf, name="third")
    error = sf.error("AddInitiatorsToVolumeAccessGroup", volumeAccessGroupID=other,
                     initiators=[IQN])  # fmt: skip
    assert error.name == "xExceededLimit"


def test_volumes(sf: Element) -> None:
    account = sf.account()
    first, second = sf.volume(account, name="a"), sf.volume(account, name="b")
    group = _vag(sf, name="g", volumes=[first])
    added = sf.call("AddVolumesToVolumeAccessGroup", volumeAccessGroupID=group, volumes=[second])
    assert added["volumeAccessGroup"]["volumes"] == [first, second]
    again = sf.error("AddVolumesToVolumeAccessGroup", volumeAccessGroupID=group, volumes=[first])
    assert again.name == "xAlreadyInVolumeAccessGroup"
    unknown = sf.error("AddVolumesToVolumeAccessGroup", volumeAccessGroupID=group, volumes=[77])
    assert unknown.name == "xVolumeIDDoesNotExist"
    removed = sf.call("RemoveVolumesFromVolumeAccessGroup", volumeAccessGroupID=group,
                      volumes=[first])  # fmt: skip
    assert removed["volumeAccessGroup"]["volumes"] == [second]
    missing = sf.error("RemoveVolumesFromVolumeAccessGroup", volumeAccessGroupID=group,
                       volumes=[first])  # fmt: skip
    assert missing.name == "xNotInVolumeAccessGroup"


def test_deleted_volumes_move_to_deleted_volumes(sf: Element) -> None:
    volume = sf.volume(sf.account())
    group = _vag(sf, name="g", volumes=[volume])
    sf.call("DeleteVolume", volumeID=volume)
    view = sf.call("ListVolumeAccessGroups")["volumeAccessGroups"][0]
    assert (view["volumes"], view["deletedVolumes"]) == ([], [volume])
    sf.call("RestoreDeletedVolume", volumeID=volume)
    view = sf.call("ListVolumeAccessGroups")["volumeAccessGroups"][0]
    assert (view["volumes"], view["deletedVolumes"]) == ([volume], [])
    sf.call("DeleteVolume", volumeID=volume)
    sf.call("PurgeDeletedVolume", volumeID=volume)
    view = sf.call("ListVolumeAccessGroups", volumeAccessGroups=[group])["volumeAccessGroups"][0]
    assert (view["volumes"], view["deletedVolumes"]) == ([], [])


def test_limits(sf: Element) -> None:
    sf.backend.limits = dataclasses.replace(
        sf.backend.limits,
        volumes_per_access_group_max=1,
        initiators_per_access_group_max=1,
        access_group_count_max=2,
    )
    account = sf.account()
    first, second = sf.volume(account, name="a"), sf.volume(account, name="b")
    group = _vag(sf, name="g", volumes=[first], initiators=[IQN])
    full = sf.error("AddVolumesToVolumeAccessGroup", volumeAccessGroupID=group, volumes=[second])
    assert full.name == "xExceededLimit"
    full = sf.error("AddInitiatorsToVolumeAccessGroup", volumeAccessGroupID=group,
                    initiators=[IQN2])  # fmt: skip
    assert full.name == "xExceededLimit"
    _vag(sf, name="g2")
    too_many = sf.error("CreateVolumeAccessGroup", name="g3")
    assert too_many.name == "xExceededLimit" and IQN not in too_many.message


def test_unknown_group_and_duplicate_name(sf: Element) -> None:
    _vag(sf, name="g")
    assert sf.error("CreateVolumeAccessGroup", name="g").name == "xDuplicateUsername"
    for method, extra in [
        ("AddInitiatorsToVolumeAccessGroup", {"initiators": [IQN]}),
        ("RemoveInitiatorsFromVolumeAccessGroup", {"initiators": [IQN]}),
        ("AddVolumesToVolumeAccessGroup", {"volumes": [1]}),
        ("RemoveVolumesFromVolumeAccessGroup", {"volumes": [1]}),
        ("DeleteVolumeAccessGroup", {}),
    ]:
        error = sf.error(method, volumeAccessGroupID=99, **extra)
        assert error.name == "xVolumeAccessGroupIDDoesNotExist", method


def test_delete_group(sf: Element) -> None:
    group = _vag(sf, name="g", initiators=[IQN])
    assert sf.call("DeleteVolumeAccessGroup", volumeAccessGroupID=group) == {}
    assert sf.call("ListVolumeAccessGroups")["volumeAccessGroups"] == []
    _vag(sf, name="again", initiators=[IQN])  # the initiator is free again
