"""What the fast path keeps per signature: the pools passing the static filters, in
the order of a fixed reference key (see fast.py for why the order may go stale
one way but never the other)."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Hashable, Sequence

from basalt.service.scheduler.settings import FilterName

SignatureKey = tuple[Hashable, ...]
"""What each static filter reads of the request (its specs, zone, same-backend hint)."""
Raw = tuple[float, ...]
StaticFailure = tuple[int, FilterName, str | None]
"""(position in the configured filters, filter, cause) of a pool's first static failure."""
StaticFailures = tuple[Counter[tuple[FilterName, str | None]], dict[int, StaticFailure]]
"""Pools outside a signature: counts of those whose first failure is settled, and the
others by index (see failure.static_failures)."""


class Signature:
    """The pools passing every static filter for one signature, ranked by reference key.

    The reference key of a pool is ``sum(c0_k * (y_k - o_k))`` with
    ``y_k = sign(m_k) * raw_k``; ``c0`` and ``o`` are fixed when the signature is built.
    ``ranked`` holds ``(-key, pool index)`` ascending, so the best keys come first.
    """

    __slots__ = (
        "members",
        "is_member",
        "reference",
        "offsets",
        "signs",
        "ranked",
        "keys",
        "stamps",
        "raised_seen",
        "static_failures",
    )

    def __init__(
        self,
        members: list[int],
        pool_count: int,
        reference: Sequence[float],
        offsets: Sequence[float],
        signs: Sequence[float],
    ) -> None:
        self.members = members
        """Indices of the passing pools, in host order."""
        self.is_member = bytearray(pool_count)
        for i in members:
            self.is_member[i] = 1
        self.reference = tuple(reference)
        self.offsets = tuple(offsets)
        self.signs = tuple(signs)
        self.ranked: list[tuple[float, int]] = []
        self.keys: dict[int, float] = {}
        """Each member's stored -key (an upper bound of -(true key) is never allowed)."""
        self.stamps: list[int] = []
        """Per pool, its version when its key was stored (members only are read)."""
        self.raised_seen = 0
        """How much of the scheduler's log of raised pools this signature has re-sorted."""
        self.static_failures: StaticFailures | None = None
        """For the pools outside it, their first static failure (found on first refusal)."""

    def rank(self, raws: Sequence[Raw], versions: Sequence[int]) -> None:
        """Sort every member by its current reference key."""
        members = self.members
        rows = [raws[i] for i in members]
        keys = [0.0] * len(members)
        for k in range(len(self.reference)):
            # key() term by term over every member at once: the same floats, faster.
            c0, offset, sign = self.reference[k], self.offsets[k], self.signs[k]
            keys = [
                total + c0 * (sign * row[k] - offset) for total, row in zip(keys, rows, strict=True)
            ]
        negatives = [-key for key in keys]
        self.keys = dict(zip(members, negatives, strict=True))
        self.stamps = list(versions)
        self.ranked = sorted(zip(negatives, members, strict=True))

    def rescale(
        self,
        coefficients: Sequence[float],
        multipliers: Sequence[float],
        lows_y: Sequence[float],
        raws: Sequence[Raw],
        versions: Sequence[int],
    ) -> None:
        """Take a search's coefficients and lows as the reference, and re-rank."""
        self.reference = tuple(
            c if c > 0.0 else abs(m) for c, m in zip(coefficients, multipliers, strict=True)
        )
        self.offsets = tuple(lows_y)
        self.rank(raws, versions)

    def key(self, raw: Raw) -> float:
        """A pool's reference key from its raw weigher values."""
        reference, offsets, signs = self.reference, self.offsets, self.signs
        total = 0.0
        for k in range(len(reference)):
            total += reference[k] * (signs[k] * raw[k] - offsets[k])
        return total

    def key_of_y(self, ys: Sequence[float]) -> float:
        """The reference key of a point given directly as ``y`` values."""
        total = 0.0
        for y, c0, offset in zip(ys, self.reference, self.offsets, strict=True):
            total += c0 * (y - offset)
        return total

    def repair(self, position: int, raw: Raw, version: int) -> bool:
        """Re-sort the pool at ``position`` if it changed since its key was stored.

        Returns:
            True when it moved further down (its key can only have fallen); False
            when it is unchanged or still in order at ``position``.
        """
        ranked = self.ranked
        negative, i = ranked[position]
        if self.stamps[i] == version:
            return False
        self.stamps[i] = version
        fresh = -self.key(raw)
        if fresh == negative:
            return False
        entry = (fresh, i)
        self.keys[i] = fresh
        after = position + 1
        if after == len(ranked) or entry <= ranked[after]:
            ranked[position] = entry  # still in order where it is
            return False
        del ranked[position]
        insort(ranked, entry, lo=position)
        return True

    def resort(self, changed: set[int], raws: Sequence[Raw], versions: Sequence[int]) -> None:
        """Re-sort the members among ``changed`` (pools whose key may have risen)."""
        for i in changed:
            if not self.is_member[i]:
                continue
            old = self.keys[i]
            del self.ranked[bisect_left(self.ranked, (old, i))]
            fresh = -self.key(raws[i])
            insort(self.ranked, (fresh, i))
            self.keys[i] = fresh
            self.stamps[i] = versions[i]


def build_signature(
    members: list[int],
    usable: list[int],
    raws: Sequence[Raw],
    versions: Sequence[int],
    multipliers: Sequence[float],
) -> Signature:
    """Rank ``members`` by a reference key scaled by their own spread of raw values.

    Args:
        members: indices of the pools passing the static filters, in host order.
        usable: the members whose spread sets the reference (those that can take
            the smallest request: full pools are never eligible, so their values
            would only stretch the reference away from what searches see).
        raws: every pool's raw weigher values (active weighers only).
        versions: every pool's change counter.
        multipliers: the active weighers' multipliers (none is 0).
    """
    reference, offsets = [], []
    for k, multiplier in enumerate(multipliers):
        column = [raws[i][k] for i in usable] or [0.0]
        low, high = min(column), max(column)
        span = high - low
        reference.append(abs(multiplier) / span if span > 0.0 else abs(multiplier))
        offsets.append(low if multiplier > 0 else -high)
    signs = [1.0 if m > 0 else -1.0 for m in multipliers]
    signature = Signature(members, len(raws), reference, offsets, signs)
    signature.rank(raws, versions)
    return signature
