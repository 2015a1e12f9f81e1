"""``basalt pool ...``: backends, pools and their capacity."""

from __future__ import annotations

import click

from basalt.cli import CliState, json_option, pass_state
from basalt.cli.output import POOL_COLUMNS, show_list


@click.group()
def pool() -> None:
    """Backends and pools."""


@pool.command("list")
@json_option
@pass_state
def list_pools(state: CliState) -> None:
    """Every pool with fresh capacity figures (GiB) and capabilities."""
    show_list(state, state.basalt().list_pools(refresh=True), POOL_COLUMNS)
