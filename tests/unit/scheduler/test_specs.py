"""Extra specs against capabilities: every operator, both ways, and the malformed ones."""

from __future__ import annotations

import pytest

from basalt.errors import InvalidExtraSpecError
from basalt.service.scheduler import check_extra_specs, compile_extra_specs

CAPABILITIES: dict[str, object] = {
    "volume_backend_name": "gold",
    "storage_protocol": "iSCSI",
    "vendor_name": "Pure Storage",
    "driver_version": "2.1.0",
    "multiattach": True,
    "QoS_support": "False",
    "max_iops": 50000,
    "ratio": "20.0",
    "compression": ["lz4", "zstd"],
    "pools": {"tier": "ssd"},
}

OPERATOR_CASES = [
    # no operator: the capability as text equals the value
    ("volume_backend_name", "gold", True),
    ("volume_backend_name", "silver", False),
    ("volume_backend_name", "gold ", False),
    ("multiattach", "True", True),
    ("max_iops", "50000", True),
    ("vendor_name", "Pure Storage", True),
    # = : a number at least the operand
    ("max_iops", "= 50000", True),
    ("max_iops", "= 40000", True),
    ("max_iops", "= 60000", False),
    ("ratio", "= 20", True),
    # numeric comparisons
    ("max_iops", "== 50000.0", True),
    ("max_iops", "== 4", False),
    ("max_iops", "!= 4", True),
    ("max_iops", "!= 50000", False),
    ("ratio", ">= 19.5", True),
    ("ratio", ">= 21", False),
    ("ratio", "<= 20", True),
    ("ratio", "<= 19", False),
    # text comparisons (the rest of the value, spaces included)
    ("driver_version", "s== 2.1.0", True),
    ("driver_version", "s== 2.1", False),
    ("vendor_name", "s== Pure Storage", True),
    ("driver_version", "s!= 2.1", True),
    ("driver_version", "s!= 2.1.0", False),
    ("driver_version", "s< 2.2", True),
    ("driver_version", "s< 10.0", False),  # text order: "2" sorts after "1"
    ("driver_version", "s<= 2.1.0", True),
    ("driver_version", "s<= 2.0", False),
    ("driver_version", "s> 10.0", True),
    ("driver_version", "s> 3", False),
    ("driver_version", "s>= 2.1.0", True),
    ("driver_version", "s>= 3", False),
    # <in>: substring of text, item of a list
    ("storage_protocol", "<in> SCSI", True),
    ("storage_protocol", "<in> FC", False),
    ("compression", "<in> zstd", True),
    ("compression", "<in> zst", False),
    # <is>: booleans, from a bool or from text, any case
    ("multiattach", "<is> True", True),
    ("multiattach", "<is> true", True),
    ("multiattach", "<is> False", False),
    ("QoS_support", "<is> FALSE", True),
    ("QoS_support", "<is> True", False),
    # <or>: one of several
    ("storage_protocol", "<or> FC <or> iSCSI", True),
    ("storage_protocol", "<or> iSCSI", True),
    ("storage_protocol", "<or> FC <or> NVMe", False),
    # <all-in>: every word
    ("compression", "<all-in> lz4 zstd", True),
    ("compression", "<all-in> lz4 gzip", False),
    ("vendor_name", "<all-in> Pure Storage", True),
    ("vendor_name", "<all-in> Pure Flash", False),
    # scopes: capabilities:foo is foo; nested keys look inside
    ("capabilities:volume_backend_name", "gold", True),
    ("capabilities:volume_backend_name", "silver", False),
    ("capabilities:pools:tier", "ssd", True),
    ("capabilities:pools:tier", "hdd", False),
]


@pytest.mark.parametrize("key, value, holds", OPERATOR_CASES)
def test_each_operator_holds_or_not(key: str, value: str, holds: bool) -> None:
    compiled = compile_extra_specs({key: value})
    assert not compiled.malformed
    assert compiled.matches(CAPABILITIES) is holds
    unmet = compiled.unmet(CAPABILITIES)
    assert (unmet == []) is holds
    if not holds:
        assert unmet[0][0] == f"{key}={value}"
        assert unmet[0][1].startswith("reports ")


