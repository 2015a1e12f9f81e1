"""Driver name -> factory, and building a driver from its backend settings.

Factories import their driver lazily, so a deployment loads only the drivers it uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from basalt.config import BackendSettings
from basalt.drivers.base import VolumeDriver
from basalt.errors import ConfigError

if TYPE_CHECKING:
    from basalt.export import IscsiExporter


@dataclass(frozen=True, slots=True)
class DriverResources:
    """What one Basalt shares between its drivers."""

    exporter: IscsiExporter | None = None
    """The iSCSI target (one tgtd) every ``file`` backend exports through."""


def _file(settings: BackendSettings, resources: DriverResources) -> VolumeDriver:
    from basalt.drivers.file import FileDriver
    from basalt.drivers.file.replicate import FileReplicaTarget

    pools = {name: Path(path) for name, path in settings.pools.items()}
    targets = [
        FileReplicaTarget(
            backend_id=t.backend_id,
            pools={pool: Path(path).expanduser() for pool, path in t.pools.items()},
            interval_seconds=t.interval_seconds,
        )
        for t in settings.replication_targets
    ]
    return FileDriver(
        backend_name=settings.name, pools=pools, exporter=resources.exporter, replication=targets
    )


def _solidfire(settings: BackendSettings, resources: DriverResources) -> VolumeDriver:
    from basalt.drivers.solidfire import SolidFireDriver

    if settings.solidfire is None:  # BackendSettings refuses this; keep mypy honest
        raise ConfigError(f"backend {settings.name}: driver solidfire needs a solidfire table")
    return SolidFireDriver.from_settings(
        settings.name, settings.solidfire, settings.replication_targets
    )


DRIVERS: dict[str, Callable[[BackendSettings, DriverResources], VolumeDriver]] = {
    "file": _file,
    "solidfire": _solidfire,
}


def build_driver(
    settings: BackendSettings, resources: DriverResources | None = None
) -> VolumeDriver:
    """Instantiate the driver a backend's settings name.

    Raises:
        ConfigError: the driver name is unknown.
    """
    factory = DRIVERS.get(settings.driver)
    if factory is None:
        raise ConfigError(
            f"backend {settings.name}: unknown driver {settings.driver!r}",
            hint=f"known drivers: {', '.join(sorted(DRIVERS))}",
        )
    return factory(settings, resources or DriverResources())
