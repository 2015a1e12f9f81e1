"""Where settings come from, and which source wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from basalt.config import load_settings
from basalt.errors import ConfigError


def test_arguments_beat_environment_beats_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "basalt.toml"
    config.write_text('data_dir = "/from/file"\nworkers = 3\n[api]\nport = 9001\n')
    assert load_settings(config).data_dir == Path("/from/file")
    monkeypatch.setenv("BASALT_DATA_DIR", "/from/env")
    monkeypatch.setenv("BASALT_API__PORT", "9002")
    settings = load_settings(config)
    assert (settings.data_dir, settings.api.port, settings.workers) == (Path("/from/env"), 9002, 3)
    assert load_settings(config, data_dir="/from/args").data_dir == Path("/from/args")


def test_defaults_give_one_file_pool_under_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(None, data_dir=tmp_path)
    [backend] = settings.resolved_backends
    assert backend.pools == {"default": str(tmp_path / "pools" / "file" / "default")}
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'basalt.db'}"


@pytest.mark.parametrize(
    "text, words",
    [("workers = 0", "workers"), ("nonsense = 1", "nonsense"), ("[api\n", "cannot be read")],
)
def test_bad_files_name_the_problem(tmp_path: Path, text: str, words: str) -> None:
    config = tmp_path / "basalt.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=words):
        load_settings(config)


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_quota_defaults_come_from_the_quotas_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quotas = load_settings(None, data_dir=tmp_path).quotas
    assert (quotas.volumes, quotas.snapshots, quotas.gigabytes) == (10, 10, 1000)
    assert (quotas.per_volume_gigabytes, quotas.per_type) == (-1, -1)
    config = tmp_path / "basalt.toml"
    config.write_text("[quotas]\nvolumes = 50\nper_type = 5\n")
    monkeypatch.setenv("BASALT_QUOTAS__GIGABYTES", "-1")
    quotas = load_settings(config).quotas
    assert (quotas.volumes, quotas.gigabytes, quotas.per_type) == (50, -1, 5)
    for text, words in [
        ("[quotas]\nvolumes = -2\n", "quotas.volumes"),
        ("[quotas]\nbackups = 1\n", "backups"),
    ]:
        config.write_text(text)
        with pytest.raises(ConfigError, match=words):
            load_settings(config)
