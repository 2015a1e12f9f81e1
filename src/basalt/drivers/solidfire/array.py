"""The Element calls the driver is made of: lookups by name, accounts, safe creates.

Element lets many volumes share a name and numbers every object, so the
driver finds its objects by name (``ListVolumes{volumeName}``, ``ListSnapshots``)
and never trusts an id it did not just read.

Creating calls (CreateVolume, CloneVolume, CreateSnapshot, AddAccount) are never
repeated blindly: when one is sent and gets no answer, :meth:`ElementArray.create_once`
looks for the object by name for up to ``settle_seconds`` and sends the call again
only when nothing appeared (within the client's retry budget). If the lost call
lands after all and a second copy shows up, the extras are removed, so one name
never holds two objects Basalt made.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from basalt.drivers.solidfire.client import JsonObject, SolidFireClient
from basalt.drivers.solidfire.errors import (
    SolidFireConflictError,
    SolidFireNotFoundError,
    SolidFireReplyError,
    SolidFireUncertainError,
)
from basalt.drivers.solidfire.naming import chap_secret
from basalt.drivers.solidfire.objects import ElementAccount, ElementSnapshot, ElementVolume

log = logging.getLogger(__name__)

PAGE_LIMIT = 1000
T = TypeVar("T")


class ElementArray:
    """Typed Element calls over one client, with an account cache."""

    def __init__(
        self,
        client: SolidFireClient,
        *,
        poll_interval_seconds: float = 0.5,
        settle_seconds: float = 5.0,
    ) -> None:
        self.client = client
        self.backend_name = client.backend_name
        self.poll_interval_seconds = poll_interval_seconds
        self.settle_seconds = settle_seconds
        self._accounts: dict[str, ElementAccount] = {}
        self._lock = threading.Lock()

    # -- reading -------------------------------------------------------------------

    def read(
        self, method: str, params: Mapping[str, Any], key: str, parse: Callable[[object], T]
    ) -> list[T]:
        """Call ``method`` and parse the list under ``result[key]``.

        Raises:
            SolidFireReplyError: the list is missing or an entry is malformed.
            SolidFireError: the call failed.
        """
        result = self.client.call(method, params)
        items = result.get(key)
        if not isinstance(items, list):
            raise self.malformed(method, f"result.{key} is not a list")
        try:
            return [parse(item) for item in items]
        except ValueError as exc:
            raise self.malformed(method, str(exc)) from exc

    def malformed(self, method: str, why: str) -> SolidFireReplyError:
        """The error for a reply that lacks what the driver reads."""
        return SolidFireReplyError(
            self.backend_name, f"the reply to {method} is malformed: {why}", method=method
        )

    def volumes_named(self, name: str, *, active_only: bool = True) -> list[ElementVolume]:
        """Every volume called ``name``, lowest id first (deleted ones too when asked).

        Raises:
            SolidFireError: the lookup failed.
        """
        found = self.read("ListVolumes", {"volumeName": name}, "volumes", ElementVolume.from_reply)
        # A cluster that ignores the filter must not make us act on other volumes.
        matching = [v for v in found if v.name == name and (v.active or not active_only)]
        return sorted(matching, key=lambda v: v.volume_id)

    def volume_named(self, name: str) -> ElementVolume | None:
        """The active volume called ``name`` (the lowest id if several), or None.

        Raises:
            SolidFireError: the lookup failed.
        """
        found = self.volumes_named(name)
        return found[0] if found else None

    def volumes_of_account(
        self, account_id: int, *, active_only: bool = True
    ) -> list[ElementVolume]:
        """Every volume of one account (ListVolumesForAccount), lowest id first.

        Raises:
            SolidFireError: the lookup failed.
        """
        params = {"accountID": account_id}
        try:
            found = self.read("ListVolumesForAccount", params, "volumes", ElementVolume.from_reply)
        except SolidFireNotFoundError:
            return []
        matching = [
            v for v in found if v.account_id == account_id and (v.active or not active_only)
        ]
        return sorted(matching, key=lambda v: v.volume_id)

    def volume_by_id(self, volume_id: int) -> ElementVolume | None:
        """The active volume with this id, or None.

        Raises:
            SolidFireError: the lookup failed.
        """
        params = {"startVolumeID": volume_id, "limit": 1}
        found = self.read("ListActiveVolumes", params, "volumes", ElementVolume.from_reply)
        return found[0] if found and found[0].volume_id == volume_id else None

    def active_volumes(self) -> Iterator[ElementVolume]:
        """Every active volume of the cluster, page by page.

        Raises:
            SolidFireError: a page could not be read.
        """
        start = 0
        while True:
            params = {"startVolumeID": start, "limit": PAGE_LIMIT}
            page = self.read("ListActiveVolumes", params, "volumes", ElementVolume.from_reply)
            yield from page
            if len(page) < PAGE_LIMIT:
                return
            start = max(v.volume_id for v in page) + 1

    def snapshots(self, volume_id: int | None = None) -> list[ElementSnapshot]:
        """Every snapshot (of one volume, when given); none if that volume is gone.

        Raises:
            SolidFireError: the lookup failed.
        """
        params = {} if volume_id is None else {"volumeID": volume_id}
        try:
            found = self.read("ListSnapshots", params, "snapshots", ElementSnapshot.from_reply)
        except SolidFireNotFoundError:
            return []
        return [s for s in found if volume_id is None or s.volume_id == volume_id]

    def snapshots_named(self, name: str, volume_id: int | None = None) -> list[ElementSnapshot]:
        """Every snapshot called ``name``, lowest id first.

        Raises:
            SolidFireError: the lookup failed.
        """
        found = [s for s in self.snapshots(volume_id) if s.name == name]
        return sorted(found, key=lambda s: s.snapshot_id)

    # -- accounts ------------------------------------------------------------------

    def account(self, username: str) -> ElementAccount | None:
        """The account called ``username``, or None (cached once found).

        Raises:
            SolidFireError: the lookup failed.
        """
        with self._lock:
            cached = self._accounts.get(username)
        if cached is not None:
            return cached
        try:
            result = self.client.call("GetAccountByName", {"username": username})
        except SolidFireNotFoundError:
            return None
        try:
            account = ElementAccount.from_reply(result.get("account"))
        except ValueError as exc:
            raise self.malformed("GetAccountByName", str(exc)) from exc
        with self._lock:
            self._accounts[username] = account
        return account

    def ensure_account(self, username: str) -> ElementAccount:
        """The account called ``username``, made (AddAccount, new CHAP secrets) on first use.

        Raises:
            SolidFireError: it could not be found or made.
        """
        found = self.account(username)
        if found is not None:
            return found
        secret = chap_secret()
        params = {
            "username": username,
            "initiatorSecret": secret,
            "targetSecret": secret,
            "attributes": {"created-by": "basalt"},
        }
        try:
            self.create_once(
                "AddAccount", params, key="accountID", find=lambda: self._ids(username)
            )
        except SolidFireConflictError:
            log.info("account %s was made concurrently; using it", username)
        found = self.account(username)
        if found is None:
            raise SolidFireNotFoundError(
                self.backend_name, f"account {username} is missing right after AddAccount"
            )
        return found

    def account_by_id(self, account_id: int) -> ElementAccount | None:
        """The account with this id (from ListAccounts), or None.

        Raises:
            SolidFireError: the lookup failed.
        """
        accounts = self.read("ListAccounts", {}, "accounts", ElementAccount.from_reply)
        return next((a for a in accounts if a.account_id == account_id), None)

    def _ids(self, username: str) -> list[int]:
        found = self.account(username)
        return [] if found is None else [found.account_id]

    # -- making and removing -------------------------------------------------------

    def create_once(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        key: str,
        find: Callable[[], Sequence[int]],
        remove: Callable[[int], None] | None = None,
    ) -> int:
        """Make one object with a creating call, never two (see the module docstring).

        Args:
            method: CreateVolume, CloneVolume, CreateSnapshot or AddAccount.
            params: its parameters.
            key: the result field holding the new object's id.
            find: ids of the objects that already carry the new object's name.
            remove: deletes an extra copy by id (None: extras are left).

        Returns:
            The id of the object.

        Raises:
            SolidFireUncertainError: no answer, and nothing appeared within the budget.
            SolidFireError: the call failed.
        """
        deadline = time.monotonic() + self.client.retry.total_seconds
        uncertain = False
        while True:
            try:
                new_id = self._new_id(method, self.client.call(method, params), key)
                break
            except SolidFireUncertainError:
                settled = min(deadline, time.monotonic() + self.settle_seconds)
                found = self._poll(find, settled)
                if found:
                    return found[0]
                if time.monotonic() >= deadline:
                    raise
                uncertain = True
        if uncertain and remove is not None:
            self._remove_extras(method, new_id, find, remove)
        return new_id

    def _remove_extras(
        self,
        method: str,
        new_id: int,
        find: Callable[[], Sequence[int]],
        remove: Callable[[int], None],
    ) -> None:
        for extra in [i for i in find() if i != new_id]:
            log.warning("%s made object %d twice after a lost answer; removing it", method, extra)
            remove(extra)

    def _new_id(self, method: str, result: JsonObject, key: str) -> int:
        value = result.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.malformed(method, f"result.{key} is {value!r}, not an id")
        return value

    def _poll(self, find: Callable[[], Sequence[int]], deadline: float) -> list[int]:
        while True:
            found = sorted(find())
            if found or time.monotonic() + self.poll_interval_seconds > deadline:
                return found
            time.sleep(self.poll_interval_seconds)

    def delete_volume(self, volume: ElementVolume) -> None:
        """DeleteVolume (when active) then PurgeDeletedVolume; gone already is fine.

        Raises:
            SolidFireError: the array refused.
        """
        if volume.active:
            self._ignore_missing("DeleteVolume", {"volumeID": volume.volume_id})
        self._ignore_missing("PurgeDeletedVolume", {"volumeID": volume.volume_id})

    def delete_snapshot(self, snapshot_id: int) -> None:
        """DeleteSnapshot; gone already is fine.

        Raises:
            SolidFireError: the array refused.
        """
        self._ignore_missing("DeleteSnapshot", {"snapshotID": snapshot_id})

    def _ignore_missing(self, method: str, params: Mapping[str, Any]) -> None:
        try:
            self.client.call(method, params)
        except SolidFireNotFoundError:
            log.debug("%s: %s is gone already", method, params)
