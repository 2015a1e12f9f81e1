"""Quotas through the library: every path that adds to a project is checked, a refusal
makes nothing, usage follows the rows, and limits change only when the input is good."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import basalt
from basalt.errors import (
    InvalidInputError,
    PermissionDeniedError,
    QuotaClassNotFoundError,
    QuotaExceededError,
)
from basalt.model import VolumeStatus
from basalt.service.context import RequestContext
from tests.service.conftest import pool_dir, pool_files, volume_file

ALICE = RequestContext(user_id="alice", project_id="web", roles=frozenset({"member"}))
CAROL = RequestContext(user_id="carol", project_id="web", roles=frozenset({"reader"}))


@pytest.fixture
def b(tmp_path: Path) -> Iterator[basalt.Basalt]:
    """Basalt with the configured defaults: 10 volumes, 10 snapshots, 1000 GiB."""
    with basalt.open(data_dir=tmp_path / "data") as instance:
        yield instance


def nothing_more(b: basalt.Basalt, before: tuple[object, ...]) -> None:
    """Assert that no volume, snapshot, operation or file appeared since ``before``."""
    assert snapshot_of(b) == before


def snapshot_of(b: basalt.Basalt) -> tuple[object, ...]:
    return (
        sorted((v.id, v.size_gib, str(v.status)) for v in b.volumes.list(all_projects=True)),
        sorted(s.id for s in b.snapshots.list(all_projects=True)),
        sorted(o.id for o in b.operations.list(all_projects=True)),
        pool_files(b),
    )


def test_defaults_come_from_the_settings_then_the_class_then_the_project(
    b: basalt.Basalt,
) -> None:
    shown = b.quotas.show("web").limits
    assert {k: shown[k] for k in ("volumes", "snapshots", "gigabytes", "per_volume_gigabytes")} == {
        "volumes": 10,
        "snapshots": 10,
        "gigabytes": 1000,
        "per_volume_gigabytes": -1,
    }
    assert shown["volumes___DEFAULT__"] == -1  # the per-type default
    b.quotas.update_class("default", {"volumes": 20, "gigabytes___DEFAULT__": 50})
    b.quotas.update("web", {"volumes": 3})
    assert b.quotas.show("web").limits["volumes"] == 3
    assert b.quotas.show("web").limits["gigabytes___DEFAULT__"] == 50
    assert b.quotas.defaults("web")["volumes"] == 20
    assert b.quotas.show("other").limits["volumes"] == 20
    b.quotas.reset("web")
    assert b.quotas.show("web").limits["volumes"] == 20


def test_a_create_past_the_quota_makes_nothing(b: basalt.Basalt) -> None:
    b.quotas.update("web", {"volumes": 2})
    first = b.volumes.create(size_gib=1, ctx=ALICE).wait(timeout=30)
    b.volumes.create(size_gib=1, ctx=ALICE).wait(timeout=30)
    before = snapshot_of(b)
    with pytest.raises(QuotaExceededError) as refused:
        b.volumes.create(size_gib=1, ctx=ALICE)
    assert (refused.value.resource, refused.value.limit) == ("volumes", 2)
    assert (refused.value.in_use, refused.value.requested) == (2, 1)
    assert refused.value.project_id == "web"
    with pytest.raises(QuotaExceededError, match="volumes"):
        b.volumes.clone(first.id, ctx=ALICE)
    nothing_more(b, before)
    b.volumes.create(size_gib=1).wait(timeout=30)  # another project's quota is its own


def test_gigabytes_count_volumes_and_snapshots_for_every_kind_of_create(
    b: basalt.Basalt,
) -> None:
    b.quotas.update("web", {"gigabytes": 10})
    volume = b.volumes.create(size_gib=4, ctx=ALICE).wait(timeout=30)
    snap = b.snapshots.create(volume.id, ctx=ALICE).wait(timeout=30)
    assert b.quotas.show("web", usage=True, ctx=ALICE).lines["gigabytes"].in_use == 8
    before = snapshot_of(b)
    for attempt in (
        lambda: b.volumes.create(size_gib=3, ctx=ALICE),
        lambda: b.volumes.clone(volume.id, ctx=ALICE),
        lambda: b.volumes.create(size_gib=4, snapshot_id=snap.id, ctx=ALICE),
        lambda: b.snapshots.create(volume.id, ctx=ALICE),
        lambda: b.volumes.extend(volume.id, 7, ctx=ALICE),
    ):
        with pytest.raises(QuotaExceededError) as refused:
            attempt()
        assert (refused.value.resource, refused.value.limit, refused.value.in_use) == (
            "gigabytes",
            10,
            8,
        )
    nothing_more(b, before)
    assert b.volumes.get(volume.id).status == VolumeStatus.AVAILABLE
    assert volume_file(b, volume.id).stat().st_size == 4 * 1024**3
    b.volumes.extend(volume.id, 6, ctx=ALICE).wait(timeout=30)  # exactly up to the limit


def test_snapshots_and_per_volume_gigabytes(b: basalt.Basalt) -> None:
    b.quotas.update("web", {"snapshots": 1, "per_volume_gigabytes": 5})
    with pytest.raises(QuotaExceededError, match="a volume of 6 GiB is larger than its"):
        b.volumes.create(size_gib=6, ctx=ALICE)
    volume = b.volumes.create(size_gib=5, ctx=ALICE).wait(timeout=30)
    with pytest.raises(QuotaExceededError, match="per_volume_gigabytes limit of 5 GiB"):
        b.volumes.extend(volume.id, 6, ctx=ALICE)
    b.snapshots.create(volume.id, ctx=ALICE).wait(timeout=30)
    with pytest.raises(QuotaExceededError, match="snapshots in project web: limit 1, in use 1"):
        b.snapshots.create(volume.id, ctx=ALICE)
    assert len(b.snapshots.list(ctx=ALICE)) == 1


def test_per_type_quotas_count_that_types_volumes_only(b: basalt.Basalt) -> None:
    b.types.create("gold")
    b.quotas.update("web", {"volumes_gold": 1, "gigabytes_gold": 3})
    b.volumes.create(size_gib=2, volume_type="gold", ctx=ALICE).wait(timeout=30)
    with pytest.raises(QuotaExceededError, match="volumes_gold in project web: limit 1"):
        b.volumes.create(size_gib=1, volume_type="gold", ctx=ALICE)
    b.volumes.create(size_gib=5, ctx=ALICE).wait(timeout=30)  # the default type: unlimited
    gold = b.volumes.list(ctx=ALICE)[-1]
    with pytest.raises(QuotaExceededError, match="gigabytes_gold"):
        b.snapshots.create(gold.id, ctx=ALICE)
    usage = b.quotas.show("web", usage=True, ctx=ALICE).lines
    assert (usage["volumes_gold"].in_use, usage["gigabytes_gold"].in_use) == (1, 2)
    assert usage["volumes"].in_use == 2 and usage["gigabytes"].in_use == 7


def test_managing_past_the_quota_adopts_nothing(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1).wait(timeout=30)
    b.quotas.update("basalt", {"volumes": 1, "snapshots": 0})
    legacy = pool_dir(b) / "volumes" / "legacy-disk.img"
    legacy.write_bytes(b"legacy")
    old_snap = pool_dir(b) / "snapshots" / "old-snap.img"
    old_snap.write_bytes(b"snap")
    before = snapshot_of(b)
    with pytest.raises(QuotaExceededError, match="volumes in project basalt: limit 1"):
        b.manage.manage_volume({"source-name": "legacy-disk.img"})
    with pytest.raises(QuotaExceededError, match="snapshots in project basalt: limit 0"):
        b.manage.manage_snapshot({"source-name": "old-snap.img"}, volume_id=volume.id)
    nothing_more(b, before)
    assert legacy.read_bytes() == b"legacy" and old_snap.read_bytes() == b"snap"
    b.quotas.update("basalt", {"volumes": 2})
    assert b.manage.manage_volume({"source-name": "legacy-disk.img"}).wait(timeout=30)


def test_usage_follows_the_rows(b: basalt.Basalt) -> None:
    b.quotas.update("web", {"volumes": 1})
    volume = b.volumes.create(size_gib=1, ctx=ALICE).wait(timeout=30)
    volume_file(b, volume.id).unlink()
    with pytest.raises(Exception):  # noqa: B017 - the extend fails on the backend
        b.volumes.extend(volume.id, 2, ctx=ALICE).wait(timeout=30)
    assert b.volumes.get(volume.id).status == VolumeStatus.ERROR_EXTENDING
    with pytest.raises(QuotaExceededError):  # a failed volume still holds its quota
        b.volumes.create(size_gib=1, ctx=ALICE)
    b.volumes.delete(volume.id, force=True).wait(timeout=30)
    assert b.quotas.show("web", usage=True, ctx=ALICE).lines["volumes"].in_use == 0
    b.volumes.create(size_gib=1, ctx=ALICE).wait(timeout=30)


def test_a_retried_create_returns_its_volume_when_the_quota_is_full(b: basalt.Basalt) -> None:
    b.quotas.update("web", {"volumes": 1})
    first = b.volumes.create(size_gib=1, ctx=ALICE, request_id="key-1").wait(timeout=30)
    again = b.volumes.create(size_gib=1, ctx=ALICE, request_id="key-1").wait(timeout=30)
    assert again.id == first.id
    with pytest.raises(QuotaExceededError):
        b.volumes.create(size_gib=1, ctx=ALICE, request_id="key-2")


def test_bad_limits_change_nothing(b: basalt.Basalt) -> None:
    b.volumes.create(size_gib=3, ctx=ALICE).wait(timeout=30)
    b.quotas.update("web", {"snapshots": 4})
    before = b.quotas.show("web").limits
    for items, words in [
        ({"volumes": 5, "snapshots": -2}, "quota_set.snapshots: -2 is negative"),
        ({"volumes": 5, "backups": 1}, "unknown resource 'backups'"),
        ({"volumes": "many"}, "not a whole number"),
        ({"volumes": 5, "gigabytes": 2}, "quota_set.gigabytes: 2 is below the 3 project web"),
        ({"volumes": 0}, "0 is below the 1"),
        ({}, "names no resource"),
    ]:
        with pytest.raises(InvalidInputError, match=words):
            b.quotas.update("web", items)
        assert b.quotas.show("web").limits == before
    with pytest.raises(InvalidInputError, match="-5 is negative"):
        b.quotas.update_class("default", {"volumes": -5})
    assert b.quotas.show_class("default")["volumes"] == 10
    b.quotas.update("web", {"volumes": 0}, skip_validation=True)
    assert b.quotas.show("web").limits["volumes"] == 0


def test_who_may_read_and_change_quotas(b: basalt.Basalt) -> None:
    assert b.quotas.show(ctx=ALICE).project_id == "web"
    assert b.quotas.limits(ctx=CAROL).lines["volumes"].limit == 10
    assert b.quotas.defaults("web", ctx=CAROL)["snapshots"] == 10
    for refused in (
        lambda: b.quotas.show("other", ctx=ALICE),
        lambda: b.quotas.limits("other", ctx=CAROL),
        lambda: b.quotas.update("web", {"volumes": 100}, ctx=ALICE),
        lambda: b.quotas.reset("web", ctx=ALICE),
        lambda: b.quotas.show_class("default", ctx=ALICE),
        lambda: b.quotas.update_class("default", {"volumes": 100}, ctx=ALICE),
    ):
        with pytest.raises(PermissionDeniedError):
            refused()
    with pytest.raises(QuotaClassNotFoundError, match="one quota class, default"):
        b.quotas.show_class("gold")
    assert b.quotas.show("web").limits["volumes"] == 10


def test_a_type_keeps_its_limits_when_renamed(b: basalt.Basalt) -> None:
    gold = b.types.create("gold")
    b.quotas.update("web", {"volumes_gold": 4})
    b.types.update(gold.id, name="platinum")
    limits = b.quotas.show("web").limits
    assert limits["volumes_platinum"] == 4 and "volumes_gold" not in limits
    with pytest.raises(InvalidInputError, match="unknown resource 'volumes_gold'"):
        b.quotas.update("web", {"volumes_gold": 1})
