"""Typed views of the Element objects the driver reads (volumes, snapshots, accounts, cluster).

Each ``from_reply`` reads only the fields the driver uses and raises ValueError
when one is missing or of the wrong type; :class:`~.array.ElementArray` turns that
into a SolidFireReplyError naming the method.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from basalt.drivers.solidfire.naming import claimed_name

ACTIVE = "active"
READ_WRITE = "readWrite"


def _int(raw: Mapping[str, Any], key: str) -> int:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} is {value!r}, not an integer")
    return value


def _str(raw: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str):
        raise ValueError(f"{key} is {value!r}, not a string")
    return value


def _mapping(raw: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise ValueError(f"{key} is {value!r}, not an object")
    return dict(value)


@dataclass(frozen=True, slots=True)
class ElementVolume:
    """A volume as ListVolumes / ListActiveVolumes report it."""

    volume_id: int
    name: str
    account_id: int
    status: str
    total_size_bytes: int
    access: str
    iqn: str
    attributes: Mapping[str, Any]
    qos: Mapping[str, Any]
    paired: bool

    @property
    def active(self) -> bool:
        """Whether the volume is active (not deleted and waiting for its purge)."""
        return self.status == ACTIVE

    @property
    def claimed_name(self) -> str:
        """The name Basalt knows it by (see :func:`~.naming.claimed_name`)."""
        return claimed_name(self.name, self.attributes)

    @classmethod
    def from_reply(cls, raw: object) -> ElementVolume:
        """Read one volume object of a reply.

        Raises:
            ValueError: a field the driver needs is missing or malformed.
        """
        if not isinstance(raw, dict):
            raise ValueError(f"a volume is {raw!r}, not an object")
        pairs = raw.get("volumePairs") or []
        return cls(
            volume_id=_int(raw, "volumeID"),
            name=_str(raw, "name"),
            account_id=_int(raw, "accountID"),
            status=_str(raw, "status", ACTIVE),
            total_size_bytes=_int(raw, "totalSize"),
            access=_str(raw, "access", READ_WRITE),
            iqn=_str(raw, "iqn", ""),
            attributes=_mapping(raw, "attributes"),
            qos=_mapping(raw, "qos"),
            paired=bool(pairs),
        )


@dataclass(frozen=True, slots=True)
class ElementSnapshot:
    """A snapshot as ListSnapshots reports it."""

    snapshot_id: int
    volume_id: int
    name: str
    total_size_bytes: int | None
    group_id: int | None
    attributes: Mapping[str, Any]

    @classmethod
    def from_reply(cls, raw: object) -> ElementSnapshot:
        """Read one snapshot object of a reply.

        Raises:
            ValueError: a field the driver needs is missing or malformed.
        """
        if not isinstance(raw, dict):
            raise ValueError(f"a snapshot is {raw!r}, not an object")
        size = raw.get("totalSize")
        group = raw.get("groupID")
        return cls(
            snapshot_id=_int(raw, "snapshotID"),
            volume_id=_int(raw, "volumeID"),
            name=_str(raw, "name"),
            total_size_bytes=_int(raw, "totalSize") if size is not None else None,
            group_id=_int(raw, "groupID") if group else None,
            attributes=_mapping(raw, "attributes"),
        )


@dataclass(frozen=True, slots=True)
class ElementAccount:
    """An account (the CHAP identity of one project's volumes)."""

    account_id: int
    username: str
    initiator_secret: str = field(repr=False)
    target_secret: str = field(repr=False)

    @classmethod
    def from_reply(cls, raw: object) -> ElementAccount:
        """Read one account object of a reply.

        Raises:
            ValueError: a field the driver needs is missing or malformed.
        """
        if not isinstance(raw, dict):
            raise ValueError(f"an account is {raw!r}, not an object")
        return cls(
            account_id=_int(raw, "accountID"),
            username=_str(raw, "username"),
            initiator_secret=_str(raw, "initiatorSecret", ""),
            target_secret=_str(raw, "targetSecret", ""),
        )


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    """What setup learns about the cluster (GetClusterInfo + GetClusterVersionInfo)."""

    name: str
    uuid: str
    mvip: str
    svip: str
    api_version: str
    element_version: str

    @property
    def iscsi_portal(self) -> str:
        """The SVIP with the iSCSI port (3260) added when it names none."""
        return with_iscsi_port(self.svip)

    @classmethod
    def from_replies(cls, info: Mapping[str, Any], version: Mapping[str, Any]) -> ClusterInfo:
        """Read the two setup replies.

        Raises:
            ValueError: a field the driver needs is missing or malformed.
        """
        cluster = info.get("clusterInfo")
        if not isinstance(cluster, dict):
            raise ValueError("GetClusterInfo has no clusterInfo object")
        unique = cluster.get("uuid") or cluster.get("uniqueID")
        if not isinstance(unique, str) or not unique:
            raise ValueError("clusterInfo has neither uuid nor uniqueID")
        return cls(
            name=_str(cluster, "name", ""),
            uuid=unique,
            mvip=_str(cluster, "mvip", ""),
            svip=_str(cluster, "svip"),
            api_version=_str(version, "clusterAPIVersion"),
            element_version=_str(version, "clusterVersion", ""),
        )


def version_tuple(text: str) -> tuple[int, ...]:
    """``"8.0"`` -> ``(8, 0)``; ValueError when it is not dotted numbers."""
    return tuple(int(part) for part in text.strip().split("."))


def with_iscsi_port(address: str) -> str:
    """``host`` -> ``host:3260``; an address with a port is kept; bare IPv6 gets brackets.

    Args:
        address: an SVIP as GetClusterInfo reports it.

    Returns:
        ``host:port``.
    """
    if address.startswith("["):
        return address if "]:" in address else f"{address}:3260"
    colons = address.count(":")
    if colons == 1:
        return address
    return f"[{address}]:3260" if colons > 1 else f"{address}:3260"
