"""AddAccount, GetAccountByName/ByID, ListAccounts, ModifyAccount, RemoveAccount."""

from __future__ import annotations

from .conftest import Element


def test_add_account_then_find_it_by_name_and_id(sf: Element) -> None:
    result = sf.call(
        "AddAccount",
        username="proj-1",
        initiatorSecret="ABCDEFGHIJKL",
        targetSecret="ABCDEFGHIJKLMNOP",
        attributes={"owner": "basalt"},
    )
    account_id = result["accountID"]
    assert isinstance(account_id, int)
    by_name = sf.call("GetAccountByName", username="proj-1")["account"]
    by_id = sf.call("GetAccountByID", accountID=account_id)["account"]
    assert by_name == by_id == result["account"]
    assert by_name["initiatorSecret"] == "ABCDEFGHIJKL"
    assert by_name["targetSecret"] == "ABCDEFGHIJKLMNOP"
    assert by_name["attributes"] == {"owner": "basalt"}
    assert by_name["status"] == "active"
    assert by_name["volumes"] == []


def test_missing_secrets_are_generated(sf: Element) -> None:
    account = sf.call("AddAccount", username="proj-2")["account"]
    assert len(account["initiatorSecret"]) == 12
    assert len(account["targetSecret"]) == 12


def test_secrets_must_be_12_to_16_characters(sf: Element) -> None:
    short = sf.error("AddAccount", username="a", initiatorSecret="x" * 11, targetSecret="y" * 12)
    long = sf.error("AddAccount", username="a", initiatorSecret="x" * 12, targetSecret="y" * 17)
    assert short.name == long.name == "xInvalidParameter"
    assert sf.call("ListAccounts")["accounts"] == []


def test_duplicate_username(sf: Element) -> None:
    sf.account("proj-1")
    assert sf.error("AddAccount", username="proj-1").name == "xDuplicateUsername"


def test_unknown_accounts(sf: Element) -> None:
    assert sf.error("GetAccountByName", username="nobody").name == "xUnknownAccount"
    assert sf.error("GetAccountByID", accountID=42).name == "xAccountIDDoesNotExist"
    assert sf.error("RemoveAccount", accountID=42).name == "xAccountIDDoesNotExist"
    assert sf.error("ModifyAccount", accountID=42).name == "xAccountIDDoesNotExist"


def test_list_accounts_pages_by_id(sf: Element) -> None:
    ids = [sf.account(f"proj-{n}") for n in range(4)]
    assert [a["accountID"] for a in sf.call("ListAccounts")["accounts"]] == ids
    page = sf.call("ListAccounts", startAccountID=ids[1], limit=2)["accounts"]
    assert [a["username"] for a in page] == ["proj-1", "proj-2"]


def test_account_lists_its_volumes(sf: Element) -> None:
    account = sf.account()
    volume = sf.volume(account)
    assert sf.call("GetAccountByID", accountID=account)["account"]["volumes"] == [volume]


def test_modify_account(sf: Element) -> None:
    account = sf.account("proj-1")
    sf.account("proj-2")
    changed = sf.call(
        "ModifyAccount", accountID=account, username="proj-1b", targetSecret="T" * 14
    )["account"]
    assert (changed["username"], changed["targetSecret"]) == ("proj-1b", "T" * 14)
    assert sf.error("ModifyAccount", accountID=account, username="proj-2").name == (
        "xDuplicateUsername"
    )


def test_remove_account_refused_while_it_owns_active_volumes(sf: Element) -> None:
    account = sf.account()
    volume = sf.volume(account)
    assert sf.error("RemoveAccount", accountID=account).name == "xAccountHasVolumes"
    sf.call("DeleteVolume", volumeID=volume)
    assert sf.call("RemoveAccount", accountID=account) == {}
    assert sf.error("GetAccountByID", accountID=account).name == "xAccountIDDoesNotExist"
    assert sf.call("PurgeDeletedVolume", volumeID=volume) == {}
