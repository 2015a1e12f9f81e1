"""Benchmark 4: the iSCSI data path against the raw file, and what each tgt setting gives.

Basalt exports one filled 1 GiB volume per variant of its ``[iscsi]`` settings (tgt
backing store, I/O threads, iSCSI keys), all at once, each through its own tgtd.
``qemu-img bench`` then runs four cases on every LUN (qemu's libiscsi driver, as
Basalt's CHAP user) and on its backing file (qemu's file driver): 1 MiB sequential
read and write at queue depth 8 (MiB/s) and 4 KiB read and write at queue depth 32
(IOPS), CrystalDiskMark's depths. Rounds interleave every variant and both sides
(orders rotate), so load from elsewhere hits all cells alike; cells are medians.
Targets for iSCSI / raw: >= 0.6 sequential, >= 0.5 random 4 KiB.

Why qemu-img bench: there is no kernel initiator here and Debian's fio has no libiscsi
engine (``fio --enghelp``), so fio could reach the LUN only through an extra qemu-nbd
hop. qemu-img bench sends the same request stream (size, depth, offsets) through the
same qemu block layer to both images, so the ratio is what tgt + iSCSI + loopback TCP
add. It has no random mode: "random" steps 104729 blocks (a prime, ~409 MiB) modulo
the volume, visiting every block once in a scattered order, the same on both sides.

Caching is matched: tgt's rdwr store without ``direct`` goes through the page cache,
so its baseline is the file buffered (``-t writeback``); aio (always O_DIRECT) and
rdwr + ``direct`` are compared with the file under O_DIRECT (``-t none``). The file
side uses io_uring, qemu's fastest path here. Neither side flushes after writes.
The raw baseline of a case is the median over every variant's file of the same
caching mode (the raw side does not depend on tgt's settings, and pooling keeps one
file's placement on this VM's disk out of one row); each file's own median is kept
in the JSON. Each tgtd's environment holds exactly its variant's malloc setting.

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
MALLOC_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


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
CONTEXT_CASES = (  # other initiator queue depths: the host's choice, not Basalt's
    Case("seq_read_qd1", "seq read 1 MiB", MIB, 1, 128),
    Case("seq_write_qd1", "seq write 1 MiB", MIB, 1, 128, write=True),
    Case("rand_read_qd1", "rand read 4 KiB", 4096, 1, 4096, scattered=True),
    Case("rand_write_qd1", "rand write 4 KiB", 4096, 1, 4096, write=True, scattered=True),
    Case("rand_read_qd8", "rand read 4 KiB", 4096, 8, 8192, scattered=True),
    Case("rand_write_qd8", "rand write 4 KiB", 4096, 8, 8192, write=True, scattered=True),
)


@dataclass(frozen=True)
class Variant:
    """One set of ``[iscsi]`` settings (IscsiSettings overrides) to measure.

    ``bench_keys`` are iSCSI keys Basalt has no setting for, set on the target by
    the bench before any login, to see whether they would matter.
    """

    name: str
    settings: dict[str, object] = field(default_factory=dict)
    against: str = ""  # the variant this one changes one thing of, for the notes
    bench_keys: dict[str, str] = field(default_factory=dict)

    @property
    def direct(self) -> bool:
        """Whether tgt bypasses the page cache (aio always; rdwr with ``direct``)."""
        iscsi = IscsiSettings.model_validate(self.settings)
        return iscsi.backing_store == "aio" or "direct" in iscsi.backing_store_flags

    def legend_row(self) -> list[object]:
        """The effective tuning settings, for the variants table."""
        iscsi = IscsiSettings.model_validate(self.settings)
        malloc = iscsi.tgtd_malloc_mmap_threshold_bytes
        return [
            self.name,
            iscsi.backing_store + "".join(f" + {flag}" for flag in iscsi.backing_store_flags),
            iscsi.io_threads or "tgt's 16",
            iscsi.max_recv_data_segment_bytes or "tgt's 8192",
            f"{malloc // MIB} MiB" if malloc else "glibc's",
            ", ".join(f"{k}={v}" for k, v in self.bench_keys.items()) or "tgt's",
        ]


TGT_OWN: dict[str, object] = {  # tgt's and glibc's own values for what Basalt now sets
    "max_recv_data_segment_bytes": 8192,
    "tgtd_malloc_mmap_threshold_bytes": None,
}
RDWR: dict[str, object] = {"backing_store": "rdwr"}
BEFORE, DEFAULTS, PAGE_CACHE = "tgt defaults", "Basalt defaults", "rdwr (page cache)"
VARIANTS = (
    Variant(BEFORE, {**RDWR, **TGT_OWN}),
    Variant(DEFAULTS, {}, BEFORE),
    Variant(PAGE_CACHE, RDWR, DEFAULTS),
    Variant("rdwr + direct", {**RDWR, "backing_store_flags": ["direct"]}, DEFAULTS),
    Variant("8 KiB write PDUs", {"max_recv_data_segment_bytes": 8192}, DEFAULTS),
    Variant("glibc malloc thresholds", {"tgtd_malloc_mmap_threshold_bytes": None}, DEFAULTS),
    Variant("io_threads 4", {"io_threads": 4}, DEFAULTS),
    Variant("io_threads 64", {"io_threads": 64}, DEFAULTS),
    Variant(
        "bursts, InitialR2T=No",
        {},
        DEFAULTS,
        {
            "FirstBurstLength": "262144",
            "MaxBurstLength": "1048576",
            "InitialR2T": "No",
            "MaxXmitDataSegmentLength": "262144",
        },
    ),
)
QUICK_VARIANTS = (VARIANTS[0], VARIANTS[1], VARIANTS[2])
CONTEXT_VARIANTS = (DEFAULTS, PAGE_CACHE)


@dataclass(frozen=True)
class Lun:
    """An exported volume: how to reach it over iSCSI, and its backing file."""

    portal: str
    iqn: str
    user: str
    secret: str
    path: Path
    tgtd_state: dict[str, str]  # the target's iSCSI keys and tgtd's malloc variables
    basalt_set_keys: bool

    def image(self, *, iscsi: bool, direct: bool) -> list[str]:
        """qemu-img arguments naming this LUN (iscsi) or its file, with the cache mode."""
        cache = ["-t", "none" if direct else "writeback"]
        if not iscsi:
            return ["-f", "raw", *cache, "-i", "io_uring", str(self.path)]
        opts = [
            "driver=iscsi", "transport=tcp", f"portal={self.portal}", f"target={self.iqn}",
            "lun=1", f"initiator-name={INITIATOR}", f"user={self.user}",
            f"password={self.secret}",
        ]  # fmt: skip
        return ["--image-opts", *cache, ",".join(opts)]


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


def set_target_keys(
    iscsi: IscsiSettings, iqn: str, extra: dict[str, str]
) -> tuple[bool, dict[str, str]]:
    """Check the new target holds the configured keys; set them (and ``extra``) if not.

    Returns:
        Whether Basalt itself had set the configured keys, and the keys the target
        now offers. No initiator has logged in yet, so every login sees them.
    """
    admin = TgtAdmin(iscsi.control_port, tgtadm_path=iscsi.tgtadm_path)
    tid = next(t.tid for t in admin.targets() if t.iqn == iqn)
    held = admin.target_params(tid)
    configured = iscsi.target_params()
    by_basalt = all(held.get(key) == value for key, value in configured.items())
    for key, value in {**configured, **extra}.items():
        if held.get(key) != value:
            admin.update_target_param(tid, key, value)
    return by_basalt, admin.target_params(tid)


@contextmanager
def tgtd_inherits(env: dict[str, str]) -> Iterator[None]:
    """Let a tgtd started meanwhile inherit ``env`` (and no other glibc malloc variables)."""
    saved = {key: os.environ.pop(key, None) for key in MALLOC_VARIABLES}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None)
            if value is not None:
                os.environ[key] = value


def tgtd_malloc_environment(data_dir: Path) -> dict[str, str]:
    """The glibc malloc variables the running tgtd of a Basalt got (from its pid file)."""
    pid = (data_dir / "iscsi" / "tgtd.pid").read_text().strip()
    entries = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    return dict(e.split("=", 1) for e in entries if e.split("=", 1)[0] in MALLOC_VARIABLES)


@contextmanager
def exported_volume(work: Path, variant: Variant) -> Iterator[Lun]:
    """A Basalt (own tgtd) with ``variant``'s settings exporting one filled 1 GiB volume."""
    port = {"portals": [f"127.0.0.1:{free_tcp_port()}"], "control_port": free_control_port()}
    iscsi = IscsiSettings.model_validate({**variant.settings, **port})
    data_dir = Path(tempfile.mkdtemp(prefix="basalt-", dir=work))
    with ExitStack() as stack:
        inherit = stack.enter_context(ExitStack())  # closed once tgtd runs
        inherit.enter_context(tgtd_inherits(iscsi.tgtd_environment()))
        b = stack.enter_context(basalt.open(basalt.Settings(data_dir=data_dir, iscsi=iscsi)))
        volume = b.volumes.create(size_gib=VOLUME_GIB).wait(timeout=60)
        path = data_dir / "pools" / "file" / "default" / "volumes" / f"{volume.id}.raw"
        fill(path, VOLUME_GIB * 1024 * MIB)
        result = b.attachments.attach(volume.id, {"host": "bench", "initiator": INITIATOR})
        stack.callback(b.attachments.detach, result.attachment.id)
        inherit.close()
        b.attachments.complete(result.attachment.id)
        data = {key: str(value) for key, value in result.connection_info.data.items()}
        by_basalt, held = set_target_keys(iscsi, data["target_iqn"], variant.bench_keys)
        held.update(tgtd_malloc_environment(data_dir))
        yield Lun(
            data["target_portal"], data["target_iqn"], data["auth_username"],
            data["auth_password"], path, held, by_basalt,
        )  # fmt: skip


