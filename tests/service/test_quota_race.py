"""32 threads creating 1 GiB volumes at once against a quota of 10 never exceed it, on
SQLite and on PostgreSQL: exactly 10 volumes are made and 22 requests are refused,
each refusal naming the resource, the limit and what was in use."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pytest

import basalt
from basalt.errors import QuotaExceededError
from basalt.model import VolumeStatus
from basalt.service.context import RequestContext
from tests.persistence_fixtures import postgres_database
from tests.service.conftest import pool_files

THREADS = 32
LIMIT = 10
ALICE = RequestContext(user_id="alice", project_id="web", roles=frozenset({"member"}))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def b(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[basalt.Basalt]:
    """Basalt on SQLite, or on a throwaway PostgreSQL database."""
    url: AbstractContextManager[str | None] = (
        nullcontext(None) if request.param == "sqlite" else postgres_database()
    )
    with url as database_url:
        overrides: dict[str, Any] = {"data_dir": tmp_path / "data"}
        if database_url is not None:
            overrides["database_url"] = database_url
        with basalt.open(**overrides) as instance:
            yield instance


def race(work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in THREADS threads released at once; their results or exceptions."""
    barrier = threading.Barrier(THREADS)
    results: list[Any] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            outcome = work()
        except Exception as exc:  # collected; the test asserts on each
            outcome = exc
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(results) == THREADS
    return results


def created_and_refused(
    b: basalt.Basalt, create: Callable[[], basalt.OperationHandle[basalt.Volume]]
) -> tuple[list[basalt.Volume], list[QuotaExceededError]]:
    outcomes = race(create)
    refused = [o for o in outcomes if isinstance(o, QuotaExceededError)]
    handles = [o for o in outcomes if not isinstance(o, QuotaExceededError)]
    assert all(isinstance(h, basalt.OperationHandle) for h in handles), handles
    return [h.wait(timeout=120) for h in handles], refused


def assert_exactly_the_limit(
    b: basalt.Basalt,
    made: list[basalt.Volume],
    refused: list[QuotaExceededError],
    resource: str,
) -> None:
    assert (len(made), len(refused)) == (LIMIT, THREADS - LIMIT)
    assert all(v.status == VolumeStatus.AVAILABLE for v in made)
    for error in refused:
        assert (error.resource, error.limit, error.in_use, error.requested) == (
            resource,
            LIMIT,
            LIMIT,
            1,
        )
        assert f"quota exceeded for {resource} in project web: limit {LIMIT}" in error.message
    listed = b.volumes.list(ctx=ALICE)
    assert sorted(v.id for v in listed) == sorted(v.id for v in made)
    assert len([f for f in pool_files(b) if f.startswith("volumes/")]) == LIMIT
    assert len(b.operations.list(ctx=ALICE)) == LIMIT  # refusals leave no operation


def test_a_volume_quota_of_10_holds_against_32_threads(b: basalt.Basalt) -> None:
    b.quotas.update("web", {"volumes": LIMIT})
    made, refused = created_and_refused(b, lambda: b.volumes.create(size_gib=1, ctx=ALICE))
    assert_exactly_the_limit(b, made, refused, "volumes")


def test_a_gigabyte_quota_of_10_holds_against_32_threads(b: basalt.Basalt) -> None:
    b.quotas.update("web", {"volumes": -1, "gigabytes": LIMIT})
    made, refused = created_and_refused(b, lambda: b.volumes.create(size_gib=1, ctx=ALICE))
    assert_exactly_the_limit(b, made, refused, "gigabytes")


def test_a_per_type_quota_of_10_holds_against_32_threads(b: basalt.Basalt) -> None:
    b.types.create("gold")
    b.quotas.update("web", {"volumes": -1, "volumes_gold": LIMIT})
    made, refused = created_and_refused(
        b, lambda: b.volumes.create(size_gib=1, volume_type="gold", ctx=ALICE)
    )
    assert_exactly_the_limit(b, made, refused, "volumes_gold")
