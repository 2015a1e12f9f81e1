"""Benchmark: scheduling decisions per second, fast path beside the full evaluation.

1,000 pools (25 backends of 40 pools, six vendors, five zones; one backend
disabled, one down) with varied capabilities and capacities, and 10,000 requests
drawn from eight volume types whose extra specs use every operator, mixed sizes
(1 GiB to 1 TiB), zones where the type has pools, and affinity hints (5% same
backend, 5% different backends). Each decision is followed by its placement: the
chosen pool's capacity, allocation and volume count grow before the next one.

Paths over the same pools and requests, in the same run:

- fast: ``Scheduler.schedule`` (cached static filters, bound-pruned search) for
  every request, timed apart from ``Scheduler.consume`` (the placement); the
  times include building each signature's cache the first time it is met.
- full, booleans: every filter's predicate on every pool, every weigher on the
  survivors, no reasons (what the fast path avoids), on the first ``--full``
  requests.
- full, explained: ``schedule()``, every filter's verdict and reason on every
  pool, on the first ``--full`` requests.

The full paths replay the same placements, so their choices must equal the fast
path's on those requests; every 500th request, the fast path's current pools are
also evaluated in full and must agree. Times are CPU time of this process (the
machine is shared: wall time would count other processes' turns); the wall-clock
rate is printed too, with the load average and a calibration loop. Target: at
least 10,000 decisions/s (under 0.1 ms each) on the fast path.

    uv run python bench/scheduler.py [--quick] [--requests 10000] [--full 300]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import sys
import time
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from basalt.errors import NoValidBackendError  # noqa: E402
from basalt.service.scheduler import (  # noqa: E402
    FILTERS,
    WEIGHERS,
    PoolCandidate,
    Scheduler,
    ScheduleRequest,
    SchedulerSettings,
    compile_extra_specs,
    consume,
    schedule,
)
from basalt.service.scheduler.weighers import scales_of, total_score  # noqa: E402
from bench.common import percentile, save, table  # noqa: E402
from bench.scheduler_workload import VOLUME_TYPES, make_pools, make_requests  # noqa: E402

TARGET_PER_S = 10_000
CLOCK = time.process_time
"""CPU time of this process: the machine is shared, so wall time would count the
moments another process held the core."""


class FastRun:
    """What the fast path chose and how long each decision and placement took."""

    def __init__(self) -> None:
        self.hosts: list[str | None] = []
        self.decisions: list[float] = []
        self.placements: list[float] = []
        """Per request, how long counting the placement took (0 when refused)."""
        self.checkpoints = 0
        self.wall_s = 0.0
        """Wall time of the whole run, decisions and placements, checkpoints excluded."""
        self.stats: dict[str, int] = {}


def run_fast(
    pools: Sequence[PoolCandidate], requests: Sequence[ScheduleRequest], settings: SchedulerSettings
) -> FastRun:
    """Decide every request on the fast path and place the volume where it went."""
    scheduler = Scheduler(pools, settings)
    run = FastRun()
    started = time.perf_counter()
    for n, request in enumerate(requests):
        before = CLOCK()
        try:
            host: str | None = scheduler.schedule(request).host
        except NoValidBackendError:
            host = None
        decided = CLOCK()
        if host is not None:
            scheduler.consume(host, request.size_gib)
        run.placements.append(CLOCK() - decided if host is not None else 0.0)
        run.decisions.append(decided - before)
        run.hosts.append(host)
        if n % 500 == 499:  # deep in the run, the full evaluation must still agree
            paused = time.perf_counter()
            _agree(scheduler, requests[(n + 1) % len(requests)], settings)
            run.checkpoints += 1
            started += time.perf_counter() - paused
    run.wall_s = time.perf_counter() - started
    run.stats = dataclasses.asdict(scheduler.stats)
    return run


def _agree(scheduler: Scheduler, request: ScheduleRequest, settings: SchedulerSettings) -> None:
    fast = _host_or_none(lambda: scheduler.schedule(request).host)
    full = _host_or_none(lambda: schedule(scheduler.pools, request, settings).host)
    if fast != full:
        raise SystemExit(f"fast path chose {fast}, full evaluation {full} for {request}")


def _host_or_none(choose: Callable[[], str]) -> str | None:
    try:
        return choose()
    except NoValidBackendError:
        return None


def run_full(
    pools: Sequence[PoolCandidate],
    requests: Sequence[ScheduleRequest],
    choose: Callable[[list[PoolCandidate], ScheduleRequest], str | None],
) -> tuple[list[str | None], list[float]]:
    """Replay the placements with a full evaluation per request."""
    current = {pool.host: pool for pool in pools}
    hosts, latencies = [], []
    for request in requests:
        before = CLOCK()
        host = choose(list(current.values()), request)
        latencies.append(CLOCK() - before)
        hosts.append(host)
        if host is not None:
            current[host] = consume(current[host], request.size_gib)
    return hosts, latencies


def explained(
    settings: SchedulerSettings,
) -> Callable[[list[PoolCandidate], ScheduleRequest], str | None]:
    """schedule(): every filter's verdict with its reason on every pool."""
    return lambda pools, request: _host_or_none(lambda: schedule(pools, request, settings).host)


