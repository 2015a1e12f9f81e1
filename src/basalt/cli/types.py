"""``basalt type ...`` and ``basalt qos ...``: volume types, their extra specs and access,
and QoS specs with their associations."""

from __future__ import annotations

import click

from basalt.cli import CliState, json_option, pass_state, property_option
from basalt.cli.output import QOS_COLUMNS, TYPE_COLUMNS, show_list, show_object


@click.group("type")
def volume_type() -> None:
    """Volume types (changes: administrators)."""


@volume_type.command("list")
@json_option
@pass_state
def list_types(state: CliState) -> None:
    """The types you may use (administrators: every type)."""
    show_list(state, state.basalt().types.list(), TYPE_COLUMNS)


@volume_type.command("show")
@click.argument("type_ref", metavar="TYPE")
@json_option
@pass_state
def show_type(state: CliState, type_ref: str) -> None:
    """One type, by id or name."""
    show_object(state, state.basalt().types.get(type_ref))


@volume_type.command("create")
@click.argument("name")
@click.option("--description", default="", help="Free text, up to 255 characters.")
@click.option("--private", is_flag=True, help="Only projects it is shared with may use it.")
@property_option("Extra spec KEY=VALUE (repeatable), e.g. volume_backend_name=file.")
@json_option
@pass_state
def create_type(
    state: CliState, name: str, description: str, private: bool, properties: dict[str, str]
) -> None:
    """Create a type."""
    created = state.basalt().types.create(
        name, description=description, is_public=not private, extra_specs=properties
    )
    show_object(state, created)


@volume_type.command("set")
@click.argument("type_ref", metavar="TYPE")
@click.option("--name", help="New name.")
@click.option("--description", help="New description.")
@click.option("--public/--private", "public", default=None, help="Change who may use it.")
@property_option("Add or change extra spec KEY=VALUE (repeatable).")
@json_option
@pass_state
def set_type(
    state: CliState,
    type_ref: str,
    name: str | None,
    description: str | None,
    public: bool | None,
    properties: dict[str, str],
) -> None:
    """Change a type's name, description, visibility or extra specs."""
    types = state.basalt().types
    found = types.get(type_ref)
    if name is not None or description is not None or public is not None:
        found = types.update(found.id, name=name, description=description, is_public=public)
    if properties:
        types.set_extra_specs(found.id, properties)
    show_object(state, types.get(found.id))


@volume_type.command("unset")
@click.argument("type_ref", metavar="TYPE")
@click.argument("keys", nargs=-1, required=True)
@json_option
@pass_state
def unset_type(state: CliState, type_ref: str, keys: tuple[str, ...]) -> None:
    """Remove extra specs."""
    types = state.basalt().types
    found = types.get(type_ref)
    for key in keys:
        types.unset_extra_spec(found.id, key)
    show_object(state, types.get(found.id))


@volume_type.command("delete")
@click.argument("type_ref", metavar="TYPE")
@pass_state
def delete_type(state: CliState, type_ref: str) -> None:
    """Delete a type no volume has."""
    types = state.basalt().types
    types.delete(types.get(type_ref).id)
    click.echo(f"deleted volume type {type_ref}")


@volume_type.command("access")
@click.argument("type_ref", metavar="TYPE")
@click.option("--grant", metavar="PROJECT", help="Share the private type with PROJECT.")
@click.option("--revoke", metavar="PROJECT", help="Stop sharing it with PROJECT.")
@json_option
@pass_state
def access(state: CliState, type_ref: str, grant: str | None, revoke: str | None) -> None:
    """Show (or change) the projects a private type is shared with."""
    types = state.basalt().types
    found = types.get(type_ref)
    if grant is not None:
        types.share(found.id, grant, grant=True)
    if revoke is not None:
        types.share(found.id, revoke, grant=False)
    show_object(state, {"volume_type": found.name, "projects": types.projects(found.id)})


@click.group()
def qos() -> None:
    """QoS specs (administrators)."""


@qos.command("list")
@json_option
@pass_state
def list_qos(state: CliState) -> None:
    """Every QoS spec."""
    show_list(state, state.basalt().qos.list(), QOS_COLUMNS)


@qos.command("show")
@click.argument("qos_id")
@json_option
@pass_state
def show_qos(state: CliState, qos_id: str) -> None:
    """One QoS spec and the types that have it."""
    service = state.basalt().qos
    found = service.get(qos_id)
    show_object(state, found, {"types": ", ".join(t.name for t in service.associations(found.id))})


@qos.command("create")
@click.argument("name")
@click.option(
    "--consumer",
    type=click.Choice(["back-end", "front-end", "both"]),
    default="back-end",
    show_default=True,
    help="Who enforces it: the backend, the host, or both.",
)
@property_option("Key KEY=VALUE (repeatable), e.g. total_iops_sec=500 or sf-qos=fast.")
@json_option
@pass_state
def create_qos(state: CliState, name: str, consumer: str, properties: dict[str, str]) -> None:
    """Create a QoS spec."""
    show_object(state, state.basalt().qos.create(name, consumer=consumer, specs=properties))


@qos.command("set")
@click.argument("qos_id")
@property_option("Add or change key KEY=VALUE (repeatable; consumer=... changes the consumer).")
@json_option
@pass_state
def set_qos(state: CliState, qos_id: str, properties: dict[str, str]) -> None:
    """Add or change keys."""
    show_object(state, state.basalt().qos.set_keys(qos_id, properties))


@qos.command("unset")
@click.argument("qos_id")
@click.argument("keys", nargs=-1, required=True)
@json_option
@pass_state
def unset_qos(state: CliState, qos_id: str, keys: tuple[str, ...]) -> None:
    """Remove keys."""
    show_object(state, state.basalt().qos.unset_keys(qos_id, keys))


@qos.command("associate")
@click.argument("qos_id")
@click.argument("type_ref", metavar="TYPE")
@pass_state
def associate(state: CliState, qos_id: str, type_ref: str) -> None:
    """Give a volume type this QoS spec."""
    basalt = state.basalt()
    basalt.qos.associate(qos_id, basalt.types.get(type_ref).id)
    click.echo(f"QoS spec {qos_id} associated with volume type {type_ref}")


@qos.command("disassociate")
@click.argument("qos_id")
@click.argument("type_ref", metavar="TYPE", required=False)
@pass_state
def disassociate(state: CliState, qos_id: str, type_ref: str | None) -> None:
    """Take this QoS spec from a volume type (from every type without TYPE)."""
    basalt = state.basalt()
    type_id = None if type_ref is None else basalt.types.get(type_ref).id
    basalt.qos.disassociate(qos_id, type_id)
    click.echo(f"QoS spec {qos_id} disassociated from {type_ref or 'every type'}")


@qos.command("delete")
@click.argument("qos_id")
@click.option("--force", is_flag=True, help="Also when types have it (they lose it).")
@pass_state
def delete_qos(state: CliState, qos_id: str, force: bool) -> None:
    """Delete a QoS spec."""
    state.basalt().qos.delete(qos_id, force=force)
    click.echo(f"deleted QoS spec {qos_id}")
