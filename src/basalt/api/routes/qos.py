"""/v3/{project_id}/qos-specs: QoS specs and their associations (administrators)."""

from __future__ import annotations

from fastapi import Request, Response

from basalt.api.auth import context_from
from basalt.api.bodies import QosCreateRequest, QosDeleteKeysBody, QosKeysBody
from basalt.api.responses import OneQos, QosAssociations, QosKeys, QosList, answers, query
from basalt.api.routes.common import api_router, basalt_of, base_url, flag
from basalt.api.schemas import links
from basalt.errors import InvalidInputError
from basalt.model.volume_type import QosSpecs

router = api_router(prefix="/v3/{project_id}/qos-specs", tags=["qos specs"])


def qos_view(qos: QosSpecs) -> dict[str, object]:
    """A QoS spec as Cinder shows it."""
    return {"id": qos.id, "name": qos.name, "consumer": str(qos.consumer), "specs": dict(qos.specs)}


def _one(request: Request, project_id: str, qos: QosSpecs) -> dict[str, object]:
    return {
        "qos_specs": qos_view(qos),
        "links": links(base_url(request), project_id, "qos-specs", qos.id),
    }


@router.get("", **answers(QosList))
def list_qos(project_id: str, request: Request) -> dict[str, object]:
    """Every QoS spec."""
    return {
        "qos_specs": [qos_view(q) for q in basalt_of(request).qos.list(ctx=context_from(request))]
    }


@router.post("", **answers(OneQos))
def create_qos(project_id: str, body: QosCreateRequest, request: Request) -> dict[str, object]:
    """``{"qos_specs": {"name": ..., "consumer": ..., <key>: <value>, ...}}``."""
    if not isinstance(body.qos_specs, dict):
        raise InvalidInputError("qos_specs", 'must be an object: {"name": ..., <key>: <value>}')
    keys = dict(body.qos_specs)
    name = keys.pop("name", None)
    consumer = keys.pop("consumer", "back-end")
    created = basalt_of(request).qos.create(
        name, consumer=consumer, specs=keys, ctx=context_from(request)
    )
    return _one(request, project_id, created)


@router.get("/{qos_id}", **answers(OneQos))
def show_qos(project_id: str, qos_id: str, request: Request) -> dict[str, object]:
    """One QoS spec."""
    return _one(request, project_id, basalt_of(request).qos.get(qos_id, ctx=context_from(request)))


@router.put("/{qos_id}", **answers(QosKeys))
def set_qos_keys(
    project_id: str, qos_id: str, body: QosKeysBody, request: Request
) -> dict[str, object]:
    """Add or change keys (``consumer`` too); answers the keys given, as Cinder does."""
    if not isinstance(body.qos_specs, dict):
        raise InvalidInputError("qos_specs", "must be an object of keys to values")
    basalt_of(request).qos.set_keys(qos_id, body.qos_specs, ctx=context_from(request))
    return {"qos_specs": {str(k): str(v) for k, v in body.qos_specs.items()}}


@router.put("/{qos_id}/delete_keys", **answers(None, 202))
def delete_qos_keys(
    project_id: str, qos_id: str, body: QosDeleteKeysBody, request: Request
) -> Response:
    """Remove keys: ``{"keys": [...]}``."""
    if not isinstance(body.keys, list) or not body.keys:
        raise InvalidInputError("keys", "must be a non-empty list of key names")
    basalt_of(request).qos.unset_keys(qos_id, body.keys, ctx=context_from(request))
    return Response(status_code=202)


@router.delete("/{qos_id}", **answers(None, 202), **query("force"))
def delete_qos(project_id: str, qos_id: str, request: Request) -> Response:
    """Delete; ``?force=true`` also when types are associated (they lose it)."""
    basalt_of(request).qos.delete(
        qos_id, force=flag(request.query_params.get("force")), ctx=context_from(request)
    )
    return Response(status_code=202)


@router.get("/{qos_id}/associations", **answers(QosAssociations))
def qos_associations(project_id: str, qos_id: str, request: Request) -> dict[str, object]:
    """The volume types that have this QoS spec."""
    found = basalt_of(request).qos.associations(qos_id, ctx=context_from(request))
    return {
        "qos_associations": [
            {"association_type": "volume_type", "name": t.name, "id": t.id} for t in found
        ]
    }


@router.get("/{qos_id}/associate", **answers(None, 202), **query("vol_type_id"))
def associate_qos(project_id: str, qos_id: str, request: Request) -> Response:
    """Give the type ``?vol_type_id=`` this QoS spec."""
    type_id = request.query_params.get("vol_type_id")
    basalt_of(request).qos.associate(qos_id, type_id, ctx=context_from(request))
    return Response(status_code=202)


@router.get("/{qos_id}/disassociate", **answers(None, 202), **query("vol_type_id"))
def disassociate_qos(project_id: str, qos_id: str, request: Request) -> Response:
    """Take this QoS spec from the type ``?vol_type_id=``."""
    type_id = request.query_params.get("vol_type_id")
    basalt_of(request).qos.disassociate(qos_id, type_id or "", ctx=context_from(request))
    return Response(status_code=202)


@router.get("/{qos_id}/disassociate_all", **answers(None, 202))
def disassociate_all_qos(project_id: str, qos_id: str, request: Request) -> Response:
    """Take this QoS spec from every type."""
    basalt_of(request).qos.disassociate(qos_id, None, ctx=context_from(request))
    return Response(status_code=202)
