"""`SolidFireTransport`: an httpx transport that talks to a backend in-process."""

from __future__ import annotations

from basalt_emulators.core.transport import InProcessTransport
from basalt_emulators.solidfire.models import SolidFireBackend
from basalt_emulators.solidfire.routes import SolidFireApp


class SolidFireTransport(InProcessTransport):
    """Answer requests to any host with `backend`, without a socket.

    Use it as `httpx.Client(transport=SolidFireTransport(backend), base_url="https://sf.test")`.
    A dropped connection raises `httpx.RemoteProtocolError`; a late reply raises
    `httpx.ReadTimeout` at once, after the call ran.
    """

    def __init__(self, backend: SolidFireBackend) -> None:
        self.backend = backend
        super().__init__(SolidFireApp(backend))
