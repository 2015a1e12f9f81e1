"""The `basalt` command line against a fresh data directory.

Most tests drive the click group in-process with CliRunner; the ones marked
``slow`` run the real console script in a subprocess.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

import basalt
from basalt.cli.errors import EXIT_CODES, WaitFailedError, exit_code_for
from basalt.cli.main import cli
from basalt.drivers.types import GIB
from basalt.errors import (
    BasaltError,
    ConfigError,
    InsufficientCapacityError,
    InvalidInputError,
    ManageExistingInvalidReferenceError,
    NotSupportedError,
    OperationFailedError,
    PermissionDeniedError,
    PersistenceError,
    ResourceBusyError,
    SnapshotNotFoundError,
    VolumeHasSnapshotsError,
)
from tests.support.content import head
from tests.support.server import start_server

Run = Callable[..., Result]
RunJson = Callable[..., Any]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory; no BASALT_* settings or basalt.toml leak in, nor a COLUMNS
    (pytest-xdist's workers have COLUMNS=80, which would cut the tables' ids short)."""
    for name in list(os.environ):
        if name.startswith("BASALT_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "data"


@pytest.fixture
def run(data_dir: Path) -> Run:
    """Run `basalt --data-dir <data_dir> ARGS...` and check the exit code (``code=``).

    A single argument is split like a shell would: ``run("volume list --limit 2")``.
    """
    runner = CliRunner()

    def invoke(*args: str, code: int = 0, env: dict[str, str] | None = None) -> Result:
        if len(args) == 1:
            args = tuple(shlex.split(args[0]))
        result = runner.invoke(cli, ["--data-dir", str(data_dir), *args], env=env)
        assert result.exit_code == code, (
            f"basalt {' '.join(args)} exited {result.exit_code}, wanted {code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}\nexception: {result.exception!r}"
        )
        return result

    return invoke


@pytest.fixture
def run_json(run: Run) -> RunJson:
    """Run with --json after the subcommand and parse stdout (exactly one document)."""

    def invoke(*args: str, code: int = 0) -> Any:
        if len(args) == 1:
            args = tuple(shlex.split(args[0]))
        return json.loads(run(*args, "--json", code=code).stdout)

    return invoke


def pool_volumes_dir(data_dir: Path, kind: str = "volumes") -> Path:
    settings = basalt.load_settings(data_dir=data_dir)
    return Path(settings.resolved_backends[0].pools["default"]) / kind


def grow_behind_basalts_back(data_dir: Path, volume_id: str) -> None:
    """Make the volume's file 3 GiB, so that the driver refuses to "extend" it to 2 GiB."""
    os.truncate(pool_volumes_dir(data_dir) / f"{volume_id}.raw", 3 * GIB)


def assert_nothing_created(run_json: RunJson) -> None:
    assert run_json("volume", "list") == []
    assert run_json("snapshot", "list") == []


def new_volume(run_json: RunJson, *args: str) -> dict[str, Any]:
    volume: dict[str, Any] = run_json("volume", "create", "--size", "1", "--wait", *args)
    assert volume["status"] == "available"
    return volume


# --- lifecycle -------------------------------------------------------------------------


def test_create_show_list_json(run_json: RunJson) -> None:
    created = run_json(
        "volume create --size 1 --name db --description 'main db' "
        "--property tier=gold --property expr=a=b"
    )
    assert created["size_gib"] == 1
    assert (created["name"], created["description"]) == ("db", "main db")
    assert created["metadata"] == {"tier": "gold", "expr": "a=b"}
    assert created["status"] in ("creating", "available")
    assert (created["backend"], created["pool"]) == ("file", "default")
    assert created["host"] == "basalt@file#default"
    assert isinstance(created["operation_id"], str)
    assert created["created_at"].endswith("+00:00")  # ISO 8601 with its offset

    shown = run_json("volume", "show", created["id"])
    assert shown["status"] == "available"  # the CLI waited for the operation before exiting
    assert shown["id"] == created["id"]
    assert "operation_id" not in shown
    assert [v["id"] for v in run_json("volume", "list")] == [created["id"]]

    operation = run_json("operation", "show", created["operation_id"])
    assert (operation["kind"], operation["phase"]) == ("create_volume", "succeeded")
    assert operation["resource_id"] == created["id"]
    assert operation["progress_percent"] == 100.0
    assert operation["error_code"] is None


def test_update_replaces_or_clears_metadata(run_json: RunJson) -> None:
    volume = new_volume(run_json, "--description", "main db", "--property", "a=1")
    updated = run_json("volume", "update", volume["id"], "--name", "db2", "--property", "b=2")
    assert (updated["name"], updated["description"]) == ("db2", "main db")
    assert updated["metadata"] == {"b": "2"}  # replaced, not merged
    cleared = run_json("volume", "update", volume["id"], "--clear-properties")
    assert cleared["metadata"] == {} and cleared["name"] == "db2"
    assert run_json("volume", "show", volume["id"])["metadata"] == {}


def test_extend_snapshot_and_copies(run_json: RunJson) -> None:
    volume = new_volume(run_json, "--name", "src")
    extended = run_json("volume", "extend", volume["id"], "2", "--wait")
    assert (extended["size_gib"], extended["status"]) == (2, "available")

    snap = run_json(f"snapshot create {volume['id']} --name s1 --property k=v --wait")
    assert (snap["status"], snap["volume_id"]) == ("available", volume["id"])
    assert (snap["size_gib"], snap["name"], snap["metadata"]) == (2, "s1", {"k": "v"})
    assert [s["id"] for s in run_json("snapshot", "list", "--volume", volume["id"])] == [snap["id"]]
    assert run_json("snapshot", "show", snap["id"])["status"] == "available"

    restored = run_json(f"volume create --size 3 --snapshot {snap['id']} --wait")
    assert (restored["snapshot_id"], restored["size_gib"]) == (snap["id"], 3)
    clone = run_json(f"volume clone {volume['id']} --name copy --wait")
    assert clone["source_volume_id"] == volume["id"]
    assert (clone["size_gib"], clone["name"]) == (2, "copy")
    kinds = {o["kind"] for o in run_json("operation", "list")}
    wanted = {"extend_volume", "create_snapshot", "clone_volume", "create_volume_from_snapshot"}
    assert wanted <= kinds


def test_delete_with_snapshots_needs_cascade(run_json: RunJson) -> None:
    volume = new_volume(run_json)
    snap = run_json("snapshot", "create", volume["id"], "--wait")
    refused = run_json("volume", "delete", volume["id"], code=5)
    assert refused["error"]["code"] == "volume_has_snapshots"
    assert "cascade" in refused["error"]["hint"]
    assert run_json("volume", "show", volume["id"])["status"] == "available"

    gone = run_json("volume", "delete", volume["id"], "--cascade", "--wait")
    assert (gone["id"], gone["status"]) == (volume["id"], "deleted")
    assert run_json("operation", "show", gone["operation_id"])["phase"] == "succeeded"
    assert run_json("volume", "show", volume["id"], code=3)["error"]["code"] == "volume_not_found"
    missing = run_json("snapshot", "show", snap["id"], code=3)
    assert missing["error"]["code"] == "snapshot_not_found"
    events = run_json("volume", "events", volume["id"])  # admins still see the timeline
    assert events[-1]["message"] == "deleted"


def test_snapshot_delete_and_events(run_json: RunJson, run: Run) -> None:
    volume = new_volume(run_json)
    snap = run_json("snapshot", "create", volume["id"], "--wait")
    deleted = run_json("snapshot", "delete", snap["id"])
    assert deleted["id"] == snap["id"] and deleted["status"] in ("deleting", "deleted")
    assert run_json("snapshot", "list") == []
    assert [e["kind"] for e in run_json("snapshot", "events", snap["id"])][0] == "status_change"
    assert "deleted" in run("volume", "delete", volume["id"], "--wait").stdout


def test_list_filters_sort_and_pages(run_json: RunJson) -> None:
    ids = {}
    for size, tier in (("1", "a"), ("3", "b"), ("2", "a")):
        ids[size] = new_volume(run_json, "--size", size, "--property", f"tier={tier}")["id"]
    by_size = run_json("volume", "list", "--sort", "size_gib:asc")
    assert [v["size_gib"] for v in by_size] == [1, 2, 3]
    first = run_json("volume", "list", "--sort", "size_gib:desc", "--limit", "2")
    assert [v["size_gib"] for v in first] == [3, 2]
    rest = run_json("volume", "list", "--sort", "size_gib:desc", "--marker", first[-1]["id"])
    assert [v["size_gib"] for v in rest] == [1]
    tier_a = run_json("volume", "list", "--property", "tier=a")
    assert {v["id"] for v in tier_a} == {ids["1"], ids["2"]}
    assert len(run_json("volume", "list", "--status", "available", "--all-projects")) == 3
    assert run_json("volume", "list", "--status", "error") == []


# --- output --------------------------------------------------------------------------


def test_json_before_and_after_the_command(run: Run) -> None:
    before = json.loads(run("--json", "pool", "list").stdout)
    after = json.loads(run("pool", "list", "--json").stdout)
    assert [p["name"] for p in before] == [p["name"] for p in after] == ["default"]
    pool = after[0]
    assert pool["backend"] == "file" and pool["driver"] == "file"
    assert isinstance(pool["reflink"], bool)
    assert {
        "total_capacity_gib",
        "free_capacity_gib",
        "provisioned_capacity_gib",
        "thin_ratio",
        "location",
    } <= set(pool)


def test_tables_by_default(run: Run, run_json: RunJson) -> None:
    volume = new_volume(run_json, "--name", "[bold]not-markup")
    shown = run("volume", "show", volume["id"]).stdout
    assert "Field" in shown and "Value" in shown
    assert volume["id"] in shown and "[bold]not-markup" in shown
    listed = run("volume", "list").stdout
    assert volume["id"] in listed  # whole ids, never cut short
    pools = run("pool", "list").stdout
    assert "Reflink" in pools and "Thin ratio" in pools and "default" in pools
    ops = run("operation", "list", "--resource", volume["id"]).stdout
    assert "create_volume" in ops and "succeeded" in ops


def test_wait_shows_progress_on_stderr_and_the_final_resource(run: Run) -> None:
    result = run("volume", "create", "--size", "1", "--name", "w", "--wait")
    assert "create_volume" in result.stderr and "succeeded" in result.stderr
    assert "available" in result.stdout and "operation_id" in result.stdout
    as_json = run("volume", "create", "--size", "1", "--wait", "--json")
    assert json.loads(as_json.stdout)["status"] == "available"  # nothing else on stdout


def test_operation_show_after_failure_names_code_and_hint(
    run_json: RunJson, run: Run, data_dir: Path
) -> None:
    volume = new_volume(run_json)
    grow_behind_basalts_back(data_dir, volume["id"])

    failed = run("volume", "extend", volume["id"], "2", "--wait", "--json", code=6)
    error = json.loads(failed.stdout)["error"]
    assert error["code"] == "driver_error" and "shrink" in error["message"]
    assert error["hint"] == "volumes can only grow"
    assert (
        "\nerror: operation " in failed.stderr and "\nhint: volumes can only grow" in failed.stderr
    )
    ops = run_json("operation", "list", "--resource", volume["id"])
    extend = next(o for o in ops if o["kind"] == "extend_volume")
    assert (extend["phase"], extend["error_code"]) == ("failed", "driver_error")
    assert extend["hint"] == error["hint"] and "shrink" in extend["message"]
    assert extend["progress_percent"] is None and extend["finished"] is True
    shown = run("operation", "show", extend["id"]).stdout
    assert "driver_error" in shown and "volumes can only grow" in shown
    assert run_json("volume", "show", volume["id"])["status"] == "error_extending"


def test_failure_without_wait_exits_6_and_keeps_one_json_document(
    run_json: RunJson, run: Run, data_dir: Path
) -> None:
    volume = new_volume(run_json)
    grow_behind_basalts_back(data_dir, volume["id"])
    result = run("volume", "extend", volume["id"], "2", "--json", code=6)
    printed = json.loads(result.stdout)  # the resource as it was right after the request
    assert printed["id"] == volume["id"] and printed["operation_id"]
    assert "error: operation" in result.stderr


# --- manage --------------------------------------------------------------------------


def test_manage_rounds_up_and_unmanage_leaves_the_file(run_json: RunJson, data_dir: Path) -> None:
    run_json("pool", "list")  # opens Basalt once, which creates the pool directories
    source = pool_volumes_dir(data_dir) / "legacy.img"
    with source.open("wb") as f:
        f.write(b"hello")
        f.truncate(GIB + GIB // 2)

    candidates = run_json("volume", "manageable")
    assert candidates == [
        {
            "reference": {"source-name": "legacy.img"},
            "size_gib": 2,
            "safe_to_manage": True,
            "reason_not_safe": None,
            "basalt_id": None,
            "extra_info": f"{GIB + GIB // 2} bytes",
        }
    ]
    managed = run_json("volume", "manage", "legacy.img", "--name", "adopted", "--wait")
    assert (managed["status"], managed["size_gib"], managed["name"]) == ("available", 2, "adopted")
    assert not source.exists()

    released = run_json("volume", "unmanage", managed["id"], "--wait")
    assert released == {
        "id": managed["id"],
        "status": "unmanaged",
        "operation_id": released["operation_id"],
    }
    assert run_json("volume", "list") == []
    leftover = [p for p in pool_volumes_dir(data_dir).iterdir() if managed["id"] in p.name]
    assert len(leftover) == 1
    assert head(leftover[0], 5) == b"hello"


def test_manage_and_unmanage_a_snapshot(run_json: RunJson, data_dir: Path) -> None:
    volume = new_volume(run_json)
    source = pool_volumes_dir(data_dir, "snapshots") / "old-snap.img"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(b"x" * 4096)
    listed = run_json("snapshot", "manageable")
    assert [c["reference"] for c in listed] == [{"source-name": "old-snap.img"}]
    snap = run_json("snapshot", "manage", "old-snap.img", "--volume", volume["id"], "--wait")
    assert (snap["status"], snap["volume_id"], snap["size_gib"]) == ("available", volume["id"], 1)
    released = run_json("snapshot", "unmanage", snap["id"], "--wait")
    assert released["status"] == "unmanaged"
    assert run_json("snapshot", "list") == []
    assert any(snap["id"] in p.name for p in source.parent.iterdir())


@pytest.mark.parametrize("name", ["missing.img", "../etc/passwd", ".hidden"])
def test_manage_bad_reference_is_invalid_input(run_json: RunJson, name: str) -> None:
    error = run_json("volume", "manage", name, code=4)["error"]
    assert error["code"] == "manage_existing_invalid_reference"
    assert_nothing_created(run_json)


# --- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--size", "0"], "size"),
        (["--size", "-1"], "size"),
        (["--size", "1.5"], "size"),
        (["--size", "abc"], "size"),
        (["--size", "1", "--name", "a/b"], "name"),
        (["--size", "1", "--name", "a..b"], "name"),
        (["--size", "1", "--name", "x" * 10_000], "name"),
        (["--size", "1", "--description", "d" * 256], "description"),
        (["--size", "1", "--property", "a/b=1"], "metadata key"),
    ],
)
def test_bad_create_input_exits_4_and_creates_nothing(
    run: Run, run_json: RunJson, args: list[str], field: str
) -> None:
    result = run("volume", "create", *args, "--json", code=4)
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "invalid_input"
    assert error["message"].startswith(f"invalid {field}:")
    assert result.stderr.startswith(f"error: invalid {field}:")
    assert len(result.stderr) < 500  # a 10 kB name is not echoed back
    assert_nothing_created(run_json)


