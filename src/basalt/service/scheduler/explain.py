"""The full evaluation: every filter on every pool, every weigher on every survivor.

:func:`explain` answers, for one request, each pool's filter verdicts with their
reasons and each weigher's raw, normalised and weighted score, the totals and the
ranks. :func:`schedule` is the same evaluation returning the winner. This is the
reference the fast path (:mod:`basalt.service.scheduler.fast`) must agree with.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from basalt.errors import BasaltUsageError, NoValidBackendError
from basalt.service.scheduler.candidates import PoolCandidate, ScheduleRequest
from basalt.service.scheduler.filters import FILTERS, FilterVerdict
from basalt.service.scheduler.render import explanation_as_dict, explanation_as_text
from basalt.service.scheduler.settings import FilterName, SchedulerSettings, WeigherName
from basalt.service.scheduler.specs import compile_extra_specs
from basalt.service.scheduler.weighers import WEIGHERS, scales_of, total_score


@dataclass(frozen=True, slots=True)
class WeigherScore:
    """One weigher's view of one pool that passed every filter."""

    weigher: WeigherName
    multiplier: float
    raw: float
    normalised: float
    """0..1 across the pools that passed."""
    weighted: float
    """normalised x multiplier."""


@dataclass(frozen=True, slots=True)
class PoolVerdict:
    """One pool: each filter's verdict and, when all passed, its scores and rank."""

    pool: PoolCandidate
    filters: tuple[FilterVerdict, ...]
    scores: tuple[WeigherScore, ...] = ()
    total: float | None = None
    rank: int | None = None
    """1 is the chosen pool; None when a filter failed."""

    @property
    def passed(self) -> bool:
        return all(verdict.passed for verdict in self.filters)

    @property
    def chosen(self) -> bool:
        return self.rank == 1

    @property
    def first_failure(self) -> FilterVerdict | None:
        """The first filter, in the configured order, that the pool failed."""
        return next((v for v in self.filters if not v.passed), None)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why the scheduler would choose what it chooses for one request."""

    request: ScheduleRequest
    settings: SchedulerSettings
    pools: tuple[PoolVerdict, ...]
    """Pools that passed, best first, then the others by host."""

    @property
    def chosen(self) -> PoolVerdict | None:
        """The winner, or None when no pool passed every filter."""
        first = self.pools[0] if self.pools else None
        return first if first is not None and first.chosen else None

    def failure_summary(self) -> str:
        """How many pools failed which filter first, with the commonest causes.

        Returns:
            e.g. "no pool can take 50 GiB: 3 fail capacity, 2 fail capabilities
            (volume_backend_name=gold)".
        """
        tally = Counter((f.filter, f.cause) for v in self.pools if (f := v.first_failure))
        return summarise_failures(
            self.request.size_gib, tally, self.settings.filters, pool_count=len(self.pools)
        )

    def as_dict(self) -> dict[str, object]:
        """The explanation as JSON-able values (the REST answer).

        Returns:
            request, filters, weighers, chosen (host or None), summary (the refusal
            message, or None) and pools (each with its verdicts and scores).
        """
        return explanation_as_dict(self)

    def as_text(self, *, limit: int | None = 50, verbose: bool = False) -> str:
        """The explanation as plain-text tables (the CLI, error messages).

        Args:
            limit: at most this many pools per table (None: all).
            verbose: also list the reasons of the filters each pool passed.

        Returns:
            The request and the outcome, the ranked pools with their scores, the
            failed pools with each failing filter's reason.
        """
        return explanation_as_text(self, limit=limit, verbose=verbose)


@dataclass(frozen=True, slots=True)
class Decision:
    """Where a new volume goes."""

    pool: PoolCandidate
    score: float
    request: ScheduleRequest
    explanation: Explanation | None = None
    """The full evaluation, when the decision came from it (not from the fast path)."""

    @property
    def host(self) -> str:
        return self.pool.host


def explain(
    pools: Iterable[PoolCandidate],
    request: ScheduleRequest,
    settings: SchedulerSettings | None = None,
) -> Explanation:
    """Evaluate every filter on every pool and weigh the pools that pass.

    Args:
        pools: the candidates; hosts must be distinct.
        request: the placement asked for.
        settings: filters and weighers (default: SchedulerSettings()).

    Returns:
        Every pool's verdicts and scores, the ranks, and the request.

    Raises:
        BasaltUsageError: two candidates have the same host.
    """
    settings = settings or SchedulerSettings()
    specs = compile_extra_specs(request.extra_specs)
    chain = [FILTERS[name] for name in settings.filters]
    judged = [
        (pool, tuple(f.verdict(pool, request, specs) for f in chain)) for pool in by_host(pools)
    ]
    passed = [(pool, verdicts) for pool, verdicts in judged if all(v.passed for v in verdicts)]
    failed = [
        PoolVerdict(pool, verdicts)
        for pool, verdicts in judged
        if not all(v.passed for v in verdicts)
    ]
    return Explanation(request, settings, (*_ranked(passed, settings), *failed))


def _ranked(
    passed: list[tuple[PoolCandidate, tuple[FilterVerdict, ...]]], settings: SchedulerSettings
) -> list[PoolVerdict]:
    """The pools that passed every filter, weighed and ranked: best first, equal totals
    by host."""
    names = tuple(settings.weighers)
    multipliers = tuple(settings.weighers[name] for name in names)
    raws = [tuple(WEIGHERS[name](pool) for name in names) for pool, _ in passed]
    scales = scales_of(raws)
    lows = tuple(scale.low for scale in scales)
    spans = tuple(scale.span for scale in scales)
    totals = [total_score(raw, lows, spans, multipliers) for raw in raws]
    order = sorted(range(len(passed)), key=lambda i: (-totals[i], passed[i][0].host))
    ranked = []
    for rank, i in enumerate(order, start=1):
        pool, verdicts = passed[i]
        scores = tuple(
            WeigherScore(name, m, raw, scale.normalise(raw), scale.normalise(raw) * m)
            for name, m, raw, scale in zip(names, multipliers, raws[i], scales, strict=True)
        )
        ranked.append(PoolVerdict(pool, verdicts, scores, totals[i], rank))
    return ranked


def schedule(
    pools: Iterable[PoolCandidate],
    request: ScheduleRequest,
    settings: SchedulerSettings | None = None,
) -> Decision:
    """Choose a pool by the full evaluation (see :class:`Scheduler` for the fast path).

    Args:
        pools: the candidates; hosts must be distinct.
        request: the placement asked for.
        settings: filters and weighers (default: SchedulerSettings()).

    Returns:
        The best pool, its score, and the explanation.

    Raises:
        NoValidBackendError: no pool passed every filter; it carries the explanation.
        BasaltUsageError: two candidates have the same host.
    """
    explanation = explain(pools, request, settings)
    chosen = explanation.chosen
    if chosen is None or chosen.total is None:
        raise NoValidBackendError(explanation.failure_summary(), lambda: explanation)
    return Decision(chosen.pool, chosen.total, request, explanation)


def summarise_failures(
    size_gib: int,
    tally: Mapping[tuple[FilterName, str | None], int],
    order: Sequence[FilterName],
    *,
    pool_count: int,
) -> str:
    """The message of a refusal: how many pools failed which filter first, and why.

    Args:
        size_gib: the requested size.
        tally: how many pools failed first each (filter, cause).
        order: the configured filters (ties in count follow it).
        pool_count: how many pools there are.

    Returns:
        e.g. "no pool can take 50 GiB: 3 fail capacity, 2 fail capabilities
        (volume_backend_name=gold)".
    """
    lead = f"no pool can take {size_gib} GiB"
    if not pool_count:
        return f"{lead}: no pools are known"
    counts: Counter[FilterName] = Counter()
    causes: dict[FilterName, list[tuple[int, str]]] = {}
    for (name, cause), count in tally.items():
        counts[name] += count
        if cause is not None:
            causes.setdefault(name, []).append((-count, cause))
    position = {name: i for i, name in enumerate(order)}
    parts = []
    for name, count in sorted(counts.items(), key=lambda item: (-item[1], position[item[0]])):
        common = [(-n, cause) for n, cause in sorted(causes.get(name, []))[:2]]
        named = f" ({', '.join(cause for _, cause in common)})" if common else ""
        parts.append(f"{count} fail {name}{named}")
    return f"{lead}: {', '.join(parts)}"


def by_host(pools: Iterable[PoolCandidate]) -> list[PoolCandidate]:
    """The candidates in host order (the tie-break order).

    Raises:
        BasaltUsageError: two candidates have the same host.
    """
    ordered = sorted(pools, key=lambda pool: pool.host)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.host == after.host:
            raise BasaltUsageError(f"scheduler: two candidates for pool {after.host}")
    return ordered
