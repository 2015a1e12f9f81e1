"""Microbenchmark: the CPU cost of Basalt's hot database paths, on SQLite and PostgreSQL.

Why: the REST control plane spends most of its CPU in persistence (a
create -> available -> delete cycle is ~5 transactions and ~28 statements), so
this measures, per dialect, in microseconds:

- primitives: a prebuilt SQLAlchemy Core select, ``exec_driver_sql`` and the
  raw DBAPI cursor running the same by-id select (what the fast path is up against);
- units of work: an empty write/read ``db.transaction()``, and a read
  transaction that loads one volume;
- repository calls, each repeated inside one open write transaction, so the
  per-call cost is seen without the transaction around it.

Every figure is the fastest of ``--repeats`` samples of ``--n`` calls each.

    uv run python bench/persistence.py [--n 2000] [--repeats 7] [--no-postgres] [--json PATH]

Before and after, side by side in one run: export the old tree and name it, e.g.

    git archive HEAD src | tar -x -C /tmp/before
    uv run python bench/persistence.py --baseline /tmp/before/src [--rounds 2]

The baseline and the current code are measured in alternating child processes
(the baseline's ``src`` first on PYTHONPATH), keeping each figure's fastest.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from itertools import count
from math import nan
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from basalt.model import (  # noqa: E402
    Event,
    EventKind,
    Operation,
    OperationKind,
    OperationPhase,
    Snapshot,
    SnapshotStatus,
    Volume,
    VolumeStatus,
)
from basalt.persistence.base import ListQuery  # noqa: E402
from basalt.persistence.sql import SqlDatabase, open_database  # noqa: E402
from basalt.persistence.sql.tables import volumes as volumes_table  # noqa: E402
from bench.common import table  # noqa: E402

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
Timings = dict[str, float]


def _volume(**overrides: Any) -> Volume:
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "project_id": "project-a",
        "user_id": "user-a",
        "name": "bench ✓",
        "description": "",
        "size_gib": 1,
        "status": VolumeStatus.AVAILABLE,
        "backend": "file",
        "pool": "default",
        "created_at": T0,
        "updated_at": T0,
        "metadata": {"tier": "gold", "clé": "välue"},
    }
    values.update(overrides)
    return Volume(**values)


def _measure(n: int, repeats: int, run: Callable[[int], None]) -> float:
    """Microseconds per call in the fastest of ``repeats`` samples of ``run(n)`` (n calls).

    The fastest sample, as ``timeit`` advises: on a shared machine the slower ones
    measure the neighbours, not the code.
    """
    run(min(n, 200))  # warm-up: statement caches, pool, prepared statements
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        run(n)
        samples.append((time.perf_counter() - started) / n * 1e6)
    return min(samples)


def primitives(db: SqlDatabase, volume_id: str, n: int, repeats: int) -> Timings:
    """The same by-id select through Core, exec_driver_sql and the raw DBAPI cursor."""
    select = sa.select(volumes_table).where(volumes_table.c.id == sa.bindparam("_id"))
    with db.engine.connect() as conn:
        # SQLite compiles to qmark ("?"); psycopg's pyformat becomes a positional %s.
        text = str(select.compile(dialect=conn.dialect)).replace("%(_id)s::VARCHAR", "%s")
        raw = conn.connection.driver_connection
        assert raw is not None
        cursor = raw.cursor()

        def core(k: int) -> None:
            for _ in range(k):
                conn.execute(select, {"_id": volume_id}).first()

        def driver(k: int) -> None:
            for _ in range(k):
                conn.exec_driver_sql(text, (volume_id,)).first()

        def dbapi(k: int) -> None:
            for _ in range(k):
                cursor.execute(text, (volume_id,)).fetchall()

        result = {
            "core select": _measure(n, repeats, core),
            "exec_driver_sql select": _measure(n, repeats, driver),
            "raw cursor select": _measure(n, repeats, dbapi),
        }
        cursor.close()
        conn.rollback()
    return result


ROWS = 200  # calls rotate over this many rows, so no row piles up versions (PostgreSQL MVCC)
Rows = tuple[list[Volume], list[Snapshot], list[Operation]]


def _fixtures(db: SqlDatabase) -> Rows:
    volumes = [_volume() for _ in range(ROWS)]
    snapshots = [
        Snapshot(
            id=str(uuid.uuid4()), volume_id=v.id, project_id="project-a", user_id="u",
            name="s", description="", size_gib=1, status=SnapshotStatus.AVAILABLE,
            created_at=T0, updated_at=T0, metadata={"k": "v"},
        )
        for v in volumes
    ]  # fmt: skip
    operations = [
        Operation(
            id=str(uuid.uuid4()), kind=OperationKind.CREATE_VOLUME, resource_kind="volume",
            resource_id=v.id, project_id="project-a", phase=OperationPhase.RUNNING,
            created_at=T0, updated_at=T0, started_at=T0, params={"size": 1},
        )
        for v in volumes
    ]  # fmt: skip
    with db.transaction() as tx:
        for volume, snapshot, operation in zip(volumes, snapshots, operations, strict=True):
            tx.volumes.add(volume)
            tx.snapshots.add(snapshot)
            tx.operations.add(operation)
    return volumes, snapshots, operations


def _flip_status(tx: Any, volumes: list[Volume], i: int, *, check: bool) -> None:
    """Call i moves volume i % len between available and in-use (the row's turn decides)."""
    statuses = (VolumeStatus.AVAILABLE, VolumeStatus.IN_USE)
    turn = i // len(volumes)
    volume_id = volumes[i % len(volumes)].id
    if check:
        tx.volumes.get(volume_id)
    old, new = statuses[turn % 2], statuses[(turn + 1) % 2]
    assert tx.volumes.set_status(volume_id, expected=[old], new=new, updated_at=T0)


def repository_calls(db: SqlDatabase, rows: Rows, n: int, repeats: int) -> Timings:
    """Each hot repository method, called n times inside one write transaction per sample."""
    volumes, snapshots, operations = rows
    event = Event(resource_kind="volume", resource_id=volumes[0].id, kind=EventKind.NOTE,
                  message="bench", at=T0, duration_ms=1.5, detail={"a": [1, 2]})  # fmt: skip

    def add_delete(tx: Any, i: int) -> None:
        fresh = replace(volumes[0], id=str(uuid.uuid4()))
        tx.volumes.add(fresh)
        tx.volumes.delete(fresh.id)

    calls: dict[str, Callable[[Any, int], Any]] = {
        "volumes.get": lambda tx, i: tx.volumes.get(volumes[i % ROWS].id),
        "volumes.save": lambda tx, i: tx.volumes.save(volumes[i % ROWS]),
        "volumes.set_status": lambda tx, i: _flip_status(tx, volumes, i, check=False),
        "volumes.copies_in_progress": lambda tx, i: tx.volumes.copies_in_progress(
            volumes[i % ROWS].id
        ),
        "volumes.add + delete": add_delete,
        "snapshots.get": lambda tx, i: tx.snapshots.get(snapshots[i % ROWS].id),
        "snapshots.for_volume (1 row)": lambda tx, i: tx.snapshots.for_volume(volumes[i % ROWS].id),
        "snapshots.count_for_volume": lambda tx, i: tx.snapshots.count_for_volume(
            volumes[i % ROWS].id
        ),
        "operations.get": lambda tx, i: tx.operations.get(operations[i % ROWS].id),
        "operations.save": lambda tx, i: tx.operations.save(operations[i % ROWS]),
        "events.add": lambda tx, i: tx.events.add(event),
        "volumes.find (1 row)": lambda tx, i: tx.volumes.find(_one_page(volumes[i % ROWS])),
    }
    timings: Timings = {}
    for name, call in calls.items():
        timings[name] = _measure(n, repeats, _in_one_transaction(db, call))
    return timings


def _in_one_transaction(db: SqlDatabase, call: Callable[[Any, int], Any]) -> Callable[[int], None]:
    """A sample: k calls (numbered on across samples) in one write transaction."""
    counter = count()

    def run(k: int) -> None:
        with db.transaction() as tx:
            for _ in range(k):
                call(tx, next(counter))

    return run


def _one_page(volume: Volume) -> ListQuery:
    return ListQuery(project_id=volume.project_id, name=volume.name, limit=1)


def units(db: SqlDatabase, volumes: list[Volume], n: int, repeats: int) -> Timings:
    """Whole units of work: empty ones, a read that loads a volume, a compare-and-set."""

    def empty(write: bool) -> Callable[[int], None]:
        def run(k: int) -> None:
            for _ in range(k):
                with db.transaction(write=write):
                    pass

        return run

    def read_get(k: int) -> None:
        for i in range(k):
            with db.transaction(write=False) as tx:
                tx.volumes.get(volumes[i % ROWS].id)

    counter = iter(range(10**9))

    def write_cas(k: int) -> None:
        for _ in range(k):
            with db.transaction() as tx:
                _flip_status(tx, volumes, next(counter), check=True)

    return {
        "tx write, empty": _measure(n, repeats, empty(True)),
        "tx read, empty": _measure(n, repeats, empty(False)),
        "tx read + volumes.get": _measure(n, repeats, read_get),
        "tx write + get + set_status": _measure(n, repeats, write_cas),
    }


def run_all(db: SqlDatabase, n: int, repeats: int) -> Timings:
    """Every measurement on one migrated database."""
    for_units, for_calls = _fixtures(db), _fixtures(db)  # separate rows: separate status flips
    return {
        **primitives(db, for_units[0][0].id, n, repeats),
        **units(db, for_units[0], n, repeats),
        **repository_calls(db, for_calls, n, repeats),
    }


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="basalt-bench-") as tmp:
        yield f"sqlite:///{tmp}/basalt.db"


