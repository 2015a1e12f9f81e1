"""File-driver behaviour the contract suite does not pin: layout, naming, errors."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from basalt.drivers.base import SupportsManage
from basalt.drivers.file import FileDriver
from basalt.drivers.file.layout import basalt_id
from basalt.drivers.file.loopfs import Filesystem, LoopMount, create_image_pool, is_root
from basalt.drivers.types import GIB, SnapshotRef, VolumeRef, no_progress
from basalt.errors import ConfigError, DriverError, PoolNotFoundError

MIB = 1024**2
POOL = "default"


def new_volume(size_gib: int = 1, pool: str = POOL) -> VolumeRef:
    return VolumeRef(id=str(uuid.uuid4()), size_gib=size_gib, pool=pool)


def new_snapshot(volume: VolumeRef) -> SnapshotRef:
    return SnapshotRef(id=str(uuid.uuid4()), volume_id=volume.id, size_gib=1, pool=volume.pool)


def loop_pool(base: Path, fs: Filesystem) -> Iterator[LoopMount]:
    if not is_root():
        pytest.skip(f"an {fs} loop pool needs root")
    try:
        mount = create_image_pool(base / "pool.img", base / "mnt", size_gib=2, fs=fs)
    except ConfigError as exc:
        pytest.skip(f"cannot make an {fs} loop pool here: {exc}")
    try:
        yield mount
    finally:
        mount.unmount()
        (base / "pool.img").unlink()


@pytest.fixture(scope="module")
def xfs_mount(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopMount]:
    yield from loop_pool(tmp_path_factory.mktemp("xfs"), "xfs")


@pytest.fixture(scope="module")
def ext4_mount(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopMount]:
    yield from loop_pool(tmp_path_factory.mktemp("ext4"), "ext4")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "pool"


@pytest.fixture
def driver(root: Path) -> FileDriver:
    driver = FileDriver(backend_name="files", pools={POOL: root})
    driver.setup()
    return driver


def volume_path(root: Path, volume: VolumeRef) -> Path:
    return root / "volumes" / f"{volume.id}.raw"


class TestReflinkDetection:
    @pytest.mark.root
    def test_xfs_with_reflink_is_detected_and_shares_extents(self, xfs_mount: LoopMount) -> None:
        root = xfs_mount.mount_point / "pool"
        driver = FileDriver(backend_name="files", pools={POOL: root})
        driver.setup()
        assert driver.reflink_supported(POOL)
        assert driver.get_stats().pools[0].reflink
        volume = new_volume()
        driver.create_volume(volume)
        with open(volume_path(root, volume), "r+b") as file:
            file.write(os.urandom(64 * MIB))
            os.fsync(file.fileno())
        free_before = os.statvfs(root).f_bavail * os.statvfs(root).f_frsize
        for _ in range(4):
            driver.clone_volume(new_volume(), volume, progress=no_progress)
        free_after = os.statvfs(root).f_bavail * os.statvfs(root).f_frsize
        assert free_before - free_after < 16 * MIB  # four 64 MiB copies, sharing extents

    @pytest.mark.root
    def test_ext4_has_no_reflink(self, ext4_mount: LoopMount) -> None:
        driver = FileDriver(backend_name="files", pools={POOL: ext4_mount.mount_point / "pool"})
        driver.setup()
        assert not driver.reflink_supported(POOL)
        assert not driver.get_stats().pools[0].reflink

    def test_probe_files_do_not_stay(self, driver: FileDriver, root: Path) -> None:
        assert sorted(p.name for p in root.rglob("*")) == ["snapshots", "volumes"]
        assert driver.cleanup_incomplete() == []

    def test_detection_happens_on_first_use_without_setup(self, tmp_path: Path) -> None:
        root = tmp_path / "pool"
        FileDriver(backend_name="files", pools={POOL: root}).setup()
        fresh = FileDriver(backend_name="files", pools={POOL: root})
        assert fresh.get_stats().pools[0].reflink == fresh.reflink_supported(POOL)


class TestLayout:
    def test_volume_is_a_sparse_file_named_by_id(self, driver: FileDriver, root: Path) -> None:
        volume = new_volume(size_gib=5)
        update = driver.create_volume(volume)
        assert update.provider_location == f"volumes/{volume.id}.raw"
        path = volume_path(root, volume)
        assert path.stat().st_size == 5 * GIB and path.stat().st_blocks == 0

    def test_snapshot_is_read_only_and_named_by_id(self, driver: FileDriver, root: Path) -> None:
        volume = new_volume()
        driver.create_volume(volume)
        snapshot = new_snapshot(volume)
        update = driver.create_snapshot(snapshot, volume)
        assert update.provider_location == f"snapshots/{snapshot.id}.raw"
        assert (root / "snapshots" / f"{snapshot.id}.raw").stat().st_mode & 0o777 == 0o440

    def test_create_again_with_the_same_size_is_done(self, driver: FileDriver) -> None:
        volume = new_volume()
        first = driver.create_volume(volume)
        assert driver.create_volume(volume) == first

    def test_create_again_with_another_size_is_refused(self, driver: FileDriver) -> None:
        volume = new_volume()
        driver.create_volume(volume)
        with pytest.raises(DriverError, match="exists"):
            driver.create_volume(VolumeRef(id=volume.id, size_gib=2, pool=POOL))

    def test_partial_files_are_found_and_removed(self, driver: FileDriver, root: Path) -> None:
        volume = new_volume()
        partials = [
            root / "volumes" / f".{volume.id}.raw.partial",
            root / "snapshots" / f".{uuid.uuid4()}.raw.partial",
            root / "volumes" / ".probe-abc-a.partial",
        ]
        for path in partials:
            path.write_bytes(b"half")
        (root / "volumes" / ".keep-me").write_bytes(b"not ours")
        assert not driver.volume_exists(volume)
        assert sorted(driver.cleanup_incomplete()) == sorted(str(p) for p in partials)
        assert [p.name for p in (root / "volumes").iterdir()] == [".keep-me"]

    def test_only_basalt_named_files_are_stored_objects(
        self, driver: FileDriver, root: Path
    ) -> None:
        volume = new_volume()
        driver.create_volume(volume)
        odd_id = str(uuid.uuid4())
        (root / "volumes" / "legacy.img").write_bytes(b"x")
        (root / "volumes" / f"volume-{odd_id}.raw").write_bytes(b"x")
        (root / "volumes" / f"{odd_id.upper()}.raw").write_bytes(b"x")
        (root / "volumes" / f"{odd_id}.img").write_bytes(b"x")
        (root / "volumes" / f"{uuid.uuid4()}.raw").mkdir()
        (root / "volumes" / f"{uuid.uuid4()}.raw").symlink_to(volume_path(root, volume))
        stored = driver.list_stored_objects()
        assert stored.volume_ids == {volume.id} and stored.snapshot_ids == frozenset()

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("0b7e8f5c-3f11-4e3a-9a55-2d0f4c2b1a00.raw", "0b7e8f5c-3f11-4e3a-9a55-2d0f4c2b1a00"),
            ("0b7e8f5c-3f11-4e3a-9a55-2d0f4c2b1a00.img", None),
            ("0b7e8f5c3f114e3a9a552d0f4c2b1a00.raw", None),
            ("volume-0b7e8f5c-3f11-4e3a-9a55-2d0f4c2b1a00.raw", None),
            (".0b7e8f5c-3f11-4e3a-9a55-2d0f4c2b1a00.raw.partial", None),
            ("disk.raw", None),
        ],
    )
    def test_basalt_naming(self, name: str, expected: str | None) -> None:
        assert basalt_id(name) == expected

    def test_stats_count_apparent_sizes_of_raw_files(self, driver: FileDriver, root: Path) -> None:
        driver.create_volume(new_volume(size_gib=2))
        (root / "volumes" / "legacy.raw").write_bytes(b"")
        os.truncate(root / "volumes" / "legacy.raw", GIB)
        (root / "volumes" / f".{uuid.uuid4()}.raw.partial").write_bytes(b"x" * 100)
        (pool,) = driver.get_stats().pools
        assert pool.provisioned_capacity_gib == 3.0
        assert pool.location == str(root) and pool.thin_provisioning
        stats = driver.get_stats()
        assert (stats.vendor_name, stats.storage_protocol) == ("Basalt", "iSCSI")


class TestErrors:
    def test_unknown_pools_are_named(self, driver: FileDriver) -> None:
        with pytest.raises(PoolNotFoundError, match="nowhere"):
            driver.create_volume(new_volume(pool="nowhere"))
        with pytest.raises(PoolNotFoundError, match="nowhere"):
            driver.list_manageable_volumes("nowhere")
        with pytest.raises(PoolNotFoundError, match="nowhere"):
            driver.manage_snapshot_get_size("nowhere", {"source-name": "x.img"})

    def test_ids_that_are_not_uuids_never_become_paths(self, driver: FileDriver) -> None:
        for bad in ("../escape", "x/y", "not-a-uuid", ""):
            with pytest.raises(DriverError, match="canonical UUID"):
                driver.create_volume(VolumeRef(id=bad, size_gib=1, pool=POOL))
            with pytest.raises(DriverError):
                driver.delete_volume(VolumeRef(id=bad, size_gib=1, pool=POOL))

    def test_filesystem_errors_name_backend_pool_and_cause(self, driver: FileDriver) -> None:
        with pytest.raises(DriverError) as caught:
            driver.extend_volume(new_volume(), 2)
        message = str(caught.value)
        assert "backend files" in message and "pool default" in message
        assert "No such file or directory" in message
        assert isinstance(caught.value.__cause__, FileNotFoundError)

    def test_copy_of_a_missing_source_is_a_driver_error(self, driver: FileDriver) -> None:
        source = new_volume()
        with pytest.raises(DriverError) as caught:
            driver.clone_volume(new_volume(), source, progress=no_progress)
        assert isinstance(caught.value.__cause__, FileNotFoundError)

    def test_setup_on_a_file_instead_of_a_directory_fails(self, tmp_path: Path) -> None:
        (tmp_path / "occupied").write_text("a file")
        driver = FileDriver(backend_name="files", pools={"p1": tmp_path / "occupied"})
        with pytest.raises(DriverError, match="pool p1"):
            driver.setup()

    def test_check_setup_names_the_missing_directory(self, tmp_path: Path) -> None:
        driver = FileDriver(backend_name="files", pools={"p1": tmp_path / "never-set-up"})
        with pytest.raises(DriverError, match="pool p1.*never-set-up"):
            driver.check_setup()
        driver.setup()
        driver.check_setup()

    def test_a_missing_pool_directory_stores_nothing(self, tmp_path: Path) -> None:
        driver = FileDriver(backend_name="files", pools={"p1": tmp_path / "none"})
        assert driver.cleanup_incomplete() == []
        assert driver.list_stored_objects().volume_ids == frozenset()
        assert driver.list_manageable_volumes("p1") == []


class TestManage:
    def test_file_driver_supports_manage(self, driver: FileDriver) -> None:
        assert isinstance(driver, SupportsManage)

    def test_manage_renames_and_grows_the_file(self, driver: FileDriver, root: Path) -> None:
        legacy = root / "volumes" / "legacy.img"
        legacy.write_bytes(b"legacy")
        volume = new_volume()
        update = driver.manage_volume(volume, {"source-name": "legacy.img"})
        assert update.provider_location == f"volumes/{volume.id}.raw"
        assert not legacy.exists()
        assert volume_path(root, volume).stat().st_size == GIB

    def test_managed_snapshots_are_read_only(self, driver: FileDriver, root: Path) -> None:
        (root / "snapshots" / "old.img").write_bytes(b"old")
        volume = new_volume()
        snapshot = new_snapshot(volume)
        update = driver.manage_snapshot(snapshot, volume, {"source-name": "old.img"})
        path = root / update.provider_location  # type: ignore[operator]
        assert path.stat().st_mode & 0o777 == 0o440

    def test_unmanage_uses_a_non_basalt_name(self, driver: FileDriver, root: Path) -> None:
        volume = new_volume()
        driver.create_volume(volume)
        driver.unmanage_volume(volume)
        assert (root / "volumes" / f"volume-{volume.id}.raw").stat().st_size == GIB
        driver.unmanage_volume(volume)  # nothing left to release: fine
        volume_ref = new_volume()
        snapshot = new_snapshot(volume_ref)
        driver.create_volume(volume_ref)
        driver.create_snapshot(snapshot, volume_ref)
        driver.unmanage_snapshot(snapshot)
        assert (root / "snapshots" / f"snapshot-{snapshot.id}.raw").exists()

    def test_unmanage_refuses_to_overwrite(self, driver: FileDriver, root: Path) -> None:
        volume = new_volume()
        driver.create_volume(volume)
        taken = root / "volumes" / f"volume-{volume.id}.raw"
        taken.write_bytes(b"someone else's")
        with pytest.raises(DriverError, match="unmanag"):
            driver.unmanage_volume(volume)
        assert driver.volume_exists(volume) and taken.read_bytes() == b"someone else's"

    def test_manage_refuses_an_id_that_exists(self, driver: FileDriver, root: Path) -> None:
        volume = new_volume()
        driver.create_volume(volume)
        (root / "volumes" / "legacy.img").write_bytes(b"x")
        with pytest.raises(DriverError, match="exists"):
            driver.manage_volume(volume, {"source-name": "legacy.img"})
        assert (root / "volumes" / "legacy.img").read_bytes() == b"x"

    def test_listing_skips_hidden_files_directories_and_links(
        self, driver: FileDriver, root: Path
    ) -> None:
        volumes = root / "volumes"
        (volumes / "b.img").write_bytes(b"x" * 10)
        (volumes / "a.img").write_bytes(b"")
        (volumes / ".hidden").write_bytes(b"x")
        (volumes / "dir").mkdir()
        (volumes / "link").symlink_to(volumes / "a.img")
        listed = driver.list_manageable_volumes(POOL)
        assert [(m.reference["source-name"], m.size_gib, m.safe_to_manage) for m in listed] == [
            ("a.img", 1, True),
            ("b.img", 1, True),
        ]
        assert listed[1].extra_info == "10 bytes"
