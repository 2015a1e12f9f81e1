"""Names, ids and sizes the SolidFire driver derives, pinned without a cluster."""

from __future__ import annotations

import uuid

import pytest

from basalt.drivers.solidfire.naming import (
    SECRET_LENGTH,
    Naming,
    chap_secret,
    claimed_name,
    parse_provider_id,
    provider_id,
    rounded_gib,
)
from basalt.drivers.solidfire.objects import with_iscsi_port
from basalt.drivers.types import GIB


def test_volume_and_snapshot_names_carry_the_prefix_and_parse_back() -> None:
    naming = Naming()
    volume_id = str(uuid.uuid4())
    assert naming.volume_name(volume_id) == f"UUID-{volume_id}"
    assert naming.snapshot_name(volume_id) == f"UUID-{volume_id}"
    assert naming.basalt_id(naming.volume_name(volume_id)) == volume_id
    assert Naming(volume_prefix="b-").basalt_id(f"b-{volume_id}") == volume_id


@pytest.mark.parametrize(
    "name",
    [
        "legacy.img",
        "UUID-",
        "UUID-not-a-uuid",
        "uuid-6f1c2a4e-8d3b-4f5a-9c7e-2b1d0a9f8e7c",  # the prefix is case-sensitive
        "UUID-6f1c2a4e8d3b4f5a9c7e2b1d0a9f8e7c",  # the UUID must be canonical (dashes)
    ],
)
def test_only_prefix_plus_canonical_uuid_is_basalt_named(name: str) -> None:
    assert Naming().basalt_id(name) is None


def test_account_names_follow_the_prefix() -> None:
    assert Naming().account_name("proj-1") == "basalt-proj-1"
    assert Naming(account_prefix="").account_name("proj-1") == "proj-1"
    assert Naming().account_name("") == "basalt-default"


def test_claimed_name_prefers_the_attribute() -> None:
    assert claimed_name("legacy", {}) == "legacy"
    assert claimed_name("legacy", {"basalt-name": "UUID-x"}) == "UUID-x"
    assert claimed_name("UUID-x", {"basalt-name": ""}) == ""


def test_provider_ids_round_trip_and_foreign_text_is_none() -> None:
    assert provider_id(7, 3, "abcd") == "7 3 abcd"
    assert parse_provider_id("7 3 abcd") == (7, 3, "abcd")
    for text in (None, "", "volumes/x.raw", "7 3", "a b c", "7 3 abcd extra"):
        assert parse_provider_id(text) is None


@pytest.mark.parametrize(
    ("size_bytes", "size_gib"),
    [(0, 1), (1, 1), (1_000_000_000, 1), (GIB, 1), (GIB + 1, 2), (2 * GIB, 2)],
)
def test_sizes_round_up_to_whole_gib(size_bytes: int, size_gib: int) -> None:
    assert rounded_gib(size_bytes) == size_gib


def test_chap_secrets_are_twelve_random_alphanumerics() -> None:
    secrets = {chap_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(len(s) == SECRET_LENGTH == 12 and s.isalnum() and s.isascii() for s in secrets)


@pytest.mark.parametrize(
    ("svip", "portal"),
    [
        ("10.0.0.9", "10.0.0.9:3260"),
        ("10.0.0.9:3261", "10.0.0.9:3261"),
        ("fd00::9", "[fd00::9]:3260"),
        ("[fd00::9]", "[fd00::9]:3260"),
        ("[fd00::9]:3262", "[fd00::9]:3262"),
    ],
)
def test_the_iscsi_portal_gets_port_3260_when_it_has_none(svip: str, portal: str) -> None:
    assert with_iscsi_port(svip) == portal
