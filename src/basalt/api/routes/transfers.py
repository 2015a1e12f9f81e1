"""Volume transfers: /v3/{project_id}/os-volume-transfer and /volume-transfers (3.55's name).

Both collections serve the same transfers with the same routes; only the create
body differs, as in Cinder: ``no_snapshots`` is part of the 3.55 spelling's body
and refused (400, a closed body) in the older one. The create answer holds the
auth key, the one time it is ever shown (with ``Cache-Control: no-store``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from basalt.api.auth import context_from
from basalt.api.bodies import (
    TransferAcceptRequest,
    TransferCreateRequest,
    TransferCreateV355Request,
)
from basalt.api.responses import (
    AcceptedTransfer,
    CreatedTransfer,
    OneTransfer,
    TransferDetailList,
    TransferList,
    answers,
    query,
)
from basalt.api.routes.common import api_router, basalt_of, base_url, flag
from basalt.api.schemas import links, transfer_detail, transfer_summary
from basalt.errors import OperationTimeoutError
from basalt.model.transfer import Transfer

LEGACY = "os-volume-transfer"
CURRENT = "volume-transfers"

legacy_router = api_router(prefix=f"/v3/{{project_id}}/{LEGACY}", tags=["volume transfers"])
router = api_router(prefix=f"/v3/{{project_id}}/{CURRENT}", tags=["volume transfers"])


@legacy_router.post("", **answers(CreatedTransfer, 202))
def create_transfer_legacy(
    project_id: str, body: TransferCreateRequest, request: Request
) -> JSONResponse:
    """Offer a volume (with its snapshots) to another project; the answer holds the auth
    key, this once."""
    spec = body.transfer
    return _created(request, LEGACY, spec.volume_id, spec.name, no_snapshots=False)


@router.post("", **answers(CreatedTransfer, 202))
def create_transfer(
    project_id: str, body: TransferCreateV355Request, request: Request
) -> JSONResponse:
    """Offer a volume to another project, with its snapshots unless ``no_snapshots`` (which
    needs a volume without any); the answer holds the auth key, this once."""
    spec = body.transfer
    return _created(request, CURRENT, spec.volume_id, spec.name, no_snapshots=spec.no_snapshots)


def _created(
    request: Request, collection: str, volume_id: str, name: object, *, no_snapshots: object
) -> JSONResponse:
    new = basalt_of(request).transfers.create(
        volume_id, name=name, no_snapshots=no_snapshots, ctx=context_from(request)
    )
    view = transfer_detail(new.transfer, base_url(request), collection)
    return JSONResponse(
        status_code=202,
        content={"transfer": {**view, "auth_key": new.auth_key}},
        headers={"Cache-Control": "no-store"},
    )


def _add_routes(router: APIRouter, collection: str) -> None:
    """The routes both spellings share."""

    @router.get("", **answers(TransferList), **query("all_tenants", "volume_id"))
    def list_transfers(project_id: str, request: Request) -> dict[str, object]:
        """Open transfers offered by the caller's project (``all_tenants``: administrators,
        every project's)."""
        found = _listed(request)
        return {"transfers": [transfer_summary(t, base_url(request), collection) for t in found]}

    @router.get("/detail", **answers(TransferDetailList), **query("all_tenants", "volume_id"))
    def list_transfers_detail(project_id: str, request: Request) -> dict[str, object]:
        """Open transfers with every field (never the auth key)."""
        found = _listed(request)
        return {"transfers": [transfer_detail(t, base_url(request), collection) for t in found]}

    @router.get("/{transfer_id}", **answers(OneTransfer))
    def show_transfer(project_id: str, transfer_id: str, request: Request) -> dict[str, object]:
        """One open transfer of the caller's project."""
        found = basalt_of(request).transfers.get(transfer_id, ctx=context_from(request))
        return {"transfer": transfer_detail(found, base_url(request), collection)}

    @router.delete("/{transfer_id}", **answers(None, 202))
    def delete_transfer(project_id: str, transfer_id: str, request: Request) -> Response:
        """Cancel an open transfer: its volume is available to its project again."""
        basalt_of(request).transfers.delete(transfer_id, ctx=context_from(request))
        return Response(status_code=202)

    @router.post("/{transfer_id}/accept", **answers(AcceptedTransfer, 202))
    def accept_transfer(
        project_id: str, transfer_id: str, body: TransferAcceptRequest, request: Request
    ) -> JSONResponse:
        """Take the volume (and its snapshots) into the caller's project with the auth key.

        Waits up to ``api.sync_wait_seconds``: a failure within that time is answered as
        an error; longer work answers 202 and ``x-basalt-operation-id`` names it.
        """
        basalt = basalt_of(request)
        handle = basalt.transfers.accept(
            transfer_id, body.accept.auth_key, ctx=context_from(request)
        )
        try:
            handle.wait(timeout=basalt.settings.api.sync_wait_seconds)
        except OperationTimeoutError:
            pass  # still moving: the operation says how it ends
        params = handle.operation.params
        view = {
            "id": transfer_id,
            "name": str(params.get("transfer_name", "")),
            "volume_id": handle.resource_id,
            "links": links(
                base_url(request), str(params["source_project_id"]), collection, transfer_id
            ),
        }
        return JSONResponse(
            status_code=202,
            content={"transfer": view},
            headers={"x-basalt-operation-id": handle.operation_id},
        )


def _listed(request: Request) -> list[Transfer]:
    params = request.query_params
    return basalt_of(request).transfers.list(
        volume_id=params.get("volume_id"),
        all_projects=flag(params.get("all_tenants")),
        ctx=context_from(request),
    )


_add_routes(legacy_router, LEGACY)
_add_routes(router, CURRENT)
