"""Extra specs against capabilities: the operators of the capabilities filter.

A volume type's extra spec names a capability and says what the pool must report.
The value is plain text (the capability, as text, must equal it) or an operator
followed by its operands:

==========================  ==========================================  ===================
operator                    the pool passes when its capability...      example
==========================  ==========================================  ===================
(none)                      as text, equals the value                   ``gold``
``=``                       is a number at least the operand            ``= 100``
``==`` ``!=`` ``>=`` ``<=``  compares so with the number                 ``>= 2.5``
``s==`` ``s!=`` ``s<``      compares so with the text (the rest of the  ``s>= 2.1.0``
``s<=`` ``s>`` ``s>=``      value, spaces included)
``<in>``                    contains the text (a list: has it as item)  ``<in> iSCSI``
``<is>``                    is that boolean (True/False, any case)      ``<is> True``
``<or>``                    as text, is one of the values               ``<or> FC <or> iSCSI``
``<all-in>``                contains every listed word                  ``<all-in> lz4 zstd``
==========================  ==========================================  ===================

Keys: ``foo`` and ``capabilities:foo`` name capability ``foo`` (``capabilities:a:b``
looks ``b`` up inside ``a``). Any other scope (``qos:``, ``sf:``, ``RESKEY:``...)
belongs to another consumer and is no capability requirement.

A set of specs is compiled once (``compile_extra_specs`` caches it). A spec that
cannot be read (``<is> maybe``, ``>= many``, an unknown ``<op>``) compiles to a
:class:`MalformedSpec`; the capabilities filter fails every pool with its reason, and
:func:`check_extra_specs` raises InvalidExtraSpecError for it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from basalt.errors import InvalidExtraSpecError
from basalt.service.scheduler.operators import (
    LITERAL,
    OPERATORS,
    Operator,
    Test,
    Unreadable,
    as_text,
    looks_like_operator,
)

CAPABILITY_SCOPE = "capabilities"
MAX_COMPILED = 4096
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Requirement:
    """One compiled capability requirement: ``key`` (as written) must satisfy ``value``."""

    key: str
    value: str
    path: tuple[str, ...]
    operator: Operator
    test: Test
    """True/False, or a text saying why the capability cannot be compared."""

    @property
    def label(self) -> str:
        """``key=value`` as written in the volume type."""
        return f"{self.key}={self.value}"

    def check(self, capabilities: Mapping[str, object]) -> str | None:
        """None when the capabilities satisfy the requirement, else what the pool has.

        Args:
            capabilities: what the pool's driver reports.

        Returns:
            None, or e.g. "reports 'silver'", "not reported", "reports 'x', not a number".
        """
        found = lookup(capabilities, self.path)
        if found is _MISSING:
            return "not reported"
        outcome = self.test(found)
        if outcome is True:
            return None
        if outcome is False:
            return f"reports {found!r}"
        return f"reports {found!r}, {outcome}"


@dataclass(frozen=True, slots=True)
class MalformedSpec:
    """A spec the filter cannot read, and why."""

    key: str
    value: str
    reason: str

    @property
    def label(self) -> str:
        return f"{self.key}={self.value}"


@dataclass(frozen=True, slots=True)
class CompiledSpecs:
    """A volume type's extra specs, read once: what pools must report."""

    key: tuple[tuple[str, str], ...]
    """The specs, sorted: equal specs compile to equal keys."""
    requirements: tuple[Requirement, ...]
    malformed: tuple[MalformedSpec, ...]
    ignored: tuple[str, ...]
    """Keys of other scopes (qos:, sf:, ...), not capability requirements."""

    def unmet(self, capabilities: Mapping[str, object]) -> list[tuple[str, str]]:
        """Each unmet spec, malformed specs first.

        Args:
            capabilities: what the pool's driver reports.

        Returns:
            (``key=value``, why) pairs; empty when every spec holds.
        """
        found = [(m.label, f"malformed: {m.reason}") for m in self.malformed]
        for requirement in self.requirements:
            detail = requirement.check(capabilities)
            if detail is not None:
                found.append((requirement.label, detail))
        return found

    def matches(self, capabilities: Mapping[str, object]) -> bool:
        """Whether the capabilities meet every requirement.

        Args:
            capabilities: what the pool's driver reports.

        Returns:
            True when every requirement holds; never with a malformed spec.
        """
        if self.malformed:
            return False
        return all(r.check(capabilities) is None for r in self.requirements)


