"""The Block Storage v3 collections Basalt does not serve, and why: one table.

Every method on every path under one of them, with or without the project
segment, answers 501 ``notImplemented`` with the reason, so a client learns at
once that the feature is absent rather than meeting a 404 that looks like a typo
or a stub that pretends. :data:`ROUTERS` joins basalt.api.app's route table,
which also makes the project-less URLs (``/v3/backups``) reach them. When a
collection gets served, its row goes and its real router takes the place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from fastapi import APIRouter

from basalt.errors import ResourceNotServedError

DATA_SERVICES = "it arrives with the data-services work"
GROUPS = "Cinder deprecated them for generic groups (/groups, /group_snapshots), which it serves"
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@dataclass(frozen=True, slots=True)
class Unserved:
    """One collection Basalt does not serve."""

    collection: str
    what: str
    reason: str

    @property
    def message(self) -> str:
        return f"Basalt does not serve {self.what} (/{self.collection}): {self.reason}"


UNSERVED: tuple[Unserved, ...] = (
    Unserved("backups", "volume backups", "Basalt has no backup service"),
    Unserved("default-types", "default volume types", DATA_SERVICES),
    Unserved("consistencygroups", "consistency groups", GROUPS),
    Unserved("cgsnapshots", "consistency group snapshots", GROUPS),
    Unserved(
        "os-hosts",
        "hosts",
        "Basalt is one process; its backends are listed as services (/os-services)",
    ),
    Unserved(
        "workers",
        "worker cleanup",
        "Basalt resolves interrupted work itself at every start (reconciliation)",
    ),
)


def _router(entry: Unserved) -> APIRouter:
    router = APIRouter(prefix=f"/v3/{{project_id}}/{entry.collection}", tags=["not served"])

    def refuse() -> NoReturn:
        raise ResourceNotServedError(entry.collection, entry.message)

    for path in ("", "/{rest:path}"):
        router.add_api_route(
            path, refuse, methods=METHODS, response_model=None, include_in_schema=False
        )
    return router


ROUTERS: tuple[APIRouter, ...] = tuple(_router(entry) for entry in UNSERVED)
