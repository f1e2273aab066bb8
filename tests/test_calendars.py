"""Calendars: opening hours in a zone, mainland-China holidays with make-up days, and time
counted in open hours or open days."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neocrm_policy.calendars import build_calendar
from neocrm_policy.errors import EvaluationError, SchemaError
from neocrm_policy.values import AGREEMENT_ZONE

HOTLINE = build_calendar("hotline", {"hours": {"monday-sunday": "08:00-23:00"}})
OFFICE = build_calendar("office", {"hours": {"monday-friday": "09:00-18:00"}})
WORKING = build_calendar("working", {"hours": {"monday-friday": "09:00-18:00"},
                                     "holidays": "mainland_china"})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=AGREEMENT_ZONE)


@pytest.mark.parametrize("moment, open_", [
    ("2026-03-07T07:59", False), ("2026-03-07T08:00", True),
    ("2026-03-07T22:59", True), ("2026-03-07T23:00", False)])
def test_edges_of_the_hours(moment, open_):
    assert HOTLINE.is_open(at(moment)) is open_


def test_weekdays_only_and_zones():
    assert not OFFICE.is_open(at("2026-03-07T10:00"))          # Saturday
    assert OFFICE.is_open(at("2026-03-09T10:00"))              # Monday
    assert OFFICE.is_open(datetime.fromisoformat("2026-03-09T01:00:00+00:00"))  # 09:00 there
    assert not OFFICE.is_open(datetime.fromisoformat("2026-03-09T00:59:00+00:00"))


def test_public_holidays_and_make_up_days():
    national_day = at("2026-10-01T10:00")
    assert OFFICE.is_open(national_day) and not WORKING.is_open(national_day)
    make_up_saturday = at("2026-02-14T10:00")   # a working Saturday before Spring Festival
    assert not OFFICE.is_open(make_up_saturday) and WORKING.is_open(make_up_saturday)


def test_counting_open_hours():
    friday_five = at("2026-03-06T17:00")
    assert OFFICE.add(friday_five, 1, "hours") == at("2026-03-06T18:00")   # exactly at close
    assert OFFICE.add(friday_five, 8, "hours") == at("2026-03-09T16:00")   # over the weekend
    assert HOTLINE.add(at("2026-03-07T22:30"), 1, "hour") == at("2026-03-08T08:30")
    assert OFFICE.add(at("2026-03-07T10:00"), 30, "minutes") == at("2026-03-09T09:30")
    from decimal import Decimal
    assert OFFICE.add(friday_five, Decimal("1.5"), "hours") == at("2026-03-09T09:30")


def test_counting_open_days():
    assert OFFICE.add(at("2026-03-06T17:00"), 2, "days") == at("2026-03-10T17:00")
    assert OFFICE.add(at("2026-03-07T10:00"), 1, "day") == at("2026-03-10T09:00")
    # National Day week: 1-7 October are off, Saturday 10 October is a make-up working day
    assert WORKING.add(at("2026-09-30T10:00"), 1, "day") == at("2026-10-08T10:00")
    assert WORKING.add(at("2026-09-30T10:00"), 3, "days") == at("2026-10-10T10:00")


@pytest.mark.parametrize("spec, message", [
    ({"hours": {"someday": "09:00-18:00"}}, "not a day"),
    ({"hours": {"monday": "9-18"}}, "not a span of hours"),
    ({"hours": {"monday": "18:00-09:00"}}, "ends before it starts"),
    ({"hours": {"monday": ["09:00-12:00", "11:00-13:00"]}}, "overlaps"),
    ({"hours": {"monday": "09:00-18:00"}, "holidays": "atlantis"}, "unknown holiday"),
    ({"hours": {}}, "no opening hours"),
    ({"hours": {"monday": "09:00-18:00"}, "zone": "Mars/Olympus"}, "unknown time zone"),
])
def test_mistakes_in_a_calendar_are_schema_errors(spec, message):
    with pytest.raises(SchemaError, match=message) as caught:
        build_calendar("bad", spec)
    assert "'bad'" in caught.value.message and caught.value.hint


def test_a_calendar_is_described_in_words():
    assert OFFICE.describe() == "Monday to Friday 09:00–18:00 (Asia/Shanghai)"
    assert WORKING.describe().endswith("open on their make-up working days")


def test_negative_durations_are_refused():
    with pytest.raises(EvaluationError):
        OFFICE.add(at("2026-03-06T17:00"), -1, "hours")


def _open_minutes(calendar, start, end):
    minute, count = start, 0
    while minute < end:
        count += calendar.is_open(minute)
        minute += timedelta(minutes=1)
    return count


@settings(max_examples=40, deadline=None)
@given(start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 20)),
       hours=st.integers(min_value=0, max_value=20))
def test_open_time_counted_matches_minute_by_minute(start, hours):
    start = start.replace(second=0, microsecond=0, tzinfo=AGREEMENT_ZONE)
    end = WORKING.add(start, hours, "hours")
    assert end >= start
    assert _open_minutes(WORKING, start, end) == hours * 60
