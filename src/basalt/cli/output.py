"""Everything the command line prints: tables, JSON documents and progress bars.

Results go to stdout (a rich table, or with ``--json`` exactly one JSON
document); progress, notes and errors go to stderr.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Column, Table
from rich.text import Text

from basalt.cli import CliState
from basalt.cli.errors import WaitFailedError
from basalt.drivers.types import GIB, ManageableObject
from basalt.errors import OperationTimeoutError
from basalt.model import Attachment, Event, Operation, Pool, Snapshot, Volume
from basalt.model.service import Service
from basalt.model.transfer import Transfer
from basalt.model.volume_type import QosSpecs, VolumeType
from basalt.service.replication import VolumeReplication
from basalt.service.runner import OperationHandle

T = TypeVar("T")
Columns = Sequence[tuple[str, Callable[[T], object]]]

SETTLE_QUIET_S = 1.0  # operations that end sooner are waited for without a note

# Properties worth showing next to the dataclass fields (they are not stored).
_COMPUTED: dict[type, tuple[str, ...]] = {
    Volume: ("host",),
    Operation: ("progress_percent", "finished"),
    Pool: ("thin_ratio", "provisionable_gib"),
    Service: ("status", "state"),
}


def jsonable(value: object) -> Any:
    """``value`` as plain JSON types: dataclasses become dicts, datetimes ISO 8601 text,
    enums their values, paths text.

    Args:
        value: a model object, a list of them, or a plain value.

    Returns:
        Something ``json.dumps`` accepts.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in _COMPUTED.get(type(value), ()):
            out[name] = jsonable(getattr(value, name))
        return out
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def print_json(value: object) -> None:
    """Print ``value`` as one JSON document on stdout."""
    click.echo(json.dumps(jsonable(value), indent=2, ensure_ascii=False))


PIPE_WIDTH = 200
UUID_LENGTH = 36


def _console() -> Console:
    # Made per call: the stream is looked up when printing, which also suits CliRunner.
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # Rich assumes 80 columns for a pipe, which would cut ids short.
        console.width = PIPE_WIDTH
    return console


def cell(value: object) -> Text:
    """One table cell; Text, so that '[' in a name is never read as rich markup."""
    if value is None:
        return Text("-")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, Enum):
        return Text(str(value.value))
    if isinstance(value, datetime):
        return Text(value.isoformat(timespec="seconds"))
    if isinstance(value, float):
        return Text(f"{value:,.2f}")
    if isinstance(value, Mapping):
        return Text("\n".join(f"{k}={v}" for k, v in value.items()) or "-")
    if isinstance(value, list | tuple):
        return Text(", ".join(str(v) for v in value) or "-")
    return Text(str(value))


def show_object(state: CliState, obj: object, extra: Mapping[str, object] | None = None) -> None:
    """Print one object: a "Field | Value" table, or its JSON (with ``extra`` merged in).

    Args:
        state: the global options (``--json``).
        obj: a dataclass instance (Volume, Snapshot, Operation, ...).
        extra: more fields to show, e.g. ``{"operation_id": ...}``.
    """
    fields: dict[str, object] = dict(jsonable(obj))
    fields.update(extra or {})
    if state.json:
        print_json(fields)
        return
    table = Table("Field", "Value", show_lines=False)
    for name, value in fields.items():
        table.add_row(Text(name), cell(value))
    _console().print(table)


def show_list(state: CliState, items: Sequence[T], columns: Columns[T]) -> None:
    """Print a list: a table with ``columns``, or a JSON array of whole objects.

    Args:
        state: the global options (``--json``).
        items: the objects.
        columns: (header, getter) pairs for the table.
    """
    if state.json:
        print_json(list(items))
        return
    table = Table(*(_column(header) for header, _ in columns))
    for item in items:
        table.add_row(*(cell(getter(item)) for _, getter in columns))
    _console().print(table)
    if not items:
        click.echo("(none)", err=True)


def _column(header: str) -> Column:
    # The row's own id stays whole so it can be copied; the rest fold when space is short.
    if header == "ID":
        return Column(header, no_wrap=True, min_width=UUID_LENGTH)
    return Column(header, overflow="fold")


def _gib(value: float) -> str:
    return f"{value:,.1f}"


def _bytes(done: int, total: int | None) -> str:
    if not total:
        return f"{done / GIB:.2f} GiB" if done else ""
    return f"{done / GIB:.2f}/{total / GIB:.2f} GiB"


