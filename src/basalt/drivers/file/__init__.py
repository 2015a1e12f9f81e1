"""The embedded ``file`` backend: pools are directories of sparse raw images."""

from basalt.drivers.file.driver import FileDriver

__all__ = ["FileDriver"]
