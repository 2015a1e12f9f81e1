"""``basalt group-type ...``, ``basalt group ...`` and ``basalt group-snapshot ...``.

The CLI acts as the configured default user and project (an administrator).
"""

from __future__ import annotations

from collections.abc import Callable

import click

from basalt.cli import CliState, json_option, pass_state, property_option, wait_option
from basalt.cli.output import report_operation, report_removal, show_list, show_object
from basalt.model.group import Group, GroupSnapshot, GroupType

TYPE_COLUMNS: tuple[tuple[str, Callable[[GroupType], object]], ...] = (
    ("ID", lambda t: t.id),
    ("Name", lambda t: t.name),
    ("Public", lambda t: t.is_public),
    ("Group specs", lambda t: t.group_specs),
)
GROUP_COLUMNS: tuple[tuple[str, Callable[[Group], object]], ...] = (
    ("ID", lambda g: g.id),
    ("Name", lambda g: g.name),
    ("Status", lambda g: g.status),
    ("Group type", lambda g: g.group_type_id),
    ("Backend", lambda g: g.backend),
    ("Replication", lambda g: g.replication_status),
    ("Project", lambda g: g.project_id),
)
SNAPSHOT_COLUMNS: tuple[tuple[str, Callable[[GroupSnapshot], object]], ...] = (
    ("ID", lambda s: s.id),
    ("Name", lambda s: s.name),
    ("Status", lambda s: s.status),
    ("Group", lambda s: s.group_id),
    ("Pause (ms)", lambda s: s.cut.get("pause_ms")),
    ("Created", lambda s: s.created_at),
)


@click.group("group-type")
def group_type() -> None:
    """Group types and their group specs (administrators change them)."""


@group_type.command("create")
@click.argument("name")
@click.option("--description", default="", help="What it is for.")
@click.option("--private", is_flag=True, help="Visible to administrators only.")
@property_option("A group spec, e.g. consistent_group_snapshot_enabled='<is> True'.")
@json_option
@pass_state
def create_group_type(
    state: CliState, name: str, description: str, private: bool, properties: dict[str, str]
) -> None:
    """Create a group type."""
    made = state.basalt().group_types.create(
        name, description=description, is_public=not private, group_specs=properties
    )
    show_object(state, made)


@group_type.command("list")
@json_option
@pass_state
def list_group_types(state: CliState) -> None:
    """Every group type, by name."""
    show_list(state, state.basalt().group_types.list(), TYPE_COLUMNS)


@group_type.command("show")
@click.argument("type_ref", metavar="ID_OR_NAME")
@json_option
@pass_state
def show_group_type(state: CliState, type_ref: str) -> None:
    """One group type."""
    show_object(state, state.basalt().group_types.get(type_ref))


@group_type.command("set")
@click.argument("type_ref", metavar="ID_OR_NAME")
@property_option("A group spec to add or change.")
@json_option
@pass_state
def set_group_specs(state: CliState, type_ref: str, properties: dict[str, str]) -> None:
    """Add or change group specs."""
    specs = state.basalt().group_types.set_specs(type_ref, properties)
    show_object(state, {"id": type_ref, "group_specs": specs})


@group_type.command("unset")
@click.argument("type_ref", metavar="ID_OR_NAME")
@click.argument("key")
@pass_state
def unset_group_spec(state: CliState, type_ref: str, key: str) -> None:
    """Remove one group spec."""
    state.basalt().group_types.delete_spec(type_ref, key)
    click.echo(f"group type {type_ref}: group spec {key} removed")


@group_type.command("delete")
@click.argument("type_ref", metavar="ID_OR_NAME")
@pass_state
def delete_group_type(state: CliState, type_ref: str) -> None:
    """Delete a group type no group uses."""
    state.basalt().group_types.delete(type_ref)
    click.echo(f"group type {type_ref}: deleted")


@click.group("group")
def group() -> None:
    """Groups of volumes, snapshotted together."""


