"""``basalt volume ...``: create, list, show, update, extend, clone, delete, manage, unmanage,
and attach, detach, connection, attachments (basalt.cli.attach).

Sizes and names are handed to the library as given: its validation
(basalt.model.validation) decides, so the CLI and REST refuse the same values
with the same messages.
"""

from __future__ import annotations

import click

from basalt.cli import (
    CliState,
    attach,
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
    VOLUME_COLUMNS,
    report_operation,
    report_removal,
    show_list,
    show_object,
)
from basalt.model import VolumeStatus
from basalt.persistence.base import SortDirection

SIZE_HELP = "Size in whole GiB."
# Lets a negative size through to the library's validation instead of click
# reading it as an unknown option.
ALLOW_NEGATIVE = {"ignore_unknown_options": True}


@click.group()
def volume() -> None:
    """Volumes."""


@volume.command("create")
@click.option("--size", required=True, metavar="GIB", help=SIZE_HELP)
@click.option("--name", default="", help="Name (no '/', '\\' or '..'; up to 255 characters).")
@click.option("--description", default="", help="Free text, up to 255 characters.")
@property_option("Metadata KEY=VALUE (repeatable).")
@click.option(
    "--pool", metavar="BACKEND#POOL", help="Where to create it (default: the scheduler's choice)."
)
@click.option("--zone", "availability_zone", help="The availability zone it must be in.")
@click.option(
    "--same-host", multiple=True, metavar="VOLUME", help="Share a backend with this volume."
)
@click.option(
    "--different-host", multiple=True, metavar="VOLUME", help="Avoid this volume's backend."
)
@click.option("--snapshot", "snapshot_id", metavar="ID", help="Create from this snapshot.")
@click.option("--source-volume", "source_volume_id", metavar="ID", help="Clone this volume.")
@click.option("--multiattach", is_flag=True, help="Let several hosts attach it at once.")
@click.option("--type", "volume_type", metavar="TYPE", help="Volume type (id or name).")
@click.option("--group", "group_id", metavar="ID", help="Create it in this group.")
@click.option("--request-id", metavar="KEY", help="Idempotency key: a retry returns the same.")
@wait_option
@json_option
@pass_state
def create_volume(
    state: CliState,
    size: str,
    name: str,
    description: str,
    properties: dict[str, str],
    pool: str | None,
    availability_zone: str | None,
    same_host: tuple[str, ...],
    different_host: tuple[str, ...],
    snapshot_id: str | None,
    source_volume_id: str | None,
    multiattach: bool,
    volume_type: str | None,
    group_id: str | None,
    request_id: str | None,
    wait: bool,
) -> None:
    """Create a volume: empty, from a snapshot, or as a clone."""
    hints = {
        name: list(ids)
        for name, ids in (("same_host", same_host), ("different_host", different_host))
        if ids
    }
    handle = state.basalt().volumes.create(
        size_gib=size,
        name=name,
        description=description,
        metadata=properties,
        pool=pool,
        snapshot_id=snapshot_id,
        source_volume_id=source_volume_id,
        multiattach=multiattach,
        volume_type=volume_type,
        availability_zone=availability_zone,
        scheduler_hints=hints,
        group_id=group_id,
        request_id=request_id,
    )
    report_operation(state, handle, wait=wait)


@volume.command("list")
@click.option("--name", help="Only volumes with exactly this name.")
@click.option(
    "--status", type=click.Choice([s.value for s in VolumeStatus]), help="Only this status."
)
@property_option("Only volumes with this metadata KEY=VALUE (repeatable).")
@listing_options
@json_option
@pass_state
def list_volumes(
    state: CliState,
    name: str | None,
    status: str | None,
    properties: dict[str, str],
    all_projects: bool,
    limit: int | None,
    marker: str | None,
    sort: tuple[tuple[str, SortDirection], ...] | None,
) -> None:
    """Volumes, newest first unless --sort says otherwise."""
    query = list_query(
        limit=limit, marker=marker, sort=sort, name=name, status=status, metadata=properties
    )
    items = state.basalt().volumes.list(query, all_projects=all_projects)
    show_list(state, items, VOLUME_COLUMNS)


@volume.command("show")
@click.argument("volume_id", metavar="ID")
@json_option
@pass_state
def show_volume(state: CliState, volume_id: str) -> None:
    """One volume."""
    show_object(state, state.basalt().volumes.get(volume_id))


@volume.command("update")
@click.argument("volume_id", metavar="ID")
@click.option("--name", help="New name.")
@click.option("--description", help="New description.")
@property_option("Replace the metadata with these KEY=VALUE items (repeatable).")
@click.option("--clear-properties", is_flag=True, help="Remove all metadata.")
@json_option
@pass_state
def update_volume(
    state: CliState,
    volume_id: str,
    name: str | None,
    description: str | None,
    properties: dict[str, str],
    clear_properties: bool,
) -> None:
    """Change a volume's name, description or metadata."""
    metadata = properties if properties or clear_properties else None
    if name is None and description is None and metadata is None:
        raise click.UsageError(
            "nothing to update: give --name, --description, --property or --clear-properties"
        )
    updated = state.basalt().volumes.update(
        volume_id, name=name, description=description, metadata=metadata
    )
    show_object(state, updated)


