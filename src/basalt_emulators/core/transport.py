"""An httpx transport that hands requests to an emulator in the same process (no socket)."""

from __future__ import annotations

import httpx

from basalt_emulators.core.wire import Delivery, WireApp, WireRequest


class InProcessTransport(httpx.BaseTransport):
    """Answer every request, whatever its host, with `app`.

    A dropped connection raises `httpx.RemoteProtocolError`; a late reply raises
    `httpx.ReadTimeout` at once (the call has been executed), so tests stay fast.
    """

    def __init__(self, app: WireApp) -> None:
        self._app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Serve one request in-process.

        Args:
            request: the request the client built.

        Returns:
            The emulator's reply.

        Raises:
            httpx.RemoteProtocolError: a fault dropped the connection.
            httpx.ReadTimeout: a fault delayed the reply.
        """
        wire = WireRequest(
            method=request.method,
            path=request.url.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=request.read(),
        )
        reply = self._app.handle(wire)
        if reply.delivery is Delivery.DROP:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        if reply.delivery is Delivery.LATE:
            raise httpx.ReadTimeout("The read operation timed out", request=request)
        return httpx.Response(
            reply.status, headers=dict(reply.headers), content=reply.body, request=request
        )
