"""Suite-wide setup: byte-compile Basalt's own sources once, before any test runs.

Many tests start Python subprocesses (`basalt serve`, the `basalt` console script).
Under PYTHONDONTWRITEBYTECODE=1 no such process leaves a .pyc behind, so each of them
would compile every Basalt module from source again (a few hundred ms a process). The
third-party packages are compiled when uv installs them (``compile-bytecode`` in
pyproject.toml); the project's own editable sources are compiled here. Stale files are
recompiled (compileall compares the source's timestamp), up-to-date ones are left alone.
"""

from __future__ import annotations

import compileall
from pathlib import Path

import pytest

SOURCES = Path(__file__).resolve().parent.parent / "src"


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the controller did it
        return
    compileall.compile_dir(SOURCES, quiet=1, workers=1)
