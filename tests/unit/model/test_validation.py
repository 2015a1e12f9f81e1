"""The rules for caller-given values, one test per rule."""

from __future__ import annotations

import pytest

from basalt.errors import InvalidInputError
from basalt.model.validation import (
    MAX_VOLUME_SIZE_GIB,
    validate_metadata,
    validate_name,
    validate_request_id,
    validate_size_gib,
)


@pytest.mark.parametrize("value, expected", [(1, 1), ("2", 2), (3.0, 3), (" 4 ", 4)])
def test_sizes_that_are_whole_gib_are_accepted(value: object, expected: int) -> None:
    assert validate_size_gib(value) == expected


@pytest.mark.parametrize(
    "value, words",
    [
        (0, "at least 1 GiB"),
        (-1, "at least 1 GiB"),
        ("-5", "at least 1 GiB"),
        (1.5, "not a whole number"),
        ("1.5", "not a whole number"),
        ("abc", "not a whole number"),
        (float("nan"), "not a whole number"),
        (float("inf"), "not a whole number"),
        (True, "boolean"),
        (None, "got NoneType"),
        ([1], "got list"),
        (MAX_VOLUME_SIZE_GIB + 1, "above the maximum"),
        (10**30, "above the maximum"),
    ],
)
def test_bad_sizes_name_the_problem(value: object, words: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        validate_size_gib(value)
    assert info.value.field == "size"
    assert words in str(info.value)


@pytest.mark.parametrize("name", ["", "db", "ünïcødé ✓", "a" * 255, "v1.2"])
def test_good_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize(
    "name, words",
    [
        ("a/b", "path separators"),
        ("a\\b", "path separators"),
        ("..", "'..'"),
        ("x/../y", "path separators"),
        ("up..", "'..'"),
        ("nul\x00byte", "control characters"),
        ("tab\there", "control characters"),
        ("a" * 10_000, "10000 characters long"),
        (b"\xff\xfe", "not valid UTF-8"),
        ("\udcff", "lone surrogates"),
        (42, "must be a string"),
    ],
)
def test_bad_names_name_the_problem(name: object, words: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        validate_name(name)
    assert words in str(info.value)


def test_metadata_rules() -> None:
    assert validate_metadata({"k": "v", "empty": ""}) == {"k": "v", "empty": ""}
    for bad, words in [
        ({"": "v"}, "must not be empty"),
        ({"a/b": "v"}, "path separators"),
        ({"k": "v" * 256}, "limit is 255"),
        ({"k": 5}, "must be a string"),
        ({"k": "nul\x00"}, "control characters"),
        ({f"k{i}": "v" for i in range(129)}, "limit is 128"),
        (["k"], "mapping"),
    ]:
        with pytest.raises(InvalidInputError) as info:
            validate_metadata(bad)
        assert words in str(info.value), bad


def test_request_ids_must_be_printable_and_short() -> None:
    assert validate_request_id("retry-1") == "retry-1"
    with pytest.raises(InvalidInputError):
        validate_request_id("")
    with pytest.raises(InvalidInputError):
        validate_request_id("x" * 256)