@pytest.mark.parametrize(
    "args",
    [
        ["volume", "show", "nope"],
        ["volume", "delete", "nope"],
        ["volume", "extend", "nope", "2"],
        ["volume", "clone", "nope"],
        ["volume", "unmanage", "nope"],
        ["volume", "events", "nope"],
        ["snapshot", "events", "nope"],
        ["volume", "update", "nope", "--name", "x"],
        ["volume", "create", "--size", "1", "--snapshot", "nope"],
        ["volume", "create", "--size", "1", "--source-volume", "nope"],
        ["volume", "create", "--size", "1", "--pool", "file#nope"],
        ["snapshot", "create", "nope"],
        ["snapshot", "show", "nope"],
        ["snapshot", "delete", "nope"],
        ["snapshot", "manage", "x.img", "--volume", "nope"],
        ["operation", "show", "nope"],
    ],
)
def test_unknown_ids_exit_3(run: Run, run_json: RunJson, args: list[str]) -> None:
    result = run(*args, code=3)
    assert result.stderr.startswith("error: ") and "could not be found" in result.stderr
    assert "Traceback" not in result.output
    assert_nothing_created(run_json)


def test_extend_must_grow(run_json: RunJson, run: Run) -> None:
    volume = new_volume(run_json, "--size", "2")
    for size in ("2", "1", "-5", "0", "abc"):
        assert run_json("volume", "extend", volume["id"], size, code=4)["error"]["code"] == (
            "invalid_input"
        )
    assert run_json("volume", "show", volume["id"])["size_gib"] == 2
    assert "new_size" in run("volume", "extend", volume["id"], "1", code=4).stderr


