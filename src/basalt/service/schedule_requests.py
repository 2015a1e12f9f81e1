"""What the scheduler is asked: a new volume's size, its type's needs, zone and hints.

The one place that turns a volume type into requirements on pools: its extra
specs, plus ``QoS_support <is> True`` when it carries a back-end QoS spec (only a
driver that enforces QoS may take it), and the ``same_host``/``different_host``
scheduler hints into the backends of the volumes they name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from basalt.errors import InvalidInputError, VolumeNotFoundError
from basalt.model.volume_type import VolumeType
from basalt.persistence.base import Transaction
from basalt.service.context import RequestContext
from basalt.service.scheduler import ScheduleRequest
from basalt.service.types import qos_of_type

QOS_SUPPORT_SPEC = "capabilities:QoS_support"
HINTS = ("same_host", "different_host")
MAX_HINT_VOLUMES = 100


def schedule_request(
    tx: Transaction,
    ctx: RequestContext,
    *,
    size_gib: int,
    volume_type: VolumeType | None,
    availability_zone: str | None = None,
    hints: Mapping[str, object] | None = None,
) -> ScheduleRequest:
    """The request for placing a volume of ``volume_type``.

    Args:
        tx: a transaction to read the type's QoS spec and the hinted volumes.
        ctx: the caller (hints may name only volumes it can see).
        size_gib: the volume's size.
        volume_type: its type (None: a volume recorded without one needs nothing).
        availability_zone: the zone asked for (None: any).
        hints: ``OS-SCH-HNT:scheduler_hints``: ``same_host`` and ``different_host``
            hold a volume id or a list of them; other hints are ignored, as Cinder
            ignores hints no enabled filter reads.

    Raises:
        InvalidInputError: a hint that is not a volume id or a list of them.
        VolumeNotFoundError: a hinted volume the caller cannot see.
    """
    specs = {} if volume_type is None else dict(volume_type.extra_specs)
    qos = qos_of_type(tx, volume_type)
    if qos is not None and qos.for_backend and qos.specs:
        specs.setdefault(QOS_SUPPORT_SPEC, "<is> True")
    hints = hints or {}
    same, different = (frozenset(_backends_of(tx, ctx, name, hints.get(name))) for name in HINTS)
    return ScheduleRequest(
        size_gib=size_gib,
        extra_specs=specs,
        availability_zone=availability_zone,
        same_backend_as=same,
        different_backend_from=different,
    )


def _backends_of(tx: Transaction, ctx: RequestContext, hint: str, value: object) -> Iterable[str]:
    if value is None:
        return ()
    ids = [value] if isinstance(value, str) else value
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise InvalidInputError(
            f"scheduler_hints.{hint}", "must be a volume id or a list of volume ids"
        )
    if len(ids) > MAX_HINT_VOLUMES:
        raise InvalidInputError(
            f"scheduler_hints.{hint}", f"names {len(ids)} volumes; at most {MAX_HINT_VOLUMES}"
        )
    backends = []
    for volume_id in ids:
        volume = tx.volumes.get(volume_id)
        if volume is None or not ctx.can_see(volume.project_id):
            raise VolumeNotFoundError(volume_id[:64])
        backends.append(volume.backend)
    return backends
