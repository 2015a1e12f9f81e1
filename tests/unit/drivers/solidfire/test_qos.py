"""QoS specs -> Element qos: presets, explicit keys, scaled IOPS, limits."""

from __future__ import annotations

import pytest

from basalt.drivers.solidfire.qos import element_qos
from basalt.errors import InvalidInputError


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("slow", (100, 200, 200)),
        ("medium", (200, 400, 400)),
        ("fast", (500, 1000, 1000)),
        ("performant", (2000, 4000, 4000)),
    ],
)
def test_presets(preset: str, expected: tuple[int, int, int]) -> None:
    qos = element_qos({"sf-qos": preset}, size_gib=10)
    assert qos is not None
    assert (qos["minIOPS"], qos["maxIOPS"], qos["burstIOPS"]) == expected


def test_off_and_empty_mean_no_qos() -> None:
    assert element_qos({"sf-qos": "off"}, size_gib=1) is None
    assert element_qos({}, size_gib=1) is None


def test_explicit_keys_override_the_preset_and_accept_the_scope_prefix() -> None:
    assert element_qos(
        {"sf-qos": "slow", "qos:maxIOPS": "300", "burstIOPS": "500"}, size_gib=1
    ) == {
        "minIOPS": 100,
        "maxIOPS": 300,
        "burstIOPS": 500,
    }


def test_scaled_iops_grow_per_gib_above_the_first_and_are_capped() -> None:
    specs = {
        "minIOPS": "100",
        "maxIOPS": "1000",
        "burstIOPS": "2000",
        "scaledIOPS": "True",
        "scaleMin": "10",
        "scaleMax": "100",
        "scaleBurst": "100000",
    }
    assert element_qos(specs, size_gib=11) == {
        "minIOPS": 200,
        "maxIOPS": 2000,
        "burstIOPS": 200000,
    }
    assert element_qos({**specs, "scaledIOPS": "false"}, size_gib=11) == {
        "minIOPS": 100,
        "maxIOPS": 1000,
        "burstIOPS": 2000,
    }


def test_min_iops_is_kept_in_the_arrays_range() -> None:
    assert element_qos({"minIOPS": "5"}, size_gib=1) == {"minIOPS": 100}
    assert element_qos({"minIOPS": "90000"}, size_gib=1) == {"minIOPS": 15000}


@pytest.mark.parametrize(
    "specs",
    [
        {"sf-qos": "turbo"},
        {"minIOPS": "many"},
        {"maxIOPS": "-1"},
        {"minIOPS": "500", "maxIOPS": "200"},
    ],
)
def test_bad_specs_are_refused(specs: dict[str, str]) -> None:
    with pytest.raises(InvalidInputError):
        element_qos(specs, size_gib=1)
