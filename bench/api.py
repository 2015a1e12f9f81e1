"""Benchmark: the REST API's volume listing, show and create+delete, at 10,000 and 100,000 volumes.

Two `basalt serve` processes run on loopback at once, one over a data directory
holding 10,000 volumes and one holding 100,000, one in ten of them reserved
(written before they start by bench/population.py, as REST creates and
os-reserve actions would have left them), and are driven by
bench/http_client.py:

- list: ``GET /v3/basalt/volumes/detail?limit=1000`` and then every next link
  (marker) to the end, one client; each page is timed. Target: p50 < 100 ms
  per page at 100,000 volumes;
- show: ``GET /v3/basalt/volumes/{id}`` of random populated volumes, by 1 client
  (latency) and by 8 (throughput);
- create+delete: control_plane.py's cycle (POST, wait until available, DELETE,
  GET until 404), 16 clients, on the 10,000-volume server.

Beside them, interleaved round by round, the floor (bench/api_floor.py): the
same pages' SQL run directly on the same SQLite files plus json.dumps of the
rows, and the by-id SELECT plus json.dumps for show.

    uv run python bench/api.py [--quick] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import api_floor  # noqa: E402
from bench.api_load import (  # noqa: E402
    PAGE,
    Job,
    create_one,
    reserve,
    run_jobs,
    show,
    timed_cycle,
    walk,
)
from bench.api_report import Row, ratio_lines, ratios, render, row_names  # noqa: E402
from bench.common import save  # noqa: E402
from bench.population import RESERVE_EVERY, Target, populate, row_shape, target_for  # noqa: E402
from tests.support.server import PROJECT, ServerProcess, start_server  # noqa: E402

TARGET_P50_MS = 100.0
# 1 GiB volumes: 100,000 of them over-subscribe this disk far beyond the default 20x.
BACKENDS = [{"name": "file", "max_over_subscription_ratio": 10_000.0}]
SHOW_CLIENTS, CYCLE_CLIENTS = (1, 8), 16


@dataclass(frozen=True)
class Plan:
    """How much to measure."""

    sizes: tuple[int, int]
    rounds: int
    walks: tuple[int, int]  # whole listings per round, per size
    shows: int  # per round and client count
    cycles: int


FULL = Plan(sizes=(10_000, 100_000), rounds=3, walks=(3, 1), shows=1000, cycles=500)
QUICK = Plan(sizes=(1_000, 10_000), rounds=2, walks=(3, 1), shows=200, cycles=100)


@dataclass
class Site:
    """One populated data directory and the server running on it."""

    volumes: int
    target: Target
    server: ServerProcess
    populate_s: float
    start_s: float

    @property
    def db_path(self) -> Path:
        return self.target.settings.data_dir / "basalt.db"


def measure_lists(sites: Sequence[Site], plan: Plan, rows: dict[str, Row]) -> None:
    """Each size's whole listings through the API (1 client), then on its floor."""
    for site, walks in zip(sites, plan.walks, strict=True):
        jobs: list[Job] = [partial(walk, expected=site.volumes) for _ in range(walks)]
        rows[f"list {site.volumes}"].record(asyncio.run(run_jobs(site.server, jobs, clients=1)))
        with api_floor.reading(site.db_path) as db:
            for _ in range(walks):
                cpu_before = time.thread_time()
                pages = api_floor.walk(db, project_id=PROJECT, limit=PAGE)
                full = [seconds for count, seconds in pages if count == PAGE]
                rows[f"floor {site.volumes}"].add(
                    full, sum(s for _, s in pages), cpu_s=time.thread_time() - cpu_before
                )


def measure_shows(site: Site, plan: Plan, rows: dict[str, Row]) -> None:
    """Shows of random volumes by each client count, then the same reads on the floor."""
    ids = _sample_ids(site, plan.shows)
    for clients in SHOW_CLIENTS:
        jobs: list[Job] = [partial(show, volume_id=i) for i in ids]
        rows[f"show {clients}"].record(asyncio.run(run_jobs(site.server, jobs, clients=clients)))
    with api_floor.reading(site.db_path) as db:
        cpu_before = time.thread_time()
        latencies = api_floor.shows(db, ids)
        rows["show floor"].add(latencies, sum(latencies), cpu_s=time.thread_time() - cpu_before)


def measure_cycles(site: Site, plan: Plan, row: Row) -> None:
    """Create+delete cycles through REST, after a short warm-up."""
    asyncio.run(run_jobs(site.server, [timed_cycle] * 20, clients=1))
    jobs: list[Job] = [timed_cycle] * plan.cycles
    run = asyncio.run(run_jobs(site.server, jobs, clients=CYCLE_CLIENTS))
    row.record(run, count_requests=True)


def _sample_ids(site: Site, count: int) -> list[str]:
    with api_floor.reading(site.db_path) as db:
        ids = [str(r[0]) for r in db.execute("SELECT id FROM volumes")]
    return random.sample(ids, min(count, len(ids)))


def open_sites(work: Path, sizes: Sequence[int]) -> list[Site]:
    """Populate a data directory per size (in parallel processes: each is one busy
    process, and the machine has two cores), then start a server on each, one after
    the other so that each start's time is its own."""
    data_dirs = [work / f"volumes-{volumes}" / "data" for volumes in sizes]
    with ProcessPoolExecutor(len(sizes)) as pool:
        jobs = [
            pool.submit(populate, data_dir, volumes, backends=BACKENDS)
            for data_dir, volumes in zip(data_dirs, sizes, strict=True)
        ]
        populate_s = [job.result() for job in jobs]
    started = [_started(data_dir) for data_dir in data_dirs]
    return [
        Site(
            volumes=volumes,
            target=target_for(data_dir, BACKENDS),
            server=server,
            populate_s=seconds,
            start_s=start_s,
        )
        for volumes, data_dir, seconds, (server, start_s) in zip(
            sizes, data_dirs, populate_s, started, strict=True
        )
    ]


