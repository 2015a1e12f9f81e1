"""Volume types and QoS specs through the library."""

from __future__ import annotations

import pytest

import basalt
from basalt.errors import (
    ConflictError,
    DuplicateNameError,
    InvalidInputError,
    PermissionDeniedError,
    QosSpecsNotFoundError,
    StillInUseError,
    VolumeTypeNotFoundError,
)
from basalt.model.volume_type import DEFAULT_TYPE_NAME, front_end_qos
from basalt.service.context import RequestContext

WAIT = 30
MEMBER_A = RequestContext(user_id="a", project_id="project-a", roles=frozenset({"member"}))
MEMBER_B = RequestContext(user_id="b", project_id="project-b", roles=frozenset({"member"}))


def test_volumes_get_the_default_type_or_the_one_named(b: basalt.Basalt) -> None:
    plain = b.volumes.create(size_gib=1).wait(timeout=WAIT)
    default = b.types.get(DEFAULT_TYPE_NAME)
    assert plain.volume_type_id == default.id
    gold = b.types.create(
        "gold", extra_specs={"multiattach": "<is> True", "volume_backend_name": "file"}
    )
    by_name = b.volumes.create(size_gib=1, volume_type="gold").wait(timeout=WAIT)
    by_id = b.volumes.create(size_gib=1, volume_type=gold.id).wait(timeout=WAIT)
    assert by_name.volume_type_id == by_id.volume_type_id == gold.id
    assert by_name.multiattach and not plain.multiattach
    clone = b.volumes.clone(by_name.id).wait(timeout=WAIT)
    assert clone.volume_type_id == gold.id  # copies inherit their source's type
    snap = b.snapshots.create(by_name.id).wait(timeout=WAIT)
    restored = b.volumes.create(size_gib=1, snapshot_id=snap.id, volume_type=DEFAULT_TYPE_NAME)
    assert restored.wait(timeout=WAIT).volume_type_id == default.id
    with pytest.raises(VolumeTypeNotFoundError, match="platinum"):
        b.volumes.create(size_gib=1, volume_type="platinum")
    with pytest.raises(StillInUseError, match="3 volume"):
        b.types.delete(gold.id)
    with pytest.raises(StillInUseError, match="default type"):
        b.types.delete(default.id)


def test_private_types_are_seen_and_used_only_where_shared(b: basalt.Basalt) -> None:
    private = b.types.create("secret", is_public=False)
    assert "secret" not in {t.name for t in b.types.list(ctx=MEMBER_A)}
    with pytest.raises(VolumeTypeNotFoundError):
        b.volumes.create(size_gib=1, volume_type="secret", ctx=MEMBER_A)
    b.types.share(private.id, "project-a", grant=True)
    with pytest.raises(ConflictError, match="already shared"):
        b.types.share(private.id, "project-a", grant=True)
    assert b.types.projects(private.id) == ["project-a"]
    assert "secret" in {t.name for t in b.types.list(ctx=MEMBER_A)}
    assert "secret" not in {t.name for t in b.types.list(ctx=MEMBER_B)}
    used = b.volumes.create(size_gib=1, volume_type="secret", ctx=MEMBER_A).wait(timeout=WAIT)
    assert used.volume_type_id == private.id
    b.types.share(private.id, "project-a", grant=False)
    with pytest.raises(VolumeTypeNotFoundError):
        b.types.get("secret", ctx=MEMBER_A)
    with pytest.raises(InvalidInputError, match="public"):
        b.types.share(b.types.get(DEFAULT_TYPE_NAME).id, "project-a", grant=True)


