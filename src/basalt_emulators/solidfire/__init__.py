"""Emulator of the NetApp SolidFire Element JSON-RPC API (see COVERAGE.md for its gaps).

backend = SolidFireBackend(tmp_path)
client = httpx.Client(transport=SolidFireTransport(backend), base_url="https://sf.test",
                      auth=("admin", "admin"))
with serve_https(backend) as server:   # or over a real socket
    ...
"""

from basalt_emulators.solidfire.errors import RETRYABLE_ERROR_NAMES, SolidFireError
from basalt_emulators.solidfire.models import SolidFireBackend
from basalt_emulators.solidfire.routes import METHODS, SolidFireApp
from basalt_emulators.solidfire.server import serve_https
from basalt_emulators.solidfire.transport import SolidFireTransport

__all__ = [
    "METHODS",
    "RETRYABLE_ERROR_NAMES",
    "SolidFireApp",
    "SolidFireBackend",
    "SolidFireError",
    "SolidFireTransport",
    "serve_https",
]
