"""The Block Storage API extensions Basalt honours, as ``GET /extensions`` lists them.

Only what Basalt really does is here: an alias is listed once its routes or fields
behave as clients of that extension expect. Aliases and names are the API's; the
descriptions say what Basalt serves of each.
"""

from __future__ import annotations

from dataclasses import dataclass

UPDATED = "2026-12-08T00:00:00+00:00"
"""When Basalt's list last changed (the API's ``updated`` field of each entry)."""


@dataclass(frozen=True, slots=True)
class Extension:
    """One honoured extension."""

    alias: str
    name: str
    description: str
    updated: str = UPDATED


EXTENSIONS: tuple[Extension, ...] = (
    Extension(
        "os-availability-zone",
        "AvailabilityZones",
        "The availability zones of the configured backends and whether they can take volumes.",
    ),
    Extension("capabilities", "Capabilities", "What each backend's driver reports it can do."),
    Extension(
        "os-extended-services",
        "ExtendedServices",
        "Services show why a backend was disabled (disabled_reason, disable-log-reason).",
    ),
    Extension(
        "os-extended-snapshot-attributes",
        "ExtendedSnapshotAttributes",
        "Snapshots show their project and progress.",
    ),
    Extension(
        "os-quota-sets",
        "Quotas",
        "Each project's limits of volumes, snapshots, gigabytes, per_volume_gigabytes and "
        "per volume type, with their usage; enforced atomically.",
    ),
    Extension(
        "os-quota-class-sets",
        "QuotaClasses",
        "The default quota class: the limits of every project without its own.",
    ),
    Extension(
        "os-used-limits",
        "UsedLimits",
        "GET /limits shows what the project uses beside its absolute limits.",
    ),
    Extension(
        "scheduler-stats",
        "Scheduler_stats",
        "Pools with their capacity (get_pools).",
    ),
    Extension(
        "os-services",
        "Services",
        "Basalt and its backends as services; backends can be disabled for new volumes.",
    ),
    Extension(
        "os-snapshot-manage",
        "SnapshotManage",
        "Adopt snapshots that exist on a backend, and list the ones that could be.",
    ),
    Extension("os-snapshot-unmanage", "SnapshotUnmanage", "Forget a snapshot, keeping its data."),
    Extension(
        "os-volume-actions",
        "VolumeActions",
        "Volume actions: extend, the attach and detach steps (reserve, initialize and "
        "terminate connection, attach, detach), the bootable and read-only flags.",
    ),
    Extension(
        "os-vol-host-attr",
        "VolumeHostAttribute",
        "Volumes show the host, backend and pool they live on (administrators).",
    ),
    Extension(
        "os-volume-manage",
        "VolumeManage",
        "Adopt volumes that exist on a backend, and list the ones that could be.",
    ),
    Extension(
        "os-vol-mig-status-attr",
        "VolumeMigStatusAttribute",
        "Volumes show their migration status (administrators).",
    ),
    Extension(
        "os-vol-tenant-attr", "VolumeTenantAttribute", "Volumes show the project they belong to."
    ),
    Extension("os-volume-unmanage", "VolumeUnmanage", "Forget a volume, keeping its data."),
)
