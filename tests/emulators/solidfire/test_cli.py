"""`python -m basalt_emulators solidfire` runs the HTTPS server in the foreground."""

from __future__ import annotations

import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from basalt_emulators.__main__ import main


def test_dispatcher_rejects_unknown_emulators(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["nosuch"]) == 2
    assert "solidfire" in capsys.readouterr().err


@pytest.mark.slow
def test_foreground_server(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "basalt_emulators", "solidfire", "--port", "0",
        "--data-dir", str(tmp_path), "--username", "root", "--password", "secret-pw",
        "--cluster-name", "lab",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url_line = process.stdout.readline()
        cert_line = process.stdout.readline()
        base = url_line.split(": ", 1)[1].strip().removesuffix("/json-rpc/12.3/")
        cert = cert_line.split(": ", 1)[1].strip()
        verify = ssl.create_default_context(cafile=cert)
        with httpx.Client(base_url=base, verify=verify, auth=("root", "secret-pw")) as client:
            reply = client.post("/json-rpc/8.0/", json={"method": "GetClusterInfo", "params": {}})
        assert reply.json()["result"]["clusterInfo"]["name"] == "lab"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
