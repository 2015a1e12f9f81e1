"""The ``[backends.solidfire]`` table: validation names the field, the password stays secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from basalt.config import load_settings
from basalt.drivers.registry import build_driver
from basalt.drivers.solidfire import SolidFireDriver
from basalt.errors import ConfigError

BACKEND = """
[[backends]]
name = "sf"
driver = "solidfire"
"""


def write(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "basalt.toml"
    config.write_text(text)
    return config


def test_a_solidfire_backend_builds_a_solidfire_driver(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        BACKEND + '[backends.solidfire]\nmvip = "10.0.0.5"\nlogin = "admin"\n'
        'password = "s3cret-pw"\nretry_total_seconds = 2\n',
    )
    settings = load_settings(config)
    [backend] = settings.backends
    assert backend.solidfire is not None
    assert backend.solidfire.endpoint == "https://10.0.0.5:443"
    assert backend.solidfire.verify is False
    assert "s3cret-pw" not in repr(settings) and "s3cret-pw" not in str(backend.model_dump())
    driver = build_driver(backend)
    assert isinstance(driver, SolidFireDriver)
    assert driver.client.endpoint("8.0") == "https://10.0.0.5:443/json-rpc/8.0/"
    assert driver.client.retry.total_seconds == 2


def test_a_ca_file_turns_verification_on(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    config = write(
        tmp_path,
        BACKEND + f'[backends.solidfire]\nurl = "https://sf.example:8443"\nlogin = "a"\n'
        f'password = "b"\nca_file = "{ca}"\n',
    )
    [backend] = load_settings(config).backends
    assert backend.solidfire is not None and backend.solidfire.verify == str(ca)


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ("", "needs a solidfire table"),
        ('[backends.solidfire]\nlogin = "a"\npassword = "b"\n', "either url or mvip"),
        ('[backends.solidfire]\nmvip = "x"\npassword = "b"\n', "solidfire.login"),
        ('[backends.solidfire]\nmvip = "x"\nlogin = "a"\n', "solidfire.password"),
        ('[backends.solidfire]\nurl = "ftp://x"\nlogin = "a"\npassword = "b"\n', "solidfire.url"),
        (
            '[backends.solidfire]\nmvip = "x"\nlogin = "a"\npassword = "b"\napi_port = 0\n',
            "solidfire.api_port",
        ),
        (
            '[backends.solidfire]\nmvip = "x"\nlogin = "a"\npassword = "b"\nca_file = "/nope"\n',
            "solidfire.ca_file",
        ),
        (
            '[backends.solidfire]\nmvip = "x"\nlogin = "a"\npassword = "b"\nvolume_prefix = ""\n',
            "solidfire.volume_prefix",
        ),
        ('[backends.solidfire]\nmvip = "x"\nlogin = "a"\npassword = "b"\ntypo = 1\n', "typo"),
    ],
)
def test_bad_tables_name_the_field(tmp_path: Path, table: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as caught:
        load_settings(write(tmp_path, BACKEND + table))
    assert '"b"' not in str(caught.value)


def test_a_solidfire_table_on_a_file_backend_is_refused(tmp_path: Path) -> None:
    text = (
        '[[backends]]\nname = "f"\n[backends.solidfire]\nmvip = "x"\nlogin = "a"\npassword = "b"\n'
    )
    with pytest.raises(ConfigError, match="only for driver 'solidfire'"):
        load_settings(write(tmp_path, text))
