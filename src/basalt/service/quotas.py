"""Quotas: each project's limits, the default quota class, usage, and the one check.

:meth:`QuotaService.check` is the single entry point every path that adds to a
project calls inside its write transaction, before it inserts or grows anything:
volume create (empty, clone, from a snapshot), snapshot create, extend, manage of
volumes and snapshots; a volume transfer's accept calls it for the destination
project with :meth:`QuotaDeltas.for_transfer`. It locks the project's quota
(:meth:`QuotaRepository.lock`), reads the limits, counts the usage from the rows
and raises QuotaExceededError, so the transaction rolls back and nothing is made.
Two requests of one project are therefore counted one after the other, on SQLite
and on PostgreSQL alike.

Who may do what: a reader or member reads its own project's quota set, defaults
and limits; administrators read any project's and change limits (projects and
the default class).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from basalt.config import QuotaSettings
from basalt.errors import (
    InvalidInputError,
    PermissionDeniedError,
    QuotaClassNotFoundError,
    QuotaExceededError,
)
from basalt.model.quota import (
    DEFAULT_QUOTA_CLASS,
    PER_VOLUME_GIGABYTES,
    UNLIMITED,
    QuotaDeltas,
    QuotaExcess,
    QuotaResource,
    QuotaUsage,
    effective_limit,
    first_excess,
    per_volume_excess,
    resources_by_label,
)
from basalt.model.validation import check_text, validate_quota_set
from basalt.persistence.base import Database, Transaction
from basalt.service.clock import utcnow
from basalt.service.context import RequestContext
from basalt.service.policy import authorize

PER_VOLUME = QuotaResource(PER_VOLUME_GIGABYTES)


@dataclass(frozen=True, slots=True)
class QuotaLine:
    """One resource of a project: its limit and what is counted against it."""

    limit: int
    in_use: int = 0
    reserved: int = 0


@dataclass(frozen=True, slots=True)
class QuotaSet:
    """A project's quota, by the resource names clients use (``volumes_gold``...)."""

    project_id: str
    lines: dict[str, QuotaLine]

    @property
    def limits(self) -> dict[str, int]:
        return {name: line.limit for name, line in self.lines.items()}


