"""Who is asking: the caller's identity as every service call sees it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RequestContext:
    """The caller of a service method.

    Admins see every project's resources; everyone else sees their own project's.
    ``request_id`` is an idempotency key for creates.
    """

    user_id: str
    project_id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    is_admin: bool = False

    def can_see(self, project_id: str) -> bool:
        """Whether a resource of ``project_id`` is visible to this caller."""
        return self.is_admin or project_id == self.project_id
