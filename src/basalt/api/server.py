"""Running the REST service with uvicorn."""

from __future__ import annotations

import gc
import logging

import uvicorn

from basalt.config import Settings
from basalt.service.instance import Basalt

log = logging.getLogger(__name__)


def run_server(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    """Open Basalt (reconciling), serve the API until interrupted, then close cleanly."""
    from basalt.api.app import create_app

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    basalt = Basalt(settings)
    bind_host = host or settings.api.host
    bind_port = port or settings.api.port
    app = create_app(basalt)
    # What start-up made (modules, the app, settings) lives as long as the process: keep it
    # out of the collector's full passes, which otherwise walk it again and again while
    # requests build and drop thousands of objects (a 1,000-volume page makes ~10,000).
    gc.collect()
    gc.freeze()
    print(
        f"Basalt API on http://{bind_host}:{bind_port}/v3/{settings.default_project_id}/ "
        f"(data in {settings.data_dir}, database {_safe_url(settings)})",
        flush=True,
    )
    print(
        f"  try: curl http://{bind_host}:{bind_port}/v3/{settings.default_project_id}/volumes",
        flush=True,
    )
    try:
        uvicorn.run(
            app,
            host=bind_host,
            port=bind_port,
            log_level="warning",
            access_log=settings.api.access_log,
        )
    finally:
        basalt.close()


def _safe_url(settings: Settings) -> str:
    url = settings.resolved_database_url
    if "@" in url and "://" in url:  # never print a password
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
