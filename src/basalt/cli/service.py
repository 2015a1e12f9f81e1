"""``basalt service ...``: the scheduler and the backends' services; enable or disable backends."""

from __future__ import annotations

import click

from basalt.cli import CliState, json_option, pass_state
from basalt.cli.output import SERVICE_COLUMNS, show_list, show_object
from basalt.model.service import VOLUME_BINARY, backend_host


@click.group()
def service() -> None:
    """Services: Basalt (cinder-scheduler) and each backend (cinder-volume)."""


@service.command("list")
@click.option("--host", help="Only this host's services (basalt, or basalt@BACKEND).")
@click.option("--binary", help="Only this binary's (cinder-scheduler, cinder-volume).")
@json_option
@pass_state
def list_services(state: CliState, host: str | None, binary: str | None) -> None:
    """Services with their status (enabled/disabled) and state (up/down)."""
    items = state.basalt().deployment.services(host=host, binary=binary)
    show_list(state, items, SERVICE_COLUMNS)


@service.command("disable")
@click.argument("backend")
@click.option("--reason", help="Why (shown as disabled_reason; at most 255 characters).")
@json_option
@pass_state
def disable(state: CliState, backend: str, reason: str | None) -> None:
    """Stop placing new volumes on BACKEND (a name, or basalt@NAME); its volumes keep working."""
    shown = state.basalt().deployment.disable(_host(backend), binary=VOLUME_BINARY, reason=reason)
    show_object(state, shown)


@service.command("enable")
@click.argument("backend")
@json_option
@pass_state
def enable(state: CliState, backend: str) -> None:
    """Let BACKEND (a name, or basalt@NAME) take new volumes again."""
    show_object(state, state.basalt().deployment.enable(_host(backend), binary=VOLUME_BINARY))


def _host(backend: str) -> str:
    return backend if "@" in backend else backend_host(backend)
