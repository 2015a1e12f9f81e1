"""Weighers: how the pools that passed every filter are ranked.

Each weigher reads one raw quantity from a pool. Across the pools that passed,
each quantity is normalised to 0..1 (lowest 0, highest 1; all 0 when every pool
has the same), multiplied by the weigher's multiplier, and the products are
summed. The highest total wins; equal totals go to the lowest host name.
:func:`total_score` is that arithmetic, the only copy of it: the explanation and
the fast path both call it, so they compute the same floating-point totals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from basalt.model.capacity import provisionable_gib
from basalt.service.scheduler.candidates import PoolCandidate
from basalt.service.scheduler.settings import WeigherName

RawWeigher = Callable[[PoolCandidate], float]


def free_capacity_gib(pool: PoolCandidate) -> float:
    """Free capacity to weigh: what the capacity rule still lets the pool take
    (for a thin pool, virtual free capacity under its over-subscription ratio)."""
    return provisionable_gib(pool)


def allocated_capacity_gib(pool: PoolCandidate) -> float:
    """Capacity placed on the pool: allocated when known, else provisioned."""
    allocated = pool.allocated_capacity_gib
    return pool.provisioned_capacity_gib if allocated is None else allocated


def volume_count(pool: PoolCandidate) -> float:
    """How many volumes the pool holds."""
    return float(pool.volume_count)


WEIGHERS: dict[WeigherName, RawWeigher] = {
    "free_capacity": free_capacity_gib,
    "allocated_capacity": allocated_capacity_gib,
    "volume_count": volume_count,
}
"""Every weigher by the name the settings use."""


@dataclass(frozen=True, slots=True)
class Scale:
    """The spread of one weigher's raw values across the pools that passed."""

    low: float
    high: float

    @property
    def span(self) -> float:
        return self.high - self.low

    def normalise(self, raw: float) -> float:
        """``raw`` on 0..1 across the spread (0 when every pool has the same value)."""
        span = self.high - self.low
        return (raw - self.low) / span if span > 0.0 else 0.0


def scales_of(raws: Sequence[Sequence[float]]) -> tuple[Scale, ...]:
    """Each weigher's lowest and highest raw value over the rows (one row per pool).

    Args:
        raws: per pool, the raw value of each weigher, in the same order.

    Returns:
        One Scale per weigher; empty when there are no rows.
    """
    if not raws:
        return ()
    return tuple(Scale(min(column), max(column)) for column in zip(*raws, strict=True))


def total_score(
    raws: Sequence[float],
    lows: Sequence[float],
    spans: Sequence[float],
    multipliers: Sequence[float],
) -> float:
    """A pool's total: the sum over weighers of normalised raw value x multiplier.

    Args:
        raws: the pool's raw value per weigher (the other arguments, as long).
        lows: the lowest raw value per weigher across the pools that passed.
        spans: highest minus lowest, per weigher (0: the weigher adds nothing).
        multipliers: per weigher.

    Returns:
        The total, computed in weigher order (the same floats on every path).
    """
    total = 0.0
    for k in range(len(raws)):  # indexing: this runs for every pool the fast path scores
        span = spans[k]
        if span > 0.0:
            total += (raws[k] - lows[k]) / span * multipliers[k]
    return total