class QuotaService:
    """Read and change quotas; check requests against them."""

    def __init__(
        self, *, db: Database, settings: QuotaSettings, default_context: RequestContext
    ) -> None:
        self.db = db
        self.settings = settings
        self.default_context = default_context

    def show(
        self,
        project_id: str | None = None,
        *,
        usage: bool = False,
        ctx: RequestContext | None = None,
    ) -> QuotaSet:
        """The project's limits (the caller's own project when None), with what it uses.

        Args:
            project_id: whose quota; a non-administrator may only name its own.
            usage: count in-use and reserved amounts (else they are 0).
            ctx: the caller; the default context when None.

        Raises:
            PermissionDeniedError: another project's, and the caller is no administrator.
            InvalidInputError: a malformed project id.
        """
        context, project = self._reader(ctx, project_id, "quota:get")
        with self.db.transaction(write=False) as tx:
            return self._quota_set(tx, context, project, counted=usage)

    def limits(
        self, project_id: str | None = None, *, ctx: RequestContext | None = None
    ) -> QuotaSet:
        """What ``GET /limits`` shows: the project's quota set with its usage.

        Raises:
            PermissionDeniedError, InvalidInputError: as for :meth:`show`.
        """
        context, project = self._reader(ctx, project_id, "limits:get")
        with self.db.transaction(write=False) as tx:
            return self._quota_set(tx, context, project, counted=True)

    def defaults(
        self, project_id: str | None = None, *, ctx: RequestContext | None = None
    ) -> dict[str, int]:
        """The limits the project has where it has none of its own (the default class's,
        else the settings').

        Raises:
            PermissionDeniedError, InvalidInputError: as for :meth:`show`.
        """
        context, project = self._reader(ctx, project_id, "quota:get")
        with self.db.transaction(write=False) as tx:
            known = resources_by_label(self._type_ids(tx, context, project))
            limits = self._resolve(tx, None, list(known.values()))
            return {name: limits[r] for name, r in known.items()}

    def update(
        self,
        project_id: str,
        items: Mapping[str, object],
        *,
        skip_validation: bool = False,
        ctx: RequestContext | None = None,
    ) -> dict[str, int]:
        """Set some of a project's limits (administrators); all of them or none.

        Args:
            project_id: whose limits.
            items: resource name to limit, e.g. ``{"volumes": 20, "gigabytes_gold": -1}``.
            skip_validation: allow a limit below what the project already uses.
            ctx: the caller.

        Returns:
            Every limit of the project afterwards, by resource name.

        Raises:
            PermissionDeniedError: the caller is no administrator.
            InvalidInputError: an unknown resource, a limit that is not -1 or 0 or more,
                or (unless ``skip_validation``) a limit below the project's usage.
        """
        context = authorize(ctx or self.default_context, "quota:update")
        project = _project(project_id)
        with self.db.transaction() as tx:
            known = resources_by_label(self._type_ids(tx, context, project))
            limits = validate_quota_set(items, known=known, field="quota_set")
            tx.quotas.lock(project)  # no create of the project counts between check and write
            if not skip_validation:
                _refuse_below_usage(tx.quotas.usage(project), limits, known, project)
            tx.quotas.set_limits(project, limits, at=utcnow())
            return self._quota_set(tx, context, project, counted=False).limits

    def reset(self, project_id: str, *, ctx: RequestContext | None = None) -> None:
        """Drop a project's own limits: it has the defaults again (administrators).

        Raises:
            PermissionDeniedError, InvalidInputError.
        """
        authorize(ctx or self.default_context, "quota:delete")
        project = _project(project_id)
        with self.db.transaction() as tx:
            tx.quotas.clear(project)

    def show_class(self, class_name: str, *, ctx: RequestContext | None = None) -> dict[str, int]:
        """The limits of the quota class ``default`` (administrators).

        Raises:
            PermissionDeniedError, QuotaClassNotFoundError: another class name.
        """
        context = authorize(ctx or self.default_context, "quota_class:get")
        _quota_class(class_name)
        with self.db.transaction(write=False) as tx:
            return self._class_limits(tx, context)

    def update_class(
        self, class_name: str, items: Mapping[str, object], *, ctx: RequestContext | None = None
    ) -> dict[str, int]:
        """Set some limits of the ``default`` class, every project's fallback (administrators).

        Returns:
            Every limit of the class afterwards.

        Raises:
            PermissionDeniedError, QuotaClassNotFoundError, InvalidInputError.
        """
        context = authorize(ctx or self.default_context, "quota_class:update")
        _quota_class(class_name)
        with self.db.transaction() as tx:
            known = resources_by_label(self._type_ids(tx, context, None))
            limits = validate_quota_set(items, known=known, field="quota_class_set")
            tx.quotas.set_class_limits(DEFAULT_QUOTA_CLASS, limits, at=utcnow())
            return self._class_limits(tx, context)

    def check(self, tx: Transaction, project_id: str, deltas: QuotaDeltas) -> None:
        """Refuse a request that would take ``project_id`` past a limit: THE quota check.

        Call it in the write transaction that adds the resource, before adding it:
        it locks the project's quota until that transaction ends, then counts.

        Args:
            tx: the caller's open write transaction.
            project_id: the project that will own what is added.
            deltas: what is added (``QuotaDeltas.for_volume``, ``for_snapshot``,
                ``for_growth``, ``for_transfer``).

        Raises:
            QuotaExceededError: naming the first resource past its limit; the caller
                lets it propagate so that the transaction rolls back.
        """
        tx.quotas.lock(project_id)
        amounts = deltas.amounts()
        limits = self._resolve(tx, project_id, [*amounts, PER_VOLUME])
        excess = per_volume_excess(deltas, limits[PER_VOLUME])
        if excess is None:
            finite = {r: n for r, n in amounts.items() if limits[r] != UNLIMITED}
            if not finite:
                return  # nothing to count: every limit concerned is unlimited
            excess = first_excess(finite, limits, tx.quotas.usage(project_id))
        if excess is not None:
            raise _refusal(tx, project_id, excess)

    def _reader(
        self, ctx: RequestContext | None, project_id: str | None, action: str
    ) -> tuple[RequestContext, str]:
        context = authorize(ctx or self.default_context, action)
        project = context.project_id if project_id is None else _project(project_id)
        if not context.can_see(project):
            raise PermissionDeniedError(
                action,
                message=f"policy does not allow {action} of project {project}: a caller "
                f"of project {context.project_id} reads its own project's quotas only",
            )
        return context, project

    def _default(self, resource: QuotaResource) -> int:
        if resource.volume_type_id is not None:
            return self.settings.per_type
        value: int = getattr(self.settings, resource.name)
        return value

    def _resolve(
        self, tx: Transaction, project_id: str | None, resources: list[QuotaResource]
    ) -> dict[QuotaResource, int]:
        """Each resource's effective limit (``project_id`` None: the class's and defaults)."""
        own: dict[QuotaResource, int] = {}
        if project_id is None:
            quota_class = tx.quotas.class_limits(DEFAULT_QUOTA_CLASS)
        else:
            own, quota_class = tx.quotas.limits_and_class(project_id, DEFAULT_QUOTA_CLASS)
        return {
            r: effective_limit(r, project=own, quota_class=quota_class, default=self._default(r))
            for r in resources
        }

    def _type_ids(
        self, tx: Transaction, ctx: RequestContext, project_id: str | None
    ) -> dict[str, str]:
        """The types that have per-type resources, by name: every type for administrators,
        else those the project may use."""
        scope = None if ctx.is_admin else project_id
        return {t.name: t.id for t in tx.volume_types.find(project_id=scope)}

    def _quota_set(
        self, tx: Transaction, ctx: RequestContext, project_id: str, *, counted: bool
    ) -> QuotaSet:
        known = resources_by_label(self._type_ids(tx, ctx, project_id))
        limits = self._resolve(tx, project_id, list(known.values()))
        usage = tx.quotas.usage(project_id) if counted else QuotaUsage()
        lines = {}
        for name, resource in known.items():
            counts = resource != PER_VOLUME  # a size cap, not an amount held
            lines[name] = QuotaLine(
                limits[resource],
                in_use=usage.in_use.get(resource, 0) if counts else 0,
                reserved=usage.reserved.get(resource, 0) if counts else 0,
            )
        return QuotaSet(project_id=project_id, lines=lines)

    def _class_limits(self, tx: Transaction, ctx: RequestContext) -> dict[str, int]:
        known = resources_by_label(self._type_ids(tx, ctx, None))
        limits = self._resolve(tx, None, list(known.values()))
        return {name: limits[r] for name, r in known.items()}


