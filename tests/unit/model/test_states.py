"""The transition tables: what is allowed and what is refused."""

from __future__ import annotations

import pytest

from basalt.errors import InvalidStateError
from basalt.model.states import (
    OPERATION_TRANSITIONS,
    SNAPSHOT_BUSY,
    SNAPSHOT_STRANDED,
    SNAPSHOT_TRANSITIONS,
    VOLUME_BUSY,
    VOLUME_STRANDED,
    VOLUME_TRANSITIONS,
    SnapshotStatus,
    VolumeStatus,
    check_transition,
)

V = VolumeStatus


@pytest.mark.parametrize(
    "current, wanted",
    [
        (V.CREATING, V.AVAILABLE),
        (V.AVAILABLE, V.EXTENDING),
        (V.AVAILABLE, V.DELETING),
        (V.ERROR, V.DELETING),
        (V.EXTENDING, V.ERROR_EXTENDING),
    ],
)
def test_allowed_volume_transitions(current: V, wanted: V) -> None:
    check_transition(
        VOLUME_TRANSITIONS,
        kind="volume",
        resource_id="v",
        current=current,
        wanted=wanted,
        action="test",
    )


@pytest.mark.parametrize(
    "current, wanted, action",
    [
        (V.DELETING, V.EXTENDING, "extend"),
        (V.ERROR, V.EXTENDING, "extend"),
        (V.CREATING, V.DELETING, "delete"),
        (V.IN_USE, V.DELETING, "delete"),
        (V.AVAILABLE, V.AVAILABLE, "noop"),
    ],
)
def test_refused_volume_transitions_name_status_and_action(
    current: V, wanted: V, action: str
) -> None:
    with pytest.raises(InvalidStateError) as info:
        check_transition(
            VOLUME_TRANSITIONS,
            kind="volume",
            resource_id="v1",
            current=current,
            wanted=wanted,
            action=action,
        )
    assert info.value.status == str(current)
    assert f"cannot {action} volume v1" in str(info.value)


def test_every_busy_status_has_a_way_out() -> None:
    sources = {old for old, _ in VOLUME_TRANSITIONS}
    assert VOLUME_BUSY <= sources


def test_tables_only_hold_their_own_enum() -> None:
    assert all(
        isinstance(a, VolumeStatus) and isinstance(b, VolumeStatus) for a, b in VOLUME_TRANSITIONS
    )
    assert all(isinstance(a, SnapshotStatus) for a, _ in SNAPSHOT_TRANSITIONS)
    assert len(OPERATION_TRANSITIONS) >= 5


def test_every_stranded_status_has_an_allowed_way_out() -> None:
    assert set(VOLUME_STRANDED) == VOLUME_BUSY
    assert set(SNAPSHOT_STRANDED) == SNAPSHOT_BUSY
    assert all(pair in VOLUME_TRANSITIONS for pair in VOLUME_STRANDED.items())
    assert all(pair in SNAPSHOT_TRANSITIONS for pair in SNAPSHOT_STRANDED.items())
