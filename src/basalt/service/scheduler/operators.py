"""The operators an extra spec's value may start with, and what each one tests.

Each operator compiles the rest of the value (its operands) into a test of a
capability: the test answers True, False, or a text saying why the capability
cannot be compared (not a number, not a boolean). Operand errors are found at
compile time and returned as :class:`Unreadable`, never raised.
"""

from __future__ import annotations

import math
import operator as op
import re
from collections.abc import Callable
from dataclasses import dataclass

Test = Callable[[object], bool | str]
_NOT_OPERATOR = re.compile(r"s?[<>=!]+|<[^\s]*>.*")


@dataclass(frozen=True, slots=True)
class Unreadable:
    """Why an operator's operands cannot be read."""

    reason: str


@dataclass(frozen=True, slots=True)
class Operator:
    """One operator: its token, what it means, and how it compiles its operands."""

    token: str
    meaning: str
    compile: Callable[[str], Test | Unreadable]


def _numeric(token: str, compare: Callable[[float, float], bool]) -> Operator:
    def compile_operand(rest: str) -> Test | Unreadable:
        words = rest.split()
        wanted = _finite(words[0]) if len(words) == 1 else None
        if wanted is None:
            return Unreadable(f"{token} takes one number, got {rest.strip()!r}")

        def test(found: object) -> bool | str:
            number = as_number(found)
            return "not a number" if number is None else compare(number, wanted)

        return test

    return Operator(token, f"number {compare.__name__}", compile_operand)


def _textual(token: str, compare: Callable[[str, str], bool]) -> Operator:
    def compile_operand(rest: str) -> Test | Unreadable:
        wanted = rest.strip()
        if not wanted:
            return Unreadable(f"{token} takes a text to compare with")
        return lambda found: compare(as_text(found), wanted)

    return Operator(token, f"text {compare.__name__}", compile_operand)


def _compile_contains(rest: str) -> Test | Unreadable:
    wanted = rest.strip()
    if not wanted:
        return Unreadable("<in> takes the text the capability must contain")
    return lambda found: contains(found, wanted)


def _compile_is(rest: str) -> Test | Unreadable:
    words = rest.split()
    if len(words) != 1 or words[0].lower() not in ("true", "false"):
        return Unreadable(f"<is> takes True or False, got {rest.strip()!r}")
    wanted = words[0].lower() == "true"

    def test(found: object) -> bool | str:
        flag = as_flag(found)
        return "not a boolean" if flag is None else flag is wanted

    return test


def _compile_or(rest: str) -> Test | Unreadable:
    words = rest.split()
    values, separators = words[0::2], words[1::2]
    if not words or len(words) % 2 == 0 or any(s != "<or>" for s in separators):
        return Unreadable(f"<or> takes '<or> a <or> b ...', got '<or> {rest.strip()}'")
    if "<or>" in values:
        return Unreadable("<or> needs a value between two <or>")
    choices = frozenset(values)
    return lambda found: as_text(found) in choices


def _compile_all_in(rest: str) -> Test | Unreadable:
    words = tuple(rest.split())
    if not words:
        return Unreadable("<all-in> takes the words the capability must contain")
    return lambda found: all(contains(found, word) for word in words)


def _at_least(have: float, want: float) -> bool:
    return have >= want


LITERAL = Operator("", "text equals", lambda rest: Unreadable("no operands"))
"""No operator: the value itself must equal the capability as text (compiled apart)."""
OPERATORS: dict[str, Operator] = {
    "=": _numeric("=", _at_least),
    "==": _numeric("==", op.eq),
    "!=": _numeric("!=", op.ne),
    ">=": _numeric(">=", op.ge),
    "<=": _numeric("<=", op.le),
    "s==": _textual("s==", op.eq),
    "s!=": _textual("s!=", op.ne),
    "s<": _textual("s<", op.lt),
    "s<=": _textual("s<=", op.le),
    "s>": _textual("s>", op.gt),
    "s>=": _textual("s>=", op.ge),
    "<in>": Operator("<in>", "contains", _compile_contains),
    "<is>": Operator("<is>", "is the boolean", _compile_is),
    "<or>": Operator("<or>", "is one of", _compile_or),
    "<all-in>": Operator("<all-in>", "contains every word", _compile_all_in),
}


def looks_like_operator(word: str) -> bool:
    """Whether a value's first word was surely meant as an operator (``>``, ``<gt>``)."""
    return word not in OPERATORS and _NOT_OPERATOR.fullmatch(word) is not None


def as_text(found: object) -> str:
    """A capability as the text specs compare with (True -> "True", 2 -> "2")."""
    return found if isinstance(found, str) else str(found)


def as_number(found: object) -> float | None:
    """A capability as a number, or None when it is not one (booleans are not)."""
    if isinstance(found, bool):
        return None
    if isinstance(found, int | float):
        return None if math.isnan(found) else float(found)
    if not isinstance(found, str):
        return None
    try:
        number = float(found.strip())
    except ValueError:
        return None
    return None if math.isnan(number) else number


def as_flag(found: object) -> bool | None:
    """A capability as a boolean: a bool, or the text true/false in any case."""
    if isinstance(found, bool):
        return found
    if isinstance(found, str) and found.strip().lower() in ("true", "false"):
        return found.strip().lower() == "true"
    return None


def contains(found: object, wanted: str) -> bool:
    """Substring of a text capability, or member of a list capability."""
    if isinstance(found, str):
        return wanted in found
    if isinstance(found, list | tuple | set | frozenset):
        return any(as_text(item) == wanted for item in found)
    return wanted in as_text(found)


def _finite(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
