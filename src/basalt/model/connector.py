"""Rules for the connector a host sends when it attaches (os-brick's connector properties).

One place for each rule; the library, the CLI and REST all call :func:`validate_connector`.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping

from basalt.drivers.types import Connector
from basalt.errors import InvalidInputError
from basalt.model.attachment import AttachMode
from basalt.model.validation import check_text

# RFC 3720 section 3.2.6.3: iqn.yyyy-mm.reversed-domain[:anything], eui. and naa. hex names.
_IQN = re.compile(r"^iqn\.[0-9]{4}-(0[1-9]|1[0-2])\.[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[^\s]+)?$")
_EUI = re.compile(r"^eui\.[0-9A-Fa-f]{16}$")
_NAA = re.compile(r"^naa\.([0-9A-Fa-f]{16}|[0-9A-Fa-f]{32})$")
MAX_INITIATOR_BYTES = 223  # the iSCSI name limit
MAX_CONNECTOR_BYTES = 16 * 1024
_KNOWN = frozenset({"host", "initiator", "ip", "multipath", "platform", "os_type"})
_LOCAL = "do_local_attach"
_ISCSI_HINT = "an initiator IQN looks like iqn.2004-10.com.ubuntu:01:5f1a2b3c4d5e"


def validate_initiator(value: object, *, field: str = "connector.initiator") -> str:
    """Check an iSCSI initiator name (iqn., eui. or naa. form).

    Raises:
        InvalidInputError: it is not one, with an example of a good one.
    """
    name = check_text(value, field=field, max_length=MAX_INITIATOR_BYTES, allow_empty=False)
    if len(name.encode()) > MAX_INITIATOR_BYTES:
        raise InvalidInputError(field, f"is longer than {MAX_INITIATOR_BYTES} bytes")
    if not (_IQN.match(name) or _EUI.match(name) or _NAA.match(name)):
        raise InvalidInputError(field, f"{name[:80]!r} is not an iSCSI name", hint=_ISCSI_HINT)
    return name


def validate_connector(value: object) -> Connector:
    """Check a connector and return it typed.

    ``host`` is required. An iSCSI connector needs ``initiator``; a connector with
    ``do_local_attach: true`` asks for a device on Basalt's own host and needs none.
    Other keys (``wwpns``, ``nqn``...) are kept as given, if JSON.

    Raises:
        InvalidInputError: naming the bad key and why.
    """
    if not isinstance(value, Mapping):
        raise InvalidInputError("connector", "must be an object with at least host and initiator")
    try:
        size = len(json.dumps(dict(value)))
    except (TypeError, ValueError) as exc:
        raise InvalidInputError("connector", f"is not JSON: {exc}") from exc
    if size > MAX_CONNECTOR_BYTES:
        raise InvalidInputError("connector", f"is {size} bytes; the limit is {MAX_CONNECTOR_BYTES}")
    if "host" not in value:
        raise InvalidInputError("connector.host", "is required (the attaching host's name)")
    host = check_text(value["host"], field="connector.host", max_length=255, allow_empty=False)
    local = _flag(value, _LOCAL)
    initiator = value.get("initiator")
    if initiator is None and not local:
        raise InvalidInputError(
            "connector.initiator",
            "is required for iSCSI (or set do_local_attach for a device on Basalt's host)",
            hint=_ISCSI_HINT,
        )
    return Connector(
        host=host,
        initiator=None if initiator is None else validate_initiator(initiator),
        ip=_ip(value.get("ip")),
        multipath=_flag(value, "multipath"),
        platform=_optional_text(value, "platform"),
        os_type=_optional_text(value, "os_type"),
        do_local_attach=local,
        extra={str(k): v for k, v in value.items() if k not in _KNOWN and k != _LOCAL},
    )


def validate_attach_mode(value: object) -> AttachMode:
    """``rw`` or ``ro``.

    Raises:
        InvalidInputError: anything else.
    """
    try:
        return AttachMode(str(value)) if isinstance(value, str) else AttachMode(repr(value))
    except ValueError:
        raise InvalidInputError("mode", f"{value!r} is not rw or ro") from None


def _flag(value: Mapping[object, object], key: str) -> bool:
    flag = value.get(key, False)
    if not isinstance(flag, bool):
        raise InvalidInputError(f"connector.{key}", f"must be true or false, got {flag!r}")
    return flag


def _optional_text(value: Mapping[object, object], key: str) -> str | None:
    item = value.get(key)
    if item is None:
        return None
    return check_text(item, field=f"connector.{key}", max_length=255, allow_empty=True)


def _ip(value: object) -> str | None:
    if value is None:
        return None
    text = check_text(value, field="connector.ip", max_length=64, allow_empty=False)
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise InvalidInputError("connector.ip", f"{text!r} is not an IP address") from None
