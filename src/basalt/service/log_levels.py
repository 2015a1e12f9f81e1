"""Log levels of the running process, as os-services set-log and get-log change and
read them (microversion 3.32).

Basalt's API, scheduler and backends run in one process and share its loggers, so a
level set for one service is the level of all of them. The change lasts until the
process stops; the configuration's level applies again at the next start.
"""

from __future__ import annotations

import logging

from basalt.model.service import HOST_PREFIX, SCHEDULER_BINARY, VOLUME_BINARY

API_BINARY = "cinder-api"
SCHEDULER_HOST = HOST_PREFIX
LOG_BINARIES = (API_BINARY, SCHEDULER_BINARY, VOLUME_BINARY)
LOG_LEVEL_NAMES = ("DEBUG", "INFO", "WARNING", "ERROR")


def _loggers(prefix: str) -> list[logging.Logger]:
    known = [
        logging.getLogger(name)
        for name, found in list(logging.root.manager.loggerDict.items())
        if isinstance(found, logging.Logger) and name.startswith(prefix)
    ]
    return known if known or not prefix else [logging.getLogger(prefix)]


def set_log_levels(prefix: str, level: str) -> list[str]:
    """Set ``level`` on every logger whose name starts with ``prefix`` ("" for all);
    a prefix no logger has yet names one, which its children will follow.

    Returns:
        The names of the loggers changed.
    """
    changed = _loggers(prefix)
    for found in changed:
        found.setLevel(level)
    return sorted(found.name for found in changed)


def log_levels(prefix: str) -> dict[str, str]:
    """The effective level of every logger whose name starts with ``prefix``."""
    return {
        found.name: logging.getLevelName(found.getEffectiveLevel())
        for found in sorted(_loggers(prefix), key=lambda f: f.name)
    }
