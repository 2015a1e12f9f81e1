"""Who is calling: the request context from the request's token.

``noauth`` (the embedded default): the X-Auth-Token ``user:project`` names the
caller; a request without a token acts as the configured default user and
project. A caller is an administrator when its user is in ``api.admin_users``.
"""

from __future__ import annotations

from fastapi import Request

from basalt.config import Settings
from basalt.errors import PermissionDeniedError
from basalt.service.context import RequestContext


def caller_identity(
    token: str, settings: Settings, *, path_project: str | None = None
) -> tuple[str, str]:
    """(user, project) that a ``noauth`` token names.

    ``user:project`` names both. A token without a colon names the user only (as
    openstacksdk's ``auth_type: none`` sends ``notused``): the project is the one
    the URL names, else the default. No token: the default user and project.
    """
    user, colon, project = token.partition(":")
    if not colon:
        project = path_project or settings.default_project_id
    return user or settings.default_user_id, project or settings.default_project_id


def caller_project(headers: dict[bytes, bytes], settings: Settings) -> str:
    """The caller's project from raw request headers (for project-less URLs)."""
    token = headers.get(b"x-auth-token", b"").decode("latin-1")
    return caller_identity(token, settings)[1]


def context_from(request: Request) -> RequestContext:
    """Build the caller's context.

    Raises:
        PermissionDeniedError: the path names another project than the caller's.
    """
    settings = request.app.state.basalt.settings
    path_project = request.path_params.get("project_id")
    user, project = caller_identity(
        request.headers.get("x-auth-token", ""), settings, path_project=path_project
    )
    admin = user in settings.api.admin_users
    roles = frozenset({"admin", "member", "reader"} if admin else {"member", "reader"})
    ctx = RequestContext(user_id=user, project_id=project, roles=roles, is_admin=admin)
    if path_project is not None and path_project != project and not admin:
        raise PermissionDeniedError(f"acting in project {path_project} as a member of {project}")
    return ctx
