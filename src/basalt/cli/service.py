"""``basalt service ...``: the scheduler and the backends' services; enable or disable backends."""

from __future__ import annotations

import click

from basalt.cli import CliState, json_option, pass_state, wait_option
from basalt.cli.output import (
    REPLICATION_COLUMNS,
    SERVICE_COLUMNS,
    report_operation,
    show_list,
    show_object,
)
from basalt.model.replication import DEFAULT_BACKEND_ID
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


@service.command("freeze")
@click.argument("backend")
@json_option
@pass_state
def freeze(state: CliState, backend: str) -> None:
    """Refuse control-plane changes on BACKEND (create, delete, extend, snapshot, manage,
    migrate, retype, revert) until it is thawed; attached hosts keep doing I/O."""
    show_object(state, state.basalt().replication.freeze(_host(backend)))


@service.command("thaw")
@click.argument("backend")
@json_option
@pass_state
def thaw(state: CliState, backend: str) -> None:
    """Accept control-plane changes on BACKEND again."""
    show_object(state, state.basalt().replication.thaw(_host(backend)))


@service.command("failover")
@click.argument("backend")
@click.option(
    "--backend-id",
    metavar="TARGET",
    help="The replication target to serve from (default: the backend's only one); "
    "'default' fails back to the backend's own pools.",
)
@wait_option
@json_option
@pass_state
def failover(state: CliState, backend: str, backend_id: str | None, wait: bool) -> None:
    """Serve BACKEND's replicated volumes from their secondary copies (what was written
    after the last completed replication is lost), or fail back with --backend-id default."""
    handle = state.basalt().replication.failover(_host(backend), backend_id)
    report_operation(state, handle, wait=wait)


@service.command("failback")
@click.argument("backend")
@wait_option
@json_option
@pass_state
def failback(state: CliState, backend: str, wait: bool) -> None:
    """Copy what changed on the secondary copies back and serve BACKEND from its own pools."""
    handle = state.basalt().replication.failover(_host(backend), DEFAULT_BACKEND_ID)
    report_operation(state, handle, wait=wait)


@service.command("replication")
@click.argument("backend")
@json_option
@pass_state
def replication(state: CliState, backend: str) -> None:
    """BACKEND's replicated volumes: status, last completed replication, lag, bytes shipped."""
    show_list(state, state.basalt().replication.replications(_host(backend)), REPLICATION_COLUMNS)


@service.command("replicate")
@click.argument("backend")
@json_option
@pass_state
def replicate(state: CliState, backend: str) -> None:
    """Ship every replicated volume of BACKEND now (the service does it on schedule; run
    this where no service runs)."""
    opened = state.basalt()
    host = _host(backend)
    opened.replication.replications(host)  # refuses an unknown backend, or a non-admin
    opened.replicator.run_once(force=True, backend=host.partition("@")[2])
    show_list(state, opened.replication.replications(host), REPLICATION_COLUMNS)


def _host(backend: str) -> str:
    return backend if "@" in backend else backend_host(backend)
