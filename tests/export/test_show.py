"""The parsers of ``tgtadm --op show`` output, on text captured from tgt 1.0.85."""

from __future__ import annotations

from pathlib import Path

from basalt.export.show import (
    is_address_acl,
    parse_accounts,
    parse_portals,
    parse_system_state,
    parse_targets,
    tgt_size_mb,
)

SHOW_TARGET = """\
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
        LUN: 0
            Type: controller
            SCSI ID: IET     00010000
            SCSI SN: beaf10
            Size: 0 MB, Block size: 1
            Online: Yes
            Removable media: No
            Prevent removal: No
            Readonly: No
            SWP: No
            Thin-provisioning: No
            Backing store type: null
            Backing store path: None
            Backing store flags: 
        LUN: 1
            Type: disk
            SCSI ID: basalt-vol1
            SCSI SN: 0123456789abcdef0123456789abcdef0123
            Size: 67 MB, Block size: 512
            Online: Yes
            Removable media: No
            Prevent removal: No
            Readonly: No
            SWP: No
            Thin-provisioning: Yes
            Backing store type: rdwr
            Backing store path: /tmp/exp/vol1.img
            Backing store flags: sync:direct
    Account information:
        alice
        carol (outgoing)
    ACL information:
        127.0.0.1
        10.0.0.0/8
        ALL
        iqn.1994-05.com.example:host1
Target 2: iqn.2026-11.org.basalt:vol2
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
    LUN information:
        LUN: 0
            Type: controller
            SCSI ID: IET     00020000
            SCSI SN: beaf20
            Size: 0 MB, Block size: 1
            Online: Yes
            Removable media: No
            Prevent removal: No
            Readonly: No
            SWP: No
            Thin-provisioning: No
            Backing store type: null
            Backing store path: None
            Backing store flags: 
    Account information:
    ACL information:
"""


def test_parse_targets_reads_every_field() -> None:
    first, second = parse_targets(SHOW_TARGET)

    assert (first.tid, first.iqn, first.state) == (1, "iqn.2026-11.org.basalt:vol1", "ready")
    assert first.sessions == ("iqn.1994-05.com.example:host1",)
    assert first.accounts == {"alice"}
    assert first.outgoing_accounts == {"carol"}
    assert first.initiators == {"iqn.1994-05.com.example:host1"}
    assert first.initiator_addresses == {"127.0.0.1", "10.0.0.0/8", "ALL"}
    lun1 = first.lun1
    assert lun1 is not None
    assert lun1.size_mb == 67 and lun1.block_size == 512
    assert lun1.backing_path == Path("/tmp/exp/vol1.img") == first.backing_path
    assert lun1.backing_type == "rdwr"
    assert lun1.backing_flags == {"sync", "direct"}
    assert lun1.thin_provisioning and not lun1.read_only
    assert lun1.scsi_id == "basalt-vol1"
    assert lun1.scsi_sn == "0123456789abcdef0123456789abcdef0123"
    controller = first.lun(0)
    assert controller is not None and controller.backing_path is None
    assert controller.backing_flags == frozenset()


def test_parse_targets_target_without_lun1_or_sessions() -> None:
    second = parse_targets(SHOW_TARGET)[1]

    assert second.tid == 2 and second.lun1 is None and second.backing_path is None
    assert second.sessions == () and second.accounts == frozenset()
    assert second.initiators == frozenset() and second.initiator_addresses == frozenset()


def test_parse_targets_of_empty_output() -> None:
    assert parse_targets("") == ()


def test_parse_accounts_portals_and_state() -> None:
    assert parse_accounts("Account list:\n    carol\n    bob@proj-1\n    dave (outgoing)\n") == {
        "carol",
        "bob@proj-1",
        "dave",
    }
    assert parse_accounts("Account list:\n") == frozenset()
    portals = "Portal: 127.0.0.2:13302,1\nPortal: [::]:3260,1\nPortal: 127.0.0.1:13301,1\n"
    assert parse_portals(portals) == ("127.0.0.2:13302", "[::]:3260", "127.0.0.1:13301")
    assert parse_system_state("System:\n    State: offline\n    debug: off\n") == "offline"


def test_acl_entries_that_are_addresses() -> None:
    assert is_address_acl("ALL") and is_address_acl("192.168.1.0/24")
    assert is_address_acl("::1") and is_address_acl("[fe80::1]")
    assert not is_address_acl("iqn.1994-05.com.example:host1")
    assert not is_address_acl("eui.02004567A425678D")


def test_tgt_size_mb_matches_what_tgt_prints() -> None:
    # tgt 1.0.85 printed "67 MB" for 64 MiB and "17 MB" for 16 MiB.
    assert tgt_size_mb(64 * 1024 * 1024) == 67
    assert tgt_size_mb(16 * 1024 * 1024) == 17
    assert tgt_size_mb(128 * 1024 * 1024) == 134
    assert tgt_size_mb(0) == 0