Samples = dict[str, dict[str, list[float]]]


def measure(
    exports: list[tuple[Variant, Lun]], cases: tuple[Case, ...], *, runs: int
) -> dict[str, Samples]:
    """Every case on every export, both sides, ``runs`` rounds, all interleaved.

    Each round walks the cases, and for each case every export (their order rotates
    each round), running the file and the LUN back to back (which goes first
    alternates), so load from elsewhere on the machine hits every cell alike.
    """
    samples: dict[str, Samples] = {
        v.name: {c.key: {"iscsi": [], "raw": []} for c in cases} for v, _ in exports
    }
    for run in range(runs):
        print(f"  {len(cases)} cases, round {run + 1}/{runs}", file=sys.stderr, flush=True)
        rotated = exports[run % len(exports) :] + exports[: run % len(exports)]
        for case in cases:
            for variant, lun in rotated:
                sides = ("raw", "iscsi") if run % 2 == 0 else ("iscsi", "raw")
                for side in sides:
                    image = lun.image(iscsi=side == "iscsi", direct=variant.direct)
                    samples[variant.name][case.key][side].append(qemu_img_bench(image, case))
    return samples


RawPool = dict[bool, dict[str, list[float]]]


def pooled_raw(
    exports: list[tuple[Variant, Lun]], samples: dict[str, Samples], cases: tuple[Case, ...]
) -> RawPool:
    """Every raw-file sample per case, pooled over the variants of one caching mode.

    The raw side does not depend on tgt's settings: each variant's file is made the
    same way and read or written the same way (buffered, or O_DIRECT). Pooling them
    keeps one file's placement on this VM's disk (one file's O_DIRECT 4 KiB writes
    ran 3-4x faster than its identical siblings', run after run) out of one row.
    """
    pool: RawPool = {mode: {c.key: [] for c in cases} for mode in (False, True)}
    for variant, _ in exports:
        for case in cases:
            pool[variant.direct][case.key] += samples[variant.name][case.key]["raw"]
    return pool


