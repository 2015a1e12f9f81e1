"""Pieces every emulator reuses: fault injection, the wire seam, carriers, base backend."""

from basalt_emulators.core.backend import BaseBackend
from basalt_emulators.core.cert import CertificateError, CertificatePair
from basalt_emulators.core.faults import FaultInjector, FaultKind, FaultPlan, FaultRule
from basalt_emulators.core.server import RunningServer, start_https_server
from basalt_emulators.core.transport import InProcessTransport
from basalt_emulators.core.wire import Delivery, WireApp, WireReply, WireRequest

__all__ = [
    "BaseBackend",
    "CertificateError",
    "CertificatePair",
    "Delivery",
    "FaultInjector",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "InProcessTransport",
    "RunningServer",
    "WireApp",
    "WireReply",
    "WireRequest",
    "start_https_server",
]
