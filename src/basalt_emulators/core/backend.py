"""The part of an emulated array's state that every vendor shares."""

from __future__ import annotations

import threading
from collections import Counter

from basalt_emulators.core.faults import FaultInjector


class BaseBackend:
    """State holder for one emulated array.

    Subclasses keep their objects in plain typed dicts set up by `_init_state()`, and run
    every vendor call under `lock`. `reset()` empties the state and disarms the faults;
    the array's identity (name, addresses, credentials) is kept.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.faults = FaultInjector()
        self.call_counts: Counter[str] = Counter()
        self._init_state()

    def _init_state(self) -> None:
        """Create the empty object tables (subclasses override)."""

    def reset(self) -> None:
        """Forget every object, call count and armed fault."""
        with self.lock:
            self._init_state()
            self.call_counts.clear()
            self.faults.clear()

    def count_call(self, method: str) -> None:
        """Record one call of `method` (whatever its outcome).

        Args:
            method: the vendor method name.
        """
        with self.lock:
            self.call_counts[method] += 1
