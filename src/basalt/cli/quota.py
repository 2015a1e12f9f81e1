"""``basalt quota ...``: a project's limits, what it uses, and changing them."""

from __future__ import annotations

from dataclasses import dataclass

import click

from basalt.cli import CliState, json_option, pass_state
from basalt.cli.output import Columns, show_list, show_object
from basalt.service.quotas import QuotaSet


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One resource of ``basalt quota usage``."""

    resource: str
    in_use: int
    reserved: int
    limit: int


USAGE_COLUMNS: Columns[UsageRow] = (
    ("Resource", lambda r: r.resource),
    ("In use", lambda r: r.in_use),
    ("Reserved", lambda r: r.reserved),
    ("Limit", lambda r: "unlimited" if r.limit == -1 else r.limit),
)


@click.group()
def quota() -> None:
    """Quotas: each project's limits (-1: unlimited) and what it uses."""


@quota.command("show")
@click.argument("project", required=False)
@json_option
@pass_state
def show(state: CliState, project: str | None) -> None:
    """The limits of PROJECT (default: the configured default project)."""
    _show_limits(state, state.basalt().quotas.show(project))


@quota.command("usage")
@click.argument("project", required=False)
@json_option
@pass_state
def usage(state: CliState, project: str | None) -> None:
    """What PROJECT uses of each limit; reserved is the growth of extends still running."""
    found = state.basalt().quotas.show(project, usage=True)
    rows = [
        UsageRow(name, line.in_use, line.reserved, line.limit) for name, line in found.lines.items()
    ]
    show_list(state, rows, USAGE_COLUMNS)


@quota.command("set")
@click.argument("project")
@click.option("--volumes", type=int, help="How many volumes.")
@click.option("--snapshots", type=int, help="How many snapshots.")
@click.option("--gigabytes", type=int, help="GiB of volumes and snapshots together.")
@click.option("--per-volume-gigabytes", type=int, help="The largest size of one volume (GiB).")
@click.option(
    "--volume-type",
    metavar="TYPE",
    help="Set the limits of this volume type's volumes (volumes_TYPE, ...) instead.",
)
@click.option(
    "--skip-validation", is_flag=True, help="Accept limits below what PROJECT already uses."
)
@json_option
@pass_state
def set_limits(
    state: CliState,
    project: str,
    volumes: int | None,
    snapshots: int | None,
    gigabytes: int | None,
    per_volume_gigabytes: int | None,
    volume_type: str | None,
    skip_validation: bool,
) -> None:
    """Set some of PROJECT's limits (-1: unlimited); all of them, or none if one is refused."""
    given = {"volumes": volumes, "snapshots": snapshots, "gigabytes": gigabytes}
    items: dict[str, object] = {
        (f"{name}_{volume_type}" if volume_type else name): value
        for name, value in given.items()
        if value is not None
    }
    if per_volume_gigabytes is not None:
        if volume_type:
            raise click.UsageError("--per-volume-gigabytes has no per-type limit")
        items["per_volume_gigabytes"] = per_volume_gigabytes
    if not items:
        raise click.UsageError("give at least one limit (--volumes, --gigabytes, ...)")
    quotas = state.basalt().quotas
    quotas.update(project, items, skip_validation=skip_validation)
    _show_limits(state, quotas.show(project))


@quota.command("reset")
@click.argument("project")
@json_option
@pass_state
def reset(state: CliState, project: str) -> None:
    """Drop PROJECT's own limits: the defaults apply again."""
    quotas = state.basalt().quotas
    quotas.reset(project)
    _show_limits(state, quotas.show(project))


def _show_limits(state: CliState, found: QuotaSet) -> None:
    show_object(state, {"project_id": found.project_id, **found.limits})
