"""``POST /v3/{project_id}/volumes/{volume_id}/action``: one action per request.

The body names exactly one action and its arguments, closed as in Cinder's
schemas. :data:`ACTIONS` is the one table of what each action does; the policy
rule each needs is checked by the service call (or, for actions Basalt does not
have yet, here, so that non-administrators get 403 before anyone gets 501).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from basalt.api.auth import context_from
from basalt.api.bodies import Closed, Connector, Flag, Nothing, Size, one_action
from basalt.api.responses import ConnectionInfoAnswer, Empty
from basalt.api.routes.common import api_router, basalt_of, settle
from basalt.api.schemas import connection_info_view
from basalt.errors import FeatureUnavailableError, InvalidInputError
from basalt.model.validation import validate_flag
from basalt.service.context import RequestContext
from basalt.service.instance import Basalt
from basalt.service.policy import authorize
from basalt.service.runner import OperationHandle

router = api_router(prefix="/v3/{project_id}/volumes", tags=["volume actions"])


class Extend(Closed):
    new_size: Size


class ResetStatus(Closed):
    status: str | None = None
    attach_status: str | None = None
    migration_status: str | None = None


class ForceDetach(Closed):
    connector: Connector = None
    attachment_id: str | None = None


class SetBootable(Closed):
    bootable: Flag


class UpdateReadonly(Closed):
    readonly: Flag


class Revert(Closed):
    snapshot_id: str


class WithConnector(Closed):
    connector: Connector


class Attach(Closed):
    mountpoint: str = Field(min_length=1, max_length=255)
    instance_uuid: str | None = None
    host_name: str | None = Field(default=None, max_length=255)
    mode: str | None = None


class Detach(Closed):
    attachment_id: str | None = None


class Retype(Closed):
    new_type: str
    migration_policy: str | None = None


class Migrate(Closed):
    host: str | None = None
    force_host_copy: Flag | None = None
    lock_volume: Flag | None = None
    cluster: str | None = None


class MigrateCompletion(Closed):
    new_volume: str
    error: str | bool | None = None


class UploadImage(Closed):
    image_name: str
    force: Flag | None = None
    disk_format: str | None = None
    container_format: str | None = None
    visibility: str | None = None
    protected: Flag | None = None


def _alias(name: str) -> Any:
    return Field(default=None, alias=name)


class VolumeActionRequest(BaseModel):
    """Exactly one volume action (Cinder's action names)."""

    model_config = ConfigDict(extra="forbid")

    os_extend: Extend | None = _alias("os-extend")
    os_reset_status: ResetStatus | None = _alias("os-reset_status")
    os_force_delete: Nothing | None = _alias("os-force_delete")
    os_force_detach: ForceDetach | None = _alias("os-force_detach")
    os_set_bootable: SetBootable | None = _alias("os-set_bootable")
    os_update_readonly_flag: UpdateReadonly | None = _alias("os-update_readonly_flag")
    os_unmanage: Nothing | None = _alias("os-unmanage")
    revert: Revert | None = _alias("revert")
    os_reserve: Nothing | None = _alias("os-reserve")
    os_unreserve: Nothing | None = _alias("os-unreserve")
    os_initialize_connection: WithConnector | None = _alias("os-initialize_connection")
    os_attach: Attach | None = _alias("os-attach")
    os_begin_detaching: Nothing | None = _alias("os-begin_detaching")
    os_roll_detaching: Nothing | None = _alias("os-roll_detaching")
    os_terminate_connection: WithConnector | None = _alias("os-terminate_connection")
    os_detach: Detach | None = _alias("os-detach")
    os_retype: Retype | None = _alias("os-retype")
    os_migrate_volume: Migrate | None = _alias("os-migrate_volume")
    os_migrate_volume_completion: MigrateCompletion | None = _alias("os-migrate_volume_completion")
    os_volume_upload_image: UploadImage | None = _alias("os-volume_upload_image")

    @model_validator(mode="before")
    @classmethod
    def _exactly_one_known(cls, data: Any) -> Any:
        return one_action(data, ACTIONS)

    def chosen(self) -> tuple[str, BaseModel]:
        """The action's name and its arguments."""
        (field,) = self.model_fields_set
        alias = type(self).model_fields[field].alias
        value = getattr(self, field)
        assert alias is not None and isinstance(value, BaseModel)
        return alias, value


Handler = Callable[[Basalt, str, Any, RequestContext, Request], Response]


@router.post(
    "/{volume_id}/action",
    response_model=None,
    response_class=Response,
    status_code=202,
    responses={
        202: {"description": "accepted (most actions; no body)"},
        200: {
            "model": ConnectionInfoAnswer | Empty,
            "description": "os-initialize_connection: the connection info; os-set_bootable: {}",
        },
    },
)
def volume_action(
    project_id: str, volume_id: str, body: VolumeActionRequest, request: Request
) -> Response:
    """Run one volume action; the answer's status and body are the action's, as in Cinder."""
    ctx = context_from(request)
    name, args = body.chosen()
    return ACTIONS[name](basalt_of(request), volume_id, args, ctx, request)


def _accepted(request: Request, handle: OperationHandle[Any]) -> Response:
    settle(request, handle)
    return Response(status_code=202, headers={"x-basalt-operation-id": handle.operation_id})


def _extend(b: Basalt, vid: str, args: Extend, ctx: RequestContext, r: Request) -> Response:
    return _accepted(r, b.volumes.extend(vid, args.new_size, ctx=ctx))


def _reset_status(
    b: Basalt, vid: str, args: ResetStatus, ctx: RequestContext, r: Request
) -> Response:
    b.volumes.reset_status(
        vid,
        status=args.status,
        attach_status=args.attach_status,
        migration_status=args.migration_status,
        ctx=ctx,
    )
    return Response(status_code=202)


def _force_delete(b: Basalt, vid: str, args: Nothing, ctx: RequestContext, r: Request) -> Response:
    return _accepted(r, b.volumes.delete(vid, force=True, ctx=ctx))


def _force_detach(
    b: Basalt, vid: str, args: ForceDetach, ctx: RequestContext, r: Request
) -> Response:
    b.attachments.force_detach(
        vid, attachment_id=args.attachment_id, connector=args.connector, ctx=ctx
    )
    return Response(status_code=202)


def _set_bootable(
    b: Basalt, vid: str, args: SetBootable, ctx: RequestContext, r: Request
) -> Response:
    b.volumes.set_bootable(vid, args.bootable, ctx=ctx)
    return JSONResponse(status_code=200, content={})


def _update_readonly(
    b: Basalt, vid: str, args: UpdateReadonly, ctx: RequestContext, r: Request
) -> Response:
    b.volumes.set_readonly(vid, args.readonly, ctx=ctx)
    return Response(status_code=202)


def _unmanage(b: Basalt, vid: str, args: Nothing, ctx: RequestContext, r: Request) -> Response:
    return _accepted(r, b.manage.unmanage_volume(vid, ctx=ctx))


def _revert(b: Basalt, vid: str, args: Revert, ctx: RequestContext, r: Request) -> Response:
    return _accepted(r, b.volumes.revert_to_snapshot(vid, args.snapshot_id, ctx=ctx))


def _reserve(b: Basalt, vid: str, args: Nothing, ctx: RequestContext, r: Request) -> Response:
    b.attachments.reserve(vid, ctx=ctx)
    return Response(status_code=202)


def _unreserve(b: Basalt, vid: str, args: Nothing, ctx: RequestContext, r: Request) -> Response:
    b.attachments.unreserve(vid, ctx=ctx)
    return Response(status_code=202)


def _initialize(
    b: Basalt, vid: str, args: WithConnector, ctx: RequestContext, r: Request
) -> Response:
    info = b.attachments.initialize_connection(vid, args.connector, ctx=ctx)
    return JSONResponse(status_code=200, content={"connection_info": connection_info_view(info)})


def _attach(b: Basalt, vid: str, args: Attach, ctx: RequestContext, r: Request) -> Response:
    b.attachments.complete_for_volume(
        vid,
        instance_id=args.instance_uuid,
        host_name=args.host_name,
        mountpoint=args.mountpoint,
        ctx=ctx,
    )
    return Response(status_code=202)


def _begin_detaching(
    b: Basalt, vid: str, args: Nothing, ctx: RequestContext, r: Request
) -> Response:
    b.attachments.begin_detaching(vid, ctx=ctx)
    return Response(status_code=202)


def _roll_detaching(
    b: Basalt, vid: str, args: Nothing, ctx: RequestContext, r: Request
) -> Response:
    b.attachments.roll_detaching(vid, ctx=ctx)
    return Response(status_code=202)


def _terminate(
    b: Basalt, vid: str, args: WithConnector, ctx: RequestContext, r: Request
) -> Response:
    b.attachments.terminate(vid, args.connector, ctx=ctx)
    return Response(status_code=202)


def _detach(b: Basalt, vid: str, args: Detach, ctx: RequestContext, r: Request) -> Response:
    b.attachments.detach_volume(vid, attachment_id=args.attachment_id, ctx=ctx)
    return Response(status_code=202)


def _migrate(b: Basalt, vid: str, args: Migrate, ctx: RequestContext, r: Request) -> Response:
    authorize(ctx, "volume:migrate")
    if args.cluster:
        raise InvalidInputError("cluster", "Basalt runs no clusters; name a host (backend#pool)")
    if not args.host:
        raise InvalidInputError("host", "name the destination: basalt@backend#pool")
    force = validate_flag(args.force_host_copy or False, field="force_host_copy")
    return _accepted(r, b.volumes.migrate(vid, args.host, force_host_copy=force, ctx=ctx))


def _retype(b: Basalt, vid: str, args: Retype, ctx: RequestContext, r: Request) -> Response:
    policy = args.migration_policy or "never"
    return _accepted(r, b.volumes.retype(vid, args.new_type, migration_policy=policy, ctx=ctx))


def _unavailable(rule: str, feature: str, why: str) -> Handler:
    """An action Basalt does not have yet: the policy answer first, then a clear 501."""

    def handler(b: Basalt, vid: str, args: Any, ctx: RequestContext, r: Request) -> Response:
        authorize(ctx, rule)
        b.volumes.get(vid, ctx=ctx)  # an unknown volume is still a 404
        raise FeatureUnavailableError(feature, why)

    return handler


ACTIONS: dict[str, Handler] = {
    "os-extend": _extend,
    "os-reset_status": _reset_status,
    "os-force_delete": _force_delete,
    "os-force_detach": _force_detach,
    "os-set_bootable": _set_bootable,
    "os-update_readonly_flag": _update_readonly,
    "os-unmanage": _unmanage,
    "revert": _revert,
    "os-reserve": _reserve,
    "os-unreserve": _unreserve,
    "os-initialize_connection": _initialize,
    "os-attach": _attach,
    "os-begin_detaching": _begin_detaching,
    "os-roll_detaching": _roll_detaching,
    "os-terminate_connection": _terminate,
    "os-detach": _detach,
    "os-retype": _retype,
    "os-migrate_volume": _migrate,
    "os-migrate_volume_completion": _unavailable(
        "volume:migrate",
        "migration completion (os-migrate_volume_completion)",
        "Basalt moves available volumes itself; there is no host-side copy to complete",
    ),
    "os-volume_upload_image": _unavailable(
        "volume:upload_image",
        "upload to image (os-volume_upload_image)",
        "Basalt has no image service to upload to",
    ),
}
"""Every volume action Basalt answers, by Cinder's name."""
