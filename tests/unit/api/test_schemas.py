"""Wire views: the timestamp text Cinder clients parse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from basalt.api.schemas import TIME_FORMAT, stamp

ZONES = st.sampled_from([None, UTC, timezone(timedelta(hours=5, minutes=30))])


@given(moment=st.datetimes(timezones=ZONES))
def test_stamp_is_the_strftime_text(moment: datetime) -> None:
    # isoformat stands in for strftime on the listing's hot path; the text must not change.
    assert stamp(moment) == moment.strftime(TIME_FORMAT)


def test_stamp_keeps_whole_seconds_microseconds_and_none() -> None:
    assert stamp(datetime(2026, 11, 22, 8, 5, 3, tzinfo=UTC)) == "2026-11-22T08:05:03.000000"
    assert stamp(datetime(2026, 1, 2, 3, 4, 5, 60, tzinfo=UTC)) == "2026-01-02T03:04:05.000060"
    assert stamp(None) is None
