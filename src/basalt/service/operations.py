"""Reading operation records."""

from __future__ import annotations

import builtins

from basalt.errors import OperationNotFoundError
from basalt.model import Operation
from basalt.persistence.base import Database
from basalt.service.context import RequestContext
from basalt.service.policy import authorize


class OperationService:
    """List and show operations visible to the caller."""

    def __init__(self, *, db: Database, default_context: RequestContext) -> None:
        self.db = db
        self.default_context = default_context

    def get(self, operation_id: str, *, ctx: RequestContext | None = None) -> Operation:
        """One operation.

        Raises:
            OperationNotFoundError: unknown, or another project's.
        """
        context = authorize(ctx or self.default_context, "operation:get")
        with self.db.transaction(write=False) as tx:
            operation = tx.operations.get(operation_id)
        if operation is None or not context.can_see(operation.project_id):
            raise OperationNotFoundError(operation_id)
        return operation

    def list(
        self,
        *,
        resource_id: str | None = None,
        open_only: bool = False,
        limit: int = 100,
        ctx: RequestContext | None = None,
        all_projects: bool = False,
    ) -> builtins.list[Operation]:
        """Newest first."""
        context = authorize(ctx or self.default_context, "operation:get")
        project = None if (all_projects and context.is_admin) else context.project_id
        with self.db.transaction(write=False) as tx:
            return tx.operations.find(
                project_id=project, resource_id=resource_id, limit=limit, open_only=open_only
            )
