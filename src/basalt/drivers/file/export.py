"""Connect and disconnect for the ``file`` backend: iSCSI through tgt, or a local loop device.

The iSCSI work is done by :class:`basalt.export.IscsiExporter`, shared by every
``file`` backend of one Basalt (one tgtd, one set of portals). This mixin turns
the service's export specs into targets: one per volume, IQN
``<prefix>:<volume-id>``, data LUN 1, the project's CHAP account, an ACL of the
attached initiators. A connector with ``do_local_attach`` gets a loop device
instead (:mod:`basalt.drivers.file.local`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from basalt.drivers.file import local
from basalt.drivers.file.layout import ObjectKind, PoolSet
from basalt.drivers.types import ConnectionInfo, Connector, ExportSpec, VolumeRef
from basalt.errors import ExportUnavailableError, InvalidInputError

if TYPE_CHECKING:
    from basalt.export import IscsiExporter

DATA_LUN = 1


class FileExport:
    """The connect/disconnect half of the FileDriver."""

    backend_name: str
    _pools: PoolSet
    _exporter: IscsiExporter | None

    # -- the driver interface ------------------------------------------------------

    def connect(
        self, volume: VolumeRef, connector: Connector, export: ExportSpec
    ) -> ConnectionInfo:
        """Export the volume to the connector's host and return its connection info.

        Raises:
            InvalidInputError: a local attach asked from another host.
            ExportUnavailableError: tgt (or root, for local attach) is missing.
            ExportError, DriverError: the export failed.
        """
        path = self._volume_file(volume)
        mode = "ro" if export.read_only else "rw"
        if connector.do_local_attach:
            _require_this_host(connector)
            device = local.attach(path, read_only=export.read_only)
            self._apply_iscsi(volume, path, export)
            data = {"device_path": device, "volume_id": volume.id, "access_mode": mode}
            return ConnectionInfo("local", {**data, "discard": True})
        iqn = self._apply_iscsi(volume, path, export)
        assert iqn is not None, "an export with an initiator always has a target"
        return ConnectionInfo("iscsi", self._iscsi_data(volume, iqn, export, mode))

    def disconnect(
        self, volume: VolumeRef, connector: Connector | None, remaining: ExportSpec
    ) -> None:
        """Narrow the export to ``remaining``; remove it when nobody is left.

        Raises:
            ExportError, DriverError: tgt or losetup failed.
        """
        path = self._volume_file(volume)
        if not remaining.local:
            local.detach(path)
        if remaining.initiators:
            self._apply_iscsi(volume, path, remaining)
        elif self._exporter is not None:
            self._exporter.unexport(volume.id)

    def ensure_exports(self, exports: Mapping[str, tuple[VolumeRef, ExportSpec]]) -> Sequence[str]:
        """Re-create the targets the database says exist; remove this backend's others.

        Raises:
            ExportError: a target could not be made.
        """
        changes: list[str] = []
        wanted = {vid: (ref, spec) for vid, (ref, spec) in exports.items() if spec.initiators}
        if self._exporter is None:
            if wanted:
                raise self._unavailable()
            return changes
        if not wanted and not self._exporter.running():
            return changes  # nothing to serve, and no tgtd to clean up
        present = self._exporter.exported()
        mine = {
            vid
            for vid, state in present.items()
            if state.backing_path is not None and self._owns(state.backing_path)
        }
        for volume_id in sorted(mine - wanted.keys()):
            self._exporter.unexport(volume_id)
            changes.append(f"removed the target of volume {volume_id}: nothing is attached")
        for volume_id, (ref, spec) in wanted.items():
            path = self._volume_file(ref)
            if volume_id not in present:
                changes.append(f"re-created the target of volume {volume_id}")
            self._exporter.export(volume_id, path, spec)
        for ref, spec in exports.values():
            if spec.local:
                local.attach(self._volume_file(ref), read_only=spec.read_only)
        return changes

    # -- helpers -------------------------------------------------------------------

    def refresh_export_size(self, volume: VolumeRef) -> None:
        """After an extend: show the new size to logged-in initiators and local devices."""
        if self._exporter is not None and self._exporter.running():
            self._exporter.refresh_size(volume.id)
        local.refresh_size(self._volume_file(volume))

    def _apply_iscsi(self, volume: VolumeRef, path: Path, export: ExportSpec) -> str | None:
        if not export.initiators:
            if self._exporter is not None and self._exporter.running():
                self._exporter.unexport(volume.id)
            return None
        if self._exporter is None:
            raise self._unavailable()
        return self._exporter.export(volume.id, path, export)

    def _iscsi_data(
        self, volume: VolumeRef, iqn: str, export: ExportSpec, mode: str
    ) -> dict[str, object]:
        assert self._exporter is not None
        portals = list(self._exporter.portals)
        data: dict[str, object] = {
            "target_discovered": False,
            "target_iqn": iqn,
            "target_portal": portals[0],
            "target_lun": DATA_LUN,
            "auth_method": "CHAP",
            "auth_username": export.chap.username,
            "auth_password": export.chap.secret,
            "volume_id": volume.id,
            "access_mode": mode,
            "discard": self._exporter.discard,
            "encrypted": False,
            "qos_specs": None,
        }
        if len(portals) > 1:
            data["target_iqns"] = [iqn] * len(portals)
            data["target_portals"] = portals
            data["target_luns"] = [DATA_LUN] * len(portals)
        return data

    def _volume_file(self, volume: VolumeRef) -> Path:
        layout = self._pools.layout(volume.pool)
        with self._pools.errors(volume.pool, f"finding volume {volume.id}"):
            return layout.object_path(ObjectKind.VOLUME, volume.id)

    def _owns(self, path: Path) -> bool:
        roots = [layout.directory(ObjectKind.VOLUME) for _, layout in self._pools.items()]
        return any(path.parent == root for root in roots)

    def _unavailable(self) -> ExportUnavailableError:
        return ExportUnavailableError(
            f"backend {self.backend_name}: iSCSI export is not configured for this Basalt",
            hint="open Basalt with its settings (basalt.open) so the file backends get an exporter",
        )


def _require_this_host(connector: Connector) -> None:
    if connector.host not in local.this_host_names():
        raise InvalidInputError(
            "connector.host",
            f"local attach is only for consumers on Basalt's own host, not {connector.host!r}",
            hint="give the connector an iSCSI initiator instead of do_local_attach",
        )
