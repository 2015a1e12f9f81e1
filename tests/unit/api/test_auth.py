"""noauth identities and the token file of the token strategy."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from basalt.api.auth import NoAuth, TokenTable, authenticator_for, load_token_file
from basalt.config import Settings
from basalt.errors import AuthenticationError, ConfigError


def settings(tmp_path: Path, **api: object) -> Settings:
    return Settings(data_dir=tmp_path, api=api)


def test_noauth_names_user_and_project_and_grants_configured_roles(tmp_path: Path) -> None:
    auth = NoAuth(settings(tmp_path, admin_users=["root"], reader_users=["auditor"]))
    alice = auth.identify("alice:web", path_project=None)
    assert (alice.user_id, alice.project_id, alice.roles) == ("alice", "web", {"member", "reader"})
    assert auth.identify("root:ops", path_project=None).roles == {"admin", "member", "reader"}
    assert auth.identify("auditor:web", path_project=None).roles == {"reader"}
    assert auth.identify("notused", path_project="db").project_id == "db"
    default = auth.identify("", path_project=None)
    assert (default.user_id, default.project_id) == ("basalt", "basalt")


def test_noauth_admin_is_configured_not_implied(tmp_path: Path) -> None:
    auth = NoAuth(settings(tmp_path, admin_users=[]))
    assert "admin" not in auth.identify("basalt:basalt", path_project=None).roles


TOKENS = """
[[tokens]]
token = "alice-secret-token"
user_id = "alice"
project_id = "web"
roles = ["member", "reader"]

[[tokens]]
token_sha256 = "{digest}"
user_id = "carol"
project_id = "web"
roles = ["reader"]
"""


def write_tokens(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tokens.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_token_file_maps_tokens_and_digests_to_identities(tmp_path: Path) -> None:
    digest = hashlib.sha256(b"carol-reads-only").hexdigest()
    table = TokenTable(write_tokens(tmp_path, TOKENS.format(digest=digest)))
    assert table.identify("alice-secret-token", path_project=None).user_id == "alice"
    carol = table.identify("carol-reads-only", path_project="other")
    assert (carol.project_id, carol.roles) == ("web", {"reader"})
    with pytest.raises(AuthenticationError, match="not valid") as caught:
        table.identify("guess", path_project=None)
    assert "guess" not in str(caught.value)
    with pytest.raises(AuthenticationError, match="requires authentication"):
        table.identify("", path_project=None)


def test_token_strategy_needs_a_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="token_file"):
        settings(tmp_path, auth_strategy="token")
    path = write_tokens(tmp_path, TOKENS.format(digest="0" * 64))
    chosen = authenticator_for(settings(tmp_path, auth_strategy="token", token_file=path))
    assert isinstance(chosen, TokenTable)


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ('user_id = "a"\nproject_id = "p"\nroles = ["member"]', "exactly one of token"),
        ('token = "short"\nuser_id = "a"\nproject_id = "p"\nroles = ["member"]', "8 characters"),
        ('token_sha256 = "xyz"\nuser_id = "a"\nproject_id = "p"\nroles = ["member"]', "64 hex"),
        ('token = "long-enough"\nproject_id = "p"\nroles = ["member"]', "user_id"),
        ('token = "long-enough"\nuser_id = "a"\nproject_id = "p:q"\nroles = ["member"]', "':'"),
        ('token = "long-enough"\nuser_id = "a"\nproject_id = "p"\nroles = ["root"]', "roles"),
        ('token = "long-enough"\nuser_id = "a"\nproject_id = "p"\nroles = []', "roles"),
        ('token = "long-enough"\nuser_id = "a"\nproject_id = "p"\nroles = ["admin"]\nx = 1', "x"),
    ],
)
def test_a_bad_token_entry_is_named_without_its_token(
    tmp_path: Path, entry: str, complaint: str
) -> None:
    path = write_tokens(tmp_path, f"[[tokens]]\n{entry}\n")
    with pytest.raises(ConfigError, match="entry 1") as caught:
        load_token_file(path)
    assert complaint in str(caught.value)
    assert "long-enough" not in str(caught.value)


def test_a_token_listed_twice_or_no_tokens_at_all(tmp_path: Path) -> None:
    entry = (
        '[[tokens]]\ntoken = "same-token-x"\nuser_id = "a"\nproject_id = "p"\nroles = ["reader"]\n'
    )
    with pytest.raises(ConfigError, match="listed twice"):
        load_token_file(write_tokens(tmp_path, entry + entry))
    with pytest.raises(ConfigError, match="no \\[\\[tokens\\]\\]"):
        load_token_file(write_tokens(tmp_path, "# nothing\n"))
    with pytest.raises(ConfigError, match="cannot be read"):
        load_token_file(tmp_path / "missing.toml")