def summary(
    samples: Samples, cases: tuple[Case, ...], raw: dict[str, list[float]]
) -> dict[str, dict[str, float]]:
    """Per case: the iSCSI median, the pooled raw median, and their ratio."""
    out = {}
    for case in cases:
        iscsi, baseline = median(samples[case.key]["iscsi"]), median(raw[case.key])
        out[case.key] = {
            "iscsi": iscsi,
            "raw": baseline,
            "raw_this_file": median(samples[case.key]["raw"]),
            "ratio": iscsi / baseline,
        }
    return out


Result = dict[str, object]


def run_all(
    variants: tuple[Variant, ...], cases: tuple[Case, ...], context: tuple[Case, ...], runs: int
) -> list[Result]:
    """Export one volume per variant (all at once), measure, and clean up even on failure."""
    work = Path(tempfile.mkdtemp(prefix="basalt-bench-datapath-"))
    try:
        with ExitStack() as stack:
            print(f"  exporting {len(variants)} filled volumes", file=sys.stderr, flush=True)
            exports = [(v, stack.enter_context(exported_volume(work, v))) for v in variants]
            samples = measure(exports, cases, runs=runs)
            chosen = [(v, lun) for v, lun in exports if v.name in CONTEXT_VARIANTS]
            extra = measure(chosen, context, runs=runs)
            raw, raw_extra = pooled_raw(exports, samples, cases), pooled_raw(chosen, extra, context)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return [
        {
            "variant": v.name,
            "settings": v.settings,
            "bench_keys": v.bench_keys,
            "baseline": "O_DIRECT" if v.direct else "buffered",
            "tgtd_state": lun.tgtd_state,
            "basalt_set_keys": lun.basalt_set_keys,
            "samples": samples[v.name],
            "medians": summary(samples[v.name], cases, raw[v.direct]),
            "context_medians": (
                summary(extra[v.name], context, raw_extra[v.direct]) if v.name in extra else {}
            ),
        }
        for v, lun in exports
    ]


