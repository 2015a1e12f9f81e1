"""The scheduler: which pool a new volume goes to, and why.

Pure: it decides over :class:`PoolCandidate` values the service builds and never
reads the database or calls a driver. The capacity rule (capacity.py) is shared
with the service's capacity claim; specs.py reads volume types' extra specs.
"""

from basalt.service.scheduler.candidates import PoolCandidate, ScheduleRequest, consume
from basalt.service.scheduler.capacity import (
    CapacityFigures,
    capacity_reason,
    fits,
    provisionable_gib,
    reserved_gib,
)
from basalt.service.scheduler.settings import SchedulerSettings
from basalt.service.scheduler.specs import CompiledSpecs, check_extra_specs, compile_extra_specs

__all__ = [
    "CapacityFigures",
    "CompiledSpecs",
    "PoolCandidate",
    "ScheduleRequest",
    "SchedulerSettings",
    "capacity_reason",
    "check_extra_specs",
    "compile_extra_specs",
    "consume",
    "fits",
    "provisionable_gib",
    "reserved_gib",
]
