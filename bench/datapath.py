"""Benchmark 4: the iSCSI data path against the raw file, and what each tgt setting gives.

For each variant of Basalt's ``[iscsi]`` settings (tgt backing store, I/O threads,
iSCSI keys), Basalt exports a 1 GiB volume filled with data, and ``qemu-img bench``
runs the same four cases, interleaved, on the LUN (qemu's libiscsi driver, as
Basalt's CHAP user) and on the volume's backing file (qemu's file driver):
sequential 1 MiB read and write at queue depth 8 (MiB/s) and 4 KiB read and write
at queue depth 32 (IOPS), the depths CrystalDiskMark uses. Medians of several runs;
the ratio is iSCSI over raw file. Targets: >= 0.6 sequential, >= 0.5 random 4 KiB.

Why qemu-img bench: there is no kernel initiator here, and Debian's fio has no
libiscsi engine (``fio --enghelp``); fio could only reach the LUN through an extra
qemu-nbd hop. qemu-img bench issues the same request stream (size, depth, step) through
the same qemu block layer to both images, one process and thread each time, so the
ratio is what tgt + iSCSI + loopback TCP add. It has no random mode: "random" is a
stride of 104729 blocks (a prime, ~409 MiB) modulo the volume, which visits every
block once in scattered order (no readahead, no merging; the same order on both sides).

Caching is matched: tgt's rdwr store without ``direct`` works through the page cache,
so its baseline is the file read and written buffered (``-t writeback``); ``aio``
(always O_DIRECT) and rdwr + ``direct`` are compared with the file under O_DIRECT
(``-t none -i native``). Neither side flushes after writes.

Needs root, tgt and qemu-img with the iscsi driver; prints why and exits 0 otherwise.

    uv run python bench/datapath.py [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import basalt  # noqa: E402
from basalt.config import IscsiSettings  # noqa: E402
from basalt.export.daemon import MAX_CONTROL_PORT, SOCKET_DIR  # noqa: E402
from basalt.export.tgt import TgtAdmin  # noqa: E402
from bench.common import median, save, table  # noqa: E402

MIB = 1024**2
VOLUME_GIB = 1
STRIDE_BLOCKS = 104729  # prime, so the stride visits every block of the volume once
INITIATOR = "iqn.2026-11.bench:datapath"
RUN_TIMEOUT_SECONDS = 120.0
# tgt 1.0.85's own values for the keys IscsiSettings can set ("before tuning").
TGT_KEYS: dict[str, object] = {
    "max_recv_data_segment_bytes": 8192,
    "max_xmit_data_segment_bytes": 8192,
    "first_burst_bytes": 65536,
    "max_burst_bytes": 262144,
    "initial_r2t": True,
    "immediate_data": True,
}
BIG_PDUS: dict[str, object] = {
    **TGT_KEYS,
    "max_recv_data_segment_bytes": 262144,
    "max_xmit_data_segment_bytes": 262144,
}
BIG_BURSTS: dict[str, object] = {
    **BIG_PDUS,
    "first_burst_bytes": 262144,
    "max_burst_bytes": 1048576,
    "initial_r2t": False,
}


@dataclass(frozen=True)
class Case:
    """One qemu-img bench job, run on both sides."""

    key: str
    label: str
    block_bytes: int
    depth: int
    requests: int
    write: bool = False
    scattered: bool = False

    @property
    def unit(self) -> str:
        return "IOPS" if self.block_bytes < MIB else "MiB/s"

    @property
    def target(self) -> float:
        return 0.5 if self.scattered else 0.6

    def rate(self, seconds: float) -> float:
        if self.unit == "IOPS":
            return self.requests / seconds
        return self.requests * self.block_bytes / MIB / seconds


CASES = (
    Case("seq_read", "seq read 1 MiB", MIB, 8, 256),
    Case("seq_write", "seq write 1 MiB", MIB, 8, 256, write=True),
    Case("rand_read", "rand read 4 KiB", 4096, 32, 16384, scattered=True),
    Case("rand_write", "rand write 4 KiB", 4096, 32, 16384, write=True, scattered=True),
)


@dataclass(frozen=True)
class Variant:
    """One set of ``[iscsi]`` settings to measure (overrides of IscsiSettings)."""

    name: str
    settings: dict[str, object] = field(default_factory=dict)
    against: str = ""  # the variant this one changes one thing of, for the notes

    @property
    def direct(self) -> bool:
        """Whether tgt bypasses the page cache (aio always; rdwr with ``direct``)."""
        iscsi = IscsiSettings.model_validate(self.settings)
        return iscsi.backing_store == "aio" or "direct" in iscsi.backing_store_flags


AIO: dict[str, object] = {"backing_store": "aio"}
RDWR: dict[str, object] = {"backing_store": "rdwr"}
BEFORE = "tgt defaults"
VARIANTS = (
    Variant(BEFORE, {**RDWR, **TGT_KEYS}),
    Variant("rdwr, io_threads 4", {**RDWR, **TGT_KEYS, "io_threads": 4}, BEFORE),
    Variant("rdwr, io_threads 64", {**RDWR, **TGT_KEYS, "io_threads": 64}, BEFORE),
    Variant("rdwr + direct", {**RDWR, "backing_store_flags": ["direct"], **TGT_KEYS}, BEFORE),
    Variant("aio", {**AIO, **TGT_KEYS}, "rdwr + direct"),
    Variant("aio + 256 KiB PDUs", {**AIO, **BIG_PDUS}, "aio"),
    Variant("aio + 256 KiB PDUs + bursts", {**AIO, **BIG_BURSTS}, "aio + 256 KiB PDUs"),
    Variant("rdwr + 256 KiB PDUs + bursts", {**RDWR, **BIG_BURSTS}, BEFORE),
    Variant("Basalt defaults", {}, BEFORE),
)
QUICK_VARIANTS = (VARIANTS[0], VARIANTS[-1])


@dataclass(frozen=True)
class Lun:
    """An exported volume: how to reach it over iSCSI, and its backing file."""

    portal: str
    iqn: str
    user: str
    secret: str
    path: Path
    target_params: dict[str, str]
    applied_by: str

    def image(self, *, iscsi: bool, direct: bool) -> list[str]:
        """qemu-img arguments naming this LUN (iscsi) or its file, with the cache mode."""
        if iscsi:
            opts = [
                "driver=iscsi", "transport=tcp", f"portal={self.portal}", f"target={self.iqn}",
                "lun=1", f"initiator-name={INITIATOR}", f"user={self.user}",
                f"password={self.secret}",
            ]  # fmt: skip
            return ["--image-opts", "-t", "none" if direct else "writeback", ",".join(opts)]
        return [
            "-f",
            "raw",
            "-t",
            "none" if direct else "writeback",
            "-i",
            "io_uring",
            str(self.path),
        ]


class BenchRunError(RuntimeError):
    """qemu-img bench failed (its output is in the message)."""


def qemu_img_bench(image: list[str], case: Case) -> float:
    """Run one case on one image; the rate (MiB/s or IOPS) from qemu-img's own timing."""
    argv = ["qemu-img", "bench", "-c", str(case.requests), "-d", str(case.depth)]
    argv += ["-s", str(case.block_bytes)]
    if case.scattered:
        argv += ["-S", str(case.block_bytes * STRIDE_BLOCKS)]
    if case.write:
        argv += ["-w", "--pattern=0xa5"]
    done = subprocess.run(
        [*argv, *image], capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS
    )
    match = re.search(r"Run completed in ([0-9.]+) seconds", done.stdout)
    if done.returncode != 0 or match is None:
        raise BenchRunError(f"{' '.join(argv)} failed: {done.stdout}{done.stderr}".strip())
    return case.rate(max(float(match.group(1)), 1e-6))


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_control_port() -> int:
    while True:
        port = random.randint(20000, MAX_CONTROL_PORT)
        if not (SOCKET_DIR / f"socket.{port}").exists():
            return port


