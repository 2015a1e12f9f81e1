"""Accepting a volume transfer on SolidFire: the volume moves to the new project's account.

Element keeps each project's volumes in the project's account (the CHAP identity
its hosts log in with), so a transfer is one ``ModifyVolume{volumeID, accountID}``
into the new project's account, made on first use as a create makes it. Snapshots
belong to their volume on Element and follow it.
"""

from __future__ import annotations

from dataclasses import replace

from basalt.drivers.solidfire.common import SolidFireCommon
from basalt.drivers.types import DriverUpdate, VolumeRef

TRANSFER_API_VERSION = "5.0"
"""ModifyVolume with accountID, as manage sends it."""


class SolidFireTransfer(SolidFireCommon):
    """SupportsTransfer for the SolidFire driver."""

    def accept_transfer(self, volume: VolumeRef, new_project_id: str) -> DriverUpdate | None:
        """Move the volume into the account of ``new_project_id`` (AddAccount if it has none).

        A managed volume (found through its project's account) is also looked for in
        the new project's account, so a re-run after the move finds it.

        Returns:
            The new provider_location (``"<volumeID> <new accountID> <cluster uuid>"``).

        Raises:
            DriverError: the volume is missing, or the cluster refused.
        """
        moved = replace(volume, project_id=new_project_id)
        found = self.find_volumes(volume) or self.find_volumes(moved)
        if not found:
            self.require_volume(volume, action="transfer")  # raises, naming the volume
        element = found[0]
        account = self.array.ensure_account(self.naming.account_name(new_project_id))
        if element.account_id != account.account_id:
            params = {"volumeID": element.volume_id, "accountID": account.account_id}
            self.client.call("ModifyVolume", params, version=TRANSFER_API_VERSION)
        return DriverUpdate(
            provider_location=self.volume_location(element.volume_id, account.account_id)
        )
