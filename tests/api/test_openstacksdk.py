"""openstacksdk's block_storage proxy, unchanged, against a real `basalt serve`.

Two ways in: ``auth_type: none`` with ``block_storage_endpoint_override`` (the
token ``notused`` acts in the URL's project), and ``auth_type: admin_token`` with
a ``user:project`` token. The lifecycle waits with the SDK's own helpers.
"""

from __future__ import annotations

from collections.abc import Iterator

import openstack
import pytest
from openstack.connection import Connection

from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.slow
WAIT = 30


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = start_server(tmp_path_factory.mktemp("sdk") / "data")
    yield process
    process.stop()


def no_auth(server: ServerProcess) -> Connection:
    return openstack.connect(
        auth_type="none",
        block_storage_endpoint_override=f"{server.url}/v3/basalt",
        block_storage_api_version="3",
    )


def admin_token(server: ServerProcess) -> Connection:
    return openstack.connect(
        auth_type="admin_token",
        auth={"token": "admin:ops", "endpoint": f"{server.url}/v3/ops"},
        block_storage_endpoint_override=f"{server.url}/v3/ops",
        block_storage_api_version="3",
    )


@pytest.mark.parametrize("connect", [no_auth, admin_token], ids=["none", "admin_token"])
def test_the_sdk_runs_a_volume_lifecycle(server: ServerProcess, connect: object) -> None:
    assert callable(connect)
    conn: Connection = connect(server)
    storage = conn.block_storage
    volume = storage.create_volume(size=1, name="sdk-vol", metadata={"k": "v"})
    volume = storage.wait_for_status(volume, "available", wait=WAIT)
    assert volume.name == "sdk-vol" and volume.size == 1
    assert "sdk-vol" in [v.name for v in storage.volumes()]
    storage.extend_volume(volume, 2)
    volume = storage.wait_for_status(storage.get_volume(volume.id), "available", wait=WAIT)
    assert volume.size == 2
    snapshot = storage.create_snapshot(volume_id=volume.id, name="sdk-snap")
    snapshot = storage.wait_for_status(snapshot, "available", wait=WAIT)
    copy = storage.create_volume(size=2, snapshot_id=snapshot.id, name="sdk-copy")
    copy = storage.wait_for_status(copy, "available", wait=WAIT)
    assert copy.snapshot_id == snapshot.id
    for resource, delete in (
        (copy, storage.delete_volume),
        (snapshot, storage.delete_snapshot),
        (volume, storage.delete_volume),
    ):
        delete(resource)
        storage.wait_for_delete(resource, wait=WAIT)
    assert [v.name for v in storage.volumes()] == []
