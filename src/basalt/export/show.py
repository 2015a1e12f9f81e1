"""Typed views of what ``tgtadm --op show`` prints, and the parsers that build them.

tgtadm prints indented text (four spaces per level)::

    Target 1: iqn.2026-11.org.basalt:vol1
        System information:
            Driver: iscsi
            State: ready
        I_T nexus information:
            I_T nexus: 6
                Initiator: iqn.1994-05.com.example:host1 alias: none
                Connection: 0
                    IP Address: 127.0.0.1
        LUN information:
            LUN: 1
                Type: disk
                Size: 67 MB, Block size: 512
                Readonly: No
                Backing store path: /pool/vol1
                ...
        Account information:
            alice
            bob (outgoing)
        ACL information:
            iqn.1994-05.com.example:host1

tgt prints a LUN's size only in its own rounded "MB" (see :func:`tgt_size_mb`), never in
bytes; the ACL list mixes initiator addresses and initiator names without saying which
is which (an entry that parses as an IP address or network, or ``ALL``, is an address).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

_TARGET = re.compile(r"^Target (\d+): (\S+)\s*$")
_NEXUS_INITIATOR = re.compile(r"^Initiator: (\S+)")
_SIZE = re.compile(r"^(\d+) MB, Block size: (\d+)$")
_PORTAL = re.compile(r"^Portal: (\S+),(\d+)\s*$")
_OUTGOING = " (outgoing)"
_SECTIONS = {
    "System information:": "system",
    "I_T nexus information:": "nexus",
    "LUN information:": "lun",
    "Account information:": "account",
    "ACL information:": "acl",
}


def tgt_size_mb(size_bytes: int) -> int:
    """The "MB" figure tgt prints for a LUN of ``size_bytes`` (tgt's print_disksize).

    Args:
        size_bytes: the backing store's size.

    Returns:
        What ``Size:`` in ``tgtadm --op show --mode target`` shows for it.
    """
    sectors = size_bytes // 512
    return max(0, (sectors - (sectors // 625 - 974)) // 1950)


@dataclass(frozen=True, slots=True)
class LunState:
    """One logical unit as tgtd holds it."""

    lun: int
    device_type: str = ""
    scsi_id: str = ""
    scsi_sn: str = ""
    size_mb: int = 0
    block_size: int = 0
    read_only: bool = False
    thin_provisioning: bool = False
    backing_type: str = ""
    backing_path: Path | None = None
    backing_flags: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class TargetState:
    """One target as tgtd holds it.

    ``initiators`` is the ACL by initiator name; ``initiator_addresses`` the ACL by
    address; ``sessions`` the initiator names logged in now (one per I_T nexus).
    """

    tid: int
    iqn: str
    state: str = ""
    luns: tuple[LunState, ...] = ()
    accounts: frozenset[str] = frozenset()
    outgoing_accounts: frozenset[str] = frozenset()
    initiators: frozenset[str] = frozenset()
    initiator_addresses: frozenset[str] = frozenset()
    sessions: tuple[str, ...] = ()

    @property
    def lun1(self) -> LunState | None:
        """LUN 1 (the volume), or None if the target has none."""
        return self.lun(1)

    @property
    def backing_path(self) -> Path | None:
        """LUN 1's backing file, or None if the target has no LUN 1."""
        lun1 = self.lun1
        return None if lun1 is None else lun1.backing_path

    def lun(self, number: int) -> LunState | None:
        """The logical unit ``number``, or None."""
        return next((lu for lu in self.luns if lu.lun == number), None)


@dataclass
class _TargetBuilder:
    tid: int
    iqn: str
    state: str = ""
    luns: list[dict[str, str]] = field(default_factory=list)
    accounts: set[str] = field(default_factory=set)
    outgoing: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    addresses: set[str] = field(default_factory=set)
    sessions: list[str] = field(default_factory=list)

    def add(self, section: str, depth: int, text: str) -> None:
        if section == "system" and text.startswith("State:"):
            self.state = text.split(":", 1)[1].strip()
        elif section == "nexus" and (match := _NEXUS_INITIATOR.match(text)):
            self.sessions.append(match.group(1))
        elif section == "lun" and depth == 2 and text.startswith("LUN:"):
            self.luns.append({"LUN": text.split(":", 1)[1].strip()})
        elif section == "lun" and depth == 3 and self.luns and ":" in text:
            key, value = text.split(":", 1)
            self.luns[-1][key.strip()] = value.strip()
        elif section == "account" and depth == 2:
            if text.endswith(_OUTGOING):
                self.outgoing.add(text[: -len(_OUTGOING)])
            else:
                self.accounts.add(text)
        elif section == "acl" and depth == 2:
            (self.addresses if is_address_acl(text) else self.names).add(text)

    def build(self) -> TargetState:
        return TargetState(
            tid=self.tid,
            iqn=self.iqn,
            state=self.state,
            luns=tuple(_lun(values) for values in self.luns),
            accounts=frozenset(self.accounts),
            outgoing_accounts=frozenset(self.outgoing),
            initiators=frozenset(self.names),
            initiator_addresses=frozenset(self.addresses),
            sessions=tuple(self.sessions),
        )


def _lun(values: dict[str, str]) -> LunState:
    size = _SIZE.match(values.get("Size", ""))
    path = values.get("Backing store path", "None")
    flags = values.get("Backing store flags", "")
    return LunState(
        lun=int(values["LUN"]),
        device_type=values.get("Type", ""),
        scsi_id=values.get("SCSI ID", ""),
        scsi_sn=values.get("SCSI SN", ""),
        size_mb=int(size.group(1)) if size else 0,
        block_size=int(size.group(2)) if size else 0,
        read_only=values.get("Readonly") == "Yes",
        thin_provisioning=values.get("Thin-provisioning") == "Yes",
        backing_type=values.get("Backing store type", ""),
        backing_path=None if path in ("None", "") else Path(path),
        backing_flags=frozenset(f for f in re.split(r"[:|,\s]+", flags) if f),
    )


def is_address_acl(entry: str) -> bool:
    """Whether an ACL entry is an initiator address (or ``ALL``) rather than a name."""
    if entry == "ALL":
        return True
    try:
        ipaddress.ip_network(entry.strip("[]"), strict=False)
    except ValueError:
        return False
    return True


def parse_targets(text: str) -> tuple[TargetState, ...]:
    """Parse ``tgtadm --lld iscsi --op show --mode target``.

    Args:
        text: tgtadm's standard output.

    Returns:
        Every target, in the order printed. Lines it does not know are ignored.
    """
    targets: list[TargetState] = []
    current: _TargetBuilder | None = None
    section = ""
    for raw in text.splitlines():
        if not raw.strip():
            continue
        depth = (len(raw) - len(raw.lstrip(" "))) // 4
        text_line = raw.strip()
        if depth == 0 and (match := _TARGET.match(raw)):
            if current is not None:
                targets.append(current.build())
            current, section = _TargetBuilder(int(match.group(1)), match.group(2)), ""
        elif current is None:
            continue
        elif depth == 1:
            section = _SECTIONS.get(text_line, "")
        else:
            current.add(section, depth, text_line)
    if current is not None:
        targets.append(current.build())
    return tuple(targets)


def parse_accounts(text: str) -> frozenset[str]:
    """Parse ``tgtadm --lld iscsi --op show --mode account``.

    Args:
        text: tgtadm's standard output.

    Returns:
        The account (user) names tgtd holds.
    """
    names = set()
    for raw in text.splitlines():
        name = raw.strip()
        if raw.startswith(" ") and name:
            names.add(name.removesuffix(_OUTGOING))
    return frozenset(names)


def parse_portals(text: str) -> tuple[str, ...]:
    """Parse ``tgtadm --lld iscsi --op show --mode portal``.

    Args:
        text: tgtadm's standard output.

    Returns:
        The portals tgtd listens on, as ``host:port`` (IPv6 hosts in brackets).
    """
    return tuple(m.group(1) for line in text.splitlines() if (m := _PORTAL.match(line.strip())))


def parse_system_state(text: str) -> str:
    """The ``State:`` tgtadm prints under ``System:`` (``ready`` or ``offline``)."""
    for line in text.splitlines():
        if line.strip().startswith("State:"):
            return line.split(":", 1)[1].strip()
    return ""