def fill(path: Path, size_bytes: int) -> None:
    """Write non-zero data over the whole file and fsync (reads of holes are not I/O)."""
    chunk = os.urandom(MIB)
    fd = os.open(path, os.O_WRONLY)
    try:
        for offset in range(0, size_bytes, MIB):
            os.pwrite(fd, chunk, offset)
        os.fsync(fd)
    finally:
        os.close(fd)


def check_target_params(iscsi: IscsiSettings, portal: str, iqn: str) -> tuple[dict[str, str], str]:
    """The keys the new target offers; sets the configured ones if Basalt did not.

    Returns:
        The target's keys, and who set the configured ones ("basalt" or "bench",
        when the exporter does not pass ``target_params`` to its Reconciler yet).
    """
    admin = TgtAdmin(iscsi.control_port, tgtadm_path=iscsi.tgtadm_path)
    tid = next(t.tid for t in admin.targets() if t.iqn == iqn)
    wanted = iscsi.target_params()
    held = admin.target_params(tid)
    if all(held.get(key) == value for key, value in wanted.items()):
        return held, "basalt"
    for key, value in wanted.items():  # no initiator has logged in yet
        admin.update_target_param(tid, key, value)
    return admin.target_params(tid), "bench"


@contextmanager
def exported_volume(work: Path, variant: Variant) -> Iterator[Lun]:
    """A Basalt (own tgtd) with ``variant``'s settings exporting one filled 1 GiB volume."""
    iscsi = IscsiSettings.model_validate(
        {
            **variant.settings,
            "portals": [f"127.0.0.1:{free_tcp_port()}"],
            "control_port": free_control_port(),
        }
    )
    data_dir = Path(tempfile.mkdtemp(prefix="basalt-", dir=work))
    with basalt.open(basalt.Settings(data_dir=data_dir, iscsi=iscsi)) as b:
        volume = b.volumes.create(size_gib=VOLUME_GIB).wait(timeout=60)
        path = b.settings.data_dir / "pools" / "file" / "default" / "volumes" / f"{volume.id}.raw"
        fill(path, VOLUME_GIB * 1024 * MIB)
        result = b.attachments.attach(volume.id, {"host": "bench", "initiator": INITIATOR})
        try:
            b.attachments.complete(result.attachment.id)
            data = result.connection_info.data
            portal, iqn = str(data["target_portal"]), str(data["target_iqn"])
            held, applied_by = check_target_params(iscsi, portal, iqn)
            user, secret = str(data["auth_username"]), str(data["auth_password"])
            yield Lun(portal, iqn, user, secret, path, held, applied_by)
        finally:
            b.attachments.detach(result.attachment.id)


