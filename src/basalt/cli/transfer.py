"""``basalt transfer ...``: offer a volume to another project, list, show, accept, delete.

The CLI acts as the configured default user and project (an administrator, who
sees every project's volumes). ``accept`` takes the volume into ``--project``
(default: the default project) as ``--user``; a transfer offered by that same
project is refused, as it would be over REST.
"""

from __future__ import annotations

import sys

import click

from basalt.cli import CliState, json_option, pass_state, wait_option
from basalt.cli.output import (
    TRANSFER_COLUMNS,
    report_operation,
    show_list,
    show_object,
    transfer_view,
)
from basalt.service.context import RequestContext


@click.group()
def transfer() -> None:
    """Volume transfers between projects."""


@transfer.command("create")
@click.argument("volume_id", metavar="VOLUME_ID")
@click.option("--name", default="", help="Name of the transfer.")
@click.option(
    "--no-snapshots", is_flag=True, help="Offer the volume alone (it must have no snapshots)."
)
@json_option
@pass_state
def create_transfer(state: CliState, volume_id: str, name: str, no_snapshots: bool) -> None:
    """Offer an available volume (with its snapshots) to another project.

    Prints the auth key: this is the only time it is shown.
    """
    new = state.basalt().transfers.create(volume_id, name=name, no_snapshots=no_snapshots)
    show_object(state, transfer_view(new.transfer), {"auth_key": new.auth_key})


@transfer.command("list")
@click.option("--volume", "volume_id", metavar="ID", help="Only this volume's transfers.")
@click.option("--all-projects", is_flag=True, help="Every project's (administrators).")
@json_option
@pass_state
def list_transfers(state: CliState, volume_id: str | None, all_projects: bool) -> None:
    """Open transfers, newest first (never their keys)."""
    found = state.basalt().transfers.list(volume_id=volume_id, all_projects=all_projects)
    show_list(state, [transfer_view(t) for t in found], TRANSFER_COLUMNS)


@transfer.command("show")
@click.argument("transfer_id", metavar="ID")
@json_option
@pass_state
def show_transfer(state: CliState, transfer_id: str) -> None:
    """One open transfer."""
    show_object(state, transfer_view(state.basalt().transfers.get(transfer_id)))


@transfer.command("delete")
@click.argument("transfer_id", metavar="ID")
@json_option
@pass_state
def delete_transfer(state: CliState, transfer_id: str) -> None:
    """Cancel an open transfer: its volume is available to its project again."""
    gone = state.basalt().transfers.delete(transfer_id)
    show_object(state, transfer_view(gone), {"status": "deleted"})


@transfer.command("accept")
@click.argument("transfer_id", metavar="ID")
@click.argument("auth_key", metavar="AUTH_KEY")
@click.option("--project", help="The project taking the volume (default: the default project).")
@click.option("--user", help="Its new user (default: the default user).")
@wait_option
@json_option
@pass_state
def accept_transfer(
    state: CliState,
    transfer_id: str,
    auth_key: str,
    project: str | None,
    user: str | None,
    wait: bool,
) -> None:
    """Take the volume of transfer ID into --project with its AUTH_KEY ('-': read it from
    the first line of stdin, which keeps it out of the process list)."""
    instance = state.basalt()
    default = instance.default_context
    ctx = RequestContext(
        user_id=user or default.user_id,
        project_id=project or default.project_id,
        roles=default.roles,
    )
    key = sys.stdin.readline().strip() if auth_key == "-" else auth_key
    handle = instance.transfers.accept(transfer_id, key, ctx=ctx)
    report_operation(state, handle, wait=wait)
