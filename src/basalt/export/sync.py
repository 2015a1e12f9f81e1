"""Bring every Basalt target in tgtd to a given set of exports at once (service start).

Basalt's targets are those whose IQN starts with ``<iqn_prefix>:``; any other target
in a shared tgtd is never touched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from basalt.errors import ExportError
from basalt.export.reconcile import DesiredExport, Outcome, Reconciler
from basalt.export.show import TargetState

log = logging.getLogger("basalt.export")


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What :meth:`IscsiExporter.sync` did, by volume id."""

    created: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    failed: Mapping[str, ExportError] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Whether any target was created, fixed or removed."""
        return bool(self.created or self.fixed or self.removed)


def basalt_targets(targets: Iterable[TargetState], iqn_prefix: str) -> dict[str, TargetState]:
    """The targets named ``<iqn_prefix>:<volume-id>``, by volume id."""
    prefix = f"{iqn_prefix}:"
    return {t.iqn[len(prefix) :]: t for t in targets if t.iqn.startswith(prefix)}


def sync_targets(
    reconciler: Reconciler,
    wanted: Mapping[str, DesiredExport],
    *,
    iqn_prefix: str,
    failed: dict[str, ExportError],
) -> tuple[SyncReport, dict[str, DesiredExport]]:
    """Apply every wanted export, then remove Basalt targets that are not wanted.

    One volume failing does not stop the others: it is added to ``failed``.

    Args:
        reconciler: the tgtd's reconciler (the caller holds the exporter's lock).
        wanted: the exports, by volume id.
        iqn_prefix: what names Basalt's targets.
        failed: volumes that already failed (invalid ids); failures are added here.

    Returns:
        The report, and the exports that were applied.

    Raises:
        ExportError: tgtd could not be listed.
    """
    outcomes: dict[Outcome, list[str]] = {o: [] for o in Outcome}
    applied: dict[str, DesiredExport] = {}
    for volume_id, desired in sorted(wanted.items()):
        try:
            outcomes[reconciler.apply(desired)].append(volume_id)
            applied[volume_id] = desired
        except ExportError as exc:
            failed[volume_id] = exc
    removed = _remove_unlisted(reconciler, keep={*wanted, *failed}, iqn_prefix=iqn_prefix)
    for volume_id, error in removed.items():
        if error is not None:
            failed[volume_id] = error
    report = SyncReport(
        created=tuple(outcomes[Outcome.CREATED]),
        fixed=tuple(outcomes[Outcome.FIXED]),
        removed=tuple(v for v, error in removed.items() if error is None),
        unchanged=tuple(outcomes[Outcome.UNCHANGED]),
        failed=dict(failed),
    )
    log.info(
        "sync: %d created, %d fixed, %d removed, %d unchanged, %d failed",
        *map(len, (report.created, report.fixed, report.removed, report.unchanged, failed)),
    )
    return report, applied


def _remove_unlisted(
    reconciler: Reconciler, *, keep: set[str], iqn_prefix: str
) -> dict[str, ExportError | None]:
    """Remove Basalt targets not in ``keep``; the error (or None) by volume id."""
    results: dict[str, ExportError | None] = {}
    targets = list(reconciler.admin.targets())
    for volume_id, target in sorted(basalt_targets(targets, iqn_prefix).items()):
        if volume_id in keep:
            continue
        others = [t for t in targets if t.tid != target.tid]
        try:
            reconciler.remove(target, others=others)
        except ExportError as exc:
            results[volume_id] = exc
            continue
        targets = others
        results[volume_id] = None
    return results