def medians_of(result: Result, key: str, *, context: bool = False) -> dict[str, float]:
    medians = result["context_medians" if context else "medians"]
    assert isinstance(medians, dict)
    return dict(medians[key])


def cell(medians: dict[str, float], case: Case) -> list[str]:
    ratio = medians["ratio"]
    return [
        f"{medians['iscsi']:,.0f} / {medians['raw']:,.0f}",
        f"{ratio:.2f} " + "✗✓"[ratio >= case.target],
    ]


def render(results: list[Result]) -> str:
    headers = ["variant", "raw file"]
    for case in CASES:
        headers += [f"{case.label} {case.unit} (iSCSI / raw)", "ratio"]
    rows = []
    for result in results:
        row = [str(result["variant"]), str(result["baseline"])]
        for case in CASES:
            row += cell(medians_of(result, case.key), case)
        rows.append(row)
    return table(headers, rows)


def render_context(results: list[Result], context: tuple[Case, ...]) -> str:
    """Ratios at other queue depths for the CONTEXT_VARIANTS (depth 8/32 from the main table)."""
    chosen = [r for r in results if r["variant"] in CONTEXT_VARIANTS]
    rows = []
    for case in sorted((*context, *CASES), key=lambda c: (c.label, c.depth)):
        row: list[object] = [case.label, case.depth]
        for result in chosen:
            row += cell(medians_of(result, case.key, context=case in context), case)
        rows.append(row)
    headers: list[str] = ["case", "queue depth"]
    for result in chosen:
        headers += [f"{result['variant']} iSCSI / raw", "ratio"]
    return table(headers, rows)


