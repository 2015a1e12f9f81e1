from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.cinder import stop_cinder_server
from tests.support.server import ServerProcess, start_server


@pytest.fixture(scope="session", autouse=True)
def cinder_server() -> Iterator[None]:
    """Stop the `cinder` fork server (tests.support.cinder) if a test started one."""
    yield
    stop_cinder_server()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real `basalt serve` on a loopback port for the module."""
    process = start_server(tmp_path_factory.mktemp("api") / "data")
    yield process
    process.stop()


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.project_url, timeout=30.0) as http:
        yield http


def pool_dir(server: ServerProcess) -> Path:
    return server.data_dir / "pools" / "file" / "default"