def test_smaller_than_source_is_invalid(run_json: RunJson) -> None:
    volume = new_volume(run_json, "--size", "2")
    assert run_json("volume", "clone", volume["id"], "--size", "1", code=4)["error"]["message"]
    assert len(run_json("volume", "list")) == 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["volume", "create", "--size", "1", "--property", "novalue"], "novalue"),
        (["volume", "list", "--sort", "name:sideways"], "sideways"),
        (["volume", "list", "--limit", "0"], "--limit"),
        (["volume", "list", "--status", "bogus"], "bogus"),
        (["volume", "create"], "--size"),
        (["volume", "update", "some-id"], "nothing to update"),
        (["volume", "frobnicate"], "frobnicate"),
    ],
)
def test_usage_errors_exit_2(run: Run, run_json: RunJson, args: list[str], needle: str) -> None:
    result = run(*args, code=2)
    assert needle in result.stderr
    assert_nothing_created(run_json)


def test_bad_sort_key_and_marker_are_invalid_input(run_json: RunJson) -> None:
    assert run_json("volume", "list", "--sort", "colour:asc", code=4)["error"]["code"] == (
        "invalid_input"
    )
    assert "marker" in run_json("volume", "list", "--marker", "nope", code=4)["error"]["message"]


def test_capacity_and_config_errors(run: Run, run_json: RunJson, tmp_path: Path) -> None:
    config = tmp_path / "tight.toml"
    config.write_text('[[backends]]\nname = "file"\nmax_over_subscription_ratio = 0.001\n')
    result = run("--config", str(config), "volume", "create", "--size", "1000000", "--json", code=7)
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "no_valid_backend"
    assert "1 fail capacity" in error["message"]
    (pool,) = error["explanation"]["pools"]
    assert pool["host"] == "basalt@file#default" and not pool["passed"]
    assert "basalt@file#default" in result.stderr and "capacity" in result.stderr
    assert run("--config", str(config), "volume", "list", "--json").stdout.strip() == "[]"

    missing = run("--config", str(tmp_path / "absent.toml"), "volume", "list", code=10)
    assert "absent.toml" in missing.stderr
    config.write_text("workers = 0\n")
    assert "workers" in run("--config", str(config), "pool", "list", code=10).stderr


