"""Reading JSON-RPC `params` the way the array does: typed, with its error names.

Like the array (and as Cinder relies on), integers may arrive as decimal strings and
booleans as "true"/"false"; parameters the method does not know are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from basalt_emulators.solidfire.errors import (
    InvalidParameterTypeError,
    MissingParameterError,
    UnrecognizedEnumStringError,
)

E = TypeVar("E", bound=StrEnum)


class Params:
    """Typed access to one call's `params` object."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = raw

    def __contains__(self, name: str) -> bool:
        return self._raw.get(name) is not None

    def req_int(self, name: str) -> int:
        """A required integer (xMissingParameter / xInvalidParameterType)."""
        value = self.opt_int(name)
        if value is None:
            raise MissingParameterError(name)
        return value

    def opt_int(self, name: str) -> int | None:
        """An optional integer; decimal strings are accepted."""
        value = self._raw.get(name)
        if value is None:
            return None
        return _as_int(name, value)

    def req_str(self, name: str) -> str:
        """A required string."""
        value = self.opt_str(name)
        if value is None:
            raise MissingParameterError(name)
        return value

    def opt_str(self, name: str) -> str | None:
        """An optional string."""
        value = self._raw.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidParameterTypeError(name, "string")
        return value

    def flag(self, name: str, *, default: bool) -> bool:
        """An optional boolean; "true"/"false" strings are accepted."""
        value = self._raw.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise InvalidParameterTypeError(name, "boolean")

    def opt_flag(self, name: str) -> bool | None:
        """An optional boolean that stays None when absent."""
        return self.flag(name, default=False) if name in self else None

    def opt_object(self, name: str) -> dict[str, Any] | None:
        """An optional JSON object."""
        value = self._raw.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise InvalidParameterTypeError(name, "object")
        return dict(value)

    def req_int_list(self, name: str) -> list[int]:
        """A required list of integers."""
        value = self.opt_int_list(name)
        if value is None:
            raise MissingParameterError(name)
        return value

    def opt_int_list(self, name: str) -> list[int] | None:
        """An optional list of integers."""
        value = self._raw.get(name)
        if value is None:
            return None
        if not isinstance(value, list):
            raise InvalidParameterTypeError(name, "array of integers")
        return [_as_int(name, item) for item in value]

    def req_str_list(self, name: str) -> list[str]:
        """A required list of strings."""
        value = self.opt_str_list(name)
        if value is None:
            raise MissingParameterError(name)
        return value

    def opt_str_list(self, name: str) -> list[str] | None:
        """An optional list of strings."""
        value = self._raw.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidParameterTypeError(name, "array of strings")
        return list(value)

    def opt_enum(self, name: str, enum: type[E]) -> E | None:
        """An optional string that must be one of `enum`'s values."""
        value = self.opt_str(name)
        if value is None:
            return None
        try:
            return enum(value)
        except ValueError:
            raise UnrecognizedEnumStringError(name, value) from None


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidParameterTypeError(name, "integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise InvalidParameterTypeError(name, "integer")
