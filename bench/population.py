"""Fill a Basalt data directory with volumes as `basalt serve` would have made them.

A REST create costs milliseconds; 100,000 of them would dominate the API
benchmark. This writes what a finished create leaves behind, many volumes per
transaction, through Basalt's own model and repositories:

- the volume row, available, with the provider location the file driver gives;
- the create_volume operation, moved pending -> running -> succeeded by the
  runner's own ``mark_phase``;
- its three events in the order a create writes them: "created as
  create_volume", "status creating -> available", and the driver call, timed
  by an ``OperationScope``;
- the sparse file at the path of the pool's ``PoolLayout``, with the file
  driver's size and mode. The driver's partial-file-and-rename steps (crash
  safety) are left out: they change nothing that is left on disk and cost most
  of the time;
- on one volume in ten, what ``os-reserve`` adds (AttachmentService.reserve):
  the reserve_volume operation, an attachment in status reserved, its note and
  "status available -> reserved". Listings look attachments up for the volumes
  that hold some, so a population of available volumes only would skip that
  work; in-use volumes would need an iSCSI target each, which the server's
  start would re-create, so reservations stand in for them.

bench/api.py checks the result: the server's start-up reconciliation must find
nothing to fix, and a populated volume's rows must match, field by field, those
of a volume made through the REST API in the same run (an available one, and
a reserved one).

    uv run python bench/population.py DATA_DIR COUNT
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from basalt.config import Settings, load_settings  # noqa: E402
from basalt.drivers.file.driver import VOLUME_MODE  # noqa: E402
from basalt.drivers.file.layout import ObjectKind, PoolLayout  # noqa: E402
from basalt.drivers.registry import build_driver  # noqa: E402
from basalt.drivers.types import GIB  # noqa: E402
from basalt.model import (  # noqa: E402
    Attachment,
    AttachMode,
    AttachStatus,
    Event,
    EventKind,
    Operation,
    OperationKind,
    OperationPhase,
    Volume,
    VolumeStatus,
)
from basalt.model.volume_type import DEFAULT_TYPE_NAME  # noqa: E402
from basalt.persistence.base import Database, Transaction  # noqa: E402
from basalt.persistence.sql import open_database  # noqa: E402
from basalt.service.clock import new_id, utcnow  # noqa: E402
from basalt.service.runner import OperationScope, mark_phase  # noqa: E402

BATCH = 2000
FILE_THREADS = 1
SIZE_GIB = 1
RESERVE_EVERY = 10
"""One volume in ten holds an attachment record (see the module docstring)."""
T = TypeVar("T")
CREATING, AVAILABLE = VolumeStatus.CREATING, VolumeStatus.AVAILABLE


@dataclass(frozen=True)
class Target:
    """Where the volumes go: the settings a server will run with, and the pool's layout."""

    settings: Settings
    layout: PoolLayout
    template: Volume


def target_for(data_dir: Path, backends: Sequence[Mapping[str, object]] = ()) -> Target:
    """The settings a server started on ``data_dir`` with ``backends`` (or the default
    file backend) runs with, and where the first backend's first pool is."""
    overrides: dict[str, object] = {"data_dir": data_dir}
    if backends:
        overrides["backends"] = list(backends)
    settings = load_settings(None, **overrides)
    backend = settings.resolved_backends[0]
    pool, root = next(iter(backend.pools.items()))
    now = utcnow()
    template = Volume(
        id="",
        project_id=settings.default_project_id,
        user_id=settings.default_user_id,
        name="",
        description="",
        size_gib=SIZE_GIB,
        status=CREATING,
        backend=backend.name,
        pool=pool,
        created_at=now,
        updated_at=now,
    )
    return Target(settings=settings, layout=PoolLayout(Path(root)), template=template)


@contextmanager
def opened(target: Target) -> Iterator[Database]:
    """The migrated store, with the backend's pool directories set up by its driver."""
    settings = target.settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = open_database(settings.resolved_database_url)
    try:
        db.migrate()
        for backend in settings.resolved_backends:
            build_driver(backend).setup()
        yield db
    finally:
        db.close()