def _progress(op: Operation) -> str:
    percent = op.progress_percent
    return "-" if percent is None else f"{percent:.0f}%"


VOLUME_COLUMNS: Columns[Volume] = (
    ("ID", lambda v: v.id),
    ("Name", lambda v: v.name),
    ("Size (GiB)", lambda v: v.size_gib),
    ("Status", lambda v: v.status),
    ("Pool", lambda v: f"{v.backend}#{v.pool}"),
    ("Created", lambda v: v.created_at),
)
ATTACHMENT_COLUMNS: Columns[Attachment] = (
    ("ID", lambda a: a.id),
    ("Status", lambda a: a.status),
    ("Host", lambda a: a.attached_host),
    ("Initiator", lambda a: a.initiator),
    ("Mode", lambda a: a.mode),
    ("Instance", lambda a: a.instance_id),
    ("Attached", lambda a: a.attached_at),
)
SNAPSHOT_COLUMNS: Columns[Snapshot] = (
    ("ID", lambda s: s.id),
    ("Name", lambda s: s.name),
    ("Volume", lambda s: s.volume_id),
    ("Size (GiB)", lambda s: s.size_gib),
    ("Status", lambda s: s.status),
    ("Created", lambda s: s.created_at),
)
OPERATION_COLUMNS: Columns[Operation] = (
    ("ID", lambda o: o.id),
    ("Kind", lambda o: o.kind),
    ("Resource", lambda o: o.resource_id),
    ("Phase", lambda o: o.phase),
    ("Progress", _progress),
    ("Bytes", lambda o: _bytes(o.bytes_done, o.bytes_total) or "-"),
    ("Created", lambda o: o.created_at),
)
POOL_COLUMNS: Columns[Pool] = (
    ("Backend", lambda p: p.backend),
    ("Pool", lambda p: p.name),
    ("Driver", lambda p: p.driver),
    ("Total GiB", lambda p: _gib(p.total_capacity_gib)),
    ("Free GiB", lambda p: _gib(p.free_capacity_gib)),
    ("Provisioned GiB", lambda p: _gib(p.provisioned_capacity_gib)),
    ("Thin ratio", lambda p: "-" if p.thin_ratio is None else f"{p.thin_ratio:.2f}"),
    ("Reflink", lambda p: p.reflink),
    ("Location", lambda p: p.location),
)
SERVICE_COLUMNS: Columns[Service] = (
    ("Binary", lambda s: s.binary),
    ("Host", lambda s: s.host),
    ("Zone", lambda s: s.zone),
    ("Status", lambda s: s.status),
    ("State", lambda s: s.state),
    ("Updated", lambda s: s.updated_at),
    ("Disabled reason", lambda s: s.disabled_reason),
    ("Down because", lambda s: s.down_reason),
    ("Replication", lambda s: s.replication_status),
    ("Active backend", lambda s: s.active_backend_id),
    ("Frozen", lambda s: s.frozen),
)
REPLICATION_COLUMNS: Columns[VolumeReplication] = (
    ("Volume", lambda r: r.volume_id),
    ("Status", lambda r: r.status),
    ("Target", lambda r: r.target_id),
    ("Last replicated", lambda r: r.last_sync_at),
    ("Lag (s)", lambda r: None if r.lag_seconds is None else round(r.lag_seconds, 1)),
    ("Last shipped", lambda r: r.last_bytes_shipped),
    ("Shipped in all", lambda r: r.bytes_shipped_total),
    ("Error", lambda r: r.error),
)
TYPE_COLUMNS: Columns[VolumeType] = (
    ("ID", lambda t: t.id),
    ("Name", lambda t: t.name),
    ("Public", lambda t: t.is_public),
    ("Extra specs", lambda t: ", ".join(f"{k}={v}" for k, v in t.extra_specs.items())),
    ("QoS spec", lambda t: t.qos_specs_id),
    ("Description", lambda t: t.description),
)
QOS_COLUMNS: Columns[QosSpecs] = (
    ("ID", lambda q: q.id),
    ("Name", lambda q: q.name),
    ("Consumer", lambda q: q.consumer),
    ("Specs", lambda q: ", ".join(f"{k}={v}" for k, v in q.specs.items())),
)
EVENT_COLUMNS: Columns[Event] = (
    ("At", lambda e: e.at),
    ("Kind", lambda e: e.kind),
    ("Message", lambda e: e.message),
    ("Operation", lambda e: e.operation_id),
    ("ms", lambda e: None if e.duration_ms is None else f"{e.duration_ms:.1f}"),
)
MANAGEABLE_COLUMNS: Columns[ManageableObject] = (
    ("Reference", lambda m: ", ".join(f"{k}={v}" for k, v in m.reference.items())),
    ("Size (GiB)", lambda m: m.size_gib),
    ("Safe to manage", lambda m: m.safe_to_manage),
    ("Reason not safe", lambda m: m.reason_not_safe),
    ("Basalt id", lambda m: m.basalt_id),
    ("Info", lambda m: m.extra_info),
)


