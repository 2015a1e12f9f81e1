"""Self-signed TLS certificates for the emulators' HTTPS servers (made with `openssl`)."""

from __future__ import annotations

import atexit
import ipaddress
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

_LOOPBACK_NAMES = ("IP:127.0.0.1", "IP:::1", "DNS:localhost")


@dataclass(frozen=True)
class CertificatePair:
    """A PEM certificate (also its own CA, for `verify=`) and its private key."""

    cert_path: Path
    key_path: Path


class CertificateError(RuntimeError):
    """The certificate could not be made (no `openssl`, or it failed)."""


_cache: dict[str, CertificatePair] = {}
_cache_lock = threading.Lock()
_cache_dir: Path | None = None


def subject_alt_names(host: str) -> list[str]:
    """The subjectAltName entries a certificate for `host` needs (loopback always included).

    Args:
        host: the address or name the server listens on.

    Returns:
        Entries such as "IP:127.0.0.1" or "DNS:localhost".
    """
    names = list(_LOOPBACK_NAMES)
    if host and host not in ("0.0.0.0", "::"):
        try:
            ipaddress.ip_address(host)
            entry = f"IP:{host}"
        except ValueError:
            entry = f"DNS:{host}"
        if entry not in names:
            names.append(entry)
    return names


def make_self_signed(directory: Path, *, host: str = "127.0.0.1") -> CertificatePair:
    """Write a fresh self-signed EC certificate and key for `host` into `directory`.

    Args:
        directory: where cert.pem and key.pem are written.
        host: the address or name the certificate must be valid for.

    Returns:
        The paths of the certificate and the key.

    Raises:
        CertificateError: openssl is missing or failed.
    """
    directory.mkdir(parents=True, exist_ok=True)
    pair = CertificatePair(cert_path=directory / "cert.pem", key_path=directory / "key.pem")
    openssl = shutil.which("openssl")
    if openssl is None:
        raise CertificateError("the `openssl` command is needed to make a certificate")
    command = [
        openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-days", "365", "-subj", "/CN=basalt-emulator",
        "-addext", "subjectAltName=" + ",".join(subject_alt_names(host)),
        "-keyout", str(pair.key_path), "-out", str(pair.cert_path),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise CertificateError(f"openssl failed: {result.stderr.strip()}")
    return pair


def cached_self_signed(host: str = "127.0.0.1") -> CertificatePair:
    """A self-signed certificate for `host`, made once per process (removed at exit).

    Args:
        host: the address or name the certificate must be valid for.

    Returns:
        The paths of the certificate and the key.

    Raises:
        CertificateError: openssl is missing or failed.
    """
    global _cache_dir
    with _cache_lock:
        if host not in _cache:
            if _cache_dir is None:
                _cache_dir = Path(tempfile.mkdtemp(prefix="basalt-emulator-tls-"))
                atexit.register(shutil.rmtree, _cache_dir, True)
            _cache[host] = make_self_signed(_cache_dir / str(len(_cache)), host=host)
        return _cache[host]