_COMPILED: dict[frozenset[tuple[str, str]], CompiledSpecs] = {}
"""Compiled specs by their items (a volume type's specs rarely change; requests repeat them)."""


def lookup(capabilities: Mapping[str, object], path: tuple[str, ...]) -> object:
    """The capability at ``path`` (nested mappings), or a private marker when absent."""
    found: object = capabilities
    for part in path:
        if not isinstance(found, Mapping) or part not in found:
            return _MISSING
        found = found[part]
    return found


def compile_extra_specs(extra_specs: Mapping[str, str]) -> CompiledSpecs:
    """Read a volume type's extra specs once (cached per distinct set of specs).

    Args:
        extra_specs: key -> value, as the volume type holds them.

    Returns:
        The requirements on capabilities, the malformed specs with their reasons and
        the keys of other scopes. Never raises for a bad spec.
    """
    try:
        items = frozenset(extra_specs.items())
    except TypeError:  # a value that is not even hashable: compile it to say so
        ordered = tuple(sorted(extra_specs.items(), key=lambda item: str(item[0])))
        shown = tuple((str(key), repr(value)) for key, value in ordered)
        return dataclasses.replace(_compile(ordered), key=shown)
    found = _COMPILED.get(items)
    if found is None:
        if len(_COMPILED) >= MAX_COMPILED:
            _COMPILED.clear()
        found = _COMPILED[items] = _compile(tuple(sorted(items)))
    return found


def check_extra_specs(extra_specs: Mapping[str, str]) -> CompiledSpecs:
    """Compile extra specs, refusing any the capabilities filter cannot read.

    Args:
        extra_specs: key -> value, e.g. a volume type about to be saved.

    Returns:
        The compiled specs.

    Raises:
        InvalidExtraSpecError: the first malformed spec, with its reason.
    """
    compiled = compile_extra_specs(extra_specs)
    if compiled.malformed:
        bad = compiled.malformed[0]
        raise InvalidExtraSpecError(bad.key, bad.value, bad.reason)
    return compiled


def _compile(items: tuple[tuple[str, str], ...]) -> CompiledSpecs:
    requirements: list[Requirement] = []
    malformed: list[MalformedSpec] = []
    ignored: list[str] = []
    for key, value in items:
        scope = key.split(":")
        if len(scope) > 1 and scope[0] != CAPABILITY_SCOPE:
            ignored.append(key)
            continue
        path = tuple(scope[1:]) if len(scope) > 1 else (key,)
        compiled = _requirement(key, value, path)
        if isinstance(compiled, MalformedSpec):
            malformed.append(compiled)
        else:
            requirements.append(compiled)
    return CompiledSpecs(items, tuple(requirements), tuple(malformed), tuple(ignored))


def _requirement(key: str, value: object, path: tuple[str, ...]) -> Requirement | MalformedSpec:
    if not isinstance(value, str):
        return MalformedSpec(key, repr(value), "a value must be text")
    if not all(path):
        return MalformedSpec(key, value, "the key names no capability")
    words = value.split()
    if not words or words[0] not in OPERATORS:
        if words and looks_like_operator(words[0]):
            return MalformedSpec(key, value, f"{words[0]!r} is not an operator")
        return Requirement(key, value, path, LITERAL, lambda found: as_text(found) == value)
    operator = OPERATORS[words[0]]
    test = operator.compile(value.split(None, 1)[1] if len(words) > 1 else "")
    if isinstance(test, Unreadable):
        return MalformedSpec(key, value, test.reason)
    return Requirement(key, value, path, operator, test)
