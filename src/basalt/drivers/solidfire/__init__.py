"""The ``solidfire`` backend: NetApp SolidFire (Element) clusters over JSON-RPC.

``driver.py`` (SolidFireDriver), ``manage.py`` (manage/unmanage), ``transfer.py``
(accept_transfer: the volume moves to the new project's account), ``client.py``
(JSON-RPC, retries), ``array.py`` (lookups by name, safe creates), ``errors.py``
(Element error names -> Basalt errors), ``naming.py``, ``objects.py``. What is
covered and what waits for which issue: docs/drivers/solidfire.md.
"""

from basalt.drivers.solidfire.client import RetryPolicy, SolidFireClient
from basalt.drivers.solidfire.driver import SolidFireDriver
from basalt.drivers.solidfire.options import SolidFireOptions

__all__ = ["RetryPolicy", "SolidFireClient", "SolidFireDriver", "SolidFireOptions"]
