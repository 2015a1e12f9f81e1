"""Who is calling: the caller's identity from the request's ``X-Auth-Token``.

Two strategies, chosen by ``api.auth_strategy``:

``noauth`` (the embedded default)
    ``user:project`` names the caller; a token without a colon names the user and
    acts in the project the URL names (openstacksdk's ``auth_type: none`` sends
    ``notused``); no token acts as the configured default user and project.
    Users in ``api.admin_users`` get the admin role, users in
    ``api.reader_users`` only the reader role, everyone else member (and reader).

``token``
    Only the tokens listed in ``api.token_file`` are accepted; each maps to a
    user, a project and roles. A missing or unknown token is refused with 401.
    The file may hold a token's SHA-256 (``token_sha256``) instead of the token.

What each role may do is basalt.service.policy's table.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from fastapi import Request

from basalt.config import Settings
from basalt.errors import AuthenticationError, ConfigError, PermissionDeniedError
from basalt.service.context import RequestContext
from basalt.service.policy import IMPLIED_ROLES

TOKEN_HEADER = "x-auth-token"
MEMBER_ROLES = frozenset({"member", "reader"})
ADMIN_ROLES = frozenset({"admin", "member", "reader"})
READER_ROLES = frozenset({"reader"})
UNKNOWN_PROJECT = "-"
"""The project a project-less URL gets when the token names none (the route then refuses)."""


@dataclass(frozen=True, slots=True)
class Identity:
    """A caller: user, home project and granted roles."""

    user_id: str
    project_id: str
    roles: frozenset[str]


class Authenticator(Protocol):
    def identify(self, token: str, *, path_project: str | None) -> Identity:
        """The caller a token names.

        Raises:
            AuthenticationError: the token is not accepted.
        """
        ...


class NoAuth:
    """Trust the token's ``user:project`` (development and single-user deployments)."""

    def __init__(self, settings: Settings) -> None:
        self.default_user = settings.default_user_id
        self.default_project = settings.default_project_id
        self.admins = frozenset(settings.api.admin_users)
        self.readers = frozenset(settings.api.reader_users)

    def identify(self, token: str, *, path_project: str | None) -> Identity:
        user, colon, project = token.partition(":")
        if not colon:
            project = path_project or self.default_project
        user = user or self.default_user
        if user in self.admins:
            roles = ADMIN_ROLES
        elif user in self.readers:
            roles = READER_ROLES
        else:
            roles = MEMBER_ROLES
        return Identity(user, project or self.default_project, roles)


class TokenTable:
    """Accept only the tokens of a static file, by their SHA-256."""

    def __init__(self, path: Path) -> None:
        self.by_digest = load_token_file(path)

    def identify(self, token: str, *, path_project: str | None) -> Identity:
        if not token:
            raise AuthenticationError(
                "The request you have made requires authentication.",
                hint="send X-Auth-Token with a token from the deployment's token file",
            )
        identity = self.by_digest.get(_digest(token))
        if identity is None:
            raise AuthenticationError("The token is not valid.")
        return identity


def authenticator_for(settings: Settings) -> Authenticator:
    """The strategy the settings name.

    Raises:
        ConfigError: token mode with a missing or malformed token file.
    """
    if settings.api.auth_strategy == "token":
        assert settings.api.token_file is not None  # ApiSettings requires it
        return TokenTable(settings.api.token_file)
    return NoAuth(settings)


def load_token_file(path: Path) -> dict[str, Identity]:
    """Read ``[[tokens]]`` entries: SHA-256 of the token -> identity.

    Raises:
        ConfigError: unreadable file, or an entry without a token, user, project or a
            known role (the message names the entry, never the token).
    """
    try:
        document = tomllib.loads(path.expanduser().read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"token file {path} cannot be read: {exc}") from exc
    entries = document.get("tokens")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"token file {path} has no [[tokens]] entries")
    table: dict[str, Identity] = {}
    for number, entry in enumerate(entries, start=1):
        digest, identity = _entry(entry, where=f"token file {path}, entry {number}")
        if digest in table:
            raise ConfigError(f"token file {path}, entry {number}: the token is listed twice")
        table[digest] = identity
    return table


def _entry(entry: Any, *, where: str) -> tuple[str, Identity]:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a table")
    token, digest = entry.get("token"), entry.get("token_sha256")
    if (token is None) == (digest is None):
        raise ConfigError(f"{where}: give exactly one of token and token_sha256")
    if token is not None and (not isinstance(token, str) or len(token) < 8):
        raise ConfigError(f"{where}: token must be a string of at least 8 characters")
    if digest is not None and (
        not isinstance(digest, str) or len(digest) != 64 or not _is_hex(digest)
    ):
        raise ConfigError(f"{where}: token_sha256 must be 64 hexadecimal digits")
    user, project, roles = entry.get("user_id"), entry.get("project_id"), entry.get("roles")
    for name, value in (("user_id", user), ("project_id", project)):
        if not isinstance(value, str) or not value or ":" in value:
            raise ConfigError(f"{where}: {name} must be a non-empty string without ':'")
    if not isinstance(roles, list) or not roles or not set(roles) <= set(IMPLIED_ROLES):
        raise ConfigError(f"{where}: roles must be a non-empty list of {sorted(IMPLIED_ROLES)}")
    unknown = set(entry) - {"token", "token_sha256", "user_id", "project_id", "roles"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    key = digest.lower() if isinstance(digest, str) else _digest(str(token))
    return key, Identity(str(user), str(project), frozenset(str(r) for r in roles))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def authenticator_of(request: Request) -> Authenticator:
    """The app's authenticator."""
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


def caller_project(headers: dict[bytes, bytes], authenticator: Authenticator) -> str:
    """The caller's project from raw request headers (for project-less URLs); a
    placeholder when the token is not accepted, so that the route refuses it."""
    token = headers.get(TOKEN_HEADER.encode(), b"").decode("latin-1")
    try:
        return authenticator.identify(token, path_project=None).project_id
    except AuthenticationError:
        return UNKNOWN_PROJECT


def context_from(request: Request) -> RequestContext:
    """Build the caller's context.

    An admin acting in another project's URL acts in that project (and, as admin,
    sees every project); anyone else may only use their own project's URLs.

    Raises:
        AuthenticationError: token mode, and the token is missing or unknown.
        PermissionDeniedError: the path names another project than the caller's.
    """
    path_project = request.path_params.get("project_id")
    identity = authenticator_of(request).identify(
        request.headers.get(TOKEN_HEADER, ""), path_project=path_project
    )
    project = identity.project_id
    if path_project is not None and path_project != project:
        if "admin" not in identity.roles:
            raise PermissionDeniedError(
                "project",
                message=f"acting in project {path_project} is not allowed for a caller "
                f"of project {project}",
            )
        project = path_project
    return RequestContext(user_id=identity.user_id, project_id=project, roles=identity.roles)
