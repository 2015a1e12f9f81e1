"""One request on the fast path: the eligible pools' extremes, then the best pool.

A pool is eligible when it is a member of the request's signature (it passes the
static filters), fits (``size_gib <= provisionable_gib``, the capacity filter's
rule) and is not on a backend the request avoids. The loops test that inline:
they run for every decision.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice

from basalt.service.scheduler.ceiling import ScoreCeiling
from basalt.service.scheduler.signature import Raw, Signature
from basalt.service.scheduler.weighers import total_score


@dataclass(slots=True)
class SearchStats:
    """What the fast path did, counted since the scheduler was made (for benchmarks
    and tests: how much work a decision took)."""

    decisions: int = 0
    signatures_built: int = 0
    pools_scored: int = 0
    repairs: int = 0
    """Pools met at a stale position and moved down."""
    rescales: int = 0
    """Signatures re-ranked because their reference drifted."""
    refusals: int = 0


class Query:
    """One request against one signature: what makes a pool eligible."""

    __slots__ = ("is_member", "capacity", "backend", "size", "avoid")

    def __init__(
        self,
        *,
        is_member: bytearray,
        capacity: list[float],
        backend: list[str],
        size: int,
        avoid: frozenset[str],
    ) -> None:
        self.is_member = is_member
        self.capacity = capacity
        self.backend = backend
        self.size = size
        self.avoid = avoid

    def eligible(self, i: int) -> bool:
        """Whether pool ``i`` passes the signature's filters, fits and is not avoided."""
        return bool(
            self.is_member[i]
            and self.size <= self.capacity[i]
            and not (self.avoid and self.backend[i] in self.avoid)
        )


def extremes(
    query: Query, by_raw: Sequence[list[tuple[float, int]]], free_k: int
) -> tuple[list[float], list[float]] | None:
    """Each weigher's lowest and highest raw value over the eligible pools.

    Args:
        query: the request.
        by_raw: per active weigher, every pool's (raw value, index), ascending.
        free_k: which weigher's raw value is the capacity the filter compares with
            the size (-1: none), so its low is searched from the size up.

    Returns:
        (lows, highs), or None when no pool is eligible.
    """
    lows, highs = [], []
    for k, entries in enumerate(by_raw):
        start = bisect_left(entries, (query.size, -1)) if k == free_k else 0
        low = _first_eligible(islice(entries, start, None), query)
        if low is None:
            return None
        high = _first_eligible(reversed(entries), query)
        assert high is not None  # the low's pool is eligible, so some high is
        lows.append(low)
        highs.append(high)
    return lows, highs


def _first_eligible(entries: Iterable[tuple[float, int]], query: Query) -> float | None:
    """The value of the first eligible pool among ``entries`` (value, index)."""
    is_member, capacity, size = query.is_member, query.capacity, query.size
    if query.avoid:
        backend, avoid = query.backend, query.avoid
        for value, i in entries:
            if is_member[i] and size <= capacity[i] and backend[i] not in avoid:
                return value
        return None
    for value, i in entries:  # the same test without avoided backends: most requests
        if is_member[i] and size <= capacity[i]:
            return value
    return None


def best_pool(
    signature: Signature,
    query: Query,
    *,
    raws: Sequence[Raw],
    versions: Sequence[int],
    lows: Sequence[float],
    highs: Sequence[float],
    multipliers: Sequence[float],
    largest_multiplier: float,
    stats: SearchStats,
) -> tuple[int, float]:
    """The eligible pool with the highest total, the lowest host among equal totals.

    Some pool must be eligible and ``lows``/``highs`` be the eligible pools' extremes.

    Returns:
        (pool index, its total); index -1 when no pool is eligible (only possible with
        no weigher: otherwise ``extremes`` found one).
    """
    spans = [high - low for low, high in zip(lows, highs, strict=True)]
    coefficients = [abs(m) / s if s > 0.0 else 0.0 for m, s in zip(multipliers, spans, strict=True)]
    lows_y = [
        low if m > 0 else -high for m, low, high in zip(multipliers, lows, highs, strict=True)
    ]
    shift = sum([m for m, span in zip(multipliers, spans, strict=True) if m < 0 < span])
    if not any(coefficients):  # every total is 0.0: the lowest host wins
        return next((i for i in signature.members if query.eligible(i)), -1), 0.0
    ranked = signature.ranked  # holds every eligible pool: each can take 1 GiB
    ends = (abs(ranked[0][0]), abs(ranked[-1][0])) if ranked else (0.0,)
    scale = max(*ends, largest_multiplier)
    floor_key = signature.key_of_y(lows_y)
    ceiling = ScoreCeiling(coefficients, signature.reference, spans, floor_key, shift, scale)
    best, best_index, scored = _scan(
        signature,
        query,
        ceiling,
        raws=raws,
        versions=versions,
        lows=lows,
        spans=spans,
        multipliers=multipliers,
        stats=stats,
    )
    stats.pools_scored += scored
    if scored > RESCALE_AFTER and signature.rescale(raws, versions, query.capacity, multipliers):
        stats.rescales += 1
    return best_index, best


def _scan(
    signature: Signature,
    query: Query,
    ceiling: ScoreCeiling,
    *,
    raws: Sequence[Raw],
    versions: Sequence[int],
    lows: Sequence[float],
    spans: Sequence[float],
    multipliers: Sequence[float],
    stats: SearchStats,
) -> tuple[float, int, int]:
    """Walk the ranking until the ceiling says no pool further down can win.

    Returns:
        (best total, its pool's index, how many pools were scored).
    """
    ranked, stamps = signature.ranked, signature.stamps
    capacity, backend, size, avoid = query.capacity, query.backend, query.size, query.avoid
    best, best_index, scored, threshold = -math.inf, -1, 0, -math.inf
    j = 0
    while j < len(ranked):
        negative_key, i = ranked[j]
        if -negative_key < threshold:
            break
        if stamps[i] != versions[i] and signature.repair(j, raws[i], versions[i], capacity):
            stats.repairs += 1  # eligible or not: a stale pool left here is met again
            continue  # its key fell since it was stored: it now sits further down
        if size <= capacity[i] and not (avoid and backend[i] in avoid):
            total = total_score(raws[i], lows, spans, multipliers)
            scored += 1
            if total > best or (total == best and i < best_index):
                best, best_index = total, i
                threshold = ceiling.key_below(best)
        j += 1
    return best, best_index, scored


RESCALE_AFTER = 16
"""A search that scores more pools than this has its signature's reference
checked against the members' current spread (placements move the extremes), and
re-ranked if it drifted; not to this search's own coefficients, which a size or
an avoided backend may have made unusual."""
