"""Wire handlers: read a call's params, run it on the backend, shape the result.

One module per kind of object, mirroring `models`. Each exports `HANDLERS`, a map from
Element method name to handler; `routes` joins them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from basalt_emulators.solidfire.models import SolidFireBackend
from basalt_emulators.solidfire.params import Params

Handler = Callable[[SolidFireBackend, Params], dict[str, Any]]

__all__ = ["Handler"]
