"""The seam between an emulator and its carriers (the in-process transport, the HTTPS server).

An emulator is a `WireApp`: it turns one HTTP request into one `WireReply`. The reply also
says how it must be delivered, so that injected faults (dropped connections, late replies)
look the same through every carrier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Delivery(StrEnum):
    """How a carrier hands a reply back to the client."""

    NORMAL = "normal"
    DROP = "drop"  # close the connection without sending anything
    LATE = "late"  # send the reply `late_seconds` later (in-process: a read timeout)


@dataclass(frozen=True)
class WireRequest:
    """One HTTP request as the emulator sees it (header names are lower-case)."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class WireReply:
    """One HTTP reply and the way it must be delivered."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delivery: Delivery = Delivery.NORMAL
    late_seconds: float = 0.0


class WireApp(Protocol):
    """Anything that answers HTTP requests: one emulated array."""

    def handle(self, request: WireRequest) -> WireReply:
        """Answer one request.

        Args:
            request: the request as received.

        Returns:
            The reply and how to deliver it.
        """
        ...