def _project(project_id: object) -> str:
    return check_text(project_id, field="project_id", max_length=255, allow_empty=False)


def _quota_class(class_name: str) -> None:
    if class_name != DEFAULT_QUOTA_CLASS:
        raise QuotaClassNotFoundError(class_name[:255])


def _refuse_below_usage(
    usage: QuotaUsage,
    limits: Mapping[QuotaResource, int],
    known: Mapping[str, QuotaResource],
    project_id: str,
) -> None:
    """Refuse a limit below what the project uses (as Cinder validates, unless skipped)."""
    names = {r: n for n, r in known.items()}
    for resource, limit in limits.items():
        used = usage.used(resource)
        if resource != PER_VOLUME and limit != UNLIMITED and used > limit:
            raise InvalidInputError(
                f"quota_set.{names[resource]}",
                f"{limit} is below the {used} project {project_id} already uses",
                hint="free some first, or set it anyway with skip_validation=true",
            )


def _refusal(tx: Transaction, project_id: str, excess: QuotaExcess) -> QuotaExceededError:
    type_id = excess.resource.volume_type_id
    found = None if type_id is None else tx.volume_types.get(type_id)
    names = {found.id: found.name} if found is not None else {}
    return QuotaExceededError(
        project_id=project_id,
        resource=excess.resource.label(names),
        limit=excess.limit,
        in_use=excess.in_use,
        requested=excess.requested,
    )
