"""How Basalt names things on an Element cluster, in one place.

- Account per project: ``<account_prefix>-<project_id>`` (just the project id when
  the prefix is empty), with 12-character CHAP secrets.
- Volume: ``<volume_prefix><volume id>``; snapshot: ``<volume_prefix><snapshot id>``.
  Only names whose rest is a canonical UUID count as Basalt's.
- Element cannot rename a volume (ModifyVolume has no ``name``), so a volume's
  *claimed name* is its attribute ``basalt-name`` when it has one, else its name.
  Manage sets ``basalt-name`` to the Basalt name; unmanage sets it to ``""``,
  which releases even a volume Basalt made.
- provider_location of a volume: ``"<volumeID> <accountID> <cluster uuid>"``; of a
  snapshot: ``"<snapshotID> <volumeID> <cluster uuid>"``.
"""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from basalt.drivers.types import GIB

DEFAULT_PROJECT = "default"
SECRET_ALPHABET = string.ascii_letters + string.digits
SECRET_LENGTH = 12


@dataclass(frozen=True, slots=True)
class Naming:
    """Names of Basalt's objects on one cluster."""

    volume_prefix: str = "UUID-"
    account_prefix: str = "basalt"

    def volume_name(self, volume_id: str) -> str:
        """The Element name of a Basalt volume."""
        return f"{self.volume_prefix}{volume_id}"

    def snapshot_name(self, snapshot_id: str) -> str:
        """The Element name of a Basalt snapshot."""
        return f"{self.volume_prefix}{snapshot_id}"

    def basalt_id(self, name: str) -> str | None:
        """The Basalt id an Element name carries, if it is Basalt-named.

        Args:
            name: a volume or snapshot name on the cluster.

        Returns:
            The id (a canonical UUID string), or None when the name is not
            ``<volume_prefix><uuid>``.
        """
        if not name.startswith(self.volume_prefix):
            return None
        rest = name[len(self.volume_prefix) :]
        try:
            parsed = uuid.UUID(rest)
        except ValueError:
            return None
        return rest if str(parsed) == rest else None

    def account_name(self, project_id: str) -> str:
        """The Element account (CHAP user) of a project."""
        project = project_id or DEFAULT_PROJECT
        return f"{self.account_prefix}-{project}" if self.account_prefix else project


MANAGED_NAME = "basalt-name"
"""The volume attribute that overrides the name Basalt knows a volume by."""


def claimed_name(name: str, attributes: Mapping[str, Any]) -> str:
    """The name Basalt knows a volume by: attribute ``basalt-name`` if set, else its name.

    Args:
        name: the volume's Element name.
        attributes: its Element attributes.

    Returns:
        The claimed name (``""`` for a volume Basalt released).
    """
    claimed = attributes.get(MANAGED_NAME)
    return claimed if isinstance(claimed, str) else name


def provider_id(object_id: int, owner_id: int, cluster_uuid: str) -> str:
    """``"<object id> <owner id> <cluster uuid>"``.

    The owner is the account of a volume, or the volume of a snapshot.
    """
    return f"{object_id} {owner_id} {cluster_uuid}"


def parse_provider_id(text: str | None) -> tuple[int, int, str] | None:
    """The parts of a provider id, or None when ``text`` is not one.

    Args:
        text: a stored provider_location (possibly None or from another driver).

    Returns:
        (object id, owner id, cluster uuid), or None.
    """
    parts = (text or "").split()
    if len(parts) != 3 or not (parts[0].isdigit() and parts[1].isdigit()):
        return None
    return int(parts[0]), int(parts[1]), parts[2]


def rounded_gib(size_bytes: int) -> int:
    """A size in whole GiB, rounded up, and at least 1.

    Args:
        size_bytes: an Element ``totalSize``.

    Returns:
        The smallest whole number of GiB that holds it (1 for 0 bytes).
    """
    return max(1, -(-size_bytes // GIB))


def chap_secret() -> str:
    """A new random CHAP secret of SECRET_LENGTH letters and digits."""
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))
