"""Backends for the driver contract suite, and how the suite sees their bytes.

Every backend the suite runs against is one param of ``driver_backend``: a driver, set
up on a fresh pool named :data:`POOL`, plus a :class:`BackendAccess` adapter that
reads and writes object bytes *outside* the driver (as a consumer attached to the
volume would). Adding a backend means adding a param and an adapter; the tests in
test_driver.py stay as they are. The SolidFire params run against the Element
emulator (``basalt_emulators.solidfire``) in-process and over real HTTPS; their
adapter skips, with the reason, the two things an Element array does not have:
partial objects and adoptable snapshots.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import pytest

from basalt.drivers.base import VolumeDriver
from basalt.drivers.file import FileDriver
from basalt.drivers.file.loopfs import LoopMount, create_image_pool, is_root
from basalt.drivers.types import GIB, SnapshotRef, VolumeRef
from basalt.errors import ConfigError
from tests.support.content import file_digest

POOL = "default"
MIB = 1024**2
XFS_IMAGE_GIB = 4

Kind = Literal["volume", "snapshot"]
StoredRef = VolumeRef | SnapshotRef


class BackendAccess(Protocol):
    """What the contract suite needs to see and prepare on a backend, outside the driver."""

    pool: str

    def write(self, volume: VolumeRef, offset: int, data: bytes) -> None:
        """Write bytes into a volume (durably)."""

    def read(self, obj: StoredRef, offset: int, length: int) -> bytes:
        """Read bytes of a volume or snapshot."""

    def size_bytes(self, obj: StoredRef) -> int:
        """The apparent size of a volume or snapshot."""

    def digest(self, obj: StoredRef, *, start: int = 0, length: int | None = None) -> str:
        """The content digest (tests.support.content) of a range (default: all) of an object."""

    def add_unmanaged(self, kind: Kind, name: str, *, size_bytes: int, head: bytes) -> None:
        """Put an object Basalt does not manage on the backend, ``head`` at offset 0."""

    def invalid_references(self, kind: Kind) -> Mapping[str, Mapping[str, str]]:
        """Backend-specific references manage must refuse (label -> reference)."""

    def leave_partial(self, kind: Kind, object_id: str) -> None:
        """Leave what a crash in the middle of creating an object would leave."""

    def state(self) -> object:
        """A comparable picture of everything on the backend (to check nothing changed)."""


class FilePoolAccess:
    """BackendAccess for a file pool: objects are files under the pool directory."""

    def __init__(self, root: Path, pool: str = POOL) -> None:
        self.root = root
        self.pool = pool

    def path(self, obj: StoredRef) -> Path:
        kind = "snapshots" if isinstance(obj, SnapshotRef) else "volumes"
        return self.root / kind / f"{obj.id}.raw"

    def write(self, volume: VolumeRef, offset: int, data: bytes) -> None:
        fd = os.open(self.path(volume), os.O_WRONLY)
        try:
            assert os.pwrite(fd, data, offset) == len(data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self, obj: StoredRef, offset: int, length: int) -> bytes:
        with open(self.path(obj), "rb") as file:
            file.seek(offset)
            return file.read(length)

    def size_bytes(self, obj: StoredRef) -> int:
        return self.path(obj).stat().st_size

    def digest(self, obj: StoredRef, *, start: int = 0, length: int | None = None) -> str:
        return file_digest(self.path(obj), start=start, length=length)

    def add_unmanaged(self, kind: Kind, name: str, *, size_bytes: int, head: bytes) -> None:
        path = self.root / f"{kind}s" / name
        with open(path, "wb") as file:
            file.write(head[:size_bytes])
            file.truncate(size_bytes)

    def invalid_references(self, kind: Kind) -> Mapping[str, Mapping[str, str]]:
        directory = self.root / f"{kind}s"
        (directory / "a-directory").mkdir()
        (directory / "real.img").write_bytes(b"real")
        (directory / ".hidden.img").write_bytes(b"hidden")
        (directory / "link.img").symlink_to(directory / "real.img")
        (self.root / "outside.img").write_bytes(b"outside")
        os.mkfifo(directory / "a-fifo")
        names = {
            "slash": "a-directory/real.img",
            "parent": "../outside.img",
            "absolute": str(self.root / "outside.img"),
            "backslash": "a\\b.img",
            "nul": "real.img\0",
            "dot": ".",
            "dot-dot": "..",
            "hidden": ".hidden.img",
            "empty": "",
            "directory": "a-directory",
            "symlink": "link.img",
            "fifo": "a-fifo",
        }
        return {label: {"source-name": name} for label, name in names.items()}

    def leave_partial(self, kind: Kind, object_id: str) -> None:
        partial = self.root / f"{kind}s" / f".{object_id}.raw.partial"
        with open(partial, "wb") as file:
            file.write(b"half written")
            file.truncate(MIB)

    def state(self) -> object:
        found: dict[str, tuple[str, int, int]] = {}
        for path in sorted(self.root.rglob("*")):
            info = path.lstat()
            found[str(path.relative_to(self.root))] = (oct(info.st_mode), info.st_size, info.st_ino)
        return found


ELEMENT_MIN_VOLUME_BYTES = 1_000_000_000
FOREIGN_ACCOUNT = "legacy-owner"
NO_PARTIALS = (
    "an Element cluster makes every volume and snapshot in one call: there is no partial "
    "object a crash could leave, so cleanup_incomplete has nothing to find"
)
NO_SNAPSHOT_MANAGE = (
    "an Element snapshot belongs to the volume it was taken of and can be neither renamed nor "
    "resized, so SolidFire does not adopt existing snapshots (manage_snapshot refuses)"
)


class SolidFireAccess:
    """BackendAccess for an emulated Element cluster: bytes live in the emulator's sparse files.

    Objects are found as an operator would find them: by the name Basalt gives them (or
    the ``basalt-name`` attribute of a managed volume) in the emulator's listings.
    Unmanaged objects are made through the Element API in an account Basalt does not use;
    Element volumes hold at least 1e9 bytes, so smaller asked-for sizes get that minimum
    (it rounds to the same whole GiB).
    """

    def __init__(self, backend: Any, client: Any, pool: str = POOL) -> None:
        self.backend = backend
        self.client = client
        self.pool = pool
        self._account_id: int | None = None

    def _volume_id(self, basalt_id: str) -> int:
        name = f"UUID-{basalt_id}"
        found = [
            v["volumeID"]
            for v in self.backend.active_volumes()
            if v["attributes"].get("basalt-name", v["name"]) == name
        ]
        assert len(found) == 1, f"{len(found)} active volumes are known as {name}"
        return int(found[0])

    def path(self, obj: StoredRef) -> Path:
        if isinstance(obj, VolumeRef):
            return Path(self.backend.volume_path(self._volume_id(obj.id)))
        name = f"UUID-{obj.id}"
        found = [s["snapshotID"] for s in self.backend.snapshots() if s["name"] == name]
        assert len(found) == 1, f"{len(found)} snapshots are named {name}"
        return Path(self.backend.snapshot_path(int(found[0])))

    def write(self, volume: VolumeRef, offset: int, data: bytes) -> None:
        _write_durably(self.path(volume), offset, data)

    def read(self, obj: StoredRef, offset: int, length: int) -> bytes:
        with open(self.path(obj), "rb") as file:
            file.seek(offset)
            return file.read(length)

    def size_bytes(self, obj: StoredRef) -> int:
        return self.path(obj).stat().st_size

    def digest(self, obj: StoredRef, *, start: int = 0, length: int | None = None) -> str:
        return file_digest(self.path(obj), start=start, length=length)

    def add_unmanaged(self, kind: Kind, name: str, *, size_bytes: int, head: bytes) -> None:
        if kind == "snapshot":
            pytest.skip(NO_SNAPSHOT_MANAGE)
        volume_id = self._foreign_volume(name, size_bytes=size_bytes)
        _write_durably(Path(self.backend.volume_path(volume_id)), 0, head[:size_bytes])

    def invalid_references(self, kind: Kind) -> Mapping[str, Mapping[str, str]]:
        if kind == "snapshot":
            base = self._foreign_volume("snapshot-base", size_bytes=GIB)
            for _ in range(2):
                self.client.call("CreateSnapshot", {"volumeID": base, "name": "twin-snap"})
            return {
                "ambiguous name": {"source-name": "twin-snap"},
                "unknown id": {"source-id": "99999"},
                "zero id": {"source-id": "0"},
                "empty name": {"source-name": ""},
                "both keys": {"source-id": "1", "source-name": "twin-snap"},
            }
        twins = [self._foreign_volume("twin", size_bytes=GIB) for _ in range(2)]
        gone = self._foreign_volume("gone", size_bytes=GIB)
        self.client.call("DeleteVolume", {"volumeID": gone})
        read_only = self._foreign_volume("read-only", size_bytes=GIB)
        self.client.call("ModifyVolume", {"volumeID": read_only, "access": "readOnly"})
        return {
            "ambiguous name": {"source-name": "twin"},
            "deleted volume": {"source-id": str(gone)},
            "read-only volume": {"source-name": "read-only"},
            "zero id": {"source-id": "0"},
            "negative id": {"source-id": "-1"},
            "hex id": {"source-id": "0x1"},
            "unknown id": {"source-id": "99999"},
            "empty id": {"source-id": ""},
            "empty name": {"source-name": ""},
            "both keys": {"source-id": str(twins[0]), "source-name": "twin"},
        }

    def leave_partial(self, kind: Kind, object_id: str) -> None:
        pytest.skip(NO_PARTIALS)

    def state(self) -> object:
        backend = self.backend
        volumes = backend.active_volumes() + backend.deleted_volumes()
        keep = ("name", "status", "accountID", "totalSize", "access", "attributes", "qos")
        return (
            sorted(
                (a["accountID"], a["username"], repr(a["attributes"])) for a in backend.accounts()
            ),
            sorted(
                (v["volumeID"], repr({k: v.get(k) for k in keep}), self._file_size(v["volumeID"]))
                for v in volumes
            ),
            sorted((s["snapshotID"], s["volumeID"], s["name"]) for s in backend.snapshots()),
        )

    def _file_size(self, volume_id: int) -> int:
        path = Path(self.backend.volume_path(volume_id))
        return path.stat().st_size if path.exists() else -1

    def _foreign_volume(self, name: str, *, size_bytes: int) -> int:
        if self._account_id is None:
            params = {"username": FOREIGN_ACCOUNT, "initiatorSecret": "s" * 12}
            self._account_id = int(self.client.call("AddAccount", params)["accountID"])
        params = {
            "name": name,
            "accountID": self._account_id,
            "totalSize": max(size_bytes, ELEMENT_MIN_VOLUME_BYTES),
            "enable512e": True,
        }
        return int(self.client.call("CreateVolume", params)["volumeID"])


def _write_durably(path: Path, offset: int, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        assert os.pwrite(fd, data, offset) == len(data)
        os.fsync(fd)
    finally:
        os.close(fd)


@pytest.fixture(scope="session")
def xfs_mount(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopMount]:
    """A small sparse XFS (reflink=1) image, loop-mounted for the whole session."""
    if not is_root():
        pytest.skip("the XFS reflink pool needs root to create a loop-mounted image")
    base = tmp_path_factory.mktemp("xfs-pool")
    try:
        mount = create_image_pool(base / "pool.img", base / "mnt", size_gib=XFS_IMAGE_GIB, fs="xfs")
    except ConfigError as exc:
        pytest.skip(f"cannot make an XFS loop pool here: {exc}")
    try:
        yield mount
    finally:
        mount.unmount()
        (base / "pool.img").unlink(missing_ok=True)


@dataclass(frozen=True)
class BackendCase:
    driver: VolumeDriver
    access: BackendAccess


@pytest.fixture(
    params=[
        pytest.param("file-ext4", id="file-ext4"),
        pytest.param("file-xfs-reflink", id="file-xfs-reflink", marks=pytest.mark.root),
        pytest.param("solidfire-inprocess", id="solidfire-inprocess"),
        pytest.param("solidfire-https", id="solidfire-https"),
    ]
)
def driver_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BackendCase]:
    """A set-up driver on a fresh pool, with access to its bytes."""
    if request.param.startswith("solidfire-"):
        yield from solidfire_case(tmp_path, https=request.param == "solidfire-https")
        return
    if request.param == "file-ext4":
        root = tmp_path / "pool"
    else:
        mount: LoopMount = request.getfixturevalue("xfs_mount")
        root = mount.mount_point / f"pool-{uuid.uuid4().hex[:8]}"
    driver = FileDriver(backend_name="contract", pools={POOL: root})
    driver.setup()
    try:
        yield BackendCase(driver=driver, access=FilePoolAccess(root))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def solidfire_case(tmp_path: Path, *, https: bool) -> Iterator[BackendCase]:
    """A SolidFire driver on a fresh emulated cluster, in-process or over real HTTPS."""
    from basalt.drivers.solidfire import (
        RetryPolicy,
        SolidFireClient,
        SolidFireDriver,
        SolidFireOptions,
    )
    from basalt_emulators.solidfire import SolidFireBackend, SolidFireTransport, serve_https

    backend = SolidFireBackend(tmp_path / "solidfire")
    with ExitStack() as stack:
        url, verify, transport = "https://sf.test", False, SolidFireTransport(backend)
        if https:
            server = stack.enter_context(serve_https(backend))
            url, verify, transport = server.url, str(server.cert_path), None

        def client() -> SolidFireClient:
            made = SolidFireClient(
                backend_name="contract",
                url=url,
                login="admin",
                password="admin",
                verify=verify,
                transport=transport,
                timeout_seconds=10.0,
                retry=RetryPolicy(attempts=3, total_seconds=2.0, initial_delay_seconds=0.01),
            )
            stack.callback(made.close)
            return made

        options = SolidFireOptions(pool_name=POOL, poll_interval_seconds=0.01, settle_seconds=0.1)
        driver = SolidFireDriver(backend_name="contract", client=client(), options=options)
        driver.setup()
        yield BackendCase(driver=driver, access=SolidFireAccess(backend, client()))


@pytest.fixture
def driver(driver_backend: BackendCase) -> VolumeDriver:
    """The driver under contract."""
    return driver_backend.driver


@pytest.fixture
def io(driver_backend: BackendCase) -> BackendAccess:
    """Read/write access to the driver's objects, outside the driver."""
    return driver_backend.access