Samples = dict[str, dict[str, list[float]]]


def measure(
    exports: list[tuple[Variant, Lun]], cases: tuple[Case, ...], *, runs: int
) -> dict[str, Samples]:
    """Every case on every variant, both sides, ``runs`` rounds, all interleaved.

    Each round walks the cases, and for each case every variant (the variant order
    rotates each round), running the file and the LUN back to back (which goes first
    alternates), so load from elsewhere on the machine hits every cell alike.
    """
    samples: dict[str, Samples] = {
        v.name: {c.key: {"iscsi": [], "raw": []} for c in cases} for v, _ in exports
    }
    for run in range(runs):
        print(f"  {len(cases)} case(s), round {run + 1}/{runs}", file=sys.stderr, flush=True)
        rotated = exports[run % len(exports) :] + exports[: run % len(exports)]
        for case in cases:
            for variant, lun in rotated:
                sides = ("raw", "iscsi") if run % 2 == 0 else ("iscsi", "raw")
                for side in sides:
                    image = lun.image(iscsi=side == "iscsi", direct=variant.direct)
                    samples[variant.name][case.key][side].append(qemu_img_bench(image, case))
    return samples


def summary(samples: Samples, cases: tuple[Case, ...]) -> dict[str, dict[str, float]]:
    """Per case: the iSCSI and raw medians and their ratio."""
    out = {}
    for case in cases:
        iscsi, raw = median(samples[case.key]["iscsi"]), median(samples[case.key]["raw"])
        out[case.key] = {"iscsi": iscsi, "raw": raw, "ratio": iscsi / raw}
    return out


