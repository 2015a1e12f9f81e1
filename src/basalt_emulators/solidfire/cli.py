"""`python -m basalt_emulators solidfire`: run one emulated cluster over HTTPS (foreground)."""

from __future__ import annotations

import argparse
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from types import FrameType

from basalt_emulators.solidfire.models import SolidFireBackend
from basalt_emulators.solidfire.server import serve_https


def build_parser() -> argparse.ArgumentParser:
    """The command-line options of the SolidFire emulator.

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(
        prog="python -m basalt_emulators solidfire",
        description="Emulated SolidFire Element cluster (JSON-RPC over HTTPS).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8443, help="TCP port (0: any free port)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="where volume bytes live; its volumes/ and snapshots/ are emptied (default: temp)",
    )
    parser.add_argument("--username", default="admin", help="cluster admin user")
    parser.add_argument("--password", default="admin", help="cluster admin password")
    parser.add_argument("--cluster-name", default="cluster-a", help="clusterInfo.name")
    parser.add_argument("--mvip", help="clusterInfo.mvip (default: the listening host)")
    parser.add_argument("--svip", help="clusterInfo.svip (default: <host>:3260)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM; print the URL and the certificate path first.

    Args:
        argv: the options (default: sys.argv[2:] as passed by the dispatcher).

    Returns:
        The process exit status.
    """
    args = build_parser().parse_args(argv)
    temporary = args.data_dir is None
    data_dir: Path = Path(tempfile.mkdtemp(prefix="solidfire-")) if temporary else args.data_dir
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    backend = SolidFireBackend(
        data_dir,
        cluster_name=args.cluster_name,
        mvip=args.mvip or host,
        svip=args.svip or f"{host}:3260",
        username=args.username,
        password=args.password,
    )
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        with serve_https(backend, host=args.host, port=args.port) as server:
            print(f"SolidFire emulator: {server.url}/json-rpc/12.3/", flush=True)
            print(f"certificate: {server.cert_path}", flush=True)
            print(f"data directory: {data_dir}", flush=True)
            stop.wait()
    finally:
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0
