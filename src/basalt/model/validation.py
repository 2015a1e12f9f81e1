"""Rules for values that callers give: sizes, names, descriptions, metadata, quotas.

One place for each rule; the library, the CLI and REST all call these.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping

from basalt.errors import InvalidInputError
from basalt.model.quota import MAX_LIMIT, UNLIMITED, QuotaResource
from basalt.model.volume_type import FRONT_END_KEYS, QosConsumer

MAX_NAME_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 255
MAX_METADATA_ITEMS = 128
MAX_METADATA_KEY_LENGTH = 255
MAX_METADATA_VALUE_LENGTH = 255
MAX_VOLUME_SIZE_GIB = 1024 * 1024  # 1 PiB: beyond any pool Basalt can address sanely


def validate_size_gib(value: object, *, field: str = "size") -> int:
    """Return ``value`` as a whole number of GiB, or refuse it.

    Args:
        value: what the caller gave (int, or a string of digits from the CLI or JSON).
        field: the name to use in the error.

    Returns:
        The size in GiB.

    Raises:
        InvalidInputError: not a whole positive number, or above the maximum.
    """
    if isinstance(value, bool):
        raise InvalidInputError(field, "must be a whole number of GiB, not a boolean")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise InvalidInputError(field, f"{value!r} is not a whole number of GiB")
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("-").isdigit():
            raise InvalidInputError(field, f"{value!r} is not a whole number of GiB")
        value = int(text)
    if not isinstance(value, int):
        raise InvalidInputError(field, f"must be a whole number of GiB, got {type(value).__name__}")
    if value <= 0:
        raise InvalidInputError(field, f"must be at least 1 GiB, got {value}")
    if value > MAX_VOLUME_SIZE_GIB:
        raise InvalidInputError(field, f"{value} GiB is above the maximum of {MAX_VOLUME_SIZE_GIB}")
    return value


def check_text(value: object, *, field: str, max_length: int, allow_empty: bool) -> str:
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(field, "is not valid UTF-8") from exc
    if not isinstance(value, str):
        raise InvalidInputError(field, f"must be a string, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(field, "is not valid UTF-8 (contains lone surrogates)") from exc
    if not allow_empty and not value:
        raise InvalidInputError(field, "must not be empty")
    if len(value) > max_length:
        raise InvalidInputError(
            field, f"is {len(value)} characters long; the limit is {max_length}"
        )
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InvalidInputError(field, "must not contain NUL or other control characters")
    return value


def validate_name(value: object, *, field: str = "name") -> str:
    """Check a resource name: printable UTF-8, no path parts, at most 255 characters.

    Raises:
        InvalidInputError: the name breaks one of those rules.
    """
    name = check_text(value, field=field, max_length=MAX_NAME_LENGTH, allow_empty=True)
    if "/" in name or "\\" in name:
        raise InvalidInputError(field, "must not contain path separators ('/' or '\\')")
    if ".." in name:
        raise InvalidInputError(field, "must not contain '..'")
    return name


def validate_description(value: object) -> str:
    """Check a description: printable UTF-8, at most 255 characters."""
    return check_text(
        value, field="description", max_length=MAX_DESCRIPTION_LENGTH, allow_empty=True
    )


def validate_metadata(value: object) -> dict[str, str]:
    """Check a metadata mapping of string keys to string values.

    Raises:
        InvalidInputError: not a mapping, too many items, or a bad key or value.
    """
    if not isinstance(value, Mapping):
        raise InvalidInputError("metadata", "must be a mapping of strings to strings")
    if len(value) > MAX_METADATA_ITEMS:
        raise InvalidInputError(
            "metadata", f"has {len(value)} items; the limit is {MAX_METADATA_ITEMS}"
        )
    result: dict[str, str] = {}
    for key, item in value.items():
        checked_key = validate_name(key, field="metadata key")
        if not checked_key:
            raise InvalidInputError("metadata key", "must not be empty")
        result[checked_key] = check_text(
            item,
            field=f"metadata value for {checked_key!r}",
            max_length=MAX_METADATA_VALUE_LENGTH,
            allow_empty=True,
        )
    return result


def validate_uuid(value: object, *, field: str) -> str:
    """Return ``value`` as a canonical lower-case UUID string.

    Raises:
        InvalidInputError: not a UUID.
    """
    if not isinstance(value, str):
        raise InvalidInputError(field, "must be a UUID string")
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise InvalidInputError(field, f"{value[:64]!r} is not a UUID") from exc


def validate_request_id(value: object) -> str:
    """Check an idempotency key: 1-255 printable characters."""
    key = check_text(value, field="idempotency key", max_length=255, allow_empty=False)
    return key


def validate_flag(value: object, *, field: str) -> bool:
    """A yes/no value: a boolean, or "true"/"false" (any case) from a CLI or query string.

    Raises:
        InvalidInputError: anything else.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InvalidInputError(field, f"must be true or false, got {value!r}")


