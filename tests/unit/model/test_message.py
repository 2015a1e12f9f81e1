"""User messages derived from failed operations: the event table and the wording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from basalt.model import Operation, OperationKind, OperationPhase
from basalt.model.message import (
    EVENTS,
    OUTCOMES,
    event_id,
    events_with_id,
    is_message,
    kinds_of_type,
    message_from,
)

FAILED_AT = datetime(2026, 11, 23, 10, 0, 0, 5, tzinfo=UTC)


def operation(**overrides: object) -> Operation:
    values: dict[str, object] = {
        "id": "op-1",
        "kind": OperationKind.EXTEND_VOLUME,
        "resource_kind": "volume",
        "resource_id": "vol-1",
        "project_id": "p",
        "phase": OperationPhase.FAILED,
        "created_at": FAILED_AT - timedelta(seconds=3),
        "updated_at": FAILED_AT,
        "finished_at": FAILED_AT,
        "error_code": "driver_error",
        "message": "backend file: the file is gone",
        "hint": "check the pool",
    }
    values.update(overrides)
    return Operation(**values)  # type: ignore[arg-type]


def test_every_operation_kind_has_an_event_and_every_id_is_unique() -> None:
    assert set(EVENTS) == set(OperationKind)
    ids = [event_id(kind, phase) for kind in OperationKind for phase in OUTCOMES]
    assert len(ids) == len(set(ids))
    for kind in OperationKind:
        for phase in OUTCOMES:
            assert events_with_id(event_id(kind, phase)) == [(kind, phase)]


def test_event_ids_follow_the_block_storage_pattern() -> None:
    assert event_id(OperationKind.EXTEND_VOLUME, OperationPhase.FAILED) == "VOLUME_VOLUME_005_001"
    assert (
        event_id(OperationKind.CREATE_SNAPSHOT, OperationPhase.ROLLED_BACK)
        == "VOLUME_VOLUME_SNAPSHOT_012_002"
    )
    assert events_with_id("VOLUME_VOLUME_005_003") == []
    with pytest.raises(KeyError):
        event_id(OperationKind.EXTEND_VOLUME, OperationPhase.SUCCEEDED)


def test_snapshot_kinds_are_snapshot_messages() -> None:
    group_kinds = {k for k in OperationKind if "group" in k}
    snapshot_kinds = {
        k for k in OperationKind if k.endswith("_snapshot") and "volume" not in k
    } - group_kinds
    assert set(kinds_of_type("VOLUME_SNAPSHOT")) == snapshot_kinds
    backend_kinds = {OperationKind.FAILOVER_BACKEND, OperationKind.FAILBACK_BACKEND}
    assert set(kinds_of_type("SERVICE")) == backend_kinds
    assert set(kinds_of_type("VOLUME")) == (
        set(OperationKind) - snapshot_kinds - group_kinds - backend_kinds
    )
    assert {*kinds_of_type("GROUP"), *kinds_of_type("GROUP_SNAPSHOT")} == group_kinds
    assert kinds_of_type("BACKUP") == []


def test_the_message_says_what_failed_why_and_until_when() -> None:
    message = message_from(operation(), ttl=timedelta(days=30))
    assert message.id == "op-1" and message.project_id == "p"
    assert message.user_message == (
        "Extending volume vol-1 failed: backend file: the file is gone (check the pool)"
    )
    assert (message.resource_type, message.resource_uuid) == ("VOLUME", "vol-1")
    assert message.request_id == "req-op-1" and message.message_level == "ERROR"
    assert message.created_at == FAILED_AT
    assert message.guaranteed_until == FAILED_AT + timedelta(days=30)


def test_rolled_back_work_without_a_message_or_hint() -> None:
    undone = operation(
        kind=OperationKind.CLONE_VOLUME,
        phase=OperationPhase.ROLLED_BACK,
        message=None,
        hint=None,
        request_id="my-key",
    )
    message = message_from(undone, ttl=timedelta(seconds=1))
    assert message.user_message == (
        "Creating volume vol-1 as a clone failed and what it had done was undone: "
        "no reason was recorded"
    )
    assert message.request_id == "my-key" and message.event_id == "VOLUME_VOLUME_002_002"


@pytest.mark.parametrize(
    "overrides",
    [
        {"phase": OperationPhase.SUCCEEDED},
        {"phase": OperationPhase.RUNNING, "finished_at": None},
        {"finished_at": None},
    ],
)
def test_only_finished_failures_are_messages(overrides: dict[str, object]) -> None:
    op = operation(**overrides)
    assert not is_message(op)
    with pytest.raises(ValueError, match="op-1"):
        message_from(op, ttl=timedelta(days=1))


def test_a_dismissed_failure_is_no_message() -> None:
    assert is_message(operation())
    assert not is_message(operation(dismissed_at=FAILED_AT + timedelta(minutes=1)))
