"""A refusal from the fast path: the message of the full evaluation, without it.

When no pool is eligible, the message counts each pool under the first filter
(in the configured order) that it fails, as :meth:`Explanation.failure_summary`
does. The fast path knows which pools pass the static filters; for the others
the first static failure is found once per signature and kept. The full
explanation is evaluated only if the error's ``explanation`` is read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from basalt.errors import NoValidBackendError
from basalt.service.scheduler.candidates import PoolCandidate, ScheduleRequest
from basalt.service.scheduler.explain import explain, summarise_failures
from basalt.service.scheduler.filters import FILTERS
from basalt.service.scheduler.settings import FilterName, SchedulerSettings
from basalt.service.scheduler.signature import Signature, StaticFailures
from basalt.service.scheduler.specs import CompiledSpecs

RUNTIME_FILTERS: tuple[FilterName, ...] = ("different_backend", "capacity")
"""The filters the fast path applies per request instead of per signature."""


def refusal(
    pools: Sequence[PoolCandidate],
    request: ScheduleRequest,
    specs: CompiledSpecs,
    settings: SchedulerSettings,
    signature: Signature,
) -> NoValidBackendError:
    """The error for a request no pool can take, its explanation evaluated on demand.

    Args:
        pools: every candidate, in host order, as they are now.
        request: the refused request.
        specs: its compiled extra specs.
        settings: the scheduler's settings.
        signature: the request's signature (members, cached static failures).
    """
    snapshot = tuple(pools)
    if signature.static_failures is None:
        signature.static_failures = static_failures(snapshot, request, specs, settings, signature)
    settled, unsettled = signature.static_failures
    tally = Counter(settled)
    runtime = [(pos, FILTERS[n]) for pos, n in enumerate(settings.filters) if n in RUNTIME_FILTERS]
    everything = len(settings.filters)
    for i in [*signature.members, *unsettled]:
        pool, static = snapshot[i], unsettled.get(i)
        limit = everything if static is None else static[0]
        for position, rule in runtime:
            if position < limit and not rule.passes(pool, request, specs):
                tally[rule.name, rule.cause(pool, request, specs)] += 1
                break
        else:
            if static is not None:
                tally[static[1], static[2]] += 1
    summary = summarise_failures(
        request.size_gib, tally, settings.filters, pool_count=len(snapshot)
    )
    return NoValidBackendError(summary, lambda: explain(snapshot, request, settings))


def static_failures(
    pools: Sequence[PoolCandidate],
    request: ScheduleRequest,
    specs: CompiledSpecs,
    settings: SchedulerSettings,
    signature: Signature,
) -> StaticFailures:
    """Each pool outside the signature's first failing static filter.

    Returns:
        The (filter, cause) counts of the pools whose static failure comes before
        every per-request filter in the configured order (no request changes them),
        and the others by index: (position, filter, cause).
    """
    static = [
        (pos, name) for pos, name in enumerate(settings.filters) if name not in RUNTIME_FILTERS
    ]
    runtime_first = min(
        (pos for pos, name in enumerate(settings.filters) if name in RUNTIME_FILTERS),
        default=len(settings.filters),
    )
    settled: Counter[tuple[FilterName, str | None]] = Counter()
    unsettled = {}
    for i, pool in enumerate(pools):
        if signature.is_member[i]:
            continue
        for position, name in static:
            rule = FILTERS[name]
            if not rule.passes(pool, request, specs):
                if position < runtime_first:
                    settled[name, rule.cause(pool, request, specs)] += 1
                else:
                    unsettled[i] = (position, name, rule.cause(pool, request, specs))
                break
    return settled, unsettled