def _started(data_dir: Path) -> tuple[ServerProcess, float]:
    began = time.perf_counter()
    server = start_server(data_dir, env={"BASALT_BACKENDS": json.dumps(BACKENDS)}, timeout=600)
    return server, time.perf_counter() - began


def reconcile_findings(site: Site) -> list[str]:
    """What start-up reconciliation changed in a populated directory; empty when nothing.

    Run before any request writes: a clean start logs no reconcile line, leaves the
    volumes as they were written and adds no event (a create writes three, a
    reservation two).
    """
    log = site.server.log()
    needles = ("reconciled after restart", "backend holds", " ERROR ", "Traceback")
    problems = [f"server log: {n.strip()!r}" for n in needles if n in log]
    reserved = site.volumes // RESERVE_EVERY
    expected = {"available": site.volumes - reserved, "reserved": reserved}
    with api_floor.reading(site.db_path) as db:
        statuses = dict(db.execute("SELECT status, count(*) FROM volumes GROUP BY status"))
        (events,) = db.execute("SELECT count(*) FROM events").fetchone()
    if statuses != expected:
        problems.append(f"volume statuses after start: {statuses}, not {expected}")
    if events != 3 * site.volumes + 2 * reserved:
        problems.append(f"{events} events after start, not {3 * site.volumes + 2 * reserved}")
    return [f"{site.volumes:,} volumes: {p}" for p in problems]


def shape_differences(site: Site) -> list[str]:
    """Where populated volumes differ from volumes made through REST now (ids, names and
    times aside): an available one, then one reserved with os-reserve. Empty if nowhere."""
    with api_floor.reading(site.db_path) as db:
        available, reserved = (
            str(db.execute("SELECT id FROM volumes WHERE status = ? LIMIT 1", (s,)).fetchone()[0])
            for s in ("available", "reserved")
        )
    made = asyncio.run(create_one(site.server.port))
    differences = _differences("available", row_shape(site.target, available), made, site)
    asyncio.run(reserve(site.server.port, made))
    return differences + _differences("reserved", row_shape(site.target, reserved), made, site)


def _differences(what: str, ours: dict[str, object], made: str, site: Site) -> list[str]:
    real = row_shape(site.target, made)
    return [
        f"{what} {k}: populated {ours[k]} != REST {real[k]}" for k in ours if ours[k] != real[k]
    ]


def run(plan: Plan, work: Path) -> tuple[list[Site], dict[str, Row], list[str]]:
    """Populate, start and check both sites; measure in interleaved rounds, then the
    create+delete cycles; check that REST makes volumes like the populated ones."""
    sites: list[Site] = []
    try:
        sites = open_sites(work, plan.sizes)
        problems = [p for site in sites for p in reconcile_findings(site)]
        rows = {name: Row() for name in row_names(plan.sizes, SHOW_CLIENTS)}
        for site in sites:  # warm-up: page cache, SQLite cache, first-request costs
            job: Job = partial(walk, expected=site.volumes)
            asyncio.run(run_jobs(site.server, [job], clients=1))
        for _ in range(plan.rounds):
            measure_lists(sites, plan, rows)
            measure_shows(sites[0], plan, rows)
        measure_cycles(sites[0], plan, rows["cycles"])
        problems += shape_differences(sites[0])
    finally:
        for site in sites:
            site.server.stop()
    return sites, rows, problems


def population_line(sites: Sequence[Site], problems: Sequence[str]) -> str:
    """How the volumes were made and what the checks found."""
    made = ", ".join(f"{s.volumes:,} in {s.populate_s:.0f} s" for s in sites)
    started = " and ".join(f"{s.start_s:.1f} s" for s in sites)
    checks = (
        "Start-up reconciliation found nothing to fix (every volume as written, no "
        "reconcile line in the server log, no event added), and populated volumes' rows "
        "and files match those of volumes made through REST in this run (created; created "
        "and reserved)."
        if not problems
        else "PROBLEMS: " + "; ".join(problems)
    )
    return (
        f"Populated (bench/population.py) {made}; server start with reconciliation took "
        f"{started}. {checks}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 volumes")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    if args.rounds is not None:
        plan = replace(plan, rounds=args.rounds)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="basalt-bench-api-") as tmp:
        sites, rows, problems = run(plan, Path(tmp))
    results: dict[str, object] = {
        "plan": plan.__dict__,
        "cpus": os.cpu_count(),
        "sites": [
            {"volumes": s.volumes, "populate_s": s.populate_s, "start_s": s.start_s} for s in sites
        ],
        "rows": {name: row.summary() for name, row in rows.items()},
        "ratios": ratios(plan.sizes, rows),
        "target_p50_ms": TARGET_P50_MS,
        "problems": list(problems),
    }
    path = save("api", results)
    print(
        render(plan.sizes, rows, show_clients=SHOW_CLIENTS, cycle_clients=CYCLE_CLIENTS),
        "",
        *ratio_lines(plan.sizes, rows, target_ms=TARGET_P50_MS),
        population_line(sites, problems),
        f"1-minute load average {load_before:.1f} before the run, {os.getloadavg()[0]:.1f} after.",
        f"Raw results: {path}",
        sep="\n",
    )
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
