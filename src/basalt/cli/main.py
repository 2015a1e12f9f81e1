"""The ``basalt`` command: global options, error handling, ``serve``, and the sub-groups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from basalt.cli import CliState, pass_state
from basalt.cli.errors import to_cli_error
from basalt.cli.group import group, group_snapshot, group_type
from basalt.cli.operation import operation
from basalt.cli.pool import pool
from basalt.cli.quota import quota
from basalt.cli.scheduler import scheduler
from basalt.cli.service import service
from basalt.cli.snapshot import snapshot
from basalt.cli.transfer import transfer
from basalt.cli.types import qos, volume_type
from basalt.cli.volume import volume


class BasaltGroup(click.Group):
    """A group that turns every error a command raises into a message and an exit code.

    Click's own errors (usage, abort, exit) pass through untouched; everything
    else is printed as :func:`basalt.cli.errors.to_cli_error` says and exits with
    its code, so no traceback reaches the user.
    """

    def invoke(self, ctx: click.Context) -> Any:
        """Run the chosen command, translating errors (see the class docstring)."""
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            state = ctx.find_object(CliState)
            report = to_cli_error(exc, json_mode=state is not None and state.json)
            report.show()
            raise click.exceptions.Exit(report.exit_code) from exc


@click.group(cls=BasaltGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="BASALT_CONFIG",
    help="TOML settings file (default: ./basalt.toml or /etc/basalt/basalt.toml). "
    "Env: BASALT_CONFIG.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="BASALT_DATA_DIR",
    help="Where the database and default pool live. Env: BASALT_DATA_DIR.",
)
@click.option(
    "--json",
    "json_mode",
    is_flag=True,
    help="Print machine-readable JSON on stdout and nothing else (also accepted after "
    "the command).",
)
@click.version_option(package_name="basalt")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, data_dir: Path | None, json_mode: bool) -> None:
    """Basalt: a block-storage control plane.

    Every command opens Basalt on the configured store, does its work in this
    process, and closes it again (waiting for any operation it started).
    """
    state = CliState(config=config, data_dir=data_dir, json=json_mode)
    ctx.obj = state
    ctx.call_on_close(state.close)


@cli.command()
@click.option("--host", help="Address to listen on (default: api.host from the settings).")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help="Port to listen on (default: api.port from the settings).",
)
@pass_state
def serve(state: CliState, host: str | None, port: int | None) -> None:
    """Serve the REST API until interrupted."""
    from basalt.api.server import run_server  # the API stack is only needed here

    run_server(state.settings(), host=host, port=port)


cli.add_command(volume)
cli.add_command(snapshot)
cli.add_command(operation)
cli.add_command(pool)
cli.add_command(scheduler)
cli.add_command(service)
cli.add_command(volume_type)
cli.add_command(qos)
cli.add_command(transfer)
cli.add_command(quota)
cli.add_command(group_type)
cli.add_command(group)
cli.add_command(group_snapshot)


def main() -> None:
    """Entry point of the ``basalt`` console script."""
    cli.main(prog_name="basalt")


if __name__ == "__main__":
    main()
