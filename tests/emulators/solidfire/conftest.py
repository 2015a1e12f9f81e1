"""Element clients over both carriers: the in-process transport and real HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from basalt_emulators.solidfire import SolidFireBackend, SolidFireTransport, serve_https

GIB = 1024**3


class ElementError(Exception):
    """An Element error reply."""

    def __init__(self, name: str, message: str, code: int) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
        self.code = code


class Element:
    """A plain JSON-RPC client for the emulator, the way a driver would speak to the array."""

    def __init__(self, client: httpx.Client, backend: SolidFireBackend) -> None:
        self.http = client
        self.backend = backend

    def post(self, method: str, params: Any = None, *, version: str = "12.3", **kw: Any):
        body: dict[str, Any] = {"method": method, "id": 7}
        if params is not None:
            body["params"] = params
        return self.http.post(f"/json-rpc/{version}/", json=body, **kw)

    def call(self, method: str, /, **params: Any) -> dict[str, Any]:
        reply = self.post(method, params)
        assert reply.status_code == 200, reply.text
        document = reply.json()
        assert document["id"] == 7
        if "error" in document:
            error = document["error"]
            raise ElementError(error["name"], error["message"], error["code"])
        return document["result"]

    def error(self, method: str, /, **params: Any) -> ElementError:
        with pytest.raises(ElementError) as caught:
            self.call(method, **params)
        return caught.value

    # Small helpers the tests share.
    def account(self, username: str = "tenant-1") -> int:
        secret = "S3cretS3cret"
        result = self.call(
            "AddAccount", username=username, initiatorSecret=secret, targetSecret=secret
        )
        return int(result["accountID"])

    def volume(self, account_id: int, name: str = "UUID-vol", size: int = GIB, **kw: Any) -> int:
        result = self.call("CreateVolume", name=name, accountID=account_id, totalSize=size, **kw)
        return int(result["volumeID"])


def in_process(backend: SolidFireBackend) -> httpx.Client:
    return httpx.Client(
        transport=SolidFireTransport(backend), base_url="https://sf.test", auth=("admin", "admin")
    )


@pytest.fixture
def backend(tmp_path: Path) -> SolidFireBackend:
    return SolidFireBackend(tmp_path / "cluster-a")


@pytest.fixture(params=["in-process", "https"])
def sf(request: pytest.FixtureRequest, backend: SolidFireBackend) -> Iterator[Element]:
    """An Element client over each carrier in turn."""
    if request.param == "in-process":
        with in_process(backend) as client:
            yield Element(client, backend)
        return
    with serve_https(backend) as server:
        with httpx.Client(
            base_url=server.url, verify=server.ssl_context(), auth=("admin", "admin")
        ) as client:
            yield Element(client, backend)


@pytest.fixture
def local(backend: SolidFireBackend) -> Iterator[Element]:
    """An in-process Element client (for tests about state rather than the carrier)."""
    with in_process(backend) as client:
        yield Element(client, backend)


def write_at(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def read_at(path: Path, offset: int, length: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length)
