"""The Basalt facade: one object that opens the store, the drivers and the services."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypedDict

from basalt.config import BackendSettings, Settings, load_settings
from basalt.drivers.base import SupportsGroupReplication, SupportsReplication
from basalt.drivers.registry import DriverResources, build_driver
from basalt.errors import DriverError
from basalt.model import Pool
from basalt.model.replication import ReplicationStatus
from basalt.persistence.base import Database
from basalt.persistence.sql import open_database
from basalt.service.attachments import AttachmentService
from basalt.service.context import RequestContext
from basalt.service.deployment import DeploymentService, disabled_backends
from basalt.service.group_replication import GroupReplicationService
from basalt.service.group_snapshots import GroupSnapshotService
from basalt.service.group_types import GroupTypeService
from basalt.service.groups import GroupService
from basalt.service.manage import ManageService
from basalt.service.messages import MessageService
from basalt.service.operations import OperationService
from basalt.service.policy import authorize
from basalt.service.pools import PoolService
from basalt.service.qos import QosService
from basalt.service.quotas import QuotaService
from basalt.service.reconcile import Reconciler, ReconcileReport
from basalt.service.refs import volume_ref
from basalt.service.replication import ReplicationService
from basalt.service.replicator import Replicator
from basalt.service.runner import OperationRunner
from basalt.service.schedule_requests import schedule_request
from basalt.service.snapshots import SnapshotService
from basalt.service.transfers import TransferService
from basalt.service.types import VolumeTypeService
from basalt.service.volumes import VolumeService

if TYPE_CHECKING:
    from basalt.export import IscsiExporter

log = logging.getLogger(__name__)


class _Shared(TypedDict):
    db: Database
    runner: OperationRunner
    pools: PoolService
    default_context: RequestContext


class Basalt:
    """A running Basalt: services over one store and the configured backends.

    Open it with :func:`basalt.open`. Use it as a context manager, or call
    :meth:`close`, so that running operations finish before the process exits.
    """

    def __init__(self, settings: Settings, *, reconcile: bool = True) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = open_database(settings.resolved_database_url)
        try:
            self.db.migrate()
            backends = {b.name: b for b in settings.resolved_backends}
            self.exporter = _exporter(settings, backends.values())
            resources = DriverResources(exporter=self.exporter)
            drivers = {name: build_driver(b, resources) for name, b in backends.items()}
            for driver in drivers.values():
                driver.setup()
        except BaseException:
            self.db.close()  # nothing else was started yet (the exporter starts tgtd lazily)
            raise
        self.default_context = RequestContext(
            user_id=settings.default_user_id,
            project_id=settings.default_project_id,
            roles=frozenset({"admin"}),
        )
        self.runner = OperationRunner(self.db, workers=settings.workers)
        self.pools = PoolService(
            drivers,
            backends,
            disabled=lambda: disabled_backends(self.db),
            scheduler=settings.scheduler,
            volume_counts=self._volume_counts,
        )
        shared: _Shared = {
            "db": self.db,
            "runner": self.runner,
            "pools": self.pools,
            "default_context": self.default_context,
        }
        self.quotas = QuotaService(
            db=self.db, settings=settings.quotas, default_context=self.default_context
        )
        self.types = VolumeTypeService(**shared)
        self.types.default_type_name = settings.default_volume_type
        self.qos = QosService(**shared)
        self.qos.types = self.types
        self.volumes = VolumeService(**shared)
        self.volumes.types = self.types
        self.snapshots = SnapshotService(**shared)
        self.manage = ManageService(**shared)
        self.manage.types = self.types
        for use_cases in (self.volumes, self.snapshots, self.manage):
            use_cases.quotas = self.quotas
        self.group_types = GroupTypeService(**shared)
        self.groups = GroupService(**shared)
        self.groups.types = self.types
        self.group_snapshots = GroupSnapshotService(**shared)
        self.groups.quotas = self.group_snapshots.quotas = self.quotas
        self.attachments = AttachmentService(**shared)
        self.transfers = TransferService(**shared)
        self.transfers.quotas = self.quotas
        self.operations = OperationService(db=self.db, default_context=self.default_context)
        self.deployment = DeploymentService(
            db=self.db, pools=self.pools, default_context=self.default_context
        )
        self.replicator = Replicator(
            db=self.db, pools=self.pools, tick_seconds=settings.replication.tick_seconds
        )
        self.volumes.replicator = self.replicator
        self.replication = ReplicationService(**shared)
        self.replication.replicator = self.replicator
        self.groups.replicator = self.replicator
        self.group_replication = GroupReplicationService(**shared)
        self.group_replication.replicator = self.replicator
        self._restore_replication_state()
        self.messages = MessageService(
            db=self.db,
            default_context=self.default_context,
            ttl=timedelta(seconds=settings.api.message_ttl_seconds),
        )
        self.last_reconcile: ReconcileReport | None = None
        if reconcile:
            self._reconcile_or_close()
        if settings.replication.run:
            self.replicator.start()

    def _restore_replication_state(self) -> None:
        """Frozen backends, and backends or groups' volumes serving from a replication
        target, as recorded."""
        with self.db.transaction(write=False) as tx:
            records = tx.services.all()
        for record in records:
            if record.backend not in self.pools.backend_names:
                continue
            self.pools.set_frozen(record.backend, record.frozen)
            driver = self.pools.driver(record.backend)
            if isinstance(driver, SupportsReplication) and record.active_backend_id is not None:
                driver.serve_from(record.active_backend_id)
        with self.db.transaction(write=False) as tx:
            moved = [
                (g, tx.volumes.in_group(g.id))
                for g in tx.groups.served_elsewhere()
                if g.backend in self.pools.backend_names
            ]
        for group, members in moved:
            driver = self.pools.driver(group.backend or "")
            if isinstance(driver, SupportsGroupReplication):
                serving = [
                    volume_ref(v)
                    for v in members
                    if v.replication_status == ReplicationStatus.FAILED_OVER
                ]
                driver.serve_volumes_from(group.replication_target, serving)

    def _reconcile_or_close(self) -> None:
        try:
            self.last_reconcile = Reconciler(
                volumes=self.volumes,
                snapshots=self.snapshots,
                manage=self.manage,
                attachments=self.attachments,
                transfers=self.transfers,
                groups=self.groups,
                group_snapshots=self.group_snapshots,
                replication=self.replication,
                group_replication=self.group_replication,
            ).run()
            self.last_reconcile.exports = self.attachments.ensure_exports()
        except BaseException:
            self.close()
            raise

    def _volume_counts(self) -> dict[tuple[str, str], int]:
        with self.db.transaction(write=False) as tx:
            return tx.volumes.count_by_pool()

    def list_pools(self, *, refresh: bool = True, ctx: RequestContext | None = None) -> list[Pool]:
        """Every pool with its capacity figures (fresh ones unless ``refresh`` is off).

        Raises:
            PermissionDeniedError: the caller is not an administrator.
        """
        authorize(ctx or self.default_context, "pool:get")
        return self.pools.list(refresh=refresh)

    def pools_taking(self, volume_type: str, *, ctx: RequestContext | None = None) -> set[str]:
        """The pools (``backend#pool``) whose capabilities meet ``volume_type``: every
        scheduler filter but capacity passes (get_pools' ``volume_type`` filter).

        Raises:
            PermissionDeniedError: the caller is not an administrator.
            VolumeTypeNotFoundError: no such type visible to the caller.
        """
        context = ctx or self.default_context
        authorize(context, "pool:get")
        with self.db.transaction(write=False) as tx:
            type_ = self.types.visible_type(tx, volume_type, context)
            request = schedule_request(tx, context, size_gib=1, volume_type=type_)
        placement = self.pools.placement
        return {
            f"{pool.backend}#{pool.name}"
            for pool in self.pools.list(refresh=False)
            if not placement.unmet_in_place(pool.backend, pool.name, request)
        }

    def check(self) -> None:
        """Verify every backend is usable.

        Raises:
            DriverError: one is not.
        """
        for name in self.pools.backend_names:
            try:
                self.pools.driver(name).check_setup()
            except DriverError:
                raise
            except Exception as exc:
                raise DriverError(name, f"check failed: {exc}") from exc

    def close(self) -> None:
        """Wait for running operations, then release the drivers, the iSCSI target and the store.

        The managed tgtd stops too, unless ``iscsi.keep_tgtd_running`` is set.
        """
        self.replicator.close()
        self.runner.shutdown(wait=True)
        try:
            for name in self.pools.backend_names:
                try:
                    self.pools.driver(name).close()
                except Exception:
                    log.exception("backend %s did not close cleanly", name)
            if self.exporter is not None:
                self.exporter.close()
        finally:
            self.db.close()

    def __enter__(self) -> Basalt:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _exporter(settings: Settings, backends: Iterable[BackendSettings]) -> IscsiExporter | None:
    """The iSCSI exporter the ``file`` backends share (it starts tgtd on first use)."""
    if not any(b.driver == "file" for b in backends):
        return None
    from basalt.export import IscsiExporter  # the tgt machinery only when a file backend exists

    return IscsiExporter(settings.iscsi, state_dir=settings.data_dir / "iscsi")


def open_basalt(config: Settings | str | Path | None = None, **overrides: object) -> Basalt:
    """Open Basalt from settings, a TOML file path, or the defaults.

    Args:
        config: a Settings object, a path to a TOML file, or None for the defaults
            (basalt.toml in the working directory or /etc/basalt/basalt.toml if present).
        overrides: settings that win over the file, e.g. ``data_dir="/srv/basalt"``.

    Returns:
        The opened instance (already reconciled).

    Raises:
        ConfigError: bad settings. DriverError: a backend cannot be set up.
    """
    settings = config if isinstance(config, Settings) else load_settings(config, **overrides)
    return Basalt(settings)
