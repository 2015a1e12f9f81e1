"""The stopping rule of the fast path's search: below which reference key no pool
can still reach the best total found.

For an eligible pool write ``t_k = c0_k * (y_k - ylo_k)``: each ``t_k`` lies in
``[0, c0_k * span_k]`` and they sum to ``gamma = key - G``. The pool's total is
``A + sum(r_k * t_k)`` with ``r_k = c_k / c0_k``. For a given ``gamma`` that sum is
largest when the weighers with the highest ``r_k`` take their share first (a
fractional knapsack): ``h(gamma)``, 0 up to ``gamma = 0``, then strictly increasing
up to the sum of the widths, then flat. Since ``h`` only grows with the key, every
pool whose stored key (never below its true key) is under the key ``T`` where
``h(T - G) = best - A - slack`` totals less than ``best``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MARGIN = 1e-9
"""Relative slack of the bound: far above float rounding (~1e-16 per operation), far
below any difference between totals that could matter."""


class ScoreCeiling:
    """The most a pool with a given reference key could total in one search."""

    __slots__ = ("floor_key", "shift", "segments", "slack", "top")

    def __init__(
        self,
        coefficients: Sequence[float],
        reference: Sequence[float],
        spans: Sequence[float],
        floor_key: float,
        shift: float,
        scale: float,
    ) -> None:
        """Prepare the bound of one search (positional: it is built for every decision).

        Args:
            coefficients: c_k = |m_k| / span_k over the eligible pools (0 if span 0).
            reference: the signature's c0_k (all > 0).
            spans: span_k over the eligible pools.
            floor_key: G, the reference key of the eligible pools' lows.
            shift: A, the total of a pool at every low.
            scale: the largest magnitude among the keys and multipliers, for the slack.
        """
        pieces = zip(coefficients, reference, spans, strict=True)
        segments = sorted(
            [(c / c0, c0 * span) for c, c0, span in pieces if c0 * span > 0.0], reverse=True
        )
        top = sum([ratio * width for ratio, width in segments])
        ratio_max = segments[0][0] if segments else 0.0
        self.segments = segments
        self.floor_key = floor_key
        self.shift = shift
        self.top = top
        self.slack = MARGIN * (1.0 + abs(shift) + top + ratio_max * (abs(floor_key) + scale))

    def bound(self, key: float) -> float:
        """The most an eligible pool whose true key is at most ``key`` can total."""
        remaining = key - self.floor_key
        total = self.shift
        for ratio, width in self.segments:
            if remaining <= 0.0:
                break
            taken = min(width, remaining)
            total += ratio * taken
            remaining -= taken
        return total

    def key_below(self, best: float) -> float:
        """The key under which every eligible pool totals less than ``best``.

        Returns:
            +inf when even the highest possible total is below ``best``; -inf when
            no key is low enough (``best`` does not exceed the lowest total).
        """
        target = best - self.shift - self.slack
        if target <= 0.0:
            return -math.inf
        if target > self.top:
            return math.inf
        gamma = 0.0
        for ratio, width in self.segments:
            if target <= ratio * width:
                return self.floor_key + gamma + target / ratio
            gamma += width
            target -= ratio * width
        return self.floor_key + gamma
