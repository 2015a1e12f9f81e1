"""The scheduler's settings table."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from basalt.service.scheduler import SchedulerSettings


def test_defaults_run_every_filter_and_the_three_weighers() -> None:
    settings = SchedulerSettings()
    assert settings.filters == (
        "enabled",
        "availability_zone",
        "same_backend",
        "different_backend",
        "capabilities",
        "capacity",
    )
    assert settings.weighers == {
        "free_capacity": 1.0,
        "allocated_capacity": -1.0,
        "volume_count": -1.0,
    }


def test_a_table_as_read_from_toml() -> None:
    settings = SchedulerSettings.model_validate(
        {"filters": ["enabled", "capacity"], "weighers": {"volume_count": -2}}
    )
    assert settings.filters == ("enabled", "capacity")
    assert settings.weighers == {"volume_count": -2.0}


@pytest.mark.parametrize(
    "values, words",
    [
        ({"filters": ["enabled", "capacity", "capacity"]}, "each filter may be listed once"),
        ({"filters": ["capacity"]}, "'enabled' filter cannot be left out"),
        ({"filters": ["enabled", "json"]}, "json"),
        ({"weighers": {"goodness": 1.0}}, "goodness"),
        ({"weighers": {"volume_count": float("inf")}}, "finite"),
        ({"weigher": {}}, "weigher"),
    ],
)
def test_bad_tables_are_refused(values: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError) as refused:
        SchedulerSettings.model_validate(values)
    assert words in str(refused.value)
