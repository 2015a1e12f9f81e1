"""The ``basalt`` command line, a thin layer over the library.

    main.py        the ``basalt`` group, its global options, ``serve``
    volume.py      ``basalt volume ...``
    snapshot.py    ``basalt snapshot ...``
    operation.py   ``basalt operation ...``
    pool.py        ``basalt pool ...``
    scheduler.py   ``basalt scheduler explain``
    service.py     ``basalt service ...``
    transfer.py    ``basalt transfer ...``
    quota.py       ``basalt quota ...``
    output.py      every table, JSON document and progress bar
    errors.py      error class -> exit code, in one table

This module holds what every command shares: the state the group hands to its
commands (:class:`CliState`) and the option helpers (``--json``, ``--property``,
``--sort``, ``--wait``, the list options).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import click

from basalt.config import Settings, load_settings
from basalt.persistence.base import ListQuery, SortDirection
from basalt.service.instance import Basalt

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class CliState:
    """The global options, and the Basalt instance once a command opens it.

    The group registers :meth:`close` on its context, so the instance is closed
    (and its running operations finish) before the process exits, on success
    and on error alike.
    """

    config: Path | None = None
    data_dir: Path | None = None
    json: bool = False
    _instance: Basalt | None = None

    def settings(self) -> Settings:
        """The settings from the config file, the environment and ``--data-dir``.

        Raises:
            ConfigError: the file or a value is invalid.
        """
        if self.data_dir is None:
            return load_settings(self.config)
        return load_settings(self.config, data_dir=self.data_dir)

    def basalt(self) -> Basalt:
        """The opened instance (opened on first use, reconciled).

        Raises:
            ConfigError, PersistenceError, DriverError: it cannot be opened.
        """
        if self._instance is None:
            settings = self.settings()
            # An attach made by this short-lived process must outlive it: leave the
            # data path (tgtd) running; the service or the next command adopts it.
            settings.iscsi.keep_tgtd_running = True
            # Shipping replicas on schedule is the long-running service's work; a
            # command ships only when asked (basalt service replicate).
            settings.replication.run = False
            self._instance = Basalt(settings)
        return self._instance

    def close(self) -> None:
        """Close the instance if one was opened; waits for running operations."""
        if self._instance is not None:
            instance, self._instance = self._instance, None
            instance.close()


pass_state = click.make_pass_decorator(CliState)


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(CliState).json = True


def json_option(func: F) -> F:
    """Add ``--json`` to a leaf command (the group has its own)."""
    option = click.option(
        "--json",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_json,
        help="Print machine-readable JSON on stdout and nothing else.",
    )
    return option(func)


def wait_option(func: F) -> F:
    """Add ``--wait`` to a command that starts an operation."""
    option = click.option(
        "--wait",
        is_flag=True,
        help="Show progress and print the resource when the operation has finished.",
    )
    return option(func)


def property_option(help_text: str) -> Callable[[F], F]:
    """A repeatable ``--property k=v`` option, parsed into a dict by :func:`parse_properties`."""
    return click.option(
        "--property",
        "properties",
        multiple=True,
        metavar="KEY=VALUE",
        callback=parse_properties,
        help=help_text,
    )


def parse_properties(
    _ctx: click.Context | None, param: click.Parameter | None, values: tuple[str, ...]
) -> dict[str, str]:
    """Turn ``("k=v", ...)`` into ``{"k": "v"}``; the value may contain '='.

    Raises:
        click.BadParameter: an item has no '=' or an empty key (a usage error).
    """
    result: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param=param)
        result[key] = value
    return result


def parse_sort(
    _ctx: click.Context | None, param: click.Parameter | None, value: str | None
) -> tuple[tuple[str, SortDirection], ...] | None:
    """Turn ``"key:dir,key:dir"`` (dir ``asc``/``desc``, default ``asc``) into sort pairs.

    Unknown keys are left to the library, which refuses them with InvalidInputError.

    Raises:
        click.BadParameter: an empty key or a direction other than asc/desc.
    """
    if value is None:
        return None
    pairs: list[tuple[str, SortDirection]] = []
    for part in value.split(","):
        key, _sep, direction = part.strip().partition(":")
        if not key:
            raise click.BadParameter(f"{value!r} has an empty sort key", param=param)
        if direction in ("", "asc"):
            pairs.append((key, "asc"))
        elif direction == "desc":
            pairs.append((key, "desc"))
        else:
            raise click.BadParameter(f"direction {direction!r} is not asc or desc", param=param)
    return tuple(pairs)


def listing_options(func: F) -> F:
    """Add ``--all-projects``, ``--limit``, ``--marker`` and ``--sort`` to a list command."""
    options = (
        click.option("--all-projects", is_flag=True, help="Every project's (administrators)."),
        click.option("--limit", type=click.IntRange(min=1), help="At most N items."),
        click.option(
            "--marker", metavar="ID", help="Start after this id (the previous page's last)."
        ),
        click.option(
            "--sort",
            callback=parse_sort,
            metavar="KEY:DIR[,KEY:DIR]",
            help="Order, e.g. 'size_gib:desc,name:asc' (default: created_at:desc).",
        ),
    )
    for option in reversed(options):
        func = option(func)
    return func


def list_query(
    *,
    limit: int | None,
    marker: str | None,
    sort: tuple[tuple[str, SortDirection], ...] | None,
    name: str | None = None,
    status: str | None = None,
    metadata: dict[str, str] | None = None,
    volume_id: str | None = None,
) -> ListQuery:
    """The library's ListQuery for the list options (the library's default order if no sort)."""
    query = ListQuery(
        name=name,
        status=status,
        metadata=metadata or {},
        volume_id=volume_id,
        limit=limit,
        marker=marker,
    )
    return query if sort is None else replace(query, sort=sort)
