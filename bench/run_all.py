"""Run every benchmark and rewrite docs/benchmarks.md with their tables.

uv run python bench/run_all.py [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = [
    ("Control plane: create -> available -> delete through REST", "control_plane.py", []),
    ("Snapshot and clone cost against volume size", "snapshot_clone.py", []),
]
QUICK_ARGS = {"control_plane.py": ["--cycles", "300"], "snapshot_clone.py": ["--quick"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a smoke check")
    args = parser.parse_args()
    sections = [
        "# Benchmarks\n",
        "Written by `make bench` (bench/run_all.py) on "
        f"{time.strftime('%Y-%m-%d', time.gmtime())}. Every ratio compares numbers measured "
        "side by side in the same run on the same machine (2 cores, shared and noisy); "
        "absolute times are only context. Raw results: bench/results/*.json.\n",
    ]
    status = 0
    for title, script, extra in BENCHMARKS:
        command = [sys.executable, str(ROOT / "bench" / script), *extra]
        if args.quick:
            command += QUICK_ARGS.get(script, [])
        print(f"== {title}: {' '.join(command[1:])}", flush=True)
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        print(done.stdout, done.stderr, sep="\n", flush=True)
        status |= done.returncode
        sections.append(
            f"## {title}\n\n`{script}`{' (quick)' if args.quick else ''}\n\n{done.stdout.strip()}\n"
        )
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(sections))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
