"""What the SolidFire driver needs to know besides the client: pool name, naming, waits."""

from __future__ import annotations

from dataclasses import dataclass, field

from basalt.drivers.solidfire.naming import Naming


@dataclass(frozen=True, slots=True)
class SolidFireOptions:
    """Driver options (the client's own are in SolidFireClient).

    ``pool_name`` is the name of the cluster's one pool; ``emulate_512`` sets
    ``enable512e`` on new volumes; ``enable_vag`` admits only attached initiators
    through volume access groups (basalt.drivers.solidfire.access). When a create
    gets no answer, the driver looks for the object every ``poll_interval_seconds``
    for up to ``settle_seconds`` before it sends the create again.
    """

    pool_name: str = "default"
    naming: Naming = field(default_factory=Naming)
    emulate_512: bool = True
    enable_vag: bool = False
    poll_interval_seconds: float = 0.5
    settle_seconds: float = 5.0
