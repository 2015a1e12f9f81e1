"""A small list of revert steps, run in reverse when a use case fails half-way."""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class UndoList:
    """Steps that revert work already done, most recent first.

    Failures while undoing are logged and collected, never raised over the
    original error.
    """

    def __init__(self) -> None:
        self._steps: list[tuple[str, Callable[[], None]]] = []
        self.failures: list[tuple[str, BaseException]] = []

    def push(self, description: str, step: Callable[[], None]) -> None:
        """Remember how to revert the step that just succeeded."""
        self._steps.append((description, step))

    def run(self) -> bool:
        """Revert everything remembered; return True if every step succeeded."""
        while self._steps:
            description, step = self._steps.pop()
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - collected and reported
                log.error("undo step %r failed: %s", description, exc)
                self.failures.append((description, exc))
        return not self.failures

    def __bool__(self) -> bool:
        return bool(self._steps)