@pytest.mark.parametrize(
    "key, value, detail",
    [
        ("replication_enabled", "<is> True", "not reported"),
        ("capabilities:pools:speed", "fast", "not reported"),
        ("capabilities:volume_backend_name:x", "y", "not reported"),  # gold is no mapping
        ("vendor_name", ">= 3", "reports 'Pure Storage', not a number"),
        ("multiattach", "== 1", "reports True, not a number"),  # a boolean is no number
        ("max_iops", "<is> True", "reports 50000, not a boolean"),
    ],
)
def test_an_unmet_requirement_says_what_the_pool_has(key: str, value: str, detail: str) -> None:
    compiled = compile_extra_specs({key: value})
    assert compiled.unmet(CAPABILITIES) == [(f"{key}={value}", detail)]


def test_other_scopes_are_not_capability_requirements() -> None:
    specs = {
        "qos:maxIOPS": "1000",
        "sf:account": "x",
        "RESKEY:availability_zones": "az1",
        "vendor:thing": "<is> maybe",
    }
    compiled = compile_extra_specs(specs)
    assert compiled.requirements == ()
    assert compiled.malformed == ()
    assert sorted(compiled.ignored) == sorted(specs)
    assert compiled.matches({})


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("multiattach", "<is> maybe", "<is> takes True or False, got 'maybe'"),
        ("multiattach", "<is>", "<is> takes True or False"),
        ("max_iops", ">= many", ">= takes one number, got 'many'"),
        ("max_iops", "== 1 2", "== takes one number"),
        ("max_iops", "= nan", "= takes one number"),
        ("max_iops", "<= inf", "<= takes one number"),
        ("driver_version", "s==", "s== takes a text"),
        ("storage_protocol", "<in>", "<in> takes the text"),
        ("storage_protocol", "<or>", "<or> takes '<or> a <or> b ...'"),
        ("storage_protocol", "<or> a b", "<or> takes"),
        ("storage_protocol", "<or> a <or>", "<or> takes"),
        ("storage_protocol", "<or> a <or> <or> <or> b", "needs a value between two <or>"),
        ("compression", "<all-in>", "<all-in> takes the words"),
        ("max_iops", "<gt> 5", "'<gt>' is not an operator"),
        ("max_iops", "> 5", "'>' is not an operator"),
        ("multiattach", "<is>True", "'<is>True' is not an operator"),
        ("capabilities:", "x", "the key names no capability"),
        ("capabilities:pools:", "x", "the key names no capability"),
    ],
)
def test_malformed_specs_are_reported_not_raised(key: str, value: str, words: str) -> None:
    compiled = compile_extra_specs({key: value, "volume_backend_name": "gold"})
    assert [m.key for m in compiled.malformed] == [key]
    assert words in compiled.malformed[0].reason
    assert not compiled.matches(CAPABILITIES)
    assert compiled.unmet(CAPABILITIES)[0] == (
        f"{key}={value}",
        f"malformed: {compiled.malformed[0].reason}",
    )
    with pytest.raises(InvalidExtraSpecError) as refused:
        check_extra_specs({key: value})
    assert refused.value.key == key
    assert words in str(refused.value)


@pytest.mark.parametrize("value", [5, None, ["<is>", "True"]])
def test_a_value_that_is_not_text_is_malformed(value: object) -> None:
    compiled = compile_extra_specs({"max_iops": value})  # type: ignore[dict-item]
    assert compiled.malformed[0].reason == "a value must be text"


def test_check_extra_specs_returns_the_compiled_specs_when_all_are_readable() -> None:
    compiled = check_extra_specs({"volume_backend_name": "gold", "multiattach": "<is> True"})
    assert compiled.matches(CAPABILITIES)


def test_equal_specs_compile_once() -> None:
    first = compile_extra_specs({"a": "1", "b": "<is> True"})
    again = compile_extra_specs({"b": "<is> True", "a": "1"})
    assert again is first
    assert first.key == (("a", "1"), ("b", "<is> True"))