def test_type_changes_are_checked_and_admin_only(b: basalt.Basalt) -> None:
    silver = b.types.create("silver", description="second best")
    with pytest.raises(DuplicateNameError, match="silver"):
        b.types.create("silver")
    b.types.create("bronze")
    with pytest.raises(DuplicateNameError, match="bronze"):
        b.types.update(silver.id, name="bronze")
    with pytest.raises(PermissionDeniedError, match="volume_type:create"):
        b.types.create("mine", ctx=MEMBER_A)
    with pytest.raises(PermissionDeniedError):
        b.types.set_extra_specs(silver.id, {"x": "y"}, ctx=MEMBER_A)
    for bad in ("", " ", "a/b", "x" * 256):
        with pytest.raises(InvalidInputError):
            b.types.create(bad)
    with pytest.raises(InvalidInputError, match="extra_specs"):
        b.types.create("weird", extra_specs={"": "v"})
    assert b.types.set_extra_specs(silver.id, {"a": "1", "b": True}) == {"a": "1", "b": "True"}
    b.types.unset_extra_spec(silver.id, "a")
    with pytest.raises(VolumeTypeNotFoundError, match="'a'"):
        b.types.unset_extra_spec(silver.id, "a")
    assert b.types.get(silver.id).extra_specs == {"b": "True"}
    default = b.types.get(DEFAULT_TYPE_NAME)
    with pytest.raises(InvalidInputError, match="default type"):
        b.types.update(default.id, name="renamed")
    assert b.types.update(default.id, description="plain").description == "plain"
    b.types.delete(silver.id)
    with pytest.raises(VolumeTypeNotFoundError):
        b.types.get(silver.id)


def test_qos_specs_keys_associations_and_deletes(b: basalt.Basalt) -> None:
    fast = b.qos.create("fast", consumer="both", specs={"total_iops_sec": 1000, "maxIOPS": "800"})
    assert fast.specs == {"total_iops_sec": "1000", "maxIOPS": "800"}
    with pytest.raises(DuplicateNameError):
        b.qos.create("fast")
    with pytest.raises(InvalidInputError, match="front-end"):
        b.qos.create("host-only", consumer="front-end", specs={"maxIOPS": "5"})
    with pytest.raises(InvalidInputError, match="whole number"):
        b.qos.create("bad", consumer="front-end", specs={"read_iops_sec": "-5"})
    with pytest.raises(InvalidInputError, match="consumer"):
        b.qos.create("bad", consumer="somewhere")
    with pytest.raises(PermissionDeniedError):
        b.qos.list(ctx=MEMBER_A)
    gold = b.types.create("gold")
    b.qos.associate(fast.id, gold.id)
    assert [t.id for t in b.qos.associations(fast.id)] == [gold.id]
    other = b.qos.create("other")
    with pytest.raises(InvalidInputError, match="another QoS spec"):
        b.qos.associate(other.id, gold.id)
    with pytest.raises(StillInUseError, match="gold"):
        b.qos.delete(fast.id)
    assert b.qos.set_keys(fast.id, {"read_iops_sec": "5"}).specs["read_iops_sec"] == "5"
    with pytest.raises(InvalidInputError, match="maxIOPS"):
        b.qos.set_keys(fast.id, {"consumer": "front-end"})  # maxIOPS is no host's key
    assert b.qos.get(fast.id).consumer == "both"
    assert "maxIOPS" not in b.qos.unset_keys(fast.id, ["maxIOPS"]).specs
    with pytest.raises(QosSpecsNotFoundError, match="maxIOPS"):
        b.qos.unset_keys(fast.id, ["maxIOPS"])
    b.qos.delete(fast.id, force=True)
    assert b.types.get(gold.id).qos_specs_id is None
    with pytest.raises(QosSpecsNotFoundError):
        b.qos.get(fast.id)


def test_front_end_limits_scale_per_gib() -> None:
    specs = {
        "total_iops_sec_per_gb": "10",
        "total_iops_sec_per_gb_min": "100",
        "read_bytes_sec": "5",
    }
    assert front_end_qos(specs, size_gib=50) == {"total_iops_sec": 500, "read_bytes_sec": 5}
    assert front_end_qos(specs, size_gib=2) == {"total_iops_sec": 100, "read_bytes_sec": 5}
    assert front_end_qos({"maxIOPS": "9"}, size_gib=2) == {}
