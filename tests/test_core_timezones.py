"""The workspace time zone helpers: one zone, named wherever a time is shown (issue #18)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.timezones import TimeZoneError, as_utc, format_local, zone_named

MOMENT = datetime(2026, 2, 28, 18, 10, 5, tzinfo=UTC)  # 2026-03-01 02:10:05 in Shanghai


def test_local_time_is_labelled_with_the_zone() -> None:
    assert format_local(MOMENT, zone_named("Asia/Shanghai")) == "2026-03-01 02:10 CST"
    assert (
        format_local(MOMENT, zone_named("Asia/Shanghai"), seconds=True, label=False)
        == "2026-03-01 02:10:05"
    )
    # a zone without an abbreviation in the tz database is labelled by its offset
    assert format_local(MOMENT, zone_named("Asia/Dubai")) == "2026-02-28 22:10 UTC+04:00"
    assert format_local(None, zone_named("Asia/Shanghai")) == "-"


def test_naive_values_are_utc_when_shown_and_zone_local_when_read() -> None:
    naive = datetime(2026, 3, 1, 2, 10)
    assert format_local(naive, zone_named("Asia/Shanghai")) == "2026-03-01 10:10 CST"
    assert as_utc(naive) == datetime(2026, 2, 28, 18, 10, tzinfo=UTC)
    assert as_utc(naive, zone_named("Europe/Berlin")) == datetime(2026, 3, 1, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "hint"),
    [("Asia/Shangai", "Asia/Shanghai"), ("Europe/Berln", "Europe/Berlin"), ("", "IANA name")],
)
def test_unknown_zone_names_suggest_the_nearest(name: str, hint: str) -> None:
    with pytest.raises(TimeZoneError, match=hint):
        zone_named(name)
