"""Volume types (with extra specs and project access) and QoS specs.

A volume type names what a volume needs: its extra specs are matched against
the pools' capabilities by the scheduler (``volume_backend_name``,
``capabilities:thin_provisioning_support``, ``<is> True``...) and a few decide
the volume itself (``multiattach <is> True``). A type may be associated with one
QoS spec: its consumer says who enforces it, the backend (``back-end``: the
driver gets the specs), the host (``front-end``: the specs go to the host in the
connection info's ``qos_specs``) or ``both``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

DEFAULT_TYPE_NAME = "__DEFAULT__"
"""The type a volume gets when it names none (made by the schema, as Cinder does)."""


class QosConsumer(StrEnum):
    BACK_END = "back-end"
    FRONT_END = "front-end"
    BOTH = "both"


FRONT_END_KEYS = frozenset(
    {
        f"{what}_{unit}_sec{suffix}"
        for what in ("total", "read", "write")
        for unit in ("bytes", "iops")
        for suffix in ("", "_max", "_max_length", "_per_gb", "_per_gb_min")
    }
    | {"size_iops_sec"}
)
"""The keys a host's hypervisor can enforce (Cinder's front-end QoS keys)."""
PER_GB_SUFFIX = "_per_gb"
PER_GB_MIN_SUFFIX = "_per_gb_min"


@dataclass(slots=True)
class QosSpecs:
    """A named set of QoS keys and who enforces them."""

    id: str
    name: str
    consumer: QosConsumer
    specs: dict[str, str]
    created_at: datetime
    updated_at: datetime

    @property
    def for_backend(self) -> bool:
        return self.consumer in (QosConsumer.BACK_END, QosConsumer.BOTH)

    @property
    def for_host(self) -> bool:
        return self.consumer in (QosConsumer.FRONT_END, QosConsumer.BOTH)


@dataclass(slots=True)
class VolumeType:
    """A named class of volume: extra specs, visibility, and an optional QoS spec."""

    id: str
    name: str
    description: str
    is_public: bool
    created_at: datetime
    updated_at: datetime
    extra_specs: dict[str, str] = field(default_factory=dict)
    qos_specs_id: str | None = None

    @property
    def replication_enabled(self) -> bool:
        """Whether volumes of this type keep a secondary copy (``replication_enabled <is>
        True``, which also makes the scheduler pick only pools of replicating backends)."""
        return spec_is_true(self.extra_specs.get("replication_enabled"))

    @property
    def multiattach(self) -> bool:
        """Whether volumes of this type may be attached to several hosts at once."""
        return spec_is_true(self.extra_specs.get("multiattach"))


def front_end_qos(specs: Mapping[str, str], *, size_gib: int) -> dict[str, int]:
    """The limits a host enforces for a volume of ``size_gib``: per-GiB keys become totals.

    ``total_iops_sec_per_gb = 10`` on a 50 GiB volume gives ``total_iops_sec = 500``
    (at least ``total_iops_sec_per_gb_min`` when that is set), as Cinder computes them.
    """
    limits: dict[str, int] = {}
    for key, value in specs.items():
        if key.endswith(PER_GB_MIN_SUFFIX) or key not in FRONT_END_KEYS:
            continue
        if key.endswith(PER_GB_SUFFIX):
            base = key.removesuffix(PER_GB_SUFFIX)
            scaled = int(value) * size_gib
            floor = specs.get(base + PER_GB_MIN_SUFFIX)
            limits[base] = max(scaled, int(floor)) if floor is not None else scaled
        else:
            limits[key] = int(value)
    return limits


def spec_is_true(value: str | None) -> bool:
    """Whether a boolean spec (``<is> True``, ``true``...) is set."""
    if value is None:
        return False
    return value.strip().lower() in ("<is> true", "true", "1", "yes")