def test_data_dir_from_environment_and_flag_wins(tmp_path: Path, data_dir: Path, run: Run) -> None:
    runner = CliRunner()
    env_dir = tmp_path / "from-env"
    made = runner.invoke(
        cli, ["volume", "create", "--size", "1", "--json"], env={"BASALT_DATA_DIR": str(env_dir)}
    )
    assert made.exit_code == 0, made.output
    assert (env_dir / "basalt.db").exists()
    # The flag beats the environment, although the library lets BASALT_* beat overrides.
    assert (
        run("volume", "list", "--json", env={"BASALT_DATA_DIR": str(env_dir)}).stdout.strip()
        == "[]"
    )


# --- the exit-code table ------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (SnapshotNotFoundError("x"), 3),
        (InvalidInputError("size", "bad"), 4),
        (ManageExistingInvalidReferenceError({}, "bad"), 4),
        (VolumeHasSnapshotsError("v", 1), 5),
        (ResourceBusyError("busy"), 5),
        (OperationFailedError(object()), 6),
        (WaitFailedError(InvalidInputError("x", "y"), operation_id="o"), 6),
        (InsufficientCapacityError(pool="p", requested_gib=2, available_gib=1.0), 7),
        (NotSupportedError("file", "manage"), 8),
        (PermissionDeniedError("manage"), 9),
        (PersistenceError("db down"), 10),
        (ConfigError("bad"), 10),
        (BasaltError("shutting down"), 1),
        (KeyError("bug"), 1),
    ],
)
def test_most_specific_class_wins(error: Exception, code: int) -> None:
    assert exit_code_for(error) == code


