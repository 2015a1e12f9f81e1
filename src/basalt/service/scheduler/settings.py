"""Which filters and weighers the scheduler runs: the ``[scheduler]`` settings table."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

FilterName = Literal[
    "enabled", "availability_zone", "same_backend", "different_backend", "capabilities", "capacity"
]
WeigherName = Literal["free_capacity", "allocated_capacity", "volume_count"]

DEFAULT_FILTERS: tuple[FilterName, ...] = (
    "enabled",
    "availability_zone",
    "same_backend",
    "different_backend",
    "capabilities",
    "capacity",
)
DEFAULT_WEIGHERS: dict[WeigherName, float] = {
    "free_capacity": 1.0,
    "allocated_capacity": -1.0,
    "volume_count": -1.0,
}


class SchedulerSettings(BaseModel):
    """The filters a pool must pass, in the order explanations list them, and the
    multiplier of each weigher (scores are normalised to 0..1, multiplied, summed).

    A positive multiplier prefers pools with more of the quantity: ``free_capacity``
    (virtual free for thin pools) prefers room; the default negative multipliers of
    ``allocated_capacity`` and ``volume_count`` prefer pools with less placed on them.
    ``{free_capacity = 1.0}`` alone weighs as Cinder's default scheduler does.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    filters: tuple[FilterName, ...] = Field(
        default=DEFAULT_FILTERS,
        description="Filters a pool must pass; 'enabled' cannot be left out (a disabled "
        "or down backend never takes new volumes)",
    )
    weighers: dict[WeigherName, float] = Field(
        default_factory=lambda: dict(DEFAULT_WEIGHERS),
        description="Weigher -> multiplier; 0 shows the score without letting it count",
    )

    @field_validator("filters")
    @classmethod
    def _filters_once_and_enabled(cls, value: tuple[FilterName, ...]) -> tuple[FilterName, ...]:
        if len(set(value)) != len(value):
            raise ValueError("each filter may be listed once")
        if "enabled" not in value:
            raise ValueError("the 'enabled' filter cannot be left out")
        return value

    @field_validator("weighers")
    @classmethod
    def _finite_multipliers(cls, value: dict[WeigherName, float]) -> dict[WeigherName, float]:
        for name, multiplier in value.items():
            if not math.isfinite(multiplier):
                raise ValueError(f"weigher {name}: the multiplier must be a finite number")
        return value