@volume.command("delete")
@click.argument("volume_id", metavar="ID")
@click.option("--cascade", is_flag=True, help="Delete its snapshots first.")
@wait_option
@json_option
@pass_state
def delete_volume(state: CliState, volume_id: str, cascade: bool, wait: bool) -> None:
    """Delete a volume (refused while it has snapshots, unless --cascade)."""
    handle = state.basalt().volumes.delete(volume_id, cascade=cascade)
    report_removal(state, handle, kind="volume", done_status="deleted", wait=wait)


@volume.command("extend", context_settings=ALLOW_NEGATIVE)
@click.argument("volume_id", metavar="ID")
@click.argument("new_size", metavar="NEW_SIZE_GIB")
@wait_option
@json_option
@pass_state
def extend_volume(state: CliState, volume_id: str, new_size: str, wait: bool) -> None:
    """Grow a volume to NEW_SIZE_GIB."""
    handle = state.basalt().volumes.extend(volume_id, new_size)
    report_operation(state, handle, wait=wait)


@volume.command("retype")
@click.argument("volume_id", metavar="ID")
@click.argument("new_type", metavar="TYPE")
@click.option(
    "--migration-policy",
    type=click.Choice(["never", "on-demand"]),
    default="never",
    show_default=True,
    help="on-demand: move the volume when its pool cannot take the type.",
)
@wait_option
@json_option
@pass_state
def retype_volume(
    state: CliState, volume_id: str, new_type: str, migration_policy: str, wait: bool
) -> None:
    """Give an available volume another type (in place, or by migrating it)."""
    handle = state.basalt().volumes.retype(volume_id, new_type, migration_policy=migration_policy)
    report_operation(state, handle, wait=wait)


@volume.command("migrate")
@click.argument("volume_id", metavar="ID")
@click.argument("host", metavar="BACKEND#POOL")
@click.option("--force-host-copy", is_flag=True, help="Copy through Basalt, not the driver.")
@wait_option
@json_option
@pass_state
def migrate_volume(
    state: CliState, volume_id: str, host: str, force_host_copy: bool, wait: bool
) -> None:
    """Move an available volume to another pool or backend (administrators)."""
    handle = state.basalt().volumes.migrate(volume_id, host, force_host_copy=force_host_copy)
    report_operation(state, handle, wait=wait)


@volume.command("clone")
@click.argument("volume_id", metavar="ID")
@click.option("--size", metavar="GIB", help="Size of the copy (default: the source's).")
@click.option("--name", default="", help="Name of the copy.")
@click.option("--description", default="", help="Description of the copy.")
@wait_option
@json_option
@pass_state
def clone_volume(
    state: CliState, volume_id: str, size: str | None, name: str, description: str, wait: bool
) -> None:
    """Copy an available volume into a new one."""
    handle = state.basalt().volumes.clone(
        volume_id, size_gib=size, name=name, description=description
    )
    report_operation(state, handle, wait=wait)


@volume.command("manage")
@click.argument("source_name")
@click.option("--pool", metavar="BACKEND#POOL", help="The pool holding it (default: most room).")
@click.option("--name", default="", help="Name of the new volume.")
@click.option("--description", default="", help="Description of the new volume.")
@wait_option
@json_option
@pass_state
def manage_volume(
    state: CliState,
    source_name: str,
    pool: str | None,
    name: str,
    description: str,
    wait: bool,
) -> None:
    """Adopt SOURCE_NAME, an object already on the backend, as a volume.

    For the file driver SOURCE_NAME is a file in the pool's volumes/ directory; its
    size is rounded up to whole GiB.
    """
    handle = state.basalt().manage.manage_volume(
        {"source-name": source_name}, pool=pool, name=name, description=description
    )
    report_operation(state, handle, wait=wait)


@volume.command("unmanage")
@click.argument("volume_id", metavar="ID")
@wait_option
@json_option
@pass_state
def unmanage_volume(state: CliState, volume_id: str, wait: bool) -> None:
    """Stop managing a volume; its data stays on the backend."""
    handle = state.basalt().manage.unmanage_volume(volume_id)
    report_removal(state, handle, kind="volume", done_status="unmanaged", wait=wait)


@volume.command("manageable")
@click.option("--pool", metavar="BACKEND#POOL", help="Pool to look in (default: most room).")
@json_option
@pass_state
def manageable_volumes(state: CliState, pool: str | None) -> None:
    """Objects on the backend that could be managed as volumes."""
    show_list(state, state.basalt().manage.manageable_volumes(pool), MANAGEABLE_COLUMNS)


@volume.command("events")
@click.argument("volume_id", metavar="ID")
@json_option
@pass_state
def volume_events(state: CliState, volume_id: str) -> None:
    """A volume's timeline, oldest first."""
    events = state.basalt().volumes.events(volume_id)
    show_list(state, events, EVENT_COLUMNS)


for _command in attach.COMMANDS:
    volume.add_command(_command)


@volume.command("replication")
@click.argument("volume_id", metavar="ID")
@json_option
@pass_state
def volume_replication(state: CliState, volume_id: str) -> None:
    """The volume's replication: status, last completed replication, lag, bytes shipped."""
    found = state.basalt().replication.volume_replication(volume_id)
    if found is None:
        show_object(state, {"volume_id": volume_id, "status": "disabled"})
        return
    show_object(state, found)