def validate_specs(value: object, *, field: str) -> dict[str, str]:
    """Check extra specs or QoS specs: string keys (1-255 characters) to string values
    (at most 255), at most MAX_METADATA_ITEMS of them. Numbers and booleans are taken
    as their text, as Cinder clients send them.

    Raises:
        InvalidInputError: not a mapping, too many items, or a bad key or value.
    """
    if not isinstance(value, Mapping):
        raise InvalidInputError(field, "must be a mapping of strings to strings")
    if len(value) > MAX_METADATA_ITEMS:
        raise InvalidInputError(field, f"has {len(value)} items; the limit is {MAX_METADATA_ITEMS}")
    checked: dict[str, str] = {}
    for key, item in value.items():
        name = check_text(key, field=f"{field} key", max_length=MAX_NAME_LENGTH, allow_empty=False)
        if isinstance(item, bool):
            item = "True" if item else "False"
        elif isinstance(item, int | float) and math.isfinite(item):
            item = str(item)
        checked[name] = check_text(
            item, field=f"{field} value for {name!r}", max_length=255, allow_empty=True
        )
    return checked


def validate_qos(consumer: object, specs: object) -> tuple[str, dict[str, str]]:
    """Check a QoS spec's consumer and keys: a host can only enforce the front-end keys,
    and those take whole non-negative numbers.

    Returns:
        The consumer and the checked specs.

    Raises:
        InvalidInputError: an unknown consumer, a front-end spec with a key a host cannot
            enforce, or a front-end key whose value is not a whole number >= 0.
    """
    consumers = {str(c) for c in QosConsumer}
    if not isinstance(consumer, str) or consumer not in consumers:
        raise InvalidInputError(
            "consumer", f"{str(consumer)[:32]!r} is not one of {', '.join(sorted(consumers))}"
        )
    checked = validate_specs(specs, field="qos specs")
    for key, value in checked.items():
        if consumer == QosConsumer.FRONT_END and key not in FRONT_END_KEYS:
            raise InvalidInputError(
                "qos specs",
                f"{key!r} is not a key a host can enforce (consumer front-end)",
                hint=f"front-end keys: {', '.join(sorted(FRONT_END_KEYS))}",
            )
        if key in FRONT_END_KEYS and not value.strip().isdigit():
            raise InvalidInputError(
                "qos specs", f"{key} must be a whole number >= 0, not {value!r}"
            )
    return consumer, checked


_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,12}")
ABSENT_RESOURCES = frozenset({"backups", "backup_gigabytes", "groups"})
"""Cinder quota resources of features Basalt does not have."""


def validate_quota_limit(value: object, *, field: str) -> int:
    """A quota limit: -1 (unlimited) or a whole number from 0 to MAX_LIMIT; an integer or
    a string of digits, as Cinder takes it.

    Raises:
        InvalidInputError: not a whole number, negative other than -1, or too large.
    """
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None:
        raise InvalidInputError(
            field, f"{str(value)[:32]!r} is not a whole number (-1 means unlimited)"
        )
    if number < UNLIMITED:
        raise InvalidInputError(
            field, f"{number} is negative: a limit is -1 (unlimited) or 0 or more"
        )
    if number > MAX_LIMIT:
        raise InvalidInputError(field, f"{number} is above the largest limit, {MAX_LIMIT}")
    return number


def validate_quota_set(
    items: object, *, known: Mapping[str, QuotaResource], field: str
) -> dict[QuotaResource, int]:
    """Check a quota set: resource names (``known``) to limits, at least one of them.

    Args:
        items: what the caller gave, e.g. ``{"volumes": 10, "gigabytes_gold": -1}``.
        known: the resources that may be named, by name.
        field: the name to use in errors (``quota_set``).

    Returns:
        The limits by resource.

    Raises:
        InvalidInputError: not a mapping, empty, an unknown name or a bad limit.
    """
    if not isinstance(items, Mapping):
        raise InvalidInputError(field, "must be an object of resource names to limits")
    if not items:
        raise InvalidInputError(field, 'names no resource, e.g. {"volumes": 10}')
    checked: dict[QuotaResource, int] = {}
    for name, value in items.items():
        resource = known.get(name) if isinstance(name, str) else None
        if resource is None:
            absent = (
                " (Basalt has no backups and does not count a groups quota)"
                if name in ABSENT_RESOURCES
                else ""
            )
            raise InvalidInputError(
                field,
                f"unknown resource {str(name)[:300]!r}{absent}",
                hint=f"the resources are {', '.join(sorted(known))}",
            )
        checked[resource] = validate_quota_limit(value, field=f"{field}.{name}")
    return checked
