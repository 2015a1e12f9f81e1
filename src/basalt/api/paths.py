"""URLs with and without the ``{project_id}`` segment (microversion 3.67 allows both).

Every route is declared once, under ``/v3/{project_id}/<collection>``. This pure
ASGI middleware lets ``/v3/<collection>/...`` reach the same route by inserting
the caller's own project, taken from its credentials the way
:func:`basalt.api.auth.caller_project` reads them. The collections are the
first path segments after the project of every route of the app (the routers
in :data:`basalt.api.app.ROUTERS`), so the route table stays in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import quote

from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = "/v3/{project_id}/"


def collections_of(paths: Iterable[str]) -> frozenset[str]:
    """``/v3/{project_id}/volumes/{volume_id}`` -> ``volumes``, for every route path."""
    found = set()
    for path in paths:
        if path.startswith(PREFIX):
            found.add(path[len(PREFIX) :].split("/", 1)[0])
    return frozenset(found)


class ProjectlessPaths:
    """Rewrite ``/v3/<collection>/...`` to ``/v3/<caller's project>/<collection>/...``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        collections: frozenset[str],
        project_of: Callable[[dict[bytes, bytes]], str],
    ) -> None:
        self.app = app
        self.collections = collections
        self.project_of = project_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            head, _, rest = path.removeprefix("/v3/").partition("/")
            if path.startswith("/v3/") and head in self.collections:
                project = quote(self.project_of(dict(scope["headers"])), safe="")
                new_path = f"/v3/{project}/{head}" + (
                    f"/{rest}" if rest or path.endswith("/") else ""
                )
                scope = {**scope, "path": new_path, "raw_path": new_path.encode()}
        await self.app(scope, receive, send)