@group.command("create")
@click.argument("group_type_ref", metavar="GROUP_TYPE")
@click.argument("volume_types", metavar="VOLUME_TYPE...", nargs=-1, required=True)
@click.option("--name", default="", help="Name of the group.")
@click.option("--description", default="", help="Description.")
@click.option("--availability-zone", default=None, help="Zone of its backend.")
@wait_option
@json_option
@pass_state
def create_group(
    state: CliState,
    group_type_ref: str,
    volume_types: tuple[str, ...],
    name: str,
    description: str,
    availability_zone: str | None,
    wait: bool,
) -> None:
    """Create an empty group of GROUP_TYPE whose volumes may have the VOLUME_TYPEs."""
    handle = state.basalt().groups.create(
        group_type=group_type_ref,
        volume_types=list(volume_types),
        name=name,
        description=description,
        availability_zone=availability_zone,
    )
    report_operation(state, handle, wait=wait)


@group.command("create-from-src")
@click.option("--group-snapshot", "group_snapshot_id", metavar="ID", help="A group snapshot.")
@click.option("--source-group", "source_group_id", metavar="ID", help="A group to copy.")
@click.option("--name", default="", help="Name of the new group.")
@click.option("--description", default="", help="Description.")
@wait_option
@json_option
@pass_state
def create_group_from_src(
    state: CliState,
    group_snapshot_id: str | None,
    source_group_id: str | None,
    name: str,
    description: str,
    wait: bool,
) -> None:
    """A new group holding a copy of every member of a group snapshot or a source group."""
    handle = state.basalt().groups.create_from_src(
        group_snapshot_id=group_snapshot_id,
        source_group_id=source_group_id,
        name=name,
        description=description,
    )
    report_operation(state, handle, wait=wait)


@group.command("list")
@click.option("--all-projects", is_flag=True, help="Every project's.")
@json_option
@pass_state
def list_groups(state: CliState, all_projects: bool) -> None:
    """Groups, newest first."""
    show_list(state, state.basalt().groups.list(all_projects=all_projects), GROUP_COLUMNS)


@group.command("show")
@click.argument("group_id", metavar="ID")
@json_option
@pass_state
def show_group(state: CliState, group_id: str) -> None:
    """One group, with its volumes."""
    instance = state.basalt()
    found = instance.groups.get(group_id)
    show_object(state, found, {"volumes": [v.id for v in instance.groups.volumes(group_id)]})


@group.command("update")
@click.argument("group_id", metavar="ID")
@click.option("--name", default=None, help="New name.")
@click.option("--description", default=None, help="New description.")
@click.option("--add-volumes", default=None, metavar="ID,ID", help="Volumes to add.")
@click.option("--remove-volumes", default=None, metavar="ID,ID", help="Volumes to remove.")
@json_option
@pass_state
def update_group(
    state: CliState,
    group_id: str,
    name: str | None,
    description: str | None,
    add_volumes: str | None,
    remove_volumes: str | None,
) -> None:
    """Rename a group, or add and remove volumes (all or nothing)."""
    changed = state.basalt().groups.update(
        group_id,
        name=name,
        description=description,
        add_volumes=add_volumes,
        remove_volumes=remove_volumes,
    )
    show_object(state, changed)


@group.command("delete")
@click.argument("group_id", metavar="ID")
@click.option("--delete-volumes", is_flag=True, help="Delete its volumes too.")
@wait_option
@json_option
@pass_state
def delete_group(state: CliState, group_id: str, delete_volumes: bool, wait: bool) -> None:
    """Delete a group (with --delete-volumes: and its volumes)."""
    handle = state.basalt().groups.delete(group_id, delete_volumes=delete_volumes)
    report_removal(state, handle, kind="group", done_status="deleted", wait=wait)


@group.command("reset-status")
@click.argument("group_id", metavar="ID")
@click.argument("status", type=click.Choice(["available", "error"]))
@json_option
@pass_state
def reset_group_status(state: CliState, group_id: str, status: str) -> None:
    """Set a group's status (administrators)."""
    show_object(state, state.basalt().groups.reset_status(group_id, status))


@group.command("enable-replication")
@click.argument("group_id", metavar="ID")
@json_option
@pass_state
def enable_group_replication(state: CliState, group_id: str) -> None:
    """Ship the group's volumes to their replication target again (its group type must
    have consistent_group_replication_enabled='<is> True')."""
    show_object(state, state.basalt().group_replication.enable(group_id))