@contextmanager
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database, dropped afterwards."""
    name = f"basalt_bench_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield f"postgresql://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def measure(url_of: Callable[[], Any], n: int, repeats: int) -> Timings:
    with url_of() as url:
        db = open_database(url)
        try:
            db.migrate()
            return run_all(db, n, repeats)
        finally:
            db.close()


def measure_here(n: int, repeats: int, postgres: bool) -> dict[str, Timings]:
    """Every figure, for SQLite and (when asked and reachable) PostgreSQL, in this process."""
    results = {"sqlite": measure(sqlite_url, n, repeats)}
    if postgres:
        try:
            results["postgresql"] = measure(postgres_url, n, repeats)
        except psycopg.OperationalError as exc:
            print(f"PostgreSQL skipped: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
    return results


def measure_in_child(src: Path | None, args: argparse.Namespace) -> dict[str, Timings]:
    """Every figure, measured by this script in a child process importing basalt from ``src``."""
    env = dict(os.environ)
    if src is not None:  # ahead of the editable install's path
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        command = [sys.executable, __file__, "--n", str(args.n), "--repeats", str(args.repeats),
                   "--json", str(out), *(["--no-postgres"] * args.no_postgres)]  # fmt: skip
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        figures: dict[str, Timings] = json.loads(out.read_text())
    return figures


def compare(baseline: Path, args: argparse.Namespace) -> dict[str, dict[str, Timings]]:
    """Baseline and current code, alternating for ``--rounds``; the fastest figure of each."""
    best: dict[str, dict[str, Timings]] = {"before": {}, "after": {}}
    for _ in range(args.rounds):
        for label, src in (("before", baseline), ("after", None)):
            for kind, timings in measure_in_child(src, args).items():
                seen = best[label].setdefault(kind, {})
                for name, value in timings.items():
                    seen[name] = min(value, seen.get(name, value))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="calls per sample")
    parser.add_argument("--repeats", type=int, default=7, help="samples per figure (fastest)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--baseline", type=Path, help="a src/ tree to compare against")
    parser.add_argument("--rounds", type=int, default=2, help="alternations with --baseline")
    args = parser.parse_args()
    if args.baseline is None:
        results: dict[str, Any] = measure_here(args.n, args.repeats, not args.no_postgres)
        kinds = list(results)
        headers = ["us per call", *kinds]
        rows = [[name, *(f"{results[k].get(name, nan):.1f}" for k in kinds)]
                for name in results["sqlite"]]  # fmt: skip
    else:
        results = compare(args.baseline, args)
        kinds = list(results["after"])
        headers = ["us per call", *(f"{k} {label}" for k in kinds for label in results)]
        rows = [[name, *(f"{results[label][k].get(name, nan):.1f}"
                         for k in kinds for label in results)]
                for name in results["after"]["sqlite"]]  # fmt: skip
    print(table(headers, rows))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
