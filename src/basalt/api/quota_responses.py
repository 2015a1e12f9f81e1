"""What the quota routes answer, as models for the OpenAPI document (see responses.py).

A quota set has a field per base resource and one more per volume type
(``volumes_<type name>``...), which the models allow as extra fields of the same
shape, so the document stays closed over everything else.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from basalt.api.responses import Shape


class QuotaLimits(Shape):
    """Limits by resource; -1 is unlimited."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    __pydantic_extra__: dict[str, int] = Field(init=False)

    id: str | None = None
    """The project (or class) the limits are of; absent in the answer to an update."""
    volumes: int
    snapshots: int
    gigabytes: int
    per_volume_gigabytes: int


class QuotaUsageLine(Shape):
    limit: int
    in_use: int
    reserved: int
    """GiB promised to extends still running."""
    allocated: int
    """Always 0: Basalt has no nested quotas."""


class QuotaUsage(Shape):
    """``?usage=true``: every resource with its limit and what is counted against it."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    __pydantic_extra__: dict[str, QuotaUsageLine] = Field(init=False)

    id: str
    volumes: QuotaUsageLine
    snapshots: QuotaUsageLine
    gigabytes: QuotaUsageLine
    per_volume_gigabytes: QuotaUsageLine


class OneQuotaSet(Shape):
    quota_set: QuotaLimits | QuotaUsage


class QuotaDefaults(Shape):
    quota_set: QuotaLimits


class OneQuotaClassSet(Shape):
    quota_class_set: QuotaLimits


class AbsoluteLimits(Shape):
    maxTotalVolumes: int  # noqa: N815 - Cinder's field names, as the limits below
    maxTotalSnapshots: int  # noqa: N815
    maxTotalVolumeGigabytes: int  # noqa: N815
    totalVolumesUsed: int  # noqa: N815
    totalSnapshotsUsed: int  # noqa: N815
    totalGigabytesUsed: int  # noqa: N815


class LimitsView(Shape):
    rate: list[Any]
    """Always empty: Basalt has no rate limits."""
    absolute: AbsoluteLimits


class Limits(Shape):
    limits: LimitsView
