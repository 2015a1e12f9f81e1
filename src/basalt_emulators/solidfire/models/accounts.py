"""Accounts: tenants that own volumes and carry the CHAP secrets."""

from __future__ import annotations

import secrets
import string
from typing import Any

from basalt_emulators.solidfire.errors import (
    AccountHasVolumesError,
    DuplicateUsernameError,
    InvalidParameterError,
)
from basalt_emulators.solidfire.models.records import Account, VolumeStatus
from basalt_emulators.solidfire.models.state import ClusterState

_SECRET_ALPHABET = string.ascii_letters + string.digits


class AccountOps(ClusterState):
    """AddAccount, RemoveAccount, ModifyAccount and account listings."""

    def add_account(
        self,
        *,
        username: str,
        initiator_secret: str | None = None,
        target_secret: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> Account:
        """Create an account; missing secrets are generated (12 characters).

        Args:
            username: unique account name.
            initiator_secret: CHAP secret of the initiator (12..16 characters).
            target_secret: CHAP secret of the target (12..16 characters).
            attributes: free-form attributes.

        Returns:
            The new account.

        Raises:
            DuplicateUsernameError: the username is taken.
            InvalidParameterError: a secret or the name has a bad length.
        """
        self.check_name(username, what="account")
        if any(a.username == username for a in self.accounts_by_id.values()):
            raise DuplicateUsernameError(username)
        account = Account(
            account_id=0,
            username=username,
            initiator_secret=self._secret("initiatorSecret", initiator_secret),
            target_secret=self._secret("targetSecret", target_secret),
            attributes=dict(attributes or {}),
        )
        account.account_id = self.new_id("account")
        self.accounts_by_id[account.account_id] = account
        return account

    def modify_account(
        self,
        account_id: int,
        *,
        username: str | None = None,
        initiator_secret: str | None = None,
        target_secret: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> Account:
        """Change an account's name, secrets or attributes.

        Args:
            account_id: the account to change.
            username: a new unique name.
            initiator_secret: a new initiator secret.
            target_secret: a new target secret.
            attributes: replaces the attributes.

        Returns:
            The changed account.

        Raises:
            AccountIDDoesNotExistError: no such account.
            DuplicateUsernameError: the new name is taken.
            InvalidParameterError: a secret or the name has a bad length.
        """
        account = self.get_account(account_id)
        if username is not None and username != account.username:
            self.check_name(username, what="account")
            if any(a.username == username for a in self.accounts_by_id.values()):
                raise DuplicateUsernameError(username)
        new_initiator = self._secret(
            "initiatorSecret", initiator_secret or account.initiator_secret
        )
        new_target = self._secret("targetSecret", target_secret or account.target_secret)
        account.username = username or account.username
        account.initiator_secret, account.target_secret = new_initiator, new_target
        if attributes is not None:
            account.attributes = dict(attributes)
        return account

    def remove_account(self, account_id: int) -> None:
        """Remove an account that owns no active volume (its deleted volumes stay purgeable).

        Args:
            account_id: the account to remove.

        Raises:
            AccountIDDoesNotExistError: no such account.
            AccountHasVolumesError: it still owns active volumes.
        """
        self.get_account(account_id)
        active = self.account_volume_ids(account_id, status=VolumeStatus.ACTIVE)
        if active:
            raise AccountHasVolumesError(account_id, active)
        del self.accounts_by_id[account_id]

    def account_volume_ids(
        self, account_id: int, *, status: VolumeStatus | None = None
    ) -> list[int]:
        """IDs of the account's volumes that are not purged (only `status`, when given).

        Args:
            account_id: the owner.
            status: keep only volumes in this state.

        Returns:
            Volume IDs in ascending order.
        """
        return sorted(
            v.volume_id
            for v in self.volumes_by_id.values()
            if v.account_id == account_id and (status is None or v.status is status)
        )

    def list_account_records(
        self, *, start_account_id: int = 0, limit: int | None = None
    ) -> list[Account]:
        """Accounts by ascending ID, from `start_account_id`, at most `limit`.

        Args:
            start_account_id: the first ID to include.
            limit: the most accounts to return.

        Returns:
            The accounts.
        """
        found = [a for i, a in sorted(self.accounts_by_id.items()) if i >= start_account_id]
        return found[:limit] if limit is not None else found

    def _secret(self, field: str, value: str | None) -> str:
        if value is None:
            return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(12))
        low, high = self.limits.secret_length_min, self.limits.secret_length_max
        if not low <= len(value) <= high:
            raise InvalidParameterError(f"{field} must be {low} to {high} characters long")
        return value
