"""Suite-wide setup: byte-compiled sources, and the parallel run (pytest-xdist).

Many tests start Python subprocesses (`basalt serve`, the `basalt` console script).
Under PYTHONDONTWRITEBYTECODE=1 no such process leaves a .pyc behind, so each of them
would compile every Basalt module from source again (a few hundred ms a process). The
third-party packages are compiled when uv installs them (``compile-bytecode`` in
pyproject.toml); the project's own editable sources are compiled here. Stale files are
recompiled (compileall compares the source's timestamp), up-to-date ones are left alone.
For the same reason pytest may cache its assertion-rewritten test modules
(``__pycache__/*-pytest-*.pyc``, ignored by git): every worker would otherwise rewrite
and compile all of them again, ~5 s of CPU each.

The suite runs on several pytest-xdist workers (``-n auto --dist loadfile`` in
pyproject.toml): much of its time is spent waiting for servers, tgtd, iSCSI logins,
PostgreSQL and timeouts, which overlaps well. How many workers ``auto`` means is decided
by :func:`pytest_xdist_auto_num_workers`. With ``loadfile`` the tests are scheduled by
:class:`Scheduling`: the files of :data:`TOGETHER` go to one worker as a whole (their
tests share a module-scoped server or loop-mounted filesystem, started once), the
schemathesis cases in a few fixed blocks (:data:`IN_BLOCKS`), every other test on its
own (so no long file ends up as one worker's last minute).
"""

from __future__ import annotations

import compileall
import os
import sys
from collections import Counter
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling

sys.dont_write_bytecode = False  # before the test modules are imported (see above)
SOURCES = Path(__file__).resolve().parent.parent / "src"
WORKERS = 4
"""Workers for a run of the suite (or of directories of it). The machine this is tuned on
has 2 cores: the workers wait more than they compute, and 4 keep both cores busy."""


TOGETHER = (
    "tests/api/",
    "tests/service/test_migration.py",
    "tests/unit/drivers/file/test_driver.py",
)
"""Files (or directories) whose tests are scheduled on one worker together."""
IN_BLOCKS = {"tests/api/test_openapi.py": 4}
"""Files scheduled as that many runs of consecutive tests instead (each on one worker):
the 207 schemathesis cases share a server whose state each case may change, so every
block sees a fixed run of them, in order, as the whole file does in one process."""


class Scheduling(LoadScopeScheduling):
    """``--dist loadfile``, but file by file only for :data:`TOGETHER`, in blocks for
    :data:`IN_BLOCKS` (see the docstring at the top), test by test otherwise. Larger
    units are handed out first (xdist's ``--loadscope-reorder``)."""

    def __init__(self, config: pytest.Config, log: object = None) -> None:
        super().__init__(config, log)  # type: ignore[arg-type]
        self._blocks: dict[str, str] = {}

    def schedule(self) -> None:
        if self.collection is None and self.collection_is_completed:
            collection = next(iter(self.registered_collections.values()))
            by_file: dict[str, list[str]] = {}
            for nodeid in collection:
                path = nodeid.split("::", 1)[0]
                if path in IN_BLOCKS:
                    by_file.setdefault(path, []).append(nodeid)
            for path, nodeids in by_file.items():
                size = -(-len(nodeids) // IN_BLOCKS[path])  # ceiling division
                for index, nodeid in enumerate(nodeids):
                    self._blocks[nodeid] = f"{path} (block {index // size + 1})"
        super().schedule()

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        if path in IN_BLOCKS:
            return self._blocks[nodeid]
        if path.startswith(TOGETHER):
            return path
        return nodeid


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> Scheduling | None:
    if config.getvalue("dist") != "loadfile":
        return None  # another --dist asked for: xdist's own
    return Scheduling(config, log)  # type: ignore[arg-type]


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the controller did it
        return
    compileall.compile_dir(SOURCES, quiet=1, workers=1)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: PYTEST_XDIST_AUTO_NUM_WORKERS if set; else in-process (0) when the
    arguments name files or tests (a quick run does not pay for starting workers), and
    :data:`WORKERS` for the whole suite or directories of it."""
    configured = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS")
    if configured:
        return int(configured)
    named = [arg for arg in config.args if ".py" in arg]
    return 0 if named else WORKERS


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give each schemathesis case its own node id (the API operation it tests).

    With pytest 9.2 every operation's schemathesis test gets the same node id (pytest
    builds it from ``originalname``, which schemathesis sets to the bare test name);
    pytest-xdist's ``--dist loadfile`` schedules by node id and would run only one.
    """
    counts = Counter(item.nodeid for item in items)
    for item in items:
        label = getattr(item, "operation_label", None)
        if label and counts[item.nodeid] > 1 and item._id.params is None:
            item._id = item._id.with_params(label)
    duplicated = [nodeid for nodeid, n in Counter(i.nodeid for i in items).items() if n > 1]
    assert not duplicated, f"tests with the same node id (xdist would run one): {duplicated}"
