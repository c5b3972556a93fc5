"""Business time across weekends, holidays, time zones and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactops.cases import BusinessCalendar, parse_hours
from contactops.errors import InvalidParameterError

BERLIN = ZoneInfo("Europe/Berlin")
NY = ZoneInfo("America/New_York")
H = 3600.0


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_weekend_is_skipped():
    cal = BusinessCalendar("Europe/Berlin", "mon-fri 09:00-17:00")
    friday_4pm = berlin(2026, 3, 6, 16, 0)
    due = cal.add(friday_4pm, 2 * H)
    assert due == berlin(2026, 3, 9, 10, 0)  # one hour Friday, one hour Monday
    assert cal.between(friday_4pm, due) == 2 * H
    # from Saturday noon, the clock starts Monday 09:00
    assert cal.add(berlin(2026, 3, 7, 12, 0), 30 * 60) == berlin(2026, 3, 9, 9, 30)
    assert cal.between(berlin(2026, 3, 7, 0, 0), berlin(2026, 3, 8, 23, 59)) == 0


def test_public_and_explicit_holidays_are_closed():
    cal = BusinessCalendar(
        "Europe/Berlin", "mon-fri 09:00-17:00", holidays=(date(2026, 4, 7),), country="DE"
    )
    # Good Friday 3 April and Easter Monday 6 April 2026 are German holidays, 7 April ours
    thursday = berlin(2026, 4, 2, 16, 0)
    assert cal.add(thursday, 2 * H) == berlin(2026, 4, 8, 10, 0)
    assert cal.is_holiday(date(2026, 4, 3))
    assert cal.is_holiday(date(2026, 4, 6))
    assert not cal.is_holiday(date(2026, 4, 9))
    assert not cal.is_open(berlin(2026, 4, 6, 12, 0))
    assert cal.is_open(berlin(2026, 4, 8, 12, 0))


def test_subdivision_holidays():
    # 6 January (Epiphany) is a holiday in Bavaria but not in Berlin
    bavaria = BusinessCalendar(
        "Europe/Berlin", "mon-fri 09:00-17:00", country="DE", subdivision="BY"
    )
    berlin_state = BusinessCalendar(
        "Europe/Berlin", "mon-fri 09:00-17:00", country="DE", subdivision="BE"
    )
    day = (berlin(2026, 1, 6, 0, 0), berlin(2026, 1, 7, 0, 0))
    assert bavaria.between(*day) == 0
    assert berlin_state.between(*day) == 8 * H


def test_same_hours_in_two_time_zones():
    new_york = BusinessCalendar("America/New_York", "mon-fri 09:00-17:00")
    berlin_cal = BusinessCalendar("Europe/Berlin", "mon-fri 09:00-17:00")
    start = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # Monday: 15:00 Berlin, 09:00 New York
    assert berlin_cal.add(start, 4 * H) == berlin(2026, 3, 3, 11, 0)
    assert new_york.add(start, 4 * H) == datetime(2026, 3, 2, 13, 0, tzinfo=NY)
    # the same UTC window holds different business time in each
    end = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
    assert berlin_cal.between(start, end) == 2 * H
    assert new_york.between(start, end) == 8 * H


def test_daylight_saving_days_are_23_and_25_hours():
    cal = BusinessCalendar("Europe/Berlin", "24x7")
    spring = (berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0))
    autumn = (berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 26, 0, 0))
    assert cal.between(*spring) == 23 * H
    assert cal.between(*autumn) == 25 * H
    # 24 open hours from midnight on the spring day end at 01:00 the next day
    assert cal.add(spring[0], 24 * H) == berlin(2026, 3, 30, 1, 0)


def test_office_hours_across_dst_keep_local_opening_times():
    cal = BusinessCalendar("America/New_York", "mon-fri 09:00-17:00")
    friday = datetime(2026, 3, 6, 16, 0, tzinfo=NY)  # DST starts Sunday 8 March 2026
    due = cal.add(friday, 2 * H)
    assert due == datetime(2026, 3, 9, 10, 0, tzinfo=NY)
    assert due.astimezone(UTC).hour == 14  # EDT, UTC-4 (it was UTC-5 on Friday)
    assert (due - friday) == timedelta(days=2, hours=17)  # wall time 66 h, one hour lost
    assert cal.between(friday, due) == 2 * H


def test_night_shift_spanning_the_dst_change():
    # open 22:00-24:00 and 00:00-06:00 every day: the night of the spring change is 1 h shorter
    cal = BusinessCalendar("Europe/Berlin", {"mon-sun": "00:00-06:00,22:00-24:00"})
    night = (berlin(2026, 3, 28, 22, 0), berlin(2026, 3, 29, 6, 0))
    assert cal.between(*night) == 7 * H
    normal = (berlin(2026, 3, 21, 22, 0), berlin(2026, 3, 22, 6, 0))
    assert cal.between(*normal) == 8 * H


def test_end_exactly_at_closing_and_zero():
    cal = BusinessCalendar("UTC", "mon-fri 09:00-17:00")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert cal.add(start, 8 * H) == datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    closed = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    assert cal.add(closed, 0) == closed
    assert cal.next_open(closed) == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    assert cal.between(closed, start) == -8 * H + cal.between(start, start)


def test_parse_hours_forms():
    hours = parse_hours("mon-fri 09:00-17:00; sat 10:00-14:00")
    assert hours[0] == ((9 * 3600, 17 * 3600),)
    assert hours[5] == ((10 * 3600, 14 * 3600),)
    assert hours[6] == ()
    assert parse_hours({"fri-mon": "08:00-12:00"})[6] == ((8 * 3600, 12 * 3600),)
    assert parse_hours("24x7")[3] == ((0, 86400),)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"hours": "mon-fri 9-5"}, "hours"),
        ({"hours": "mon 17:00-09:00"}, "hours[mon]"),
        ({"hours": "mon 09:00-12:00,11:00-13:00"}, "hours[mon]"),
        ({"hours": "mon closed"}, "hours"),
        ({"hours": "funday 09:00-10:00"}, "hours"),
        ({"holidays": ("2026-02-30",)}, "holidays"),
        ({"country": "XX"}, "country"),
    ],
)
def test_bad_calendars_name_the_field(kwargs, field):
    with pytest.raises(InvalidParameterError) as info:
        BusinessCalendar(**kwargs)
    assert info.value.name == field
    assert field.split("[")[0] in str(info.value)


def test_naive_datetimes_are_refused():
    cal = BusinessCalendar()
    with pytest.raises(InvalidParameterError, match="timezone-aware"):
        cal.add(datetime(2026, 1, 1), 10)  # noqa: DTZ001 - the point of the test


# hypothesis takes naive bounds and attaches the zone itself
instants = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(
    start=instants,
    seconds=st.floats(min_value=0, max_value=40 * 8 * H),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]),
)
def test_add_and_between_are_inverse(start, seconds, zone):
    cal = BusinessCalendar(zone, "mon-fri 08:30-12:00,13:00-17:30", country="US")
    due = cal.add(start, seconds)
    assert due >= start
    assert cal.between(start, due) == pytest.approx(seconds, abs=1e-3)
    # monotone: more business time never ends earlier
    assert cal.add(start, seconds + 60) > due
