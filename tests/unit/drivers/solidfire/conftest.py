"""An emulated Element cluster per test, and clients/drivers wired to it in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from basalt.drivers.solidfire import (
    RetryPolicy,
    SolidFireClient,
    SolidFireDriver,
    SolidFireOptions,
)
from basalt_emulators.solidfire import SolidFireBackend, SolidFireTransport

URL = "https://sf.test"
FAST = RetryPolicy(attempts=4, total_seconds=2.0, initial_delay_seconds=0.001)
ClientFactory = Callable[..., SolidFireClient]


class Recording(httpx.BaseTransport):
    """Passes requests on to another transport and remembers their URLs and bodies."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)


@pytest.fixture
def backend(tmp_path: Path) -> SolidFireBackend:
    """A fresh emulated cluster."""
    return SolidFireBackend(tmp_path / "cluster")


@pytest.fixture
def make_client(backend: SolidFireBackend) -> Iterator[ClientFactory]:
    """Builds clients (in-process transport, tiny backoff unless told otherwise)."""
    made: list[SolidFireClient] = []

    def build(**overrides: Any) -> SolidFireClient:
        settings: dict[str, Any] = {
            "backend_name": "sf-unit",
            "url": URL,
            "login": "admin",
            "password": "admin",
            "transport": SolidFireTransport(backend),
            "retry": FAST,
        }
        settings.update(overrides)
        client = SolidFireClient(**settings)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: ClientFactory) -> SolidFireClient:
    return make_client()


@pytest.fixture
def driver(client: SolidFireClient) -> SolidFireDriver:
    """A set-up driver whose unanswered creates are looked for briefly."""
    options = SolidFireOptions(poll_interval_seconds=0.01, settle_seconds=0.2)
    made = SolidFireDriver(backend_name="sf-unit", client=client, options=options)
    made.setup()
    return made
