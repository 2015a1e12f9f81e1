"""iSCSI export of volume files through tgt (tgtd, driven with tgtadm).

:class:`IscsiExporter` is the whole interface the ``file`` driver uses; the other
names are for tests, tools and error handling.

    basalt.export.iscsi       IscsiExporter: one target per volume
    basalt.export.reconcile   what one Basalt target holds, and how it is made so
    basalt.export.sync        SyncReport: all Basalt targets to a given set at once
    basalt.export.watcher     the thread that checks tgtd every few seconds
    basalt.export.daemon      TgtDaemon: start, adopt, watch and stop tgtd
    basalt.export.tgt         TgtAdmin: one method per tgtadm operation
    basalt.export.show        TargetState, LunState: parsed ``tgtadm --op show``
    basalt.export.commands    the command runner (secrets masked)
    basalt.export.errors      the export errors below basalt.errors.ExportError
"""

from __future__ import annotations

from basalt.export.commands import CommandRunner, run
from basalt.export.daemon import TgtDaemon
from basalt.export.errors import (
    CommandFailedError,
    CommandNotFoundError,
    CommandTimeoutError,
    TargetExportError,
)
from basalt.export.iscsi import IscsiExporter
from basalt.export.reconcile import scsi_serial
from basalt.export.show import LunState, TargetState, parse_targets, tgt_size_mb
from basalt.export.sync import SyncReport
from basalt.export.tgt import TgtAdmin

__all__ = [
    "CommandFailedError",
    "CommandNotFoundError",
    "CommandRunner",
    "CommandTimeoutError",
    "IscsiExporter",
    "LunState",
    "SyncReport",
    "TargetExportError",
    "TargetState",
    "TgtAdmin",
    "TgtDaemon",
    "parse_targets",
    "run",
    "scsi_serial",
    "tgt_size_mb",
]
