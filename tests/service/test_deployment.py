"""Backend services through the library: disabling stops new volumes, nothing else."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import basalt
from basalt.errors import (
    BackendDisabledError,
    InvalidInputError,
    PermissionDeniedError,
    ServiceNotFoundError,
)
from basalt.service.context import RequestContext
from basalt.service.pools import DISABLED_MAX_AGE_S

MEMBER = RequestContext(user_id="alice", project_id="basalt", roles=frozenset({"member"}))


def test_a_disabled_backend_refuses_new_volumes_and_keeps_its_own(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1).wait(timeout=30)
    service = b.deployment.disable("basalt@file", reason="disk swap")
    assert (service.status, service.disabled_reason, service.state) == (
        "disabled",
        "disk swap",
        "up",
    )
    with pytest.raises(BackendDisabledError) as refused:
        b.volumes.create(size_gib=1)
    assert refused.value.reasons == {"file": "disk swap"}
    assert "backend file is disabled (disk swap)" in refused.value.message
    with pytest.raises(BackendDisabledError):
        b.volumes.create(size_gib=1, pool="file#default")
    clone = b.volumes.clone(volume.id).wait(timeout=30)
    assert (clone.backend, clone.pool) == ("file", "default")
    snapshot = b.snapshots.create(volume.id).wait(timeout=30)
    assert b.volumes.extend(volume.id, new_size_gib=2).wait(timeout=30).size_gib == 2
    b.snapshots.delete(snapshot.id).wait(timeout=30)
    b.deployment.enable("basalt@file")
    assert b.volumes.create(size_gib=1).wait(timeout=30).backend == "file"


def test_unknown_services_and_bad_reasons_are_refused(b: basalt.Basalt) -> None:
    with pytest.raises(ServiceNotFoundError, match="basalt@nope") as missing:
        b.deployment.disable("basalt@nope")
    assert missing.value.hint is not None and "basalt@file" in missing.value.hint
    with pytest.raises(ServiceNotFoundError):
        b.deployment.enable("file")  # the host is basalt@file
    with pytest.raises(InvalidInputError, match="disabled_reason"):
        b.deployment.disable("basalt@file", reason="   ")
    with pytest.raises(InvalidInputError, match="cinder-scheduler"):
        b.deployment.disable("basalt", binary="cinder-scheduler")
    with pytest.raises(PermissionDeniedError):
        b.deployment.services(ctx=MEMBER)
    assert [s.status for s in b.deployment.services()] == ["enabled", "enabled"]


def test_another_process_sees_a_disable_within_the_cache_time(tmp_path: Path) -> None:
    with basalt.open(data_dir=tmp_path / "data") as first:
        first.volumes.create(size_gib=1).wait(timeout=30)  # the disabled set is read now
        with basalt.open(data_dir=tmp_path / "data") as second:
            second.deployment.disable("basalt@file", reason="from the CLI")
        time.sleep(DISABLED_MAX_AGE_S + 0.2)
        with pytest.raises(BackendDisabledError, match="from the CLI"):
            first.volumes.create(size_gib=1)
