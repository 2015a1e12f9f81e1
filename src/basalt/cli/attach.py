"""``basalt volume attach|detach|connection|attachments``: hosts and their volumes.

The connector is built from options: ``--host`` (default: this machine's name),
``--initiator`` (default: open-iscsi's /etc/iscsi/initiatorname.iscsi when
present) or ``--local`` for a loop device on Basalt's own host. The connection
info printed includes the project's CHAP secret: the caller asked for it.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from basalt.cli import CliState, json_option, pass_state
from basalt.cli.output import ATTACHMENT_COLUMNS, print_json, show_list, show_object
from basalt.drivers.types import ConnectionInfo

F = TypeVar("F", bound=Callable[..., Any])
OPEN_ISCSI_NAME_FILE = Path("/etc/iscsi/initiatorname.iscsi")


def connector_options(func: F) -> F:
    """The options that describe the attaching host."""
    options = [
        click.option("--host", "host", help="The host's name (default: this machine's)."),
        click.option(
            "--initiator",
            metavar="IQN",
            help="The host's iSCSI initiator name (default: /etc/iscsi/initiatorname.iscsi).",
        ),
        click.option("--ip", help="The host's IP address (informational)."),
        click.option("--multipath", is_flag=True, help="The host uses multipath."),
        click.option(
            "--local", is_flag=True, help="A loop device on Basalt's own host instead of iSCSI."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_connector(
    host: str | None, initiator: str | None, ip: str | None, multipath: bool, local: bool
) -> dict[str, object]:
    """The connector dict the library validates (so its errors are the REST ones)."""
    connector: dict[str, object] = {"host": host or socket.gethostname(), "multipath": multipath}
    initiator = initiator or (None if local else _open_iscsi_initiator())
    if initiator is not None:
        connector["initiator"] = initiator
    if ip is not None:
        connector["ip"] = ip
    if local:
        connector["do_local_attach"] = True
    return connector


def _open_iscsi_initiator() -> str | None:
    try:
        text = OPEN_ISCSI_NAME_FILE.read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "InitiatorName" and value.strip():
            return value.strip()
    return None


def show_connection(state: CliState, info: ConnectionInfo, extra: dict[str, object]) -> None:
    """Print connection info: JSON as Cinder gives it, or a Field/Value table."""
    if state.json:
        print_json({**extra, "connection_info": info.as_dict()})
        return
    show_object(state, {**extra, "driver_volume_type": info.driver_volume_type, **info.data})


@click.command("attach")
@click.argument("volume_id", metavar="ID")
@connector_options
@click.option("--mode", type=click.Choice(["rw", "ro"]), default="rw", show_default=True)
@click.option("--instance", "instance_id", help="The server (instance) using it, if any.")
@json_option
@pass_state
def attach_volume(
    state: CliState,
    volume_id: str,
    host: str | None,
    initiator: str | None,
    ip: str | None,
    multipath: bool,
    local: bool,
    mode: str,
    instance_id: str | None,
) -> None:
    """Attach a volume to a host: export it and print the connection info (in-use)."""
    service = state.basalt().attachments
    connector = build_connector(host, initiator, ip, multipath, local)
    result = service.attach(volume_id, connector, instance_id=instance_id, mode=mode)
    attachment = service.complete(result.attachment.id)
    show_connection(
        state,
        result.connection_info,
        {"attachment_id": attachment.id, "status": str(attachment.status)},
    )


@click.command("connection")
@click.argument("volume_id", metavar="ID")
@connector_options
@json_option
@pass_state
def volume_connection(
    state: CliState,
    volume_id: str,
    host: str | None,
    initiator: str | None,
    ip: str | None,
    multipath: bool,
    local: bool,
) -> None:
    """The connection info for a host (initialize_connection): exports it if needed.

    Asking again for the same host is idempotent; the attachment stays attaching
    until ``basalt volume attach`` (or os-attach) completes it.
    """
    service = state.basalt().attachments
    result = service.attach(volume_id, build_connector(host, initiator, ip, multipath, local))
    show_connection(
        state,
        result.connection_info,
        {"attachment_id": result.attachment.id, "status": str(result.attachment.status)},
    )


@click.command("detach")
@click.argument("volume_id", metavar="ID")
@click.option("--attachment", "attachment_id", metavar="ID", help="Which attachment (if several).")
@json_option
@pass_state
def detach_volume(state: CliState, volume_id: str, attachment_id: str | None) -> None:
    """Detach a volume from its host; the last detach removes the export."""
    state.basalt().attachments.detach_volume(volume_id, attachment_id=attachment_id)
    if state.json:
        print_json({"volume_id": volume_id, "detached": True})
    else:
        click.echo(f"detached volume {volume_id}")


@click.command("attachments")
@click.argument("volume_id", metavar="ID")
@json_option
@pass_state
def list_attachments(state: CliState, volume_id: str) -> None:
    """A volume's attachments (connectors, status; never the CHAP secret)."""
    basalt = state.basalt()
    basalt.volumes.get(volume_id)  # not found -> clear error
    show_list(state, basalt.attachments.list(volume_id=volume_id), ATTACHMENT_COLUMNS)


COMMANDS = (attach_volume, volume_connection, detach_volume, list_attachments)
