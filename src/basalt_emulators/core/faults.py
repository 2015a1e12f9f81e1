"""Fault injection shared by every emulator.

A test arms rules on `backend.faults`; the wire layer asks `plan(method)` once per call
and obeys the answer. Every rule sees every call whose method it matches, so `on_call=3`
always means "the third matching call since this rule was armed", whatever other rules do.

What a plan means for the call:

- `delay_seconds`: sleep before doing anything (added latency).
- `drop`: the call is not executed and no answer is sent (the socket is closed).
- `error_name`: the call is not executed; the vendor error of that name is returned.
- `late_seconds`: the call IS executed, but the answer comes that much later (over HTTPS)
  or not at all (the in-process transport raises a read timeout).

Precedence when several rules fire on one call: drop, then error, then late reply.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from enum import StrEnum


class FaultKind(StrEnum):
    """What a rule does to the calls it fires on."""

    ERROR = "error"
    LATENCY = "latency"
    DROP = "drop"
    LATE_REPLY = "late_reply"


@dataclass
class FaultRule:
    """One armed fault: which calls it fires on, and what it does to them."""

    kind: FaultKind
    method: str | None = None
    on_call: int | None = None
    probability: float | None = None
    times: int | None = None
    error_name: str | None = None
    seconds: float = 0.0
    seen: int = 0
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def fires(self, method: str) -> bool:
        """Count one call of `method` and tell whether this rule fires on it."""
        if self.method is not None and self.method != method:
            return False
        self.seen += 1
        if self.on_call is not None and self.seen < self.on_call:
            return False
        limit = self.times if self.times is not None else (1 if self.on_call else None)
        if limit is not None and self.fired >= limit:
            return False
        # Draw on every eligible call so that a seeded run is reproducible.
        if self.probability is not None and self.rng.random() >= self.probability:
            return False
        self.fired += 1
        return True


@dataclass(frozen=True)
class FaultPlan:
    """What the wire layer must do with one call."""

    delay_seconds: float = 0.0
    drop: bool = False
    error_name: str | None = None
    late_seconds: float | None = None


class FaultInjector:
    """The rules armed on one emulated backend (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    @property
    def rules(self) -> list[FaultRule]:
        """A copy of the armed rules, oldest first."""
        with self._lock:
            return list(self._rules)

    def inject(
        self,
        error_name: str,
        *,
        method: str | None = None,
        on_call: int | None = None,
        probability: float | None = None,
        times: int | None = None,
        seed: int | None = None,
    ) -> FaultRule:
        """Answer matching calls with the vendor error `error_name`, without executing them.

        Args:
            error_name: the vendor's error name, e.g. "xDBVersionMismatch".
            method: only calls of this method (None: every method).
            on_call: fire from the N-th matching call on (1-based); alone it fires once.
            probability: fire on each eligible call with this probability (0..1).
            times: fire at most this many times (None: no limit, or 1 with on_call).
            seed: seed for the probability draws, for reproducible runs.

        Returns:
            The armed rule (its `seen` and `fired` counters can be inspected).
        """
        return self._arm(
            FaultRule(kind=FaultKind.ERROR, error_name=error_name, method=method),
            on_call=on_call,
            probability=probability,
            times=times,
            seed=seed,
        )

    def latency(self, seconds: float, *, method: str | None = None) -> FaultRule:
        """Delay every matching call by `seconds` before it is handled.

        Args:
            seconds: the added delay.
            method: only calls of this method (None: every method).

        Returns:
            The armed rule.
        """
        return self._arm(
            FaultRule(kind=FaultKind.LATENCY, method=method, seconds=seconds),
            on_call=None,
            probability=None,
            times=None,
            seed=None,
        )

    def drop_connection(
        self,
        *,
        method: str | None = None,
        on_call: int | None = None,
        probability: float | None = None,
        times: int | None = None,
        seed: int | None = None,
    ) -> FaultRule:
        """Close the connection without answering matching calls (they are not executed).

        Args:
            method: only calls of this method (None: every method).
            on_call: fire from the N-th matching call on (1-based); alone it fires once.
            probability: fire on each eligible call with this probability (0..1).
            times: fire at most this many times.
            seed: seed for the probability draws.

        Returns:
            The armed rule.
        """
        return self._arm(
            FaultRule(kind=FaultKind.DROP, method=method),
            on_call=on_call,
            probability=probability,
            times=times,
            seed=seed,
        )

    def read_timeout(
        self,
        *,
        method: str = "CreateVolume",
        seconds: float = 2.0,
        on_call: int | None = None,
        probability: float | None = None,
        times: int | None = None,
        seed: int | None = None,
    ) -> FaultRule:
        """Execute matching calls but answer `seconds` late (in-process: raise ReadTimeout).

        Args:
            method: the method whose replies are late.
            seconds: how late the reply is sent by the HTTPS server.
            on_call: fire from the N-th matching call on (1-based); alone it fires once.
            probability: fire on each eligible call with this probability (0..1).
            times: fire at most this many times.
            seed: seed for the probability draws.

        Returns:
            The armed rule.
        """
        return self._arm(
            FaultRule(kind=FaultKind.LATE_REPLY, method=method, seconds=seconds),
            on_call=on_call,
            probability=probability,
            times=times,
            seed=seed,
        )

    def clear(self) -> None:
        """Disarm every rule."""
        with self._lock:
            self._rules.clear()

    def plan(self, method: str) -> FaultPlan:
        """Decide what happens to one call of `method` (counts the call in every rule).

        Args:
            method: the vendor method name of the call.

        Returns:
            The plan the wire layer must follow.
        """
        with self._lock:
            fired = [rule for rule in self._rules if rule.fires(method)]
        delay = sum(r.seconds for r in fired if r.kind is FaultKind.LATENCY)
        errors = [r.error_name for r in fired if r.kind is FaultKind.ERROR]
        late = [r.seconds for r in fired if r.kind is FaultKind.LATE_REPLY]
        return FaultPlan(
            delay_seconds=delay,
            drop=any(r.kind is FaultKind.DROP for r in fired),
            error_name=errors[0] if errors else None,
            late_seconds=max(late) if late else None,
        )

    def _arm(
        self,
        rule: FaultRule,
        *,
        on_call: int | None,
        probability: float | None,
        times: int | None,
        seed: int | None,
    ) -> FaultRule:
        if on_call is not None and on_call < 1:
            raise ValueError("on_call counts from 1")
        if probability is not None and not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be within 0..1")
        rule.on_call = on_call
        rule.probability = probability
        rule.times = times
        rule.rng = random.Random(seed)
        with self._lock:
            self._rules.append(rule)
        return rule
