"""`serve_https`: the Element endpoint of a backend over real HTTPS."""

from __future__ import annotations

from basalt_emulators.core.server import RunningServer, start_https_server
from basalt_emulators.solidfire.models import SolidFireBackend
from basalt_emulators.solidfire.routes import SolidFireApp


def serve_https(
    backend: SolidFireBackend, *, host: str = "127.0.0.1", port: int = 0
) -> RunningServer:
    """Serve `backend` at https://<host>:<port>/json-rpc/<version>/ in a background thread.

    Args:
        backend: the cluster to serve.
        host: the address to listen on.
        port: the TCP port (0: any free port).

    Returns:
        The running server: `.port`, `.url`, `.cert_path` (a self-signed certificate to
        pass to the client as its CA), `.stop()`; also a context manager.

    Raises:
        OSError: the address cannot be bound.
        CertificateError: no certificate could be made.
    """
    return start_https_server(SolidFireApp(backend), host=host, port=port)