def test_every_documented_code_is_in_docs() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "cli.md").read_text()
    for cls, code in EXIT_CODES.items():
        assert f"| {code} |" in doc and cls.__name__ in doc


# --- the real console script ----------------------------------------------------------


def _script(data_dir: Path, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    """Run `python -m basalt.cli.main --data-dir DIR ARGS...` and check its exit code."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASALT_")}
    done = subprocess.run(
        [sys.executable, "-m", "basalt.cli.main", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == code, (
        f"{args} exited {done.returncode}, wanted {code}\n"
        f"stdout: {done.stdout}\nstderr: {done.stderr}"
    )
    return done


@pytest.mark.slow
def test_console_script_json_and_exit_codes(data_dir: Path) -> None:
    made = _script(data_dir, "volume", "create", "--size", "1", "--name", "sub", "--json")
    volume = json.loads(made.stdout)
    shown = _script(data_dir, "--json", "volume", "show", volume["id"])
    assert json.loads(shown.stdout)["status"] == "available"  # finished before the exit

    missing = _script(data_dir, "volume", "show", "nope", "--json", code=3)
    assert json.loads(missing.stdout)["error"]["code"] == "volume_not_found"
    assert missing.stderr.startswith("error: volume nope could not be found"), missing.stderr
    bad = _script(data_dir, "volume", "create", "--size", "0", code=4)
    assert bad.stdout == ""
    usage = _script(data_dir, "volume", "create", "--size", "1", "--property", "x", code=2)
    assert "'x'" in usage.stderr


@pytest.mark.slow
def test_installed_basalt_script(data_dir: Path) -> None:
    script = Path(sys.executable).parent / "basalt"
    if not script.exists():
        pytest.skip("the basalt console script is not installed in this environment")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASALT_")}
    env["BASALT_DATA_DIR"] = str(data_dir)
    listed = subprocess.run(
        [str(script), "pool", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["name"] == "default"


@pytest.fixture
def served(data_dir: Path) -> Iterator[str]:
    server = start_server(data_dir)
    try:
        yield server.project_url
    finally:
        server.stop()


@pytest.mark.slow
def test_serve_answers_and_shares_the_store(served: str, data_dir: Path) -> None:
    created = httpx.post(f"{served}/volumes", json={"volume": {"size": 1, "name": "rest"}})
    assert created.status_code in (200, 202)
    listed = _script(data_dir, "volume", "list", "--json")
    assert [v["name"] for v in json.loads(listed.stdout)] == ["rest"]
