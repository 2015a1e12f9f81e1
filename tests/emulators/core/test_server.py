"""The threaded HTTPS carrier with any WireApp."""

from __future__ import annotations

import httpx
import pytest

from basalt_emulators.core import (
    Delivery,
    InProcessTransport,
    WireReply,
    WireRequest,
    start_https_server,
)


class Echo:
    def handle(self, request: WireRequest) -> WireReply:
        if request.path == "/drop":
            return WireReply(status=200, delivery=Delivery.DROP)
        body = f"{request.method} {request.path} {request.body.decode()}".encode()
        return WireReply(status=200, body=body, headers={"X-Seen": request.headers["x-test"]})


def test_https_round_trip_for_ip_and_localhost() -> None:
    with start_https_server(Echo()) as server:
        assert server.url == f"https://127.0.0.1:{server.port}"
        assert server.cert_path.read_text().startswith("-----BEGIN CERTIFICATE-----")
        for host in ("127.0.0.1", "localhost"):
            with httpx.Client(verify=server.ssl_context()) as client:
                reply = client.post(
                    f"https://{host}:{server.port}/x", content=b"hi", headers={"X-Test": "1"}
                )
            assert (reply.text, reply.headers["x-seen"]) == ("POST /x hi", "1")
    server.stop()  # idempotent


def test_untrusted_clients_fail_the_handshake() -> None:
    with start_https_server(Echo()) as server:
        with pytest.raises(httpx.ConnectError):
            httpx.get(server.url + "/")


def test_drops_look_the_same_on_both_carriers() -> None:
    with start_https_server(Echo()) as server:
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(server.url + "/drop", verify=server.ssl_context())
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.Client(transport=InProcessTransport(Echo())).post("http://x/drop")
