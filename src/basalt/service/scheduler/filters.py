"""The filters a pool must pass to take a new volume, each with its reason.

Each filter is a predicate (``passes``: the rule, the only copy of it, also used by
the fast path) and a describer that words the outcome for people. Only the
capacity filter reads capacity; the others depend on the request's extra specs,
zone and affinity hints alone, which is what lets the fast path cache them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from basalt.model.capacity import capacity_reason, fits
from basalt.service.scheduler.candidates import PoolCandidate, ScheduleRequest
from basalt.service.scheduler.settings import FilterName
from basalt.service.scheduler.specs import CompiledSpecs

Predicate = Callable[[PoolCandidate, ScheduleRequest, CompiledSpecs], bool]
Wording = Callable[[PoolCandidate, ScheduleRequest, CompiledSpecs, bool], str]
"""Words the outcome (the last argument: whether the pool passed)."""
Cause = Callable[[PoolCandidate, ScheduleRequest, CompiledSpecs], str | None]
"""What failed, in a few words, for summaries; only asked of pools that failed."""
Reads = Callable[[ScheduleRequest, CompiledSpecs], Hashable]
"""The only part of the request the rule reads (with the pool): for equal values the
rule gives every pool the same outcome, which the fast path relies on to keep it."""
ReadsPool = Callable[[PoolCandidate], Hashable]
"""The only part of the pool the rule reads, when it is hashable: pools with equal
values get the same outcome, so the fast path asks the rule once per value."""


@dataclass(frozen=True, slots=True)
class FilterVerdict:
    """One filter's outcome for one pool."""

    filter: FilterName
    passed: bool
    reason: str
    cause: str | None = None
    """What failed, in a few words (``volume_backend_name=gold``, ``zone az2``)."""

    def as_dict(self) -> dict[str, object]:
        """The verdict as JSON-able values (name, passed, reason)."""
        return {"name": self.filter, "passed": self.passed, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class PoolFilter:
    """A filter: its rule, how its outcome is worded, and the short cause of a failure."""

    name: FilterName
    passes: Predicate
    wording: Wording
    cause: Cause
    reads: Reads
    reads_pool: ReadsPool | None = None

    def verdict(
        self, pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs
    ) -> FilterVerdict:
        """Apply the rule to one pool and word the outcome.

        Args:
            pool: the candidate.
            request: the placement asked for.
            specs: the request's extra specs, compiled.

        Returns:
            Whether the pool passed, why, and the short cause of a failure.
        """
        passed = self.passes(pool, request, specs)
        reason = self.wording(pool, request, specs, passed)
        return FilterVerdict(
            self.name, passed, reason, None if passed else self.cause(pool, request, specs)
        )


def _usable(pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs) -> bool:
    return pool.enabled and pool.up


def _word_usable(
    pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs, passed: bool
) -> str:
    if passed:
        return f"backend {pool.backend} is enabled and up"
    states = [("disabled", pool.disabled_reason)] if not pool.enabled else []
    states += [("down", pool.down_reason)] if not pool.up else []
    return f"backend {pool.backend} is " + " and ".join(
        state + (f" ({why})" if why else "") for state, why in states
    )


def _unusable_cause(pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs) -> str:
    return " and ".join(
        s for s, bad in (("disabled", not pool.enabled), ("down", not pool.up)) if bad
    )


def _in_zone(pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs) -> bool:
    return request.availability_zone is None or pool.availability_zone == request.availability_zone


def _word_zone(
    pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs, passed: bool
) -> str:
    wanted = request.availability_zone
    if wanted is None:
        return f"any zone asked; in {pool.availability_zone}"
    if passed:
        return f"in zone {wanted}"
    return f"in zone {pool.availability_zone}, not {wanted}"


def _zone_cause(pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs) -> str:
    return f"zone {request.availability_zone}"


def _on_same_backend(pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs) -> bool:
    return not request.same_backend_as or pool.backend in request.same_backend_as


def _word_same(
    pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs, passed: bool
) -> str:
    if not request.same_backend_as:
        return "no same_backend_as hint"
    if passed:
        return f"on backend {pool.backend}, as same_backend_as asks"
    return f"on backend {pool.backend}, not {_names(request.same_backend_as)} (same_backend_as)"


def _same_cause(pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs) -> str:
    return f"same backend as {_names(request.same_backend_as)}"


def _off_other_backends(
    pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs
) -> bool:
    return pool.backend not in request.different_backend_from


def _word_different(
    pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs, passed: bool
) -> str:
    if not request.different_backend_from:
        return "no different_backend_from hint"
    if passed:
        return f"on backend {pool.backend}, not on {_names(request.different_backend_from)}"
    return f"on backend {pool.backend}, which different_backend_from excludes"


def _different_cause(pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs) -> str:
    return f"different backend from {_names(request.different_backend_from)}"


def _capable(pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs) -> bool:
    return specs.matches(pool.capabilities)


def _word_capable(
    pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs, passed: bool
) -> str:
    if passed:
        if not specs.requirements:
            return "no capability requirements"
        return "matches " + ", ".join(r.label for r in specs.requirements)
    return "; ".join(f"{label}: {detail}" for label, detail in specs.unmet(pool.capabilities))


def _incapable_cause(
    pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs
) -> str | None:
    unmet = specs.unmet(pool.capabilities)
    return unmet[0][0] if unmet else None


def _roomy(pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs) -> bool:
    return fits(pool, request.size_gib)


def _word_room(
    pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs, passed: bool
) -> str:
    return capacity_reason(pool, request.size_gib)


def _no_cause(pool: PoolCandidate, request: ScheduleRequest, specs: CompiledSpecs) -> None:
    return None


def _names(backends: frozenset[str]) -> str:
    return ", ".join(sorted(backends))


FILTERS: dict[FilterName, PoolFilter] = {
    "enabled": PoolFilter(
        "enabled",
        _usable,
        _word_usable,
        _unusable_cause,
        lambda request, specs: None,
        lambda pool: (pool.enabled, pool.up),
    ),
    "availability_zone": PoolFilter(
        "availability_zone",
        _in_zone,
        _word_zone,
        _zone_cause,
        lambda request, specs: request.availability_zone,
        lambda pool: pool.availability_zone,
    ),
    "same_backend": PoolFilter(
        "same_backend",
        _on_same_backend,
        _word_same,
        _same_cause,
        lambda request, specs: request.same_backend_as,
        lambda pool: pool.backend,
    ),
    "different_backend": PoolFilter(
        "different_backend",
        _off_other_backends,
        _word_different,
        _different_cause,
        lambda request, specs: request.different_backend_from,
        lambda pool: pool.backend,
    ),
    "capabilities": PoolFilter(
        "capabilities", _capable, _word_capable, _incapable_cause, lambda request, specs: specs.key
    ),
    "capacity": PoolFilter(
        "capacity", _roomy, _word_room, _no_cause, lambda request, specs: request.size_gib
    ),
}
"""Every filter by the name the settings use."""
