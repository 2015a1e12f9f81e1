"""A daemon thread that calls one check every few seconds until stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("basalt.export")


class Watcher:
    """Calls ``check`` every ``interval_seconds`` on a daemon thread.

    ``check`` handles its own errors; anything it lets escape is logged and the
    watcher carries on.

    Args:
        check: what to call.
        interval_seconds: the pause between the end of one call and the next.
        name: the thread's name.
    """

    def __init__(
        self, check: Callable[[], None], *, interval_seconds: float, name: str = "basalt-tgt-watch"
    ) -> None:
        self._check = check
        self._interval = interval_seconds
        self._name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread (does nothing if it runs)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop and wait for it (at most ``timeout`` seconds)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._check()
            except Exception:  # the watcher must survive anything one check does
                log.exception("tgt watcher check failed")