@group.command("disable-replication")
@click.argument("group_id", metavar="ID")
@json_option
@pass_state
def disable_group_replication(state: CliState, group_id: str) -> None:
    """Stop shipping the group's volumes (their copies keep the last shipped point)."""
    show_object(state, state.basalt().group_replication.disable(group_id))


@group.command("failover-replication")
@click.argument("group_id", metavar="ID")
@click.option(
    "--secondary-backend-id",
    metavar="TARGET",
    help="The replication target to serve the group's volumes from (default: the "
    "backend's only one); 'default' fails them back.",
)
@click.option(
    "--allow-attached-volume",
    is_flag=True,
    help="Fail over attached volumes too (their hosts then read the last shipped data).",
)
@wait_option
@json_option
@pass_state
def failover_group_replication(
    state: CliState,
    group_id: str,
    secondary_backend_id: str | None,
    allow_attached_volume: bool,
    wait: bool,
) -> None:
    """Serve only this group's volumes from their secondary copies (what was written after
    a volume's last completed shipment is lost); the rest of the backend stays home."""
    handle = state.basalt().group_replication.failover(
        group_id, secondary_backend_id, allow_attached_volume=allow_attached_volume
    )
    report_operation(state, handle, wait=wait)


@group.command("replication-targets")
@click.argument("group_id", metavar="ID")
@json_option
@pass_state
def list_group_replication_targets(state: CliState, group_id: str) -> None:
    """The replication targets the group can fail over to."""
    targets = state.basalt().group_replication.targets(group_id)
    show_list(
        state,
        targets,
        (("Backend id", lambda t: t.backend_id), ("Interval (s)", lambda t: t.interval_seconds)),
    )


@click.group("group-snapshot")
def group_snapshot() -> None:
    """Group snapshots: every volume of a group at one point in time."""


@group_snapshot.command("create")
@click.argument("group_id", metavar="GROUP_ID")
@click.option("--name", default="", help="Name of the group snapshot.")
@click.option("--description", default="", help="Description.")
@wait_option
@json_option
@pass_state
def create_group_snapshot(
    state: CliState, group_id: str, name: str, description: str, wait: bool
) -> None:
    """Snapshot every volume of a group as one cut (its ``cut`` shows the I/O pause)."""
    handle = state.basalt().group_snapshots.create(group_id, name=name, description=description)
    report_operation(state, handle, wait=wait)


@group_snapshot.command("list")
@click.option("--group", "group_id", metavar="ID", help="Only this group's.")
@click.option("--all-projects", is_flag=True, help="Every project's.")
@json_option
@pass_state
def list_group_snapshots(state: CliState, group_id: str | None, all_projects: bool) -> None:
    """Group snapshots, newest first."""
    found = state.basalt().group_snapshots.list(group_id=group_id, all_projects=all_projects)
    show_list(state, found, SNAPSHOT_COLUMNS)


@group_snapshot.command("show")
@click.argument("group_snapshot_id", metavar="ID")
@json_option
@pass_state
def show_group_snapshot(state: CliState, group_snapshot_id: str) -> None:
    """One group snapshot, with its member snapshots."""
    instance = state.basalt()
    found = instance.group_snapshots.get(group_snapshot_id)
    members = [s.id for s in instance.group_snapshots.members(group_snapshot_id)]
    show_object(state, found, {"snapshots": members})


@group_snapshot.command("delete")
@click.argument("group_snapshot_id", metavar="ID")
@wait_option
@json_option
@pass_state
def delete_group_snapshot(state: CliState, group_snapshot_id: str, wait: bool) -> None:
    """Delete a group snapshot with its member snapshots."""
    handle = state.basalt().group_snapshots.delete(group_snapshot_id)
    report_removal(state, handle, kind="group snapshot", done_status="deleted", wait=wait)


@group_snapshot.command("reset-status")
@click.argument("group_snapshot_id", metavar="ID")
@click.argument("status", type=click.Choice(["available", "error"]))
@json_option
@pass_state
def reset_group_snapshot_status(state: CliState, group_snapshot_id: str, status: str) -> None:
    """Set a group snapshot's status (administrators)."""
    show_object(state, state.basalt().group_snapshots.reset_status(group_snapshot_id, status))