def context_cases(scale: int) -> tuple[Case, ...]:
    """Other initiator queue depths (the host's choice, not Basalt's), for context."""
    return (
        Case("seq_read_qd1", "seq read 1 MiB", MIB, 1, 128 // scale),
        Case("seq_write_qd1", "seq write 1 MiB", MIB, 1, 128 // scale, write=True),
        Case("rand_read_qd1", "rand read 4 KiB", 4096, 1, 4096 // scale, scattered=True),
        Case("rand_write_qd1", "rand write 4 KiB", 4096, 1, 4096 // scale, True, True),
        Case("rand_read_qd8", "rand read 4 KiB", 4096, 8, 8192 // scale, scattered=True),
        Case("rand_write_qd8", "rand write 4 KiB", 4096, 8, 8192 // scale, True, True),
    )


def cell(medians: dict[str, float], case: Case) -> list[str]:
    ratio = medians["ratio"]
    mark = "✓" if ratio >= case.target else "✗"
    return [f"{medians['iscsi']:,.0f} / {medians['raw']:,.0f}", f"{ratio:.2f} {mark}"]


def render(results: list[dict[str, object]]) -> str:
    headers = ["variant", "raw file"]
    for case in CASES:
        headers += [f"{case.label} {case.unit} (iSCSI / raw)", "ratio"]
    rows = []
    for result in results:
        medians = result["medians"]
        assert isinstance(medians, dict)
        row = [str(result["variant"]), str(result["baseline"])]
        for case in CASES:
            row += cell(medians[case.key], case)
        rows.append(row)
    return table(headers, rows)


def render_context(result: dict[str, object], context: tuple[Case, ...]) -> str:
    medians = result["context_medians"]
    assert isinstance(medians, dict)
    main = result["medians"]
    assert isinstance(main, dict)
    rows = [[c.label, c.depth, *cell(medians[c.key], c)] for c in context]
    rows += [[c.label, f"{c.depth} (main table)", *cell(main[c.key], c)] for c in CASES]
    rows.sort(key=lambda row: (str(row[0]), int(str(row[1]).split()[0])))
    return table(["case", "queue depth", "iSCSI / raw", "ratio"], rows)


def ratio_of(result: dict[str, object], key: str) -> float:
    medians = result["medians"]
    assert isinstance(medians, dict)
    return float(medians[key]["ratio"])


def iscsi_of(result: dict[str, object], key: str) -> float:
    medians = result["medians"]
    assert isinstance(medians, dict)
    return float(medians[key]["iscsi"])


def setting_notes(results: list[dict[str, object]], variants: tuple[Variant, ...]) -> str:
    """What each setting gave: ratio before -> after, and the iSCSI side's own change."""
    by_name = {str(r["variant"]): r for r in results}
    lines = []
    for variant in variants:
        ref = by_name.get(variant.against)
        if ref is None:
            continue
        now = by_name[variant.name]
        parts = [
            f"{c.label} {ratio_of(ref, c.key):.2f} -> {ratio_of(now, c.key):.2f} "
            f"(iSCSI {iscsi_of(now, c.key) / iscsi_of(ref, c.key) - 1:+.0%})"
            for c in CASES
        ]
        lines.append(f"- {variant.name} vs {variant.against}: {'; '.join(parts)}")
    return "\n".join(lines)


def verdict(results: list[dict[str, object]]) -> tuple[bool, str]:
    """Whether Basalt's defaults meet every target, and the variants that do."""
    ours = results[-1]
    met = {c.key: ratio_of(ours, c.key) >= c.target for c in CASES}
    held = ", ".join(
        f"{c.label} {ratio_of(ours, c.key):.2f} {'MET' if met[c.key] else 'MISSED'}" for c in CASES
    )
    every = [
        str(r["variant"]) for r in results if all(ratio_of(r, c.key) >= c.target for c in CASES)
    ]
    text = (
        f"Targets (iSCSI / raw >= 0.6 sequential, >= 0.5 random 4 KiB) with {ours['variant']}: "
        f"{held}.\nVariants meeting all four: {', '.join(every) or 'none'}."
    )
    return all(met.values()), text


def why_skipped() -> str | None:
    """Why this benchmark cannot run here, or None."""
    if os.geteuid() != 0:
        return "it needs root (Basalt starts its own tgtd)"
    missing = [p for p in ("tgtd", "tgtadm", "qemu-img") if shutil.which(p) is None]
    if missing:
        return f"{', '.join(missing)} missing (apt-get install tgt qemu-utils qemu-block-extra)"
    formats = subprocess.run(["qemu-img", "--help"], capture_output=True, text=True).stdout
    if " iscsi" not in formats:
        return "qemu-img has no iscsi driver (apt-get install qemu-block-extra)"
    return None


def run_all(
    variants: tuple[Variant, ...], cases: tuple[Case, ...], context: tuple[Case, ...], runs: int
) -> list[dict[str, object]]:
    """Export one volume per variant (all at once), measure, and clean up even on failure."""
    work = Path(tempfile.mkdtemp(prefix="basalt-bench-datapath-"))
    try:
        with ExitStack() as stack:
            print(f"  exporting {len(variants)} filled volumes ...", file=sys.stderr, flush=True)
            exports = [(v, stack.enter_context(exported_volume(work, v))) for v in variants]
            samples = measure(exports, cases, runs=runs)
            extra = measure(exports[-1:], context, runs=runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return [
        {
            "variant": v.name,
            "settings": v.settings,
            "baseline": "O_DIRECT" if v.direct else "buffered",
            "target_params": lun.target_params,
            "target_params_applied_by": lun.applied_by,
            "samples": samples[v.name],
            "medians": summary(samples[v.name], cases),
            "context_samples": extra.get(v.name, {}),
            "context_medians": summary(extra[v.name], context) if v.name in extra else {},
        }
        for v, lun in exports
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 variants, 1 run, 1/4 the I/O")
    args = parser.parse_args()
    reason = why_skipped()
    if reason is not None:
        print(f"datapath: skipped, {reason}")
        return 0
    variants, runs, scale = (QUICK_VARIANTS, 1, 4) if args.quick else (VARIANTS, 5, 1)
    cases = tuple(dataclasses.replace(c, requests=c.requests // scale) for c in CASES)
    context = context_cases(scale)
    load_before = os.getloadavg()[0]
    results = run_all(variants, cases, context, runs)
    load_after = os.getloadavg()[0]
    met, text = verdict(results)
    print(render(results))
    print(f"\n{runs} run(s) per cell, medians. {text}\n")
    print(f"Initiator queue depth, with {results[-1]['variant']} (context: the host's choice):\n")
    print(render_context(results[-1], context))
    print("\nWhat each setting gave (ratio before -> after; the iSCSI rate's own change):\n")
    print(setting_notes(results, variants))
    print(f"\nLoad average (1 min) {load_before:.1f} before, {load_after:.1f} after.")
    if any(r["target_params_applied_by"] == "bench" for r in results):
        print(
            "Note: the exporter does not pass IscsiSettings.target_params() to its Reconciler "
            "yet; the bench set the keys on each new target before any login."
        )
    payload: dict[str, object] = {
        "tool": "qemu-img bench",
        "runs": runs,
        "cases": [dataclasses.asdict(c) for c in cases],
        "context_cases": [dataclasses.asdict(c) for c in context],
        "load_average_1min": [load_before, load_after],
        "results": results,
        "target": text,
        "target_met": met,
    }
    print(f"\nRaw results: {save('datapath', payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