def _make_file(path: Path, size_bytes: int) -> None:
    """An all-hole file of ``size_bytes`` with the driver's mode (as create_sparse leaves it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.ftruncate(fd, size_bytes)
        os.fchmod(fd, VOLUME_MODE)
    finally:
        os.close(fd)


@dataclass
class Made:
    """One volume's records, as its create (and, for some, an os-reserve) left them."""

    volume: Volume
    operations: list[Operation]
    events: list[Event]
    attachment: Attachment | None = None


def _status_event(volume: Volume, operation: Operation, new: VolumeStatus) -> Event:
    """The event journal.move_volume writes (and moves ``volume`` to ``new``)."""
    old, volume.status, volume.updated_at = volume.status, new, utcnow()
    return Event(
        resource_kind="volume",
        resource_id=volume.id,
        kind=EventKind.STATUS_CHANGE,
        message=f"status {old} -> {new}",
        at=volume.updated_at,
        operation_id=operation.id,
        detail={"from": str(old), "to": str(new)},
    )


def _operation(kind: OperationKind, volume: Volume, params: dict[str, object]) -> Operation:
    opened_at = utcnow()
    return Operation(
        id=new_id(),
        kind=kind,
        resource_kind="volume",
        resource_id=volume.id,
        project_id=volume.project_id,
        phase=OperationPhase.PENDING,
        created_at=opened_at,
        updated_at=opened_at,
        params=params,
    )


def _typed(template: Volume, db: Database) -> Volume:
    """The template with the default volume type a create without a type gets."""
    with db.transaction(write=False) as tx:
        default = tx.volume_types.get_by_name(DEFAULT_TYPE_NAME)
    assert default is not None, "the schema makes the default type"
    return replace(template, volume_type_id=default.id)


def _created(target: Target, db: Database, number: int) -> Made:
    """One volume through a create's steps: records in memory, the file on disk."""
    now = utcnow()
    volume = replace(target.template, id=new_id(), name=f"bench-{number}", created_at=now)
    params: dict[str, object] = {
        "size_gib": SIZE_GIB,
        "name": volume.name,
        "description": "",
        "metadata": {},
        "pool": None,
    }
    operation = _operation(OperationKind.CREATE_VOLUME, volume, params)
    created = Event(
        resource_kind="volume",
        resource_id=volume.id,
        kind=EventKind.STATUS_CHANGE,
        message=f"created as {operation.kind}",
        at=operation.created_at,
        operation_id=operation.id,
        detail={"to": str(volume.status)},
    )
    scope = OperationScope(operation=operation, db=db)
    mark_phase(operation, OperationPhase.RUNNING)
    path = target.layout.object_path(ObjectKind.VOLUME, volume.id)
    scope.driver_call("create_volume", lambda: _make_file(path, SIZE_GIB * GIB))
    volume.provider_location = target.layout.location(path)
    available = _status_event(volume, operation, AVAILABLE)
    mark_phase(operation, OperationPhase.SUCCEEDED)
    made = Made(volume=volume, operations=[operation], events=[created, available, *scope.events])
    if number % RESERVE_EVERY == RESERVE_EVERY - 1:
        _reserve(made, target.settings.default_user_id)
    return made


def _reserve(made: Made, user_id: str) -> None:
    """Add what AttachmentService.reserve records: a reservation without a connector."""
    volume = made.volume
    now = utcnow()
    made.attachment = Attachment(
        id=new_id(),
        volume_id=volume.id,
        project_id=volume.project_id,
        user_id=user_id,
        status=AttachStatus.RESERVED,
        mode=AttachMode.READ_WRITE,
        created_at=now,
        updated_at=now,
    )
    operation = _operation(OperationKind.RESERVE_VOLUME, volume, {})
    mark_phase(operation, OperationPhase.RUNNING)
    mark_phase(operation, OperationPhase.SUCCEEDED)
    note = Event(
        resource_kind="volume",
        resource_id=volume.id,
        kind=EventKind.NOTE,
        message=f"attachment {made.attachment.id}: reserved for a host",
        at=utcnow(),
        operation_id=operation.id,
    )
    made.operations.append(operation)
    made.events += [note, _status_event(volume, operation, VolumeStatus.RESERVED)]


def _write(tx: Transaction, made: Made) -> None:
    """The rows, with the events in the order the use cases write them."""
    for operation in made.operations:
        tx.operations.add(operation)
    tx.volumes.add(made.volume)
    if made.attachment is not None:
        tx.attachments.add(made.attachment)
    for event in made.events:
        tx.events.add(event)


