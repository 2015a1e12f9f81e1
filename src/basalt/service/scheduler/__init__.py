"""The scheduler: which pool a new volume goes to, and why.

Pure: it decides over :class:`PoolCandidate` values the service builds and never
reads the database or calls a driver. Filters (filters.py) say which pools may
take a request, weighers (weighers.py) rank those that may; :func:`explain` runs
every filter on every pool and reports why, :func:`schedule` returns its winner,
and :class:`Scheduler` reaches the same decision fast and follows placements.
The capacity rule (basalt.model.capacity) is shared with the service's capacity claim.
"""

from basalt.model.capacity import (
    CapacityFigures,
    capacity_reason,
    fits,
    provisionable_gib,
    reserved_gib,
)
from basalt.service.scheduler.candidates import PoolCandidate, ScheduleRequest, consume
from basalt.service.scheduler.explain import (
    Decision,
    Explanation,
    PoolVerdict,
    WeigherScore,
    explain,
    schedule,
)
from basalt.service.scheduler.fast import Scheduler
from basalt.service.scheduler.filters import FILTERS, FilterVerdict
from basalt.service.scheduler.settings import SchedulerSettings
from basalt.service.scheduler.specs import CompiledSpecs, check_extra_specs, compile_extra_specs
from basalt.service.scheduler.weighers import WEIGHERS

__all__ = [
    "FILTERS",
    "WEIGHERS",
    "CapacityFigures",
    "CompiledSpecs",
    "Decision",
    "Explanation",
    "FilterVerdict",
    "PoolCandidate",
    "PoolVerdict",
    "ScheduleRequest",
    "Scheduler",
    "SchedulerSettings",
    "WeigherScore",
    "capacity_reason",
    "check_extra_specs",
    "compile_extra_specs",
    "consume",
    "explain",
    "fits",
    "provisionable_gib",
    "reserved_gib",
    "schedule",
]
