"""``basalt scheduler explain``: where a new volume would go, and why."""

from __future__ import annotations

import click

from basalt.cli import CliState, json_option, pass_state
from basalt.cli.output import print_json


@click.group()
def scheduler() -> None:
    """The scheduler that places new volumes (administrators)."""


@scheduler.command("explain")
@click.option("--size", "size_gib", type=int, required=True, help="The volume's size in GiB.")
@click.option(
    "--type", "volume_type", help="A volume type (name or id; default: the default type)."
)
@click.option("--zone", "availability_zone", help="The availability zone asked for.")
@click.option(
    "--same-host",
    "same_host",
    multiple=True,
    metavar="VOLUME",
    help="Share a backend with this volume (repeatable).",
)
@click.option(
    "--different-host",
    "different_host",
    multiple=True,
    metavar="VOLUME",
    help="Avoid the backend of this volume (repeatable).",
)
@click.option("--all", "show_all", is_flag=True, help="List every pool (default: the first 50).")
@click.option("--verbose", is_flag=True, help="Also show the reasons of the filters pools passed.")
@json_option
@pass_state
def explain(
    state: CliState,
    size_gib: int,
    volume_type: str | None,
    availability_zone: str | None,
    same_host: tuple[str, ...],
    different_host: tuple[str, ...],
    show_all: bool,
    verbose: bool,
) -> None:
    """Every pool with each filter's verdict and each weigher's score for a volume
    create; nothing is created. Exits 0 whether or not a pool would take it."""
    hints = {
        name: list(ids)
        for name, ids in (("same_host", same_host), ("different_host", different_host))
        if ids
    }
    explanation = state.basalt().volumes.explain_placement(
        size_gib=size_gib,
        volume_type=volume_type,
        availability_zone=availability_zone,
        scheduler_hints=hints,
    )
    if state.json:
        print_json(explanation.as_dict())
        return
    click.echo(explanation.as_text(limit=None if show_all else 50, verbose=verbose))
