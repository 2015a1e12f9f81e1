"""QoS specs -> an Element ``qos`` object (minIOPS, maxIOPS, burstIOPS).

The driver gets a volume type's back-end QoS specs as ``VolumeRef.qos`` and
sends :func:`element_qos` of them with CreateVolume, after CloneVolume, and with
the ModifyVolume of an extend (scaled IOPS follow the size).

Rules, in order:

1. ``sf-qos`` names a preset (slow, medium, fast, performant; ``off`` = no QoS).
2. ``minIOPS``, ``maxIOPS``, ``burstIOPS`` (also with a ``qos:`` prefix) override it.
3. With ``scaledIOPS`` true, ``scaleMin``/``scaleMax``/``scaleBurst`` add that many
   IOPS per GiB above the first: ``value + scale * (size_gib - 1)``.
4. Values are capped at the array's limits (minIOPS 100..15000, maxIOPS and
   burstIOPS at most 200000) and must keep min <= max <= burst.
"""

from __future__ import annotations

from collections.abc import Mapping

from basalt.errors import InvalidInputError

KEYS = ("minIOPS", "maxIOPS", "burstIOPS")
PRESETS: Mapping[str, tuple[int, int, int] | None] = {
    "slow": (100, 200, 200),
    "medium": (200, 400, 400),
    "fast": (500, 1000, 1000),
    "performant": (2000, 4000, 4000),
    "off": None,
}
SCALE_KEYS = {"minIOPS": "scaleMin", "maxIOPS": "scaleMax", "burstIOPS": "scaleBurst"}
MIN_IOPS_RANGE = (100, 15000)
MAX_IOPS_LIMIT = 200000


def element_qos(specs: Mapping[str, str], *, size_gib: int) -> dict[str, int] | None:
    """The ``qos`` object for a volume of ``size_gib`` with these back-end specs.

    Args:
        specs: a QoS spec's key/values (strings, as Cinder stores them).
        size_gib: the volume's size, for scaled IOPS.

    Returns:
        ``{"minIOPS", "maxIOPS", "burstIOPS"}`` (only the keys the specs set), or
        None when they ask for no QoS (no keys, or the ``off`` preset).

    Raises:
        InvalidInputError: an unknown preset, a value that is not a whole number,
            or min > max > burst after capping.
    """
    qos = _preset(specs.get("sf-qos"))
    for key in KEYS:
        value = specs.get(key, specs.get(f"qos:{key}"))
        if value is not None:
            qos[key] = _whole(key, value)
    if not qos:
        return None
    if str(specs.get("scaledIOPS", "")).lower() in ("true", "1", "yes", "<is> true"):
        for key, scale_key in SCALE_KEYS.items():
            if key in qos and scale_key in specs:
                qos[key] += _whole(scale_key, specs[scale_key]) * max(0, size_gib - 1)
    return _capped(qos)


def _preset(name: str | None) -> dict[str, int]:
    if name is None:
        return {}
    if name not in PRESETS:
        raise InvalidInputError("sf-qos", f"{name!r} is not one of {sorted(PRESETS)}")
    values = PRESETS[name]
    return {} if values is None else dict(zip(KEYS, values, strict=True))


def _whole(key: str, value: object) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidInputError(key, f"{value!r} is not a whole number") from None
    if number < 0:
        raise InvalidInputError(key, "must not be negative")
    return number


def _capped(qos: dict[str, int]) -> dict[str, int]:
    if "minIOPS" in qos:
        low, high = MIN_IOPS_RANGE
        qos["minIOPS"] = min(max(qos["minIOPS"], low), high)
    for key in ("maxIOPS", "burstIOPS"):
        if key in qos:
            qos[key] = min(qos[key], MAX_IOPS_LIMIT)
    ordered = [qos[key] for key in KEYS if key in qos]
    if ordered != sorted(ordered):
        raise InvalidInputError("qos", f"needs minIOPS <= maxIOPS <= burstIOPS, got {qos}")
    return qos
