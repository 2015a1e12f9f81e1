"""Every collection in the route table also answers without the project segment."""

from __future__ import annotations

import httpx

from tests.support.server import ServerProcess


def test_collections_of_a_router_without_its_own_prefix_are_project_less_too(
    server: ServerProcess,
) -> None:
    # The manage router serves several collections under /v3/{project_id}.
    listed = httpx.get(f"{server.url}/v3/manageable_volumes", timeout=30)
    assert listed.status_code == 200, listed.text
    assert listed.json() == httpx.get(f"{server.project_url}/manageable_volumes").json()
    refused = httpx.post(f"{server.url}/v3/os-volume-manage", json={"volume": {}}, timeout=30)
    assert refused.status_code == 400, refused.text  # reached the route, which refused the body
    assert httpx.get(f"{server.url}/v3/manageable_snapshots", timeout=30).status_code == 200
