"""Benchmark: Element API calls per Basalt operation on SolidFire, beside the seed's driver.

Basalt is opened on an emulated SolidFire cluster (in-process transport, no
faults) and runs, per round in a fresh project: the first create (the project's
account is made), a create, a snapshot, a clone, a volume from the snapshot, an
extend, an attach and a detach (no volume access groups), a snapshot delete and a
volume delete, each waited for. The emulator
counts every Element call (`backend.call_counts`); the delta around each
operation is what that operation cost. Beside it: the calls Cinder's SolidFire
driver (the seed) needs for the same operation, counted from VENDORS.md section 1
(`SEED_CALLS` below, one comment per row). Target: never more calls than the seed.

    uv run python bench/drivers.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import SecretStr  # noqa: E402

import basalt  # noqa: E402
from basalt.config import BackendSettings, SolidFireSettings  # noqa: E402
from basalt.service.context import RequestContext  # noqa: E402
from basalt_emulators.solidfire import SolidFireBackend, SolidFireTransport  # noqa: E402
from bench.common import save, table  # noqa: E402

WAIT = 30.0
CONNECTOR = {"initiator": "iqn.2026-12.org.basalt:bench-host", "host": "bench-host"}
# The pool's capacity is read when its cached figures are older than
# basalt.service.pools.STATS_MAX_AGE_S, whichever operation happens to run then:
# a periodic cost, like the seed's get_volume_stats, not a cost of the operation.
STATS_CALLS = frozenset({"GetClusterCapacity"})

# Calls the seed's driver makes per operation, from VENDORS.md section 1 (no
# replication, no volume access groups, account already cached nowhere: the seed
# looks the account up by name on every call). A lower bound: polls count once.
SEED_CALLS: dict[str, tuple[str, ...]] = {
    # GetAccountByName (missing), AddAccount, GetAccountByName (re-read the new
    # account), CreateVolume, ListVolumesForAccount (read the new volume's fields).
    "create (first in project)": (
        "GetAccountByName",
        "AddAccount",
        "GetAccountByName",
        "CreateVolume",
        "ListVolumesForAccount",
    ),
    # GetAccountByName, CreateVolume, ListVolumesForAccount (new volume's fields).
    "create": ("GetAccountByName", "CreateVolume", "ListVolumesForAccount"),
    # GetAccountByName + ListVolumesForAccount (find the volume), CreateSnapshot,
    # ListSnapshots (read the new snapshot back).
    "snapshot": ("GetAccountByName", "ListVolumesForAccount", "CreateSnapshot", "ListSnapshots"),
    # GetAccountByName + ListVolumesForAccount (find the source), GetAccountByName
    # (the new volume's account), CloneVolume, ModifyVolume (qos, attributes),
    # ListVolumesForAccount (poll until the clone is visible), ModifyVolume on the
    # source (cloned_count + 1).
    "clone": (
        "GetAccountByName",
        "ListVolumesForAccount",
        "GetAccountByName",
        "CloneVolume",
        "ModifyVolume",
        "ListVolumesForAccount",
        "ModifyVolume",
    ),
    # ListSnapshots (find the snapshot), GetAccountByName (the new volume's account),
    # CloneVolume{snapshotID}, ModifyVolume (qos, attributes), ListVolumesForAccount
    # (poll until the clone is visible).
    "volume from snapshot": (
        "ListSnapshots",
        "GetAccountByName",
        "CloneVolume",
        "ModifyVolume",
        "ListVolumesForAccount",
    ),
    # GetAccountByName + ListVolumesForAccount (find the volume), ModifyVolume{totalSize}.
    "extend": ("GetAccountByName", "ListVolumesForAccount", "ModifyVolume"),
    # GetAccountByName (the project's account), ListSnapshots (find it by name),
    # DeleteSnapshot.
    "delete snapshot": ("GetAccountByName", "ListSnapshots", "DeleteSnapshot"),
    # create_export reads the project's account (GetAccountByName) for provider_auth;
    # initialize_connection builds the info from the stored provider_location and
    # provider_auth (no call without sf_enable_vag).
    "attach": ("GetAccountByName",),
    # terminate_connection and remove_export: no call without sf_enable_vag.
    "detach": (),
    # GetAccountByName + ListVolumesForAccount (find the volume), DeleteVolume,
    # PurgeDeletedVolume.
    "delete volume": (
        "GetAccountByName",
        "ListVolumesForAccount",
        "DeleteVolume",
        "PurgeDeletedVolume",
    ),
}


def _open(data_dir: Path, backend: SolidFireBackend) -> basalt.Basalt:
    solidfire = SolidFireSettings(
        url="https://sf.test",
        login="admin",
        password=SecretStr("admin"),
        transport=SolidFireTransport(backend),
        poll_interval_seconds=0.01,
    )
    settings = basalt.Settings(
        data_dir=data_dir,
        backends=[BackendSettings(name="sf", driver="solidfire", solidfire=solidfire)],
    )
    return basalt.open(settings)


def _counted(backend: SolidFireBackend, action: Callable[[], object]) -> Counter[str]:
    before = Counter(backend.call_counts)
    action()
    after = Counter(backend.call_counts)
    return after - before


def _split(calls: Counter[str]) -> tuple[Counter[str], int]:
    """(the operation's own calls, the stats refreshes that fell into it)."""
    own = Counter({name: n for name, n in calls.items() if name not in STATS_CALLS})
    return own, sum(n for name, n in calls.items() if name in STATS_CALLS)


def _round(b: basalt.Basalt, backend: SolidFireBackend, project: str) -> dict[str, Counter[str]]:
    ctx = RequestContext(user_id="bench", project_id=project, roles=frozenset({"member"}))
    calls: dict[str, Counter[str]] = {}
    calls["create (first in project)"] = _counted(
        backend, lambda: b.volumes.create(size_gib=1, ctx=ctx).wait(timeout=WAIT)
    )
    start = Counter(backend.call_counts)
    volume = b.volumes.create(size_gib=1, ctx=ctx).wait(timeout=WAIT)
    calls["create"] = Counter(backend.call_counts) - start
    snap_box: list[basalt.Snapshot] = []
    calls["snapshot"] = _counted(
        backend,
        lambda: snap_box.append(b.snapshots.create(volume.id, ctx=ctx).wait(timeout=WAIT)),
    )
    snap = snap_box[0]
    clone_box: list[basalt.Volume] = []
    calls["clone"] = _counted(
        backend,
        lambda: clone_box.append(
            b.volumes.create(size_gib=1, source_volume_id=volume.id, ctx=ctx).wait(timeout=WAIT)
        ),
    )
    calls["volume from snapshot"] = _counted(
        backend,
        lambda: b.volumes.create(size_gib=2, snapshot_id=snap.id, ctx=ctx).wait(timeout=WAIT),
    )
    calls["extend"] = _counted(
        backend, lambda: b.volumes.extend(volume.id, 2, ctx=ctx).wait(timeout=WAIT)
    )
    attached: list[str] = []
    calls["attach"] = _counted(
        backend,
        lambda: attached.append(b.attachments.attach(volume.id, CONNECTOR, ctx=ctx).attachment.id),
    )
    calls["detach"] = _counted(backend, lambda: b.attachments.detach(attached[0], ctx=ctx))
    calls["delete snapshot"] = _counted(
        backend, lambda: b.snapshots.delete(snap.id, ctx=ctx).wait(timeout=WAIT)
    )
    calls["delete volume"] = _counted(
        backend, lambda: b.volumes.delete(clone_box[0].id, ctx=ctx).wait(timeout=WAIT)
    )
    return calls


def _describe(calls: Counter[str]) -> str:
    named = ", ".join(f"{name}×{n}" if n > 1 else name for name, n in sorted(calls.items()))
    return named or "no call"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rounds: list[dict[str, Counter[str]]] = []
    with tempfile.TemporaryDirectory(prefix="basalt-bench-") as tmp:
        backend = SolidFireBackend(Path(tmp) / "cluster")
        with _open(Path(tmp) / "data", backend) as b:
            for index in range(args.rounds):
                rounds.append(_round(b, backend, f"bench-{index}"))
    rows: list[list[object]] = []
    results: dict[str, object] = {}
    all_within = True
    for operation, seed in SEED_CALLS.items():
        split = [_split(r[operation]) for r in rounds]
        totals = [sum(own.values()) for own, _ in split]
        refreshes = sum(stats for _, stats in split)
        worst = max(range(len(rounds)), key=lambda i: totals[i])
        calls = split[worst][0]
        within = max(totals) <= len(seed)
        all_within &= within
        spread = str(max(totals)) if min(totals) == max(totals) else f"{min(totals)}–{max(totals)}"
        rows.append(
            [
                operation,
                f"{spread} ({_describe(calls)})"
                + (f" + {refreshes} stats refresh in {len(rounds)} rounds" if refreshes else ""),
                f"{len(seed)} ({_describe(Counter(seed))})",
                "yes" if within else "**no**",
            ]
        )
        results[operation] = {
            "basalt_calls_min": min(totals),
            "basalt_calls_max": max(totals),
            "basalt_calls_worst_round": dict(calls),
            "stats_refreshes_in_all_rounds": refreshes,
            "seed_calls": len(seed),
            "seed_call_names": list(seed),
            "within_seed": within,
        }
    headers = ["operation", "Basalt calls (which)", "seed driver calls", "Basalt <= seed?"]
    print(f"Element API calls per operation, {args.rounds} rounds (worst round shown)\n")
    print(table(headers, rows))
    path = save("drivers", {"rounds": args.rounds, "operations": results, "all_within": all_within})
    print(f"\nwritten to {path}")
    return 0 if all_within else 1


if __name__ == "__main__":
    raise SystemExit(main())
