"""``basalt snapshot ...``: create, list, show, delete, manage, unmanage."""

from __future__ import annotations

import click

from basalt.cli import (
    CliState,
    json_option,
    list_query,
    listing_options,
    pass_state,
    property_option,
    wait_option,
)
from basalt.cli.output import (
    EVENT_COLUMNS,
    MANAGEABLE_COLUMNS,
    SNAPSHOT_COLUMNS,
    report_operation,
    report_removal,
    show_list,
    show_object,
)
from basalt.persistence.base import SortDirection


@click.group()
def snapshot() -> None:
    """Snapshots."""


@snapshot.command("create")
@click.argument("volume_id", metavar="VOLUME_ID")
@click.option("--name", default="", help="Name (no '/', '\\' or '..'; up to 255 characters).")
@click.option("--description", default="", help="Free text, up to 255 characters.")
@property_option("Metadata KEY=VALUE (repeatable).")
@click.option("--request-id", metavar="KEY", help="Idempotency key: a retry returns the same.")
@wait_option
@json_option
@pass_state
def create_snapshot(
    state: CliState,
    volume_id: str,
    name: str,
    description: str,
    properties: dict[str, str],
    request_id: str | None,
    wait: bool,
) -> None:
    """Snapshot an available volume."""
    handle = state.basalt().snapshots.create(
        volume_id,
        name=name,
        description=description,
        metadata=properties,
        request_id=request_id,
    )
    report_operation(state, handle, wait=wait)


@snapshot.command("list")
@click.option("--volume", "volume_id", metavar="ID", help="Only this volume's snapshots.")
@listing_options
@json_option
@pass_state
def list_snapshots(
    state: CliState,
    volume_id: str | None,
    all_projects: bool,
    limit: int | None,
    marker: str | None,
    sort: tuple[tuple[str, SortDirection], ...] | None,
) -> None:
    """Snapshots, newest first unless --sort says otherwise."""
    query = list_query(limit=limit, marker=marker, sort=sort, volume_id=volume_id)
    items = state.basalt().snapshots.list(query, all_projects=all_projects)
    show_list(state, items, SNAPSHOT_COLUMNS)


@snapshot.command("show")
@click.argument("snapshot_id", metavar="ID")
@json_option
@pass_state
def show_snapshot(state: CliState, snapshot_id: str) -> None:
    """One snapshot."""
    show_object(state, state.basalt().snapshots.get(snapshot_id))


@snapshot.command("delete")
@click.argument("snapshot_id", metavar="ID")
@wait_option
@json_option
@pass_state
def delete_snapshot(state: CliState, snapshot_id: str, wait: bool) -> None:
    """Delete a snapshot."""
    handle = state.basalt().snapshots.delete(snapshot_id)
    report_removal(state, handle, kind="snapshot", done_status="deleted", wait=wait)


@snapshot.command("manage")
@click.argument("source_name")
@click.option("--volume", "volume_id", required=True, metavar="ID", help="Its volume.")
@click.option("--name", default="", help="Name of the new snapshot.")
@click.option("--description", default="", help="Description of the new snapshot.")
@wait_option
@json_option
@pass_state
def manage_snapshot(
    state: CliState, source_name: str, volume_id: str, name: str, description: str, wait: bool
) -> None:
    """Adopt SOURCE_NAME, an object already on the backend, as a snapshot of a volume.

    For the file driver SOURCE_NAME is a file in the pool's snapshots/ directory.
    """
    handle = state.basalt().manage.manage_snapshot(
        {"source-name": source_name}, volume_id=volume_id, name=name, description=description
    )
    report_operation(state, handle, wait=wait)


@snapshot.command("unmanage")
@click.argument("snapshot_id", metavar="ID")
@wait_option
@json_option
@pass_state
def unmanage_snapshot(state: CliState, snapshot_id: str, wait: bool) -> None:
    """Stop managing a snapshot; its data stays on the backend."""
    handle = state.basalt().manage.unmanage_snapshot(snapshot_id)
    report_removal(state, handle, kind="snapshot", done_status="unmanaged", wait=wait)


@snapshot.command("manageable")
@click.option("--pool", metavar="BACKEND#POOL", help="Pool to look in (default: most room).")
@json_option
@pass_state
def manageable_snapshots(state: CliState, pool: str | None) -> None:
    """Objects on the backend that could be managed as snapshots."""
    show_list(state, state.basalt().manage.manageable_snapshots(pool), MANAGEABLE_COLUMNS)


@snapshot.command("events")
@click.argument("snapshot_id", metavar="ID")
@json_option
@pass_state
def snapshot_events(state: CliState, snapshot_id: str) -> None:
    """A snapshot's timeline, oldest first."""
    events = state.basalt().snapshots.events(snapshot_id)
    show_list(state, events, EVENT_COLUMNS)
