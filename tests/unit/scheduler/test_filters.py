"""Each filter's verdict and the reason it gives, passing and failing."""

from __future__ import annotations

import pytest

from basalt.service.scheduler import FILTERS, FilterVerdict, PoolCandidate, ScheduleRequest
from basalt.service.scheduler import compile_extra_specs as compiled
from basalt.service.scheduler.settings import FilterName
from tests.unit.scheduler.factories import pool, request


def verdict(name: FilterName, candidate: PoolCandidate, asked: ScheduleRequest) -> FilterVerdict:
    return FILTERS[name].verdict(candidate, asked, compiled(asked.extra_specs))


@pytest.mark.parametrize(
    "candidate, passed, reason, cause",
    [
        (pool("b1"), True, "backend b1 is enabled and up", None),
        (
            pool("b1", enabled=False, disabled_reason="maintenance"),
            False,
            "backend b1 is disabled (maintenance)",
            "disabled",
        ),
        (pool("b1", up=False), False, "backend b1 is down", "down"),
        (
            pool("b1", enabled=False, up=False, down_reason="stats failed"),
            False,
            "backend b1 is disabled and down (stats failed)",
            "disabled and down",
        ),
    ],
)
def test_enabled(candidate: PoolCandidate, passed: bool, reason: str, cause: str | None) -> None:
    assert verdict("enabled", candidate, request()) == FilterVerdict(
        "enabled", passed, reason, cause
    )


@pytest.mark.parametrize(
    "zone, passed, reason",
    [
        (None, True, "any zone asked; in az1"),
        ("az1", True, "in zone az1"),
        ("az2", False, "in zone az1, not az2"),
    ],
)
def test_availability_zone(zone: str | None, passed: bool, reason: str) -> None:
    found = verdict("availability_zone", pool(zone="az1"), request(availability_zone=zone))
    assert (found.passed, found.reason) == (passed, reason)
    assert found.cause == (None if passed else "zone az2")


def test_same_backend() -> None:
    none = verdict("same_backend", pool("b1"), request())
    assert (none.passed, none.reason) == (True, "no same_backend_as hint")
    hint = request(same_backend_as=frozenset({"b2", "b1"}))
    assert verdict("same_backend", pool("b1"), hint).reason == (
        "on backend b1, as same_backend_as asks"
    )
    refused = verdict("same_backend", pool("b3"), hint)
    assert not refused.passed
    assert refused.reason == "on backend b3, not b1, b2 (same_backend_as)"
    assert refused.cause == "same backend as b1, b2"


def test_different_backend() -> None:
    none = verdict("different_backend", pool("b1"), request())
    assert (none.passed, none.reason) == (True, "no different_backend_from hint")
    hint = request(different_backend_from=frozenset({"b1"}))
    assert verdict("different_backend", pool("b2"), hint).reason == "on backend b2, not on b1"
    refused = verdict("different_backend", pool("b1"), hint)
    assert not refused.passed
    assert refused.reason == "on backend b1, which different_backend_from excludes"
    assert refused.cause == "different backend from b1"


def test_capabilities() -> None:
    gold = pool(capabilities={"volume_backend_name": "gold", "multiattach": False})
    assert verdict("capabilities", gold, request()).reason == "no capability requirements"
    asked = request(specs={"volume_backend_name": "gold", "qos:maxIOPS": "5"})
    assert verdict("capabilities", gold, asked).reason == "matches volume_backend_name=gold"
    refused = verdict(
        "capabilities",
        gold,
        request(specs={"volume_backend_name": "silver", "multiattach": "<is> True", "x": "1"}),
    )
    assert not refused.passed
    assert refused.reason == (
        "multiattach=<is> True: reports False; volume_backend_name=silver: reports 'gold'; "
        "x=1: not reported"
    )
    assert refused.cause == "multiattach=<is> True"


def test_capabilities_with_a_malformed_spec_fail_every_pool_naming_it() -> None:
    refused = verdict("capabilities", pool(), request(specs={"multiattach": "<is> maybe"}))
    assert not refused.passed
    assert refused.reason == (
        "multiattach=<is> maybe: malformed: <is> takes True or False, got 'maybe'"
    )


def test_capacity() -> None:
    roomy = pool(total=1000, free=800)
    found = verdict("capacity", roomy, request(50))
    assert (found.passed, found.reason) == (
        True,
        "needs 50 GiB, 800.0 GiB free (thick: 800.0 free - 0.0 reserved)",
    )
    thin = pool(
        total=100,
        free=90,
        provisioned=1988,
        thin_provisioning=True,
        max_over_subscription_ratio=20.0,
    )
    refused = verdict("capacity", thin, request(50))
    assert not refused.passed
    assert refused.reason.startswith("needs 50 GiB, 12.0 GiB provisionable under ratio 20")


@pytest.mark.parametrize("name", list(FILTERS))
def test_each_rule_reads_only_what_it_declares(name: FilterName) -> None:
    """Two requests that agree on what a filter reads get the same outcome from it on
    every pool: the fast path keeps outcomes on that promise."""
    rule = FILTERS[name]
    pools = [
        pool("b1", zone="az1"),
        pool("b2", zone="az2", enabled=False),
        pool("b3", capabilities={"volume_backend_name": "gold"}, free=5.0),
    ]
    base = request(10, {"volume_backend_name": "gold"}, availability_zone="az1")
    variants = [
        request(10, {"volume_backend_name": "gold"}, availability_zone="az1"),
        request(20, {"volume_backend_name": "gold"}, availability_zone="az1"),
        request(10, {}, availability_zone="az1"),
        request(10, {"volume_backend_name": "gold"}, availability_zone="az2"),
        request(10, {"volume_backend_name": "gold"}, same_backend_as=frozenset({"b1"})),
        request(10, {"volume_backend_name": "gold"}, different_backend_from=frozenset({"b1"})),
    ]
    for other in variants:
        base_specs, other_specs = compiled(base.extra_specs), compiled(other.extra_specs)
        if rule.reads(base, base_specs) != rule.reads(other, other_specs):
            continue
        for candidate in pools:
            assert rule.passes(candidate, base, base_specs) == rule.passes(
                candidate, other, other_specs
            )


@pytest.mark.parametrize("name", [n for n, rule in FILTERS.items() if rule.reads_pool])
def test_pools_that_agree_on_what_a_rule_reads_get_the_same_outcome(name: FilterName) -> None:
    """The fast path asks such a rule once per value it reads of a pool."""
    rule = FILTERS[name]
    assert rule.reads_pool is not None
    pools = [
        pool("b1", "p1", zone="az1"),
        pool("b1", "p2", zone="az1", free=1.0, capabilities={"x": "y"}, volume_count=9),
        pool("b2", "p1", zone="az2", enabled=False),
        pool("b2", "p2", zone="az2", enabled=False, up=False),
        pool("b3", "p1", zone="az1", up=False, thin_provisioning=True),
    ]
    asked = [
        request(10),
        request(10, availability_zone="az1"),
        request(10, availability_zone="az2"),
        request(10, same_backend_as=frozenset({"b1"})),
        request(10, different_backend_from=frozenset({"b1", "b3"})),
    ]
    for one in pools:
        for other in pools:
            if rule.reads_pool(one) != rule.reads_pool(other):
                continue
            for each in asked:
                specs = compiled(each.extra_specs)
                assert rule.passes(one, each, specs) == rule.passes(other, each, specs)
