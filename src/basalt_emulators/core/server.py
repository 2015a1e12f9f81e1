"""A threaded HTTPS server that carries any `WireApp` over a real socket.

TLS is set up per connection in the connection's own thread, so a slow client never
blocks the accept loop. Faults are obeyed here: a dropped reply closes the socket without
writing a byte; a late reply sleeps in the connection's thread, then writes.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from basalt_emulators.core.cert import CertificatePair, cached_self_signed
from basalt_emulators.core.wire import Delivery, WireApp, WireReply, WireRequest


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: WireApp, tls: ssl.SSLContext) -> None:
        self.app = app
        self.tls = tls
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        # Small JSON replies must not wait for delayed ACKs (Nagle adds ~40 ms per call).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        wrapped = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return wrapped, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up or refuse the certificate are part of normal testing.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _TLSServer
    protocol_version = "HTTP/1.1"
    timeout = 300

    def do_POST(self) -> None:
        self._serve()

    do_GET = do_PUT = do_DELETE = do_PATCH = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = WireRequest(
            method=self.command,
            path=urlsplit(self.path).path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        reply = self.server.app.handle(request)
        if reply.delivery is Delivery.DROP:
            self.close_connection = True
            return
        if reply.delivery is Delivery.LATE:
            time.sleep(reply.late_seconds)
        try:
            self._write(reply)
        except (OSError, ssl.SSLError):
            self.close_connection = True

    def _write(self, reply: WireReply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)
        self.wfile.flush()


class RunningServer:
    """An HTTPS server running in a background thread; stop it with `stop()` or `with`."""

    def __init__(self, server: _TLSServer, thread: threading.Thread, *, cert_path: Path) -> None:
        self._server = server
        self._thread = thread
        self.cert_path = cert_path
        host, port = server.server_address[:2]
        self.host = "127.0.0.1" if host in ("0.0.0.0", "") else str(host)
        self.port = int(port)

    @property
    def url(self) -> str:
        """The base URL, e.g. "https://127.0.0.1:8443"."""
        return f"https://{self.host}:{self.port}"

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts this server's certificate (for httpx `verify=`).

        Returns:
            The context.
        """
        return ssl.create_default_context(cafile=str(self.cert_path))

    def stop(self) -> None:
        """Stop accepting and close the listening socket (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_https_server(
    app: WireApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    certificate: CertificatePair | None = None,
) -> RunningServer:
    """Serve `app` over HTTPS in a background thread.

    Args:
        app: the emulator to serve.
        host: the address to listen on.
        port: the TCP port (0: any free port).
        certificate: the certificate to use (default: a self-signed one for `host`).

    Returns:
        The running server (its port, URL and certificate path).

    Raises:
        OSError: the address cannot be bound.
        CertificateError: no certificate could be made.
    """
    pair = certificate or cached_self_signed(host)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certfile=str(pair.cert_path), keyfile=str(pair.key_path))
    server = _TLSServer((host, port), app, tls)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True,
        name=f"https-emulator-{server.server_address[1]}",
    )  # fmt: skip
    thread.start()
    return RunningServer(server, thread, cert_path=pair.cert_path)
