"""Who is asking: the caller's identity as every service call sees it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RequestContext:
    """The caller of a service method.

    ``roles`` are the names granted to the caller (``reader``, ``member``,
    ``admin``); what each allows is basalt.service.policy's table. Admins see
    every project's resources; everyone else sees their own project's.
    """

    user_id: str
    project_id: str
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        """Whether the caller holds the admin role (which sees every project)."""
        return "admin" in self.roles

    def can_see(self, project_id: str) -> bool:
        """Whether a resource of ``project_id`` is visible to this caller."""
        return self.is_admin or project_id == self.project_id