def booleans(
    settings: SchedulerSettings,
) -> Callable[[list[PoolCandidate], ScheduleRequest], str | None]:
    """Every filter's predicate on every pool, every weigher on the survivors, no reasons."""
    chain = [FILTERS[name].passes for name in settings.filters]
    names = list(settings.weighers)
    multipliers = [settings.weighers[name] for name in names]

    def choose(pools: list[PoolCandidate], request: ScheduleRequest) -> str | None:
        specs = compile_extra_specs(request.extra_specs)
        survivors = [p for p in pools if all(test(p, request, specs) for test in chain)]
        if not survivors:
            return None
        raws = [tuple(WEIGHERS[name](p) for name in names) for p in survivors]
        scales = scales_of(raws)
        lows = [s.low for s in scales]
        spans = [s.span for s in scales]
        totals = [total_score(raw, lows, spans, multipliers) for raw in raws]
        best = min(range(len(survivors)), key=lambda i: (-totals[i], survivors[i].host))
        return survivors[best].host

    return choose


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 requests, 100 in full")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--full", type=int, default=300, help="requests also run in full")
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    count, full_count = (2_000, 100) if args.quick else (args.requests, args.full)
    rng = random.Random(args.seed)
    pools = make_pools(rng)
    requests = make_requests(rng, count, pools)
    settings = SchedulerSettings()
    load_before = os.getloadavg()[0]
    fast = run_fast(pools, requests, settings)
    head = requests[:full_count]
    bool_hosts, bool_lat = run_full(pools, head, booleans(settings))
    full_hosts, full_lat = run_full(pools, head, explained(settings))
    agree = sum(a == b == c for a, b, c in zip(fast.hosts, bool_hosts, full_hosts, strict=False))
    print(_table(fast, bool_lat, full_lat))
    print()
    print(_findings(pools, requests, fast, agree, len(head)))
    print(_context(load_before))
    path = save(
        "scheduler",
        {
            "pools": len(pools),
            "requests": len(requests),
            "no_valid_backend": fast.hosts.count(None),
            "fast_decisions": _summary(fast.decisions),
            "fast_placements": _summary(fast.placements),
            "full_booleans": _summary(bool_lat),
            "full_explained": _summary(full_lat),
            "fast_stats": fast.stats,
            "agree": agree,
            "compared": len(head),
            "checkpoints": fast.checkpoints,
        },
    )
    print(f"Raw results: {path}")
    return 0 if agree == len(head) else 1


def _table(fast: FastRun, bool_lat: list[float], full_lat: list[float]) -> str:
    both = [d + p for d, p in zip(fast.decisions, fast.placements, strict=True)]
    booleans_per_s = len(bool_lat) / sum(bool_lat)
    explained_per_s = len(full_lat) / sum(full_lat)
    rows = []
    for path, lat in (
        ("fast: decision (Scheduler.schedule)", fast.decisions),
        ("fast: decision + placement (schedule, consume)", both),
        ("full, booleans: every predicate on every pool", bool_lat),
        ("full, explained: schedule(), every verdict and reason", full_lat),
    ):
        per_s = len(lat) / sum(lat)
        rows.append(
            [
                path,
                f"{len(lat):,}",
                f"{per_s:,.0f}",
                f"{percentile(lat, 50) * 1e6:,.1f}",
                f"{percentile(lat, 99) * 1e6:,.1f}",
                f"{per_s / booleans_per_s:,.1f}x",
                f"{per_s / explained_per_s:,.1f}x",
            ]
        )
    headers = ["path", "decisions", "per second", "p50 us", "p99 us", "vs booleans", "vs explained"]
    return table(headers, rows)


def _findings(
    pools: Sequence[PoolCandidate],
    requests: Sequence[ScheduleRequest],
    fast: FastRun,
    agree: int,
    compared: int,
) -> str:
    per_s = len(fast.decisions) / sum(fast.decisions)
    stats = fast.stats
    decisions = max(1, stats["decisions"])
    verdict = "MET" if per_s >= TARGET_PER_S else "NOT MET"
    return "\n".join(
        [
            f"{len(pools):,} pools, {len(requests):,} requests ({fast.hosts.count(None)} found "
            f"no valid backend), {len(VOLUME_TYPES)} volume types. All three paths chose the "
            f"same pool for {agree}/{compared} of the first requests; the fast path agreed with "
            f"a full evaluation of its own state at {fast.checkpoints}/{fast.checkpoints} "
            "checkpoints.",
            f"Fast path work: {stats['signatures_built']} signatures built, "
            f"{stats['pools_scored'] / decisions:.1f} pools scored and "
            f"{stats['repairs'] / decisions:.1f} stale pools moved per decision, "
            f"{stats['rescales']} re-rankings.",
            f"Target: >= {TARGET_PER_S:,} decisions/s on the fast path: {per_s:,.0f} -> {verdict} "
            f"(CPU time; by wall clock, decisions with their placements: "
            f"{len(fast.decisions) / fast.wall_s:,.0f}/s).",
        ]
    )


def _context(load_before: float) -> str:
    calibration = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000
    return (
        f"Machine: 1-minute load average {load_before:.1f} before the run, "
        f"{os.getloadavg()[0]:.1f} after; sum(range(1000)) took {calibration * 1e6:.1f} us "
        "(about 10 us on an idle desktop core)."
    )


def _summary(latencies: Sequence[float]) -> dict[str, float]:
    return {p: percentile(latencies, float(p[1:])) for p in ("p50", "p90", "p99")}


if __name__ == "__main__":
    raise SystemExit(main())