def transfer_view(transfer: Transfer) -> dict[str, object]:
    """A transfer as the CLI prints it: every field but its salt and key hash."""
    hidden = ("salt", "crypt_hash")
    return {
        f.name: getattr(transfer, f.name)
        for f in dataclasses.fields(transfer)
        if f.name not in hidden
    }


TRANSFER_COLUMNS: Columns[Mapping[str, object]] = (
    ("ID", lambda t: t["id"]),
    ("Name", lambda t: t["name"]),
    ("Volume", lambda t: t["volume_id"]),
    ("Project", lambda t: t["source_project_id"]),
    ("No snapshots", lambda t: t["no_snapshots"]),
    ("Created", lambda t: t["created_at"]),
)


def wait_with_progress(handle: OperationHandle[T]) -> T:
    """Wait for an operation with a progress bar on stderr.

    Bytes done/total are shown when the operation reports them; otherwise a
    spinner and the operation's phase.

    Returns:
        What ``handle.wait()`` returns (the final resource).

    Raises:
        WaitFailedError: the operation failed; it carries the original error.
    """
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[amount]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True, highlight=False),
    )

    def update(op: Operation) -> None:
        progress.update(
            task,
            description=f"{op.kind} {op.phase}",
            total=op.bytes_total or None,
            completed=op.bytes_done,
            amount=_bytes(op.bytes_done, op.bytes_total),
        )

    with progress:
        start = handle.operation
        task = progress.add_task(f"{start.kind} {start.phase}", total=None, amount="")
        try:
            result = handle.wait(on_progress=update)
        except Exception as exc:
            raise WaitFailedError(exc, operation_id=handle.operation_id) from exc
        progress.update(task, total=1, completed=1)
        return result


def settle(handle: OperationHandle[Any]) -> None:
    """Wait quietly for an operation this process runs, after its result was printed.

    The CLI runs operations in its own process, so it cannot exit before they end.

    Raises:
        WaitFailedError: the operation failed (``late``: stdout already has the result).
    """
    try:
        try:
            handle.wait(timeout=SETTLE_QUIET_S)
        except OperationTimeoutError:
            click.echo(
                f"waiting for operation {handle.operation_id} to finish before exiting", err=True
            )
            handle.wait()
    except Exception as exc:
        raise WaitFailedError(exc, operation_id=handle.operation_id, late=True) from exc


def report_operation(state: CliState, handle: OperationHandle[Any], *, wait: bool) -> None:
    """Print the resource of a started operation, with its operation id.

    With ``wait`` the resource is printed once the operation has finished (after a
    progress bar); without, as it is right after the request, and then the
    operation is waited for quietly.

    Raises:
        WaitFailedError: the operation failed.
    """
    extra = {"operation_id": handle.operation_id}
    if wait:
        show_object(state, wait_with_progress(handle), extra)
        return
    show_object(state, handle.resource(), extra)
    settle(handle)


def report_removal(
    state: CliState, handle: OperationHandle[Any], *, kind: str, done_status: str, wait: bool
) -> None:
    """Print a short confirmation of a delete or unmanage.

    JSON: ``{"id": ..., "status": ..., "operation_id": ...}`` where the status is
    ``done_status`` after ``--wait`` and the transitional status otherwise.

    Raises:
        WaitFailedError: the operation failed.
    """
    if wait:
        wait_with_progress(handle)
        status = done_status
    else:
        status = str(jsonable(getattr(handle.resource(), "status", "pending")))
    doc = {"id": handle.resource_id, "status": status, "operation_id": handle.operation_id}
    if state.json:
        print_json(doc)
    else:
        click.echo(f"{kind} {handle.resource_id}: {status} (operation {handle.operation_id})")
    if not wait:
        settle(handle)
