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
        self.keys: dict[int, float] | None = None
        """Each member's stored -key, made from ``ranked`` when a re-sort needs it."""
        self.stamps: list[int] = []
        """Per pool, its version when its key was stored (members only are read)."""
        self.raised_seen = 0
        """How much of the scheduler's log of raised pools this signature has re-sorted."""
        self.static_failures: StaticFailures | None = None
        """For the pools outside it, their first static failure (found on first refusal)."""

    def rank(self, raws: Sequence[Raw], versions: Sequence[int], capacity: Sequence[float]) -> None:
        """Sort every member that can take 1 GiB by its current reference key (the
        others wait outside ``ranked`` until they can)."""
        # Re-ranking after drift starts from the current order: a nearly sorted list.
        order = [i for _, i in self.ranked] if self.ranked else self.members
        order = [i for i in order if capacity[i] >= 1]
        rows = [raws[i] for i in order]
        keys = [0.0] * len(order)
        for k in range(len(self.reference)):
            # key() term by term over every member at once: the same floats, faster.
            c0, offset, sign = self.reference[k], self.offsets[k], self.signs[k]
            keys = [
                total + c0 * (sign * row[k] - offset) for total, row in zip(keys, rows, strict=True)
            ]
        self.keys = None
        self.stamps = list(versions)
        self.ranked = sorted(zip([-key for key in keys], order, strict=True))

    def rescale(
        self,
        raws: Sequence[Raw],
        versions: Sequence[int],
        capacity: Sequence[float],
        multipliers: Sequence[float],
    ) -> bool:
        """Re-rank by a reference made from the members' current spread, if it moved.

        Returns:
            Whether the reference changed by more than RESCALE_TOLERANCE (and the
            members were re-ranked).
        """
        usable = [i for i in self.members if capacity[i] >= 1]
        reference, offsets = reference_of(usable or self.members, raws, multipliers)
        moved = any(
            abs(new / old - 1.0) > RESCALE_TOLERANCE
            for new, old in zip(reference, self.reference, strict=True)
        )
        if moved:
            self.reference, self.offsets = tuple(reference), tuple(offsets)
            self.rank(raws, versions, capacity)
        return moved

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

    def repair(self, position: int, raw: Raw, version: int, capacity: Sequence[float]) -> bool:
        """Re-sort the pool at ``position`` if it changed since its key was stored.

        Returns:
            True when it moved further down (its key can only have fallen) or left
            the list (it can no longer take 1 GiB); False when it is unchanged or
            still in order at ``position``.
        """
        ranked = self.ranked
        negative, i = ranked[position]
        if self.stamps[i] == version:
            return False
        self.stamps[i] = version
        if capacity[i] < 1:
            del ranked[position]
            if self.keys is not None:
                del self.keys[i]
            return True
        fresh = -self.key(raw)
        if fresh == negative:
            return False
        entry = (fresh, i)
        if self.keys is not None:
            self.keys[i] = fresh
        after = position + 1
        if after == len(ranked) or entry <= ranked[after]:
            ranked[position] = entry  # still in order where it is
            return False
        del ranked[position]
        insort(ranked, entry, lo=position)
        return True

    def resort(
        self,
        changed: set[int],
        raws: Sequence[Raw],
        versions: Sequence[int],
        capacity: Sequence[float],
    ) -> None:
        """Re-sort the members among ``changed`` (pools whose key may have risen, or
        that can take 1 GiB again), taking in or leaving out each as it now can."""
        if self.keys is None:
            self.keys = {i: negative for negative, i in self.ranked}
        for i in changed:
            if not self.is_member[i]:
                continue
            old = self.keys.pop(i, None)
            if old is not None:
                del self.ranked[bisect_left(self.ranked, (old, i))]
            if capacity[i] >= 1:
                fresh = -self.key(raws[i])
                insort(self.ranked, (fresh, i))
                self.keys[i] = fresh
            self.stamps[i] = versions[i]


RESCALE_TOLERANCE = 1e-3
"""How far (relatively) a weigher's reference may drift before a re-ranking is
worth its cost."""


def reference_of(
    usable: Sequence[int], raws: Sequence[Raw], multipliers: Sequence[float]
) -> tuple[list[float], list[float]]:
    """A reference from the pools' spread: ``c0_k = |m_k| / span_k`` (``|m_k|`` when
    every value is equal) and ``o_k`` the lowest ``y_k``.

    Args:
        usable: the pools whose spread counts (members that can take 1 GiB: full
            pools are never eligible, so their values would only stretch it).
        raws: every pool's raw weigher values (active weighers only).
        multipliers: the active weighers' multipliers (none is 0).
    """
    reference, offsets = [], []
    for k, multiplier in enumerate(multipliers):
        column = [raws[i][k] for i in usable] or [0.0]
        low, high = min(column), max(column)
        span = high - low
        reference.append(abs(multiplier) / span if span > 0.0 else abs(multiplier))
        offsets.append(low if multiplier > 0 else -high)
    return reference, offsets


def build_signature(
    members: list[int],
    raws: Sequence[Raw],
    versions: Sequence[int],
    capacity: Sequence[float],
    multipliers: Sequence[float],
) -> Signature:
    """Rank ``members`` by a reference key scaled by their own spread of raw values.

    Args:
        members: indices of the pools passing the static filters, in host order.
        raws: every pool's raw weigher values (active weighers only).
        versions: every pool's change counter.
        capacity: every pool's provisionable GiB.
        multipliers: the active weighers' multipliers (none is 0).
    """
    usable = [i for i in members if capacity[i] >= 1]
    reference, offsets = reference_of(usable or members, raws, multipliers)
    signs = [1.0 if m > 0 else -1.0 for m in multipliers]
    signature = Signature(members, len(raws), reference, offsets, signs)
    signature.rank(raws, versions, capacity)
    return signature