def _one_ahead(
    workers: ThreadPoolExecutor, make: Callable[[int], T], batches: Iterable[range]
) -> Iterator[Iterator[T]]:
    """Each batch's results, handed out once the next batch has been submitted."""
    pending: Iterator[T] | None = None
    for numbers in batches:
        submitted = workers.map(make, numbers)
        if pending is not None:
            yield pending
        pending = submitted
    if pending is not None:
        yield pending


def populate(
    data_dir: Path,
    count: int,
    *,
    backends: Sequence[Mapping[str, object]] = (),
    batch: int = BATCH,
) -> float:
    """Add ``count`` 1 GiB volumes to the default project of ``data_dir`` (available,
    one in RESERVE_EVERY reserved).

    Each batch's volumes are made (records in memory, files on disk) on worker
    threads, which wait in the kernel, while this thread writes the rows of the
    batch before.

    Args:
        data_dir: the data directory a server will be started on.
        count: how many volumes to add.
        backends: the server's backend settings, when not the default.
        batch: volumes per transaction.

    Returns:
        The seconds it took.
    """
    target = target_for(data_dir, backends)
    started = time.perf_counter()
    with opened(target) as db, ThreadPoolExecutor(FILE_THREADS) as workers:
        target = replace(target, template=_typed(target.template, db))
        batches = [range(first, min(count, first + batch)) for first in range(0, count, batch)]
        for made in _one_ahead(workers, lambda n: _created(target, db, n), batches):
            with db.transaction() as tx:
                for volume in made:
                    _write(tx, volume)
    return time.perf_counter() - started


def row_shape(target: Target, volume_id: str) -> dict[str, object]:
    """What two volumes made the same way must share: their rows and file, with ids,
    names, times and durations reduced to whether they are set.

    Args:
        target: the data directory's settings and pool (from target_for).
        volume_id: the volume.

    Returns:
        The volume row, its operations (oldest first), attachments and events (in
        order), and its file's size, mode and allocated blocks.
    """
    db = sqlite3.connect(f"file:{target.settings.data_dir / 'basalt.db'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        (volume,) = _rows(db, "SELECT * FROM volumes WHERE id = ?", volume_id)
        operations = _rows(db, "SELECT * FROM operations WHERE resource_id = ?", volume_id)
        attachments = _rows(db, "SELECT * FROM attachments WHERE volume_id = ?", volume_id)
        events = _rows(db, "SELECT * FROM events WHERE resource_id = ? ORDER BY id", volume_id)
    finally:
        db.close()
    ids = {volume_id: "<volume>", **{str(a["id"]): "<attachment>" for a in attachments}}
    for operation in operations:
        params = json.loads(str(operation["params"]))
        operation["params"] = {k: v if k != "name" else v is not None for k, v in params.items()}
    operations.sort(key=lambda o: str(o["created_at"]))
    info = (target.layout.root / str(volume["provider_location"])).stat()
    return {
        "volume": _reduced(volume, ids),
        "operations": [_reduced(o, ids) for o in operations],
        "attachments": [_reduced(a, ids) for a in attachments],
        "events": [_reduced(e, ids) for e in events],
        "file": (info.st_size, oct(info.st_mode), info.st_blocks),
    }


_VARYING = {"id", "resource_id", "operation_id", "name", "at", "duration_ms"}


def _rows(db: sqlite3.Connection, sql: str, key: str) -> list[dict[str, object]]:
    return [dict(row) for row in db.execute(sql, (key,))]


def _reduced(row: dict[str, object], ids: Mapping[str, str]) -> dict[str, object]:
    reduced: dict[str, object] = {}
    for key, value in row.items():
        if key in _VARYING or key.endswith("_at"):
            reduced[key] = value is not None
        elif isinstance(value, str):
            for found, placeholder in ids.items():
                value = value.replace(found, placeholder)
            reduced[key] = value
        else:
            reduced[key] = value
    return reduced


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("count", type=int)
    args = parser.parse_args()
    seconds = populate(args.data_dir, args.count)
    print(f"{args.count} volumes in {seconds:.1f} s ({args.count / seconds:.0f}/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
