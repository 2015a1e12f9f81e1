"""`python -m basalt_emulators <emulator> [options]`: run one emulator in the foreground."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import cast

# Emulator name -> module whose `main(argv) -> int` runs it.
EMULATORS: dict[str, str] = {
    "solidfire": "basalt_emulators.solidfire.cli",
}


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the named emulator's command line.

    Args:
        argv: the arguments after the program name (default: sys.argv[1:]).

    Returns:
        The process exit status.
    """
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in EMULATORS:
        names = ", ".join(sorted(EMULATORS))
        print(f"usage: python -m basalt_emulators {{{names}}} [options]", file=sys.stderr)
        return 0 if args[:1] in (["-h"], ["--help"]) else 2
    module = importlib.import_module(EMULATORS[args[0]])
    run = cast(Callable[[list[str]], int], module.main)
    return run(args[1:])


if __name__ == "__main__":
    sys.exit(main())
