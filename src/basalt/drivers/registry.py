"""Driver name -> class, and building a driver from its backend settings."""

from __future__ import annotations

from pathlib import Path

from basalt.config import BackendSettings
from basalt.drivers.base import VolumeDriver
from basalt.errors import ConfigError


def build_driver(settings: BackendSettings) -> VolumeDriver:
    """Instantiate the driver a backend's settings name.

    Raises:
        ConfigError: the driver name is unknown.
    """
    if settings.driver == "file":
        from basalt.drivers.file import FileDriver

        pools = {name: Path(path) for name, path in settings.pools.items()}
        return FileDriver(backend_name=settings.name, pools=pools)
    if settings.driver == "solidfire" and settings.solidfire is not None:
        from basalt.drivers.solidfire import SolidFireDriver

        return SolidFireDriver.from_settings(settings.name, settings.solidfire)
    raise ConfigError(f"backend {settings.name}: unknown driver {settings.driver!r}")