def ratio_of(result: Result, key: str) -> float:
    return medians_of(result, key)["ratio"]


def setting_notes(results: list[Result], variants: tuple[Variant, ...]) -> str:
    """What each setting gave: ratio before -> after, and the iSCSI side's own change."""
    by_name = {str(r["variant"]): r for r in results}
    lines = []
    for variant in variants:
        ref = by_name.get(variant.against)
        if ref is None:
            continue
        now = by_name[variant.name]
        parts = [
            f"{c.label} {ratio_of(ref, c.key):.2f} -> {ratio_of(now, c.key):.2f} (iSCSI "
            f"{medians_of(now, c.key)['iscsi'] / medians_of(ref, c.key)['iscsi'] - 1:+.0%})"
            for c in CASES
        ]
        lines.append(f"- {variant.name} vs {variant.against}: {'; '.join(parts)}")
    return "\n".join(lines)


def verdict(results: list[Result]) -> tuple[bool, str]:
    """Whether Basalt's defaults meet every target, and the variants that do."""
    ours = next(r for r in results if r["variant"] == DEFAULTS)
    met = {c.key: ratio_of(ours, c.key) >= c.target for c in CASES}
    held = ", ".join(
        f"{c.label} {ratio_of(ours, c.key):.2f} {'MET' if met[c.key] else 'MISSED'}" for c in CASES
    )
    every = [
        str(r["variant"]) for r in results if all(ratio_of(r, c.key) >= c.target for c in CASES)
    ]
    text = (
        f"Targets (iSCSI / raw >= 0.6 sequential, >= 0.5 random 4 KiB) with {DEFAULTS}: "
        f"{held}. Variants meeting all four: {', '.join(every) or 'none'}."
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


def report(results: list[Result], variants: tuple[Variant, ...], runs: int) -> tuple[bool, str]:
    """Print the tables and notes; return the verdict."""
    met, text = verdict(results)
    print(render(results))
    print(f"\n{runs} run(s) per cell, medians. {text}\n")
    print("Initiator queue depth (the host's choice; context):\n")
    print(render_context(results, CONTEXT_CASES))
    print("\nVariants (the keys in the last column are set by the bench; Basalt has no setting):\n")
    headers = ["variant", "backing store", "io_threads", "MaxRecvDataSegmentLength"]
    headers += ["tgtd malloc mmap threshold", "other iSCSI keys"]
    print(table(headers, [v.legend_row() for v in variants]))
    print("\nWhat each setting gave (ratio before -> after; the iSCSI rate's own change):\n")
    print(setting_notes(results, variants))
    if not all(r["basalt_set_keys"] for r in results):
        print(
            "\nNote: Basalt's exporter did not set IscsiSettings.target_params() on its "
            "targets (iscsi.py does not pass them to the Reconciler); the bench set them "
            "before any login."
        )
    return met, text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 variants, 1 run, 1/4 the I/O")
    args = parser.parse_args()
    reason = why_skipped()
    if reason is not None:
        print(f"datapath: skipped, {reason}")
        return 0
    variants, runs, scale = (QUICK_VARIANTS, 1, 4) if args.quick else (VARIANTS, 5, 1)
    cases = tuple(dataclasses.replace(c, requests=c.requests // scale) for c in CASES)
    context = tuple(dataclasses.replace(c, requests=c.requests // scale) for c in CONTEXT_CASES)
    load = [os.getloadavg()[0]]
    results = run_all(variants, cases, context, runs)
    load.append(os.getloadavg()[0])
    met, text = report(results, variants, runs)
    print(f"\n1-minute load average {load[0]:.1f} before the run, {load[1]:.1f} after.")
    payload: dict[str, object] = {
        "tool": "qemu-img bench",
        "runs": runs,
        "cases": [dataclasses.asdict(c) for c in (*cases, *context)],
        "load_average_1min": load,
        "results": results,
        "target": text,
        "target_met": met,
    }
    print(f"Raw results: {save('datapath', payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
