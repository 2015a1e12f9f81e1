"""The JSON-RPC client: versions in the path, error names -> Basalt errors, retries."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from basalt.drivers.solidfire import RetryPolicy, SolidFireClient
from basalt.drivers.solidfire.client import API_VERSIONS
from basalt.drivers.solidfire.errors import (
    ERRORS,
    RETRYABLE_NAMES,
    SolidFireAuthError,
    SolidFireBusyError,
    SolidFireError,
    SolidFireInvalidRequestError,
    SolidFireNotFoundError,
    SolidFireReplyError,
    SolidFireUncertainError,
    SolidFireUnreachableError,
)
from basalt.errors import DriverError
from basalt_emulators.solidfire import SolidFireBackend, SolidFireTransport, serve_https

from .conftest import ClientFactory, Recording


def test_each_method_goes_to_its_api_version_with_basic_auth(
    backend: SolidFireBackend, make_client: ClientFactory
) -> None:
    recording = Recording(SolidFireTransport(backend))
    client = make_client(transport=recording)
    client.call("GetClusterInfo")
    client.call("ListVolumes", {"volumeName": "x"})
    client.call("GetClusterCapacity")
    paths = [r.url.path for r in recording.requests]
    assert paths == ["/json-rpc/1.0/", "/json-rpc/8.0/", "/json-rpc/8.0/"]
    assert API_VERSIONS["CloneVolume"] == API_VERSIONS["CreateSnapshot"] == "6.0"
    assert API_VERSIONS["CreateGroupSnapshot"] == "7.0"
    body = json.loads(recording.requests[1].content)
    assert body["method"] == "ListVolumes" and body["params"] == {"volumeName": "x"}
    assert recording.requests[0].headers["authorization"].startswith("Basic ")


def test_element_errors_become_named_basalt_errors(client: SolidFireClient) -> None:
    with pytest.raises(SolidFireNotFoundError) as caught:
        client.call("DeleteVolume", {"volumeID": 4242})
    error = caught.value
    assert isinstance(error, DriverError)
    assert (error.backend, error.method, error.element_name) == (
        "sf-unit",
        "DeleteVolume",
        "xVolumeIDDoesNotExist",
    )
    assert "backend sf-unit" in str(error) and "xVolumeIDDoesNotExist" in str(error)
    with pytest.raises(SolidFireInvalidRequestError, match="xMissingParameter"):
        client.call("CreateVolume", {"name": "x"})


def test_unknown_error_names_keep_their_name(
    backend: SolidFireBackend, make_client: ClientFactory
) -> None:
    backend.faults.inject("xSomethingNew", method="GetClusterInfo", times=1)
    with pytest.raises(SolidFireError) as caught:
        make_client().call("GetClusterInfo")
    assert type(caught.value) is SolidFireError
    assert caught.value.element_name == "xSomethingNew"


def test_every_retryable_name_is_in_the_one_table() -> None:
    assert len(RETRYABLE_NAMES) == 15
    assert all(ERRORS[name][0] is SolidFireBusyError for name in RETRYABLE_NAMES)


@pytest.mark.parametrize("name", ["xDBVersionMismatch", "xNotReadyForIO", "xDBConnectionLoss"])
def test_retryable_errors_are_retried_until_the_call_succeeds(
    backend: SolidFireBackend, make_client: ClientFactory, name: str
) -> None:
    backend.faults.inject(name, method="GetClusterInfo", times=2)
    sleeps: list[float] = []
    result = make_client(sleep=sleeps.append).call("GetClusterInfo")
    assert result["clusterInfo"]["name"] == "cluster-a"
    assert backend.call_counts["GetClusterInfo"] == 3
    assert sleeps == [0.001, 0.002]  # exponential backoff


def test_a_retryable_error_that_lasts_stops_at_the_attempt_limit(
    backend: SolidFireBackend, make_client: ClientFactory
) -> None:
    backend.faults.inject("xDBVersionMismatch", method="GetClusterInfo")
    with pytest.raises(SolidFireBusyError, match="after 4 tries") as caught:
        make_client().call("GetClusterInfo")
    assert caught.value.hint and "busy" in caught.value.hint
    assert backend.call_counts["GetClusterInfo"] == 4


def test_retries_stop_within_the_total_time(
    backend: SolidFireBackend, make_client: ClientFactory
) -> None:
    backend.faults.inject("xNotPrimary", method="GetClusterInfo")
    policy = RetryPolicy(attempts=50, total_seconds=0.25, initial_delay_seconds=0.05)
    sleeps: list[float] = []
    with pytest.raises(SolidFireBusyError):
        make_client(retry=policy, sleep=sleeps.append).call("GetClusterInfo")
    assert sum(sleeps) < 0.25 and backend.call_counts["GetClusterInfo"] < 50


def test_wrong_credentials_say_to_check_the_login(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SolidFireAuthError, match="refused the login 'admin'") as caught:
        make_client(password="not-the-password").call("GetClusterInfo")
    assert caught.value.hint and "login and password" in caught.value.hint
    assert "not-the-password" not in str(caught.value) + caplog.text


def test_an_unreachable_cluster_names_the_url_after_retrying() -> None:
    client = SolidFireClient(
        backend_name="sf-unit",
        url="https://127.0.0.1:1",
        login="admin",
        password="admin",
        retry=RetryPolicy(attempts=2, total_seconds=1.0, initial_delay_seconds=0.001),
    )
    with pytest.raises(SolidFireUnreachableError, match=r"https://127.0.0.1:1/json-rpc/1.0/") as e:
        client.call("GetClusterInfo")
    assert "after 2 tries" in str(e.value)
    client.close()


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (200, b"<html>proxy login</html>", "not JSON"),
        (200, b"[1, 2]", "not a JSON object"),
        (200, b'{"id": 1}', "neither a result object nor an error"),
        (200, b'{"error": "boom"}', "has no name"),
        (404, b"not here", "HTTP 404"),
        (502, b"bad gateway", "HTTP 502"),
    ],
)
def test_malformed_replies_are_clear_errors(
    make_client: ClientFactory, status: int, body: bytes, words: str
) -> None:
    calls: list[httpx.Request] = []

    def reply(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(status, content=body)

    client = make_client(transport=httpx.MockTransport(reply))
    with pytest.raises(SolidFireReplyError, match=words):
        client.call("GetClusterInfo")
    assert len(calls) == (4 if status >= 500 else 1)  # only 5xx is retried


def test_a_dropped_connection_is_retried_for_a_read(
    backend: SolidFireBackend, make_client: ClientFactory
) -> None:
    backend.faults.drop_connection(method="ListActiveVolumes", times=2)
    assert make_client().call("ListActiveVolumes", {})["volumes"] == []
    assert backend.call_counts["ListActiveVolumes"] == 3


@pytest.mark.parametrize("fault", ["drop", "late"])
def test_a_create_without_an_answer_is_never_repeated_blindly(
    backend: SolidFireBackend, make_client: ClientFactory, fault: str
) -> None:
    if fault == "drop":
        backend.faults.drop_connection(method="AddAccount", times=1)
    else:
        backend.faults.read_timeout(method="AddAccount", seconds=1.0, times=1)
    params = {"username": "p", "initiatorSecret": "a" * 12, "targetSecret": "a" * 12}
    with pytest.raises(SolidFireUncertainError, match="may have been applied"):
        make_client().call("AddAccount", params)
    assert backend.call_counts["AddAccount"] == 1


def test_tls_is_verified_against_the_ca_file_when_given(backend: SolidFireBackend) -> None:
    with serve_https(backend) as server:
        trusted = SolidFireClient(
            backend_name="sf-unit",
            url=server.url,
            login="admin",
            password="admin",
            verify=str(server.cert_path),
        )
        assert trusted.call("GetClusterInfo")["clusterInfo"]["svip"] == "127.0.0.1:3260"
        trusted.close()
        strict = SolidFireClient(
            backend_name="sf-unit", url=server.url, login="admin", password="admin", verify=True
        )
        with pytest.raises(SolidFireUnreachableError, match="certificate") as caught:
            strict.call("GetClusterInfo")
        assert caught.value.hint and "ca_file" in caught.value.hint
        strict.close()
