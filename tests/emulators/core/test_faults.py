"""FaultInjector rules: counting, limits, probability, precedence."""

from __future__ import annotations

import pytest

from basalt_emulators.core import FaultInjector


def test_on_call_fires_once_by_default_and_times_extends_it() -> None:
    faults = FaultInjector()
    faults.inject("xA", method="M", on_call=2)
    faults.inject("xB", method="N", on_call=2, times=2)
    assert [faults.plan("M").error_name for _ in range(4)] == [None, "xA", None, None]
    assert [faults.plan("N").error_name for _ in range(4)] == [None, "xB", "xB", None]


def test_rules_count_only_their_method() -> None:
    faults = FaultInjector()
    rule = faults.inject("xA", method="M", on_call=2)
    for _ in range(5):
        faults.plan("Other")
    assert faults.plan("M").error_name is None
    assert faults.plan("M").error_name == "xA"
    assert (rule.seen, rule.fired) == (2, 1)


def test_probability_is_reproducible_with_a_seed() -> None:
    def pattern(seed: int) -> list[bool]:
        faults = FaultInjector()
        faults.inject("xA", probability=0.5, seed=seed)
        return [faults.plan("M").error_name is not None for _ in range(50)]

    assert pattern(1) == pattern(1)
    assert pattern(1) != pattern(2)
    assert 10 < sum(pattern(1)) < 40


def test_precedence_and_latency_adds_up() -> None:
    faults = FaultInjector()
    faults.latency(0.1)
    faults.latency(0.2, method="M")
    faults.read_timeout(method="M", seconds=3)
    faults.inject("xA", method="M")
    plan = faults.plan("M")
    assert plan.delay_seconds == pytest.approx(0.3)
    assert (plan.error_name, plan.late_seconds, plan.drop) == ("xA", 3, False)
    faults.drop_connection(method="M")
    assert faults.plan("M").drop


def test_invalid_arguments() -> None:
    faults = FaultInjector()
    with pytest.raises(ValueError):
        faults.inject("xA", on_call=0)
    with pytest.raises(ValueError):
        faults.drop_connection(probability=1.5)
