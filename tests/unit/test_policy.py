"""The policy table: roles imply each other, every rule names a known role, refusals say why."""

from __future__ import annotations

from pathlib import Path

import pytest

from basalt.errors import BasaltUsageError, PermissionDeniedError
from basalt.service.context import RequestContext
from basalt.service.policy import RULES, Role, allows, authorize, roles_of


def ctx(*roles: str) -> RequestContext:
    return RequestContext(user_id="u", project_id="p", roles=frozenset(roles))


def test_roles_imply_each_other_downwards_only() -> None:
    assert roles_of(frozenset({"admin"})) == {Role.ADMIN, Role.MEMBER, Role.READER}
    assert roles_of(frozenset({"member"})) == {Role.MEMBER, Role.READER}
    assert roles_of(frozenset({"reader"})) == {Role.READER}
    assert roles_of(frozenset({"_member_", "operator"})) == frozenset()


@pytest.mark.parametrize("action", sorted(RULES))
def test_each_rule_admits_exactly_the_roles_at_or_above_it(action: str) -> None:
    needed = RULES[action]
    assert allows(ctx("admin"), action)
    assert allows(ctx("member"), action) == (needed in (Role.MEMBER, Role.READER))
    assert allows(ctx("reader"), action) == (needed == Role.READER)
    assert not allows(ctx(), action)


def test_a_reader_may_read_and_nothing_else() -> None:
    readable = {a for a, role in RULES.items() if role == Role.READER}
    assert all(a.endswith(":get") for a in readable), readable


def test_the_admin_only_actions_the_api_promises() -> None:
    for action in (
        "volume:manage",
        "volume:unmanage",
        "volume:force_delete",
        "volume:reset_status",
        "volume:migrate",
        "snapshot:force_delete",
        "snapshot:reset_status",
        "service:failover",
    ):
        assert RULES[action] == Role.ADMIN, action


def test_a_refusal_names_the_action_and_the_roles() -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        authorize(ctx("reader"), "volume:delete")
    assert "volume:delete" in caught.value.message
    assert "member" in caught.value.message and "reader" in caught.value.message
    assert caught.value.needed == "member"


def test_an_action_without_a_rule_is_a_bug() -> None:
    with pytest.raises(BasaltUsageError, match="no rule"):
        authorize(ctx("admin"), "volume:teleport")


def test_docs_api_renders_the_table_as_it_is() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    rows = [
        line
        for line in text.splitlines()
        if line.startswith("| `")
        and line.rstrip().endswith(("| reader |", "| member |", "| admin |"))
    ]
    roles = [line.rsplit("|", 2)[1].strip() for line in rows]
    assert sorted(roles) == ["admin", "member", "reader"], "one row per role"
    documented = {
        action.strip("` "): Role(role)
        for role, line in zip(roles, rows, strict=True)
        for action in line.split("|")[1].split(",")
    }
    assert documented == RULES
