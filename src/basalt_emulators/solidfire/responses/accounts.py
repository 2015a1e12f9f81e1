"""Account calls."""

from __future__ import annotations

from typing import Any

from basalt_emulators.solidfire import views
from basalt_emulators.solidfire.models import SolidFireBackend
from basalt_emulators.solidfire.params import Params


def add_account(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """AddAccount {username, initiatorSecret?, targetSecret?, attributes?} -> {accountID}."""
    account = backend.add_account(
        username=params.req_str("username"),
        initiator_secret=params.opt_str("initiatorSecret"),
        target_secret=params.opt_str("targetSecret"),
        attributes=params.opt_object("attributes"),
    )
    return {"accountID": account.account_id, "account": views.account_view(backend, account)}


def get_account_by_name(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """GetAccountByName {username} -> {account}."""
    account = backend.get_account_by_name(params.req_str("username"))
    return {"account": views.account_view(backend, account)}


def get_account_by_id(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """GetAccountByID {accountID} -> {account}."""
    account = backend.get_account(params.req_int("accountID"))
    return {"account": views.account_view(backend, account)}


def list_accounts(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """ListAccounts {startAccountID?, limit?} -> {accounts}."""
    records = backend.list_account_records(
        start_account_id=params.opt_int("startAccountID") or 0, limit=params.opt_int("limit")
    )
    return {"accounts": [views.account_view(backend, a) for a in records]}


def modify_account(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """ModifyAccount {accountID, username?, initiatorSecret?, targetSecret?, attributes?}."""
    account = backend.modify_account(
        params.req_int("accountID"),
        username=params.opt_str("username"),
        initiator_secret=params.opt_str("initiatorSecret"),
        target_secret=params.opt_str("targetSecret"),
        attributes=params.opt_object("attributes"),
    )
    return {"account": views.account_view(backend, account)}


def remove_account(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """RemoveAccount {accountID} -> {} (refused while it owns active volumes)."""
    backend.remove_account(params.req_int("accountID"))
    return {}


HANDLERS = {
    "AddAccount": add_account,
    "GetAccountByName": get_account_by_name,
    "GetAccountByID": get_account_by_id,
    "ListAccounts": list_accounts,
    "ModifyAccount": modify_account,
    "RemoveAccount": remove_account,
}
