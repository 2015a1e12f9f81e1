"""Fault injection seen through the wire: errors, latency, drops and late replies."""

from __future__ import annotations

import time

import httpx
import pytest

from basalt_emulators.solidfire import RETRYABLE_ERROR_NAMES, SolidFireBackend, serve_https

from .conftest import GIB, Element


def _create(sf: Element, account: int, name: str = "v") -> httpx.Response:
    params = {"name": name, "accountID": account, "totalSize": GIB}
    return sf.post("CreateVolume", params)


def test_error_on_the_nth_call_is_not_executed(local: Element) -> None:
    account = local.account()
    local.backend.faults.inject("xDBVersionMismatch", method="CreateVolume", on_call=2)
    assert "result" in _create(local, account, "first").json()
    error = _create(local, account, "second").json()["error"]
    assert (error["name"], error["code"]) == ("xDBVersionMismatch", 500)
    assert "result" in _create(local, account, "third").json()
    assert [v["name"] for v in local.backend.active_volumes()] == ["first", "third"]
    assert local.backend.call_counts["CreateVolume"] == 3


def test_error_for_any_method_and_times(local: Element) -> None:
    local.backend.faults.inject("xNotReadyForIO", times=2)
    assert local.error("ListAccounts").name == "xNotReadyForIO"
    assert local.error("GetClusterInfo").name == "xNotReadyForIO"
    assert local.call("ListAccounts") == {"accounts": []}


@pytest.mark.parametrize("name", RETRYABLE_ERROR_NAMES)
def test_every_retryable_name_can_be_injected(local: Element, name: str) -> None:
    local.backend.faults.inject(name, method="ListVolumes")
    assert local.error("ListVolumes").name == name


def _failures(backend: SolidFireBackend, client: Element, *, seed: int) -> list[int]:
    backend.faults.clear()
    backend.faults.inject("xDBConnectionLoss", probability=0.3, seed=seed)
    failed = []
    for n in range(40):
        if "error" in client.post("ListAccounts", {}).json():
            failed.append(n)
    return failed


def test_probability_with_a_seed_is_reproducible(local: Element) -> None:
    first = _failures(local.backend, local, seed=7)
    assert first == _failures(local.backend, local, seed=7)
    assert 3 <= len(first) <= 25
    assert first != _failures(local.backend, local, seed=8)


def test_clear_disarms_everything(local: Element) -> None:
    local.backend.faults.inject("xDBVersionMismatch")
    local.backend.faults.drop_connection(method="CreateVolume")
    local.backend.faults.clear()
    assert local.call("ListAccounts") == {"accounts": []}


def test_latency_delays_only_the_chosen_method(local: Element) -> None:
    local.backend.faults.latency(0.2, method="ListAccounts")
    started = time.monotonic()
    local.call("GetClusterInfo")
    assert time.monotonic() - started < 0.15
    started = time.monotonic()
    local.call("ListAccounts")
    assert time.monotonic() - started >= 0.2


def test_dropped_connection_in_process(local: Element) -> None:
    account = local.account()
    local.backend.faults.drop_connection(method="CreateVolume", on_call=1)
    with pytest.raises(httpx.RemoteProtocolError):
        _create(local, account)
    assert local.backend.active_volumes() == []  # not executed
    assert local.backend.call_counts["CreateVolume"] == 1
    assert "result" in _create(local, account).json()


def test_read_timeout_in_process_still_creates_the_volume(local: Element) -> None:
    account = local.account()
    local.backend.faults.read_timeout(on_call=1)
    with pytest.raises(httpx.ReadTimeout):
        _create(local, account, "UUID-late")
    # What a driver does next: find the volume by name instead of creating it twice.
    found = local.call("ListVolumes", volumeName="UUID-late")["volumes"]
    assert [v["status"] for v in found] == ["active"]


@pytest.fixture
def remote(backend: SolidFireBackend):
    with serve_https(backend) as server:
        with httpx.Client(
            base_url=server.url, verify=server.ssl_context(), auth=("admin", "admin"), timeout=5
        ) as client:
            yield Element(client, backend)


def test_injected_error_over_https(remote: Element) -> None:
    remote.backend.faults.inject("xSliceNotRegistered", method="ListAccounts", on_call=1)
    assert remote.error("ListAccounts").name == "xSliceNotRegistered"
    assert remote.call("ListAccounts") == {"accounts": []}


def test_dropped_connection_over_https(remote: Element) -> None:
    account = remote.account()
    remote.backend.faults.drop_connection(method="CreateVolume", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        _create(remote, account)
    assert remote.backend.active_volumes() == []
    assert "result" in _create(remote, account).json()  # a new connection works


def test_read_timeout_over_https_still_creates_the_volume(remote: Element) -> None:
    account = remote.account()
    remote.backend.faults.read_timeout(method="CreateVolume", seconds=1.0, on_call=1)
    with pytest.raises(httpx.ReadTimeout):
        remote.post("CreateVolume", {"name": "UUID-late", "accountID": account, "totalSize": GIB},
                    timeout=0.2)  # fmt: skip
    found = remote.call("ListVolumes", volumeName="UUID-late")["volumes"]
    assert [v["status"] for v in found] == ["active"]


def test_a_late_reply_arrives_when_the_client_waits(remote: Element) -> None:
    account = remote.account()
    remote.backend.faults.read_timeout(seconds=0.2, on_call=1)
    started = time.monotonic()
    assert "result" in _create(remote, account).json()
    assert time.monotonic() - started >= 0.2


def test_latency_over_https(remote: Element) -> None:
    remote.backend.faults.latency(0.15)
    started = time.monotonic()
    remote.call("GetClusterInfo")
    assert time.monotonic() - started >= 0.15
