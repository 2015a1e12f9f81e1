"""A file pool on a loop-mounted filesystem image (XFS with reflink, or ext4).

For tests, benchmarks and ``basalt pool`` on machines whose own filesystem has no
reflink: a sparse image file is attached to a loop device, formatted and mounted.
Everything here needs root (losetup and mount do) and says so when not root.

    mount = create_image_pool(Path("/var/tmp/pool.img"), Path("/mnt/pool"), size_gib=4, fs="xfs")
    try:
        ...  # use mount.mount_point as a pool directory
    finally:
        mount.unmount()
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

from basalt.errors import ConfigError

Filesystem = Literal["xfs", "ext4"]

_MKFS: dict[Filesystem, list[str]] = {
    "xfs": ["mkfs.xfs", "-m", "reflink=1", "-f", "-q"],
    "ext4": ["mkfs.ext4", "-q", "-F"],
}
_PACKAGES = {
    "losetup": "util-linux",
    "mount": "mount",
    "umount": "mount",
    "mkfs.xfs": "xfsprogs",
    "mkfs.ext4": "e2fsprogs",
}
_UMOUNT_ATTEMPTS = 5


def is_root() -> bool:
    """Whether this process runs as root (loop devices and mount need it)."""
    return os.geteuid() == 0


def require_root_and_tools(fs: Filesystem) -> None:
    """Check that a loop image pool can be made here.

    Args:
        fs: the filesystem the image will hold.

    Raises:
        ConfigError: not root, or a command is missing (the message says what to install).
    """
    if not is_root():
        raise ConfigError(
            "a loop-mounted image pool needs root (losetup, mkfs and mount)",
            hint="run as root, or use a plain directory as the pool",
        )
    needed = ["losetup", "mount", "umount", _MKFS[fs][0]]
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if missing:
        packages = sorted({_PACKAGES[tool] for tool in missing})
        raise ConfigError(
            f"a loop-mounted {fs} pool needs {', '.join(missing)}, which is not installed",
            hint=f"install the Debian package(s): apt-get install {' '.join(packages)}",
        )


def _run(command: Sequence[str]) -> str:
    """Run a command; ConfigError with its stderr when it fails."""
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, check=False)
    except OSError as exc:
        raise ConfigError(f"could not run {command[0]}: {exc}") from exc
    if done.returncode != 0:
        raise ConfigError(
            f"`{' '.join(command)}` failed with status {done.returncode}: "
            f"{done.stderr.strip() or done.stdout.strip()}"
        )
    return done.stdout.strip()


@dataclass
class LoopMount:
    """A filesystem image attached to a loop device and mounted."""

    image_path: Path
    mount_point: Path
    device: str
    fs: Filesystem
    mounted: bool = True

    def unmount(self) -> None:
        """Unmount the filesystem and detach the loop device; safe to call twice.

        The image file stays (delete it to free its space).

        Raises:
            ConfigError: not root, or umount or losetup failed (after retries when busy).
        """
        if not self.mounted:
            return
        if not is_root():
            raise ConfigError(f"unmounting {self.mount_point} needs root", hint="run as root")
        for attempt in range(_UMOUNT_ATTEMPTS):
            try:
                _run(["umount", str(self.mount_point)])
                break
            except ConfigError:
                if attempt == _UMOUNT_ATTEMPTS - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))  # briefly busy (a process closing files)
        _run(["losetup", "-d", self.device])
        self.mounted = False

    def __enter__(self) -> LoopMount:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.unmount()


def create_image_pool(
    image_path: Path, mount_point: Path, *, size_gib: int, fs: Filesystem
) -> LoopMount:
    """Make a sparse image, attach it to a loop device, format it and mount it.

    Args:
        image_path: the image file to create (replaced if it exists); sparse, so
            it only takes the space written into it.
        mount_point: where to mount it (created if missing).
        size_gib: the filesystem's size.
        fs: ``"xfs"`` (formatted with reflink=1) or ``"ext4"``.

    Returns:
        The mounted image; call :meth:`LoopMount.unmount` when done.

    Raises:
        ConfigError: not root, a tool is missing, or a step failed (earlier steps
            are undone).
    """
    require_root_and_tools(fs)
    image_path.parent.mkdir(parents=True, exist_ok=True)
    mount_point.mkdir(parents=True, exist_ok=True)
    with open(image_path, "wb") as image:
        image.truncate(size_gib * 1024**3)
    _run([*_MKFS[fs], str(image_path)])
    device = _run(["losetup", "--find", "--show", str(image_path)])
    try:
        _run(["mount", device, str(mount_point)])
    except BaseException:
        with contextlib.suppress(ConfigError):
            _run(["losetup", "-d", device])
        raise
    return LoopMount(image_path=image_path, mount_point=mount_point, device=device, fs=fs)
