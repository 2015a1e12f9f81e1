"""The fast path: the full evaluation's decision without evaluating every pool.

Why it is the same decision (docs/architecture.md, "Scheduler", has the long form):

1. Static filters. Every filter but capacity and different_backend reads only
   what it declares of the request (``PoolFilter.reads``: specs, zone or
   same-backend hint) and, for some, of the pool (``reads_pool``). Each one's
   outcome for every pool is kept per value read, and the pools passing all of
   them per *signature* (the tuple of values), until a pool's static state
   changes or the pools are reloaded. Capacity (``size <= provisionable_gib``)
   and different_backend are checked per pool as the search meets it: a pool is
   *eligible* when it passes all three. A pool that cannot take 1 GiB (the
   smallest request) is eligible for nothing and stays out of the sorted lists
   and rankings until a change gives it room.
2. Normalisation. A pool's total is ``A + sum(c_k * (y_k - ylo_k))`` with
   ``y_k = sign(m_k) * raw_k``, ``c_k = |m_k| / span_k`` over the eligible pools
   and ``ylo_k`` the lowest ``y_k`` among them. Lows and highs are exact: the
   first eligible entry from either end of global lists sorted by each raw value.
3. Search. Each signature keeps its pools ranked by a reference key
   ``sum(c0_k * (y_k - o_k))``. For an eligible pool, ``y_k - ylo_k`` lies between
   0 and ``span_k``, so its total cannot exceed a bound that grows with its key
   (ceiling.py). Scanning by descending key, the search stops at the first key
   under which no pool can reach the best total found (with a margin far above
   float rounding): none further down can beat it, nor tie it and win on host.
4. Placements. ``consume`` moves one pool in the global lists. A placement only
   lowers a pool's reference key when the multipliers have their default signs,
   so a stored key stays an upper bound and the search re-sorts the pool when it
   meets it; a change that can raise a key, or give a full pool room, is logged
   and each signature re-sorts the pool before its next search. When drift makes
   a search score many pools, the signature's reference is recomputed from its
   members' spread and the members re-ranked if it moved.

Totals are computed by :func:`weighers.total_score`, the function the explanation
uses, so both paths compare the same floating-point values.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left, insort
from collections.abc import Hashable, Iterable
from itertools import compress, repeat

from basalt.errors import BasaltUsageError
from basalt.model.capacity import provisionable_gib
from basalt.service.scheduler.candidates import PoolCandidate, ScheduleRequest, consume
from basalt.service.scheduler.explain import Decision, Explanation, by_host, explain
from basalt.service.scheduler.failure import RUNTIME_FILTERS, refusal
from basalt.service.scheduler.filters import FILTERS, PoolFilter
from basalt.service.scheduler.search import Query, SearchStats, best_pool, extremes
from basalt.service.scheduler.settings import FilterName, SchedulerSettings
from basalt.service.scheduler.signature import Signature, SignatureKey, build_signature
from basalt.service.scheduler.specs import CompiledSpecs, compile_extra_specs
from basalt.service.scheduler.weighers import WEIGHERS

MAX_SIGNATURES = 4096


class Scheduler:
    """Chooses pools as :func:`schedule` would, fast, and follows placements.

    Thread-safe: one lock orders decisions and placements.
    """

    def __init__(
        self, pools: Iterable[PoolCandidate], settings: SchedulerSettings | None = None
    ) -> None:
        """Index the pools.

        Args:
            pools: the candidates; hosts must be distinct.
            settings: filters and weighers (default: SchedulerSettings()).

        Raises:
            BasaltUsageError: two candidates have the same host.
        """
        self.settings = settings or SchedulerSettings()
        active = [(n, m) for n, m in self.settings.weighers.items() if m != 0.0]
        self._raw_of = tuple(WEIGHERS[name] for name, _ in active)
        self._multipliers = tuple(m for _, m in active)
        self._signs = tuple(1.0 if m > 0 else -1.0 for m in self._multipliers)
        self._largest_multiplier = max(map(abs, self._multipliers), default=0.0)
        names = [name for name, _ in active]
        self._free_k = names.index("free_capacity") if "free_capacity" in names else -1
        self._static = tuple(FILTERS[n] for n in self.settings.filters if n not in RUNTIME_FILTERS)
        self._checks_capacity = "capacity" in self.settings.filters
        self._checks_avoidance = "different_backend" in self.settings.filters
        if not self._checks_capacity:
            self._free_k = -1  # its raw value is then not the capacity the filter checks
        self._lock = threading.Lock()
        self.stats = SearchStats()
        self._load(pools)

    @property
    def pools(self) -> tuple[PoolCandidate, ...]:
        """The candidates as they now are (placements included), in host order."""
        with self._lock:
            return tuple(self._pools)

    def reload(self, pools: Iterable[PoolCandidate]) -> None:
        """Replace every candidate (fresh stats): all cached filter results are dropped.

        Args:
            pools: the candidates as the drivers now report them; hosts distinct.

        Raises:
            BasaltUsageError: two candidates have the same host.
        """
        with self._lock:
            self._load(pools)

    def schedule(self, request: ScheduleRequest) -> Decision:
        """The pool the full evaluation would choose for ``request`` now.

        Args:
            request: the placement asked for.

        Returns:
            The pool and its total (no explanation: see :meth:`explain`).

        Raises:
            NoValidBackendError: no pool passes every filter; its message counts the
                failures and its explanation is evaluated when first read.
        """
        with self._lock:
            index, total = self._choose(request)
            return Decision(self._pools[index], total, request)

    def place(self, request: ScheduleRequest) -> Decision:
        """Choose a pool and count the new volume on it, in one step.

        Args:
            request: the placement asked for.

        Returns:
            The decision, whose pool is as it was before the volume was counted.

        Raises:
            NoValidBackendError: no pool passes every filter.
        """
        with self._lock:
            index, total = self._choose(request)
            decision = Decision(self._pools[index], total, request)
            self._set(index, consume(self._pools[index], request.size_gib))
            return decision

    def consume(self, host: str, size_gib: int) -> PoolCandidate:
        """Count a new volume of ``size_gib`` placed on the pool ``host``.

        Args:
            host: the pool's ``basalt@<backend>#<pool>``.
            size_gib: the volume's size.

        Returns:
            The pool as it now is (see candidates.consume).

        Raises:
            BasaltUsageError: no candidate has that host.
        """
        with self._lock:
            return self._consume(host, size_gib)

    def update(self, pool: PoolCandidate) -> None:
        """Replace one candidate (same host) with new figures or state.

        Args:
            pool: the candidate as it now is.

        Raises:
            BasaltUsageError: no candidate has that host.
        """
        with self._lock:
            index = self._index_of(pool.host)
            old = self._pools[index]
            static = (old.availability_zone, old.enabled, old.up, old.capabilities)
            if static != (pool.availability_zone, pool.enabled, pool.up, pool.capabilities):
                self._signatures.clear()
                self._masks.clear()
                self._pools[index] = pool
                self._group()
            self._set(index, pool)

    def explain(self, request: ScheduleRequest) -> Explanation:
        """The full evaluation of ``request`` over the candidates as they now are.

        Args:
            request: the placement asked about.

        Returns:
            Every pool's verdicts and scores (see :func:`explain`).
        """
        return explain(self.pools, request, self.settings)

    def _load(self, pools: Iterable[PoolCandidate]) -> None:
        self._pools = by_host(pools)
        self._index = {pool.host: i for i, pool in enumerate(self._pools)}
        self._backend = [pool.backend for pool in self._pools]
        self._cap = [self._capacity_of(pool) for pool in self._pools]
        self._raw = [tuple(raw(pool) for raw in self._raw_of) for pool in self._pools]
        self._version = [0] * len(self._pools)
        # Pools that cannot take even 1 GiB (the smallest request) are never
        # eligible: they stay out of the sorted lists until they can.
        self._by_raw = [
            sorted((values[k], i) for i, values in enumerate(self._raw) if self._cap[i] >= 1)
            for k in range(len(self._raw_of))
        ]
        self._signatures: dict[SignatureKey, Signature] = {}
        self._masks: dict[tuple[FilterName, Hashable], int] = {}
        self._raised: list[int] = []
        self._group()

    def _group(self) -> None:
        """For each static filter that says what it reads of a pool: the pools by that
        value (one representative, and their bytes in a mask)."""
        self._groups: dict[FilterName, dict[Hashable, tuple[int, int]]] = {}
        for rule in self._static:
            if rule.reads_pool is None:
                continue
            groups: dict[Hashable, tuple[int, int]] = {}
            for i, pool in enumerate(self._pools):
                value = rule.reads_pool(pool)
                first, bits = groups.get(value, (i, 0))
                groups[value] = (first, bits | 1 << (8 * i))
            self._groups[rule.name] = groups

    def _capacity_of(self, pool: PoolCandidate) -> float:
        return provisionable_gib(pool) if self._checks_capacity else math.inf

    def _index_of(self, host: str) -> int:
        try:
            return self._index[host]
        except KeyError:
            raise BasaltUsageError(f"scheduler: no candidate pool {host}") from None

    def _consume(self, host: str, size_gib: int) -> PoolCandidate:
        index = self._index_of(host)
        placed = consume(self._pools[index], size_gib)
        self._set(index, placed)
        return placed

    def _set(self, index: int, pool: PoolCandidate) -> None:
        old, old_cap = self._raw[index], self._cap[index]
        new = tuple([raw(pool) for raw in self._raw_of])
        self._pools[index] = pool
        self._cap[index] = cap = self._capacity_of(pool)
        for k, entries in enumerate(self._by_raw):
            _move(
                entries,
                (old[k], index) if old_cap >= 1 else None,
                (new[k], index) if cap >= 1 else None,
            )
        self._raw[index] = new
        self._version[index] += 1
        rose = any(s * n > s * o for s, n, o in zip(self._signs, new, old, strict=True))
        if rose or (old_cap < 1 <= cap):  # signatures must re-sort it before searching
            self._raised.append(index)
            if len(self._raised) > 4 * len(self._pools) + 64:
                self._signatures.clear()
                self._raised.clear()

    def _signature(self, request: ScheduleRequest, specs: CompiledSpecs) -> Signature:
        key = tuple([rule.reads(request, specs) for rule in self._static])
        signature = self._signatures.get(key)
        if signature is None:
            if len(self._signatures) >= MAX_SIGNATURES:
                self._signatures.clear()
            signature = self._signatures[key] = self._build(request, specs)
        elif signature.raised_seen < len(self._raised):
            changed = set(self._raised[signature.raised_seen :])
            signature.resort(changed, self._raw, self._version, self._cap)
        signature.raised_seen = len(self._raised)
        return signature

    def _build(self, request: ScheduleRequest, specs: CompiledSpecs) -> Signature:
        self.stats.signatures_built += 1
        count = len(self._pools)
        passing = int.from_bytes(b"\x01" * count, "little")
        for rule in self._static:
            passing &= self._mask(rule, request, specs)
        is_member = passing.to_bytes(count, "little")
        members = list(compress(range(count), is_member))
        return build_signature(members, self._raw, self._version, self._cap, self._multipliers)

    def _mask(self, rule: PoolFilter, request: ScheduleRequest, specs: CompiledSpecs) -> int:
        """Which pools pass a static filter, one byte per pool (1: passes) read as an
        integer, so that masks combine with ``&``. Kept per value of what the rule reads."""
        key = (rule.name, rule.reads(request, specs))
        found = self._masks.get(key)
        if found is None:
            groups = self._groups.get(rule.name)
            if groups is None:
                outcomes = bytes(map(rule.passes, self._pools, repeat(request), repeat(specs)))
                found = int.from_bytes(outcomes, "little")
            else:  # asked once per value the rule reads of a pool
                found = 0
                for first, bits in groups.values():
                    if rule.passes(self._pools[first], request, specs):
                        found |= bits
            self._masks[key] = found
        return found

    def _choose(self, request: ScheduleRequest) -> tuple[int, float]:
        """The chosen pool's index and total.

        Raises:
            NoValidBackendError: no pool is eligible.
        """
        specs = compile_extra_specs(request.extra_specs)
        signature = self._signature(request, specs)
        avoid = request.different_backend_from if self._checks_avoidance else frozenset()
        query = Query(
            is_member=signature.is_member,
            capacity=self._cap,
            backend=self._backend,
            size=request.size_gib,
            avoid=avoid,
        )
        self.stats.decisions += 1
        found = extremes(query, self._by_raw, self._free_k)
        if found is None:
            self.stats.refusals += 1
            raise refusal(self._pools, request, specs, self.settings, signature)
        lows, highs = found
        index, total = best_pool(
            signature,
            query,
            raws=self._raw,
            versions=self._version,
            lows=lows,
            highs=highs,
            multipliers=self._multipliers,
            largest_multiplier=self._largest_multiplier,
            stats=self.stats,
        )
        if index < 0:  # no weigher: extremes cannot tell whether any pool is eligible
            self.stats.refusals += 1
            raise refusal(self._pools, request, specs, self.settings, signature)
        return index, total


def _move(
    entries: list[tuple[float, int]],
    old: tuple[float, int] | None,
    new: tuple[float, int] | None,
) -> None:
    """Replace ``old`` by ``new`` in a sorted list (None: absent), keeping it sorted."""
    if old == new:
        return
    if old is not None:
        at = bisect_left(entries, old)
        if (
            new is not None
            and (at == 0 or entries[at - 1] <= new)
            and (at + 1 == len(entries) or new <= entries[at + 1])
        ):
            entries[at] = new  # still in order where it is
            return
        del entries[at]
    if new is not None:
        insort(entries, new)
