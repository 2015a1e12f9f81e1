"""The tables of one emulated cluster, its identity, and the single lookup helpers."""

from __future__ import annotations

import shutil
import uuid
from collections import Counter
from pathlib import Path

from basalt_emulators.core.backend import BaseBackend
from basalt_emulators.solidfire.errors import (
    AccountIDDoesNotExistError,
    DBNoSuchPathError,
    GroupSnapshotIDDoesNotExistError,
    InvalidParameterError,
    SnapshotIDDoesNotExistError,
    UnknownAccountError,
    VolumeAccessGroupIDDoesNotExistError,
    VolumeIDDoesNotExistError,
)
from basalt_emulators.solidfire.models.records import (
    GIB,
    AccessGroup,
    Account,
    AsyncResult,
    GroupSnapshot,
    Limits,
    Snapshot,
    Volume,
    VolumeStatus,
)

API_VERSION = "12.3"
CLUSTER_VERSION = "12.3.0.958"


class ClusterState(BaseBackend):
    """Identity and object tables of one cluster; every operation mixin builds on it."""

    def __init__(
        self,
        data_dir: Path,
        *,
        cluster_name: str = "cluster-a",
        mvip: str = "127.0.0.1",
        svip: str = "127.0.0.1:3260",
        username: str = "admin",
        password: str = "admin",
    ) -> None:
        self.data_dir = Path(data_dir)
        self.cluster_name = cluster_name
        self.mvip = mvip
        self.svip = svip
        self.username = username
        self.password = password
        self.cluster_uuid = str(uuid.uuid4())
        # Element's uniqueID is four lower-case characters; it appears in every IQN.
        self.unique_id = self.cluster_uuid.replace("-", "")[:4]
        self.api_version = API_VERSION
        self.cluster_version = CLUSTER_VERSION
        self.limits = Limits()
        self.max_used_space_bytes = 20 * 1024 * GIB
        self.max_provisioned_space_bytes = 5 * self.max_used_space_bytes
        super().__init__()

    def _init_state(self) -> None:
        self.accounts_by_id: dict[int, Account] = {}
        self.volumes_by_id: dict[int, Volume] = {}  # active and deleted; purged ones leave
        self.snapshots_by_id: dict[int, Snapshot] = {}
        self.group_snapshots_by_id: dict[int, GroupSnapshot] = {}
        self.access_groups_by_id: dict[int, AccessGroup] = {}
        self.async_results: dict[int, AsyncResult] = {}
        self.initiator_ids: dict[str, int] = {}
        self._last_ids: Counter[str] = Counter()
        self._forget_pairs()
        for kind in ("volumes", "snapshots"):
            shutil.rmtree(self.data_dir / kind, ignore_errors=True)
            (self.data_dir / kind).mkdir(parents=True, exist_ok=True)

    def _forget_pairs(self) -> None:
        """Drop this cluster from the pairing registry (the pairing mixin overrides)."""

    def new_id(self, kind: str) -> int:
        """The next ID of one kind (each kind counts from 1; IDs are never reused).

        Args:
            kind: "volume", "account", "snapshot", ...

        Returns:
            The new ID.
        """
        self._last_ids[kind] += 1
        return self._last_ids[kind]

    def volume_path(self, volume_id: int) -> Path:
        """The sparse file holding a volume's bytes.

        Args:
            volume_id: the Element volumeID.

        Returns:
            The file's path (it exists while the volume is not purged).
        """
        return self.data_dir / "volumes" / f"{volume_id}.img"

    def snapshot_path(self, snapshot_id: int) -> Path:
        """The sparse file holding a snapshot's bytes.

        Args:
            snapshot_id: the Element snapshotID.

        Returns:
            The file's path (it exists while the snapshot does).
        """
        return self.data_dir / "snapshots" / f"{snapshot_id}.img"

    # --- the single lookup helpers ------------------------------------------------------

    def get_account(self, account_id: int) -> Account:
        """The account with this ID, or xAccountIDDoesNotExist."""
        account = self.accounts_by_id.get(account_id)
        if account is None:
            raise AccountIDDoesNotExistError(account_id)
        return account

    def get_account_by_name(self, username: str) -> Account:
        """The account with this username, or xUnknownAccount."""
        for account in self.accounts_by_id.values():
            if account.username == username:
                return account
        raise UnknownAccountError(username)

    def get_volume(self, volume_id: int, *, status: VolumeStatus | None = None) -> Volume:
        """The volume with this ID (in `status`, when given), or xVolumeIDDoesNotExist."""
        volume = self.volumes_by_id.get(volume_id)
        if volume is None or (status is not None and volume.status is not status):
            detail = f" (no {status} volume has this ID)" if volume is not None else ""
            raise VolumeIDDoesNotExistError(volume_id, detail=detail)
        return volume

    def get_active_volume(self, volume_id: int) -> Volume:
        """The active volume with this ID, or xVolumeIDDoesNotExist."""
        return self.get_volume(volume_id, status=VolumeStatus.ACTIVE)

    def get_snapshot(self, snapshot_id: int, *, volume_id: int | None = None) -> Snapshot:
        """The snapshot with this ID (of `volume_id`, when given), or xSnapshotIDDoesNotExist."""
        snapshot = self.snapshots_by_id.get(snapshot_id)
        if snapshot is None or (volume_id is not None and snapshot.volume_id != volume_id):
            raise SnapshotIDDoesNotExistError(snapshot_id)
        return snapshot

    def get_group_snapshot(self, group_snapshot_id: int) -> GroupSnapshot:
        """The group snapshot with this ID, or xGroupSnapshotIDDoesNotExist."""
        group = self.group_snapshots_by_id.get(group_snapshot_id)
        if group is None:
            raise GroupSnapshotIDDoesNotExistError(group_snapshot_id)
        return group

    def get_access_group(self, access_group_id: int) -> AccessGroup:
        """The volume access group with this ID, or xVolumeAccessGroupIDDoesNotExist."""
        group = self.access_groups_by_id.get(access_group_id)
        if group is None:
            raise VolumeAccessGroupIDDoesNotExistError(access_group_id)
        return group

    def get_async_result(self, handle: int) -> AsyncResult:
        """The async result with this handle, or xDBNoSuchPath."""
        result = self.async_results.get(handle)
        if result is None:
            raise DBNoSuchPathError(f"/asyncresults/{handle}")
        return result

    def check_name(self, name: str, *, what: str) -> str:
        """`name` when its length is allowed, or xInvalidParameter.

        Args:
            name: the proposed name.
            what: what is being named, for the message.

        Returns:
            The name unchanged.
        """
        if not 1 <= len(name) <= self.limits.name_length_max:
            raise InvalidParameterError(
                f"{what} name must be 1 to {self.limits.name_length_max} characters"
            )
        return name
