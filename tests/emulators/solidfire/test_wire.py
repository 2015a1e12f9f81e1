"""The JSON-RPC envelope: path, auth, body parsing, error replies, versions."""

from __future__ import annotations

import httpx
import pytest

from basalt_emulators.solidfire import SolidFireTransport

from .conftest import Element


@pytest.mark.parametrize("version", ["1.0", "7.0", "8.0", "12.3", "5"])
def test_any_version_up_to_the_clusters_is_accepted(sf: Element, version: str) -> None:
    reply = sf.post("GetClusterInfo", {}, version=version)
    assert reply.status_code == 200
    assert reply.json()["result"]["clusterInfo"]["name"] == "cluster-a"


def test_trailing_slash_is_optional(sf: Element) -> None:
    reply = sf.http.post("/json-rpc/8.0", json={"method": "GetClusterInfo", "params": {}})
    assert reply.json()["result"]["clusterInfo"]["uniqueID"] == sf.backend.unique_id


def test_a_version_newer_than_the_cluster_is_refused(sf: Element) -> None:
    reply = sf.post("GetClusterInfo", {}, version="13.0")
    assert reply.status_code == 404
    assert reply.json()["error"]["name"] == "xUnknownAPIVersion"
    assert sf.backend.call_counts == {}


def test_wrong_credentials_get_http_401(sf: Element) -> None:
    reply = sf.post("GetClusterInfo", {}, auth=("admin", "wrong"))
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"].startswith("Basic")


def test_missing_credentials_get_http_401(sf: Element) -> None:
    reply = sf.http.post(
        "/json-rpc/1.0/", json={"method": "GetClusterInfo"}, auth=httpx.BasicAuth("", "")
    )
    assert reply.status_code == 401
    bare = httpx.Client(transport=SolidFireTransport(sf.backend), base_url="https://x")
    assert bare.post("/json-rpc/1.0/", json={"method": "GetClusterInfo"}).status_code == 401


def test_other_paths_are_404_and_other_verbs_405(sf: Element) -> None:
    assert sf.http.post("/api/v1/", json={}).status_code == 404
    assert sf.http.post("/json-rpc/latest/", json={}).status_code == 404
    assert sf.http.get("/json-rpc/8.0/").status_code == 405


def test_success_reply_echoes_the_id(sf: Element) -> None:
    reply = sf.http.post("/json-rpc/8.0/", json={"method": "ListAccounts", "id": "abc"})
    assert reply.json() == {"id": "abc", "result": {"accounts": []}}


def test_a_call_without_id_gets_id_null(sf: Element) -> None:
    reply = sf.http.post("/json-rpc/8.0/", json={"method": "ListAccounts", "params": {}})
    assert reply.json()["id"] is None


def test_unknown_method_is_an_error_reply_with_http_200(sf: Element) -> None:
    reply = sf.post("FrobnicateVolume", {})
    assert reply.status_code == 200
    error = reply.json()["error"]
    assert error["name"] == "xUnknownAPIMethod"
    assert error["code"] == 500
    assert "FrobnicateVolume" in error["message"]


@pytest.mark.parametrize(
    ("body", "name"),
    [
        (b"{not json", "xInvalidParameter"),
        (b"\xff\xfe", "xInvalidParameter"),
        (b"[1, 2]", "xInvalidParameter"),
        (b'{"params": {}}', "xMissingParameter"),
        (b'{"method": 5}', "xInvalidParameterType"),
        (b'{"method": "ListAccounts", "params": [1]}', "xInvalidParameterType"),
    ],
)
def test_malformed_bodies_get_error_replies(sf: Element, body: bytes, name: str) -> None:
    reply = sf.http.post("/json-rpc/8.0/", content=body)
    assert reply.status_code == 200
    assert reply.json()["error"]["name"] == name
    assert reply.json()["id"] is None


def test_missing_and_mistyped_parameters(sf: Element) -> None:
    missing = sf.error("GetAccountByID")
    assert (missing.name, missing.message) == ("xMissingParameter", "Missing member=[accountID]")
    assert sf.error("GetAccountByID", accountID=[1]).name == "xInvalidParameterType"
    assert sf.error("GetAccountByID", accountID=True).name == "xInvalidParameterType"
    assert sf.error("GetAccountByName", username=3).name == "xInvalidParameterType"


def test_integers_as_decimal_strings_and_booleans_as_strings_are_accepted(sf: Element) -> None:
    account = sf.account()
    volume = sf.volume(account)
    snap = sf.call("CreateSnapshot", volumeID=str(volume))["snapshotID"]
    listed = sf.call("ListVolumes", startVolumeID=str(volume), limit=1)["volumes"]
    assert listed[0]["volumeID"] == volume
    sf.call("RollbackToSnapshot", volumeID=volume, snapshotID=snap, saveCurrentState="false")


def test_unknown_parameters_are_ignored(sf: Element) -> None:
    account = sf.account()
    volume = sf.volume(account, sliceCount=1, somethingElse="x")
    assert sf.call("ModifyVolume", volumeID=volume, name="ignored")["volume"]["name"] == "UUID-vol"
