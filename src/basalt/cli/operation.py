"""``basalt operation ...``: the records of long-running work, with progress and outcome."""

from __future__ import annotations

import click

from basalt.cli import CliState, json_option, pass_state
from basalt.cli.output import OPERATION_COLUMNS, show_list, show_object


@click.group()
def operation() -> None:
    """Operations: what each mutating request asked for and how far it got."""


@operation.command("list")
@click.option("--resource", "resource_id", metavar="ID", help="Only this resource's operations.")
@click.option("--open", "open_only", is_flag=True, help="Only pending or running operations.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=100, show_default=True, help="At most N."
)
@click.option("--all-projects", is_flag=True, help="Every project's (administrators).")
@json_option
@pass_state
def list_operations(
    state: CliState, resource_id: str | None, open_only: bool, limit: int, all_projects: bool
) -> None:
    """Operations, newest first."""
    items = state.basalt().operations.list(
        resource_id=resource_id, open_only=open_only, limit=limit, all_projects=all_projects
    )
    show_list(state, items, OPERATION_COLUMNS)


@operation.command("show")
@click.argument("operation_id", metavar="ID")
@json_option
@pass_state
def show_operation(state: CliState, operation_id: str) -> None:
    """One operation: phase, progress (percent, bytes done/total) and, if it failed,
    the error code, message and hint."""
    show_object(state, state.basalt().operations.get(operation_id))
