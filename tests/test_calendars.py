"""Calendars: opening hours in a zone, mainland-China holidays with make-up days, and time
counted in open hours or open days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import neocrm_policy
from neocrm_policy.language.calendars import build_calendar
from neocrm_policy.errors import EvaluationError, PolicyError, SchemaError
from neocrm_policy.language.reference import policies as reference
from neocrm_policy.language.reference.opening_hours import count_open_time
from neocrm_policy.language.values import AGREEMENT_ZONE
from tests.helpers import copy_policies, edit

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


# Daylight saving: open time is elapsed time -----------------------------------------------

ALWAYS_NEW_YORK = build_calendar("ny", {"zone": "America/New_York",
                                        "hours": {"every day": "00:00-24:00"}})


@pytest.mark.parametrize("start, amount, unit, elapsed", [
    ("2026-03-08T00:30:00-05:00", 3, "hours", 3 * 60),     # the clock springs forward
    ("2026-11-01T00:30:00-04:00", 3, "hours", 3 * 60),     # the clock falls back
    ("2026-11-01T01:30:00-05:00", 90, "minutes", 90),      # in the repeated hour
    ("2026-11-01T01:30:00-04:00", 90, "minutes", 90)])
def test_hours_on_a_calendar_are_elapsed_time_on_daylight_saving_days(start, amount, unit,
                                                                       elapsed):
    """`t + 3 ny hours` is three hours later, not the wall clock's three hours (two hours
    of real time in March, four in November)."""
    begin = datetime.fromisoformat(start)
    assert ALWAYS_NEW_YORK.add(begin, amount, unit) - begin == timedelta(minutes=elapsed)
    assert count_open_time(ALWAYS_NEW_YORK, begin, amount, unit) - begin == \
        timedelta(minutes=elapsed)


TRANSITION_DAYS = {   # the days each zone changes its clock (Shanghai last did in 1991)
    "America/New_York": ["2026-03-08", "2026-11-01"],
    "Europe/London": ["2026-03-29", "2026-10-25"],
    "Australia/Sydney": ["2026-04-05", "2026-10-04"],
    "Asia/Shanghai": ["1991-04-14", "1991-09-15", "2026-03-08"]}


@st.composite
def _calendar_and_start(draw):
    """A calendar open every day in one or two spans (on quarter hours, so the hours the
    clock skips or repeats fall inside, at the edge of or outside them), and a start
    within a day and a half of one of its zone's clock changes."""
    zone = draw(st.sampled_from(sorted(TRANSITION_DAYS)))
    marks = sorted(draw(st.sets(st.integers(0, 96), min_size=2, max_size=4)))
    spans = [f"{a // 4:02d}:{a % 4 * 15:02d}-{b // 4:02d}:{b % 4 * 15:02d}"
             for a, b in zip(marks[::2], marks[1::2], strict=False)]
    calendar = build_calendar("office", {"zone": zone, "hours": {"every day": spans}})
    day = datetime.fromisoformat(draw(st.sampled_from(TRANSITION_DAYS[zone])))
    minutes = draw(st.integers(-36 * 60, 36 * 60))
    start = day.replace(tzinfo=UTC) + timedelta(minutes=minutes)
    return calendar, start


def _open_by_the_clock(calendar, moment: datetime) -> bool:
    """What the wall clock in the calendar's zone shows at `moment`, in an open span."""
    local = moment.astimezone(calendar.zone)
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in calendar.spans_on(local.date()))


def _minute_by_minute(calendar, start: datetime, minutes: int) -> datetime:
    """Walk real time a minute at a time, counting the minutes that begin open."""
    moment, counted = start, 0
    while True:
        if _open_by_the_clock(calendar, moment):
            if counted == minutes:
                return moment
            counted += 1
            if counted == minutes:
                return moment + timedelta(minutes=1)
        moment += timedelta(minutes=1)


@settings(max_examples=150, deadline=None)
@given(case=_calendar_and_start(), minutes=st.integers(min_value=1, max_value=6 * 60))
def test_open_time_is_elapsed_time_across_clock_changes(case, minutes):
    """Counted on a calendar in any zone, across the days its clock changes, open time
    is the minutes that pass while the wall clock there shows an open time: both
    implementations agree with a walk through real time a minute at a time."""
    calendar, start = case
    expected = _minute_by_minute(calendar, start, minutes)
    assert calendar.add(start, minutes, "minutes") == expected
    assert count_open_time(calendar, start, minutes, "minutes") == expected
    if minutes % 60 == 0:
        assert calendar.add(start, minutes // 60, "hours") == expected


# What the checker accepts is decided ------------------------------------------------------

LONG_CALENDARS = """\
calendars:
  hotline: {hours: {every day: "08:00-23:00"}}
  office: {hours: {monday-friday: "09:00-18:00"}, holidays: mainland_china}
  tiny: {hours: {monday: "09:00-09:01"}, holidays: mainland_china}
  ny: {hours: {sunday: "01:00-03:00"}, zone: America/New_York}
"""


def _long_policy(folder, decisions: dict[str, str]):
    folder.mkdir(exist_ok=True)
    body = "".join(f"  {name}:\n    value: {value}\n" for name, value in decisions.items())
    (folder / "long.yaml").write_text(
        "policy: t.long\ntitle: Long counts\nclauses: [\"1\"]\nsummary: Long counts.\n"
        f"inputs:\n  t: {{type: datetime}}\n{LONG_CALENDARS}decisions:\n{body}",
        encoding="utf-8")
    return neocrm_policy.load(folder)


def test_the_longest_count_the_checker_accepts_on_each_calendar_is_decided(tmp_path):
    """`a.t + 4000 hotline days` passed `validate` and every decision failed with "no
    open day in ten years". Now the longest duration `validate` accepts on a calendar
    (what it is open in 80 years) is decided by both implementations, public holidays
    and daylight saving included."""
    calendars = {name: build_calendar(name, spec) for name, spec in
                 yaml.safe_load(LONG_CALENDARS)["calendars"].items()}
    decisions = {"four_thousand": "t + 4000 hotline days"}
    for name, calendar in calendars.items():
        for unit in ("minutes", "days") if name == "tiny" else ("hours", "days"):
            decisions[f"{name}_{unit}"] = f"t + {calendar.longest(unit)} {name} {unit}"
    policies = _long_policy(tmp_path / "long", decisions)
    facts, at = {"t": "2026-12-31T22:00:00+08:00"}, "2026-12-31T22:00:00+08:00"
    found = policies.decide("t.long", facts, at).result
    assert found["four_thousand"].year == 2037
    assert all(value.year > 2090 for name, value in found.items() if name != "four_thousand")
    assert reference.decide(policies, "t.long", facts, at) == found


@pytest.mark.parametrize("written, longest", [
    ("30000 hotline days", "29200 hotline days"), ("4172 tiny minutes", "4171 tiny minutes"),
    ("4200 hotline weeks", "4171 hotline weeks"), ("16685 ny hours", "8342 ny hours")])
def test_a_count_the_runtime_could_not_decide_is_refused_by_validate(tmp_path, written,
                                                                     longest):
    with pytest.raises(PolicyError) as caught:
        _long_policy(tmp_path / "long", {"far": f"t + {written}"})
    found = caught.value.errors[0] if hasattr(caught.value, "errors") else caught.value
    assert found.code == "NP031"
    assert found.message == f"{written} is more than the calendar is open in 80 years " \
        f"({longest})"
    assert (found.location.line, found.location.column, found.width) == \
        (14, 16, len(written))
    assert found.hint.startswith("counting on a calendar looks at most a hundred years")


def test_a_count_only_known_when_deciding_that_goes_too_far_is_located(tmp_path):
    """A count computed from a fact is decided when it fits, and otherwise stops with
    NP042 at its expression, both implementations alike."""
    folder = tmp_path / "computed"
    folder.mkdir()
    (folder / "long.yaml").write_text(
        "policy: t.long\ntitle: Long counts\nclauses: [\"1\"]\nsummary: Long counts.\n"
        f"inputs:\n  t: {{type: datetime}}\n  n: {{type: int}}\n{LONG_CALENDARS}"
        "decisions:\n  far:\n    value: t + n * 1 hotline days\n", encoding="utf-8")
    policies = neocrm_policy.load(folder)
    at = "2026-12-31T22:00:00+08:00"
    assert policies.decide("t.long", {"t": at, "n": 36_000}, at).result["far"].year == 2125
    with pytest.raises(EvaluationError) as caught:
        policies.decide("t.long", {"t": at, "n": 40_000}, at)
    assert caught.value.code == "NP042"
    assert caught.value.message == ("while deciding 'far': counting on calendar 'hotline' "
                                    "goes past a hundred years ahead")
    with pytest.raises(EvaluationError) as caught:
        reference.decide(policies, "t.long", {"t": at, "n": 40_000}, at)
    assert caught.value.code == "NP042"


def test_a_closing_time_is_not_open_when_counting_days():
    """Counting starts at the next opening: at Friday's 18:00 closing the office is
    closed, so one working day later is Tuesday 09:00, not Monday 18:00."""
    friday_close = at("2026-03-06T18:00")
    assert OFFICE.next_opening(friday_close) == at("2026-03-09T09:00")
    assert OFFICE.add(friday_close, 1, "day") == at("2026-03-10T09:00")
    assert count_open_time(OFFICE, friday_close, 1, "day") == at("2026-03-10T09:00")
    assert OFFICE.add(at("2026-03-06T17:59:59"), 1, "day") == at("2026-03-09T17:59:59")


def test_a_written_multiple_of_a_count_is_held_to_the_same_bound(tmp_path):
    with pytest.raises(PolicyError) as caught:
        _long_policy(tmp_path / "long", {"far": "t + 10 * 4000 hotline days",
                                         "near": "t + 2 * (3 * 4000 hotline days)"})
    found = caught.value.errors[0] if hasattr(caught.value, "errors") else caught.value
    assert not hasattr(caught.value, "errors")
    assert found.message == ("40000 hotline days is more than the calendar is open in 80 "
                             "years (29200 hotline days)")
    assert (found.location.line, found.location.column) == (14, 16)


# --------------------------------------------------------------------------------------
# What mutation testing of this room found unchecked (issue 22, point 6)

def test_counting_back_part_of_a_day_or_in_an_unknown_unit_is_said_in_words():
    start = at("2026-03-06T17:00")
    with pytest.raises(EvaluationError) as back:
        OFFICE.add(start, -1, "hours")
    assert (back.value.message, back.value.hint) == (
        "cannot count -1 hours back on office", "durations on a calendar are positive")
    with pytest.raises(EvaluationError) as part:
        OFFICE.add(start, Decimal("1.5"), "days")
    assert (part.value.message, part.value.hint) == (
        "cannot count part of a day on office", "count whole days, or hours")
    with pytest.raises(EvaluationError) as unit:
        OFFICE.add(start, 1, "months")
    assert (unit.value.message, unit.value.hint) == (
        "unknown unit 'month'", "minutes, hours, days, weeks")
    assert OFFICE.add(start, 1, "week") == OFFICE.add(start, 7, "days")
    assert OFFICE.add(start, 60, "minutes") == OFFICE.add(start, 1, "hour")


def test_counting_past_a_hundred_years_names_the_calendar():
    rare = build_calendar("rare", {"hours": {"monday": "09:00-09:01"}})
    for count in (lambda: rare.add(at("2026-03-06T17:00"), 10_000, "hours"),
                  lambda: rare.add(at("2026-03-06T17:00"), 10_000, "weeks")):
        with pytest.raises(EvaluationError) as caught:
            count()
        assert caught.value.message == \
            "counting on calendar 'rare' goes past a hundred years ahead"
        assert caught.value.hint == ("counting on a calendar looks at most a hundred years "
                                     "ahead; check the number of hours or days counted")


@pytest.mark.parametrize("moment, open_", [
    ("2026-03-09T09:00:30", True), ("2026-03-09T08:59:30", False),
    ("2026-03-09T17:59:30", True), ("2026-03-09T18:00:30", False)])
def test_a_moment_between_two_minutes_is_open_by_its_seconds(moment, open_):
    assert OFFICE.is_open(at(moment)) is open_


@pytest.mark.parametrize("hours, described", [
    ({"every day": "08:00-23:00"}, "every day 08:00–23:00"),
    ({"monday": "09:00-12:00"}, "Monday 09:00–12:00"),
    ({"monday": ["09:00-12:00", "13:00-18:00"], "tuesday-friday": "09:00-18:00"},
     "Monday 09:00–12:00, 13:00–18:00; Tuesday to Friday 09:00–18:00"),
    ({"monday": "09:00-12:00", "wednesday": "09:00-12:00"},
     "Monday 09:00–12:00; Wednesday 09:00–12:00"),
    ({"tuesday-sunday": "09:00-18:00"}, "Tuesday to Sunday 09:00–18:00"),
])
def test_opening_hours_are_described_day_by_day(hours, described):
    assert build_calendar("c", {"hours": hours}).describe() == f"{described} (Asia/Shanghai)"


def test_a_calendar_observing_holidays_says_so_after_its_hours():
    assert WORKING.describe() == (
        "Monday to Friday 09:00–18:00 (Asia/Shanghai), closed on mainland-China public "
        "holidays and open on their make-up working days")


@pytest.mark.parametrize("key, days", [
    ("every_day", "every day"), ("daily", "every day"), ("Every Day", "every day"),
    ("friday-monday", "Monday 09:00–10:00; Friday to Sunday"), ("sunday-sunday", "Sunday"),
    ("saturday-monday", "Monday 09:00–10:00; Saturday to Sunday")])
def test_the_ways_of_naming_days(key, days):
    assert build_calendar("c", {"hours": {key: "09:00-10:00"}}).describe() == \
        f"{days} 09:00–10:00 (Asia/Shanghai)"


@pytest.mark.parametrize("key", ["monday-someday", "someday-monday", "monday-"])
def test_a_range_of_days_with_one_end_not_a_day_is_refused(key):
    with pytest.raises(SchemaError, match="not a day"):
        build_calendar("bad", {"hours": {key: "09:00-18:00"}})


@pytest.mark.parametrize("line, place", [
    ("      someday: 09:00-18:00\n", (5, 7)),     # not a day: at the key
    ("      tuesday: 9-18\n", (5, 16)),          # not a span of hours: at the hours
])
def test_a_mistake_in_a_calendar_is_placed_where_it_is_written(tmp_path, line, place):
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "calendars.yaml").write_text(
        "calendars:\n  office:\n    hours:\n      monday: 09:00-18:00\n" + line,
        encoding="utf-8")
    with pytest.raises(SchemaError) as caught:
        neocrm_policy.load(folder)
    assert (caught.value.location.line, caught.value.location.column) == place


def test_moments_at_the_ends_of_the_years_are_held_inside_them():
    from neocrm_policy.language import calendars
    assert calendars._moved(datetime(9999, 12, 31, 20, tzinfo=UTC), 40) == calendars._LATEST
    assert calendars._moved(datetime(1, 1, 1, 4, tzinfo=UTC), -40) == calendars._EARLIEST
    new_york = ZoneInfo("America/New_York")
    assert calendars._offset(new_york, datetime(9999, 12, 31, 23, 59, tzinfo=UTC)) == \
        timedelta(hours=-5)
    # a moment whose local time would fall before the year 1: the zone's offset all the same
    assert calendars._offset(new_york, datetime(1, 1, 1, 0, 30, tzinfo=UTC)) == \
        new_york.utcoffset(datetime(1, 1, 1, 0, 30))


def test_counting_does_not_depend_on_the_machines_time_zone(monkeypatch):
    """The same facts give the same moment on a machine set to another zone."""
    import time
    start = at("2026-03-06T17:00")
    here = [OFFICE.add(start, 8, "hours"), OFFICE.add(start, 2, "days"),
            OFFICE.next_opening(at("2026-03-07T10:00"))]
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        fresh = build_calendar("office", {"hours": {"monday-friday": "09:00-18:00"}})
        assert [fresh.add(start, 8, "hours"), fresh.add(start, 2, "days"),
                fresh.next_opening(at("2026-03-07T10:00"))] == here
    finally:
        monkeypatch.undo()
        time.tzset()


CALENDAR_MISTAKES = {   # the calendars.yaml written, what validate says, where
    "empty hours": ("    hours: {}\n", "calendar 'office' has no opening hours",
                    'add `hours:`, e.g. `monday-friday: "09:00-18:00"`', (3, 5)),
    "not a day": ("    hours:\n      someday: 09:00-18:00\n",
                  "calendar 'office': 'someday' is not a day or range of days",
                  "write a day (monday), a range (monday-friday) or `every day`", (4, 7)),
    "not a span": ("    hours:\n      monday: 9-18\n",
                   "calendar 'office': '9-18' is not a span of hours",
                   'write hours as "09:00-18:00"', (4, 15)),
    "past midnight": ("    hours:\n      monday: 09:00-24:30\n",
                      "calendar 'office': '09:00-24:30' is not a valid time of day",
                      "hours run from 00:00 to 24:00", (4, 15)),
    "ends before it starts": ("    hours:\n      monday: 18:00-09:00\n",
                              "calendar 'office': '18:00-09:00' ends before it starts",
                              "a span may not cross midnight; split it into two days", (4, 15)),
    "overlap": ("    hours:\n      monday-friday: 09:00-12:00\n      monday: 11:00-13:00\n",
                "calendar 'office': '11:00-13:00' overlaps another span on monday",
                "give each day's spans without overlap", (5, 15)),
    "overlap by a minute": ("    hours:\n      monday: [09:00-12:00, 11:59-13:00]\n",
                            "calendar 'office': '11:59-13:00' overlaps another span on "
                            "monday", "give each day's spans without overlap", (4, 15)),
    "never open": ("    hours:\n      monday: []\n", "calendar 'office' is never open",
                   "give at least one span of hours", (4, 7)),
    "zone": ("    hours:\n      monday: 09:00-18:00\n    zone: Mars/Olympus\n",
             "calendar 'office': unknown time zone 'Mars/Olympus'",
             "use an IANA zone such as Asia/Shanghai", (5, 11)),
}


@pytest.mark.parametrize("mistake", CALENDAR_MISTAKES)
def test_each_mistake_in_a_calendar_is_said_and_placed(mistake, tmp_path):
    written, message, hint, place = CALENDAR_MISTAKES[mistake]
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "calendars.yaml").write_text("calendars:\n  office:\n" + written,
                                           encoding="utf-8")
    with pytest.raises(SchemaError) as caught:
        neocrm_policy.load(folder)
    error = caught.value
    assert (error.message, error.hint) == (message, hint)
    assert (error.location.line, error.location.column) == place


def test_spans_that_touch_do_not_overlap():
    touching = build_calendar("c", {"hours": {"monday": ["09:00-12:00", "12:00-13:00"]}})
    assert touching.is_open(at("2026-03-09T12:00")) and touching.is_open(at("2026-03-09T11:59"))


def test_what_only_the_schema_lets_through_is_still_refused_in_words():
    """A calendar built without its rule file's schema (by a program) is held to it too."""
    with pytest.raises(SchemaError) as not_a_mapping:
        build_calendar("bad", 5)
    assert (not_a_mapping.value.message, not_a_mapping.value.hint) == (
        "calendar 'bad' must be a mapping", "give `hours:` and optionally `zone:` and "
        "`holidays:`")
    with pytest.raises(SchemaError) as region:
        build_calendar("bad", {"hours": {"monday": "09:00-18:00"}, "holidays": "atlantis"})
    assert (region.value.message, region.value.hint) == (
        "calendar 'bad': unknown holiday calendar 'atlantis'", "supported: mainland_china")


@pytest.mark.parametrize("span, said", [
    ("09:60-10:00", "is not a valid time of day"), ("09:00-10:60", "is not a valid time of day"),
    ("24:00-24:00", "is not a valid time of day"), ("23:00-24:10", "is not a valid time of day"),
    ("09:00-09:00", "ends before it starts")])
def test_a_span_outside_the_clock_or_empty_is_refused(span, said):
    with pytest.raises(SchemaError, match=said):
        build_calendar("c", {"hours": {"monday": span}})


@pytest.mark.parametrize("span", ["09:00-09:59", "00:00-24:00", "23:59-24:00"])
def test_a_span_at_the_ends_of_the_clock_is_taken(span):
    assert build_calendar("c", {"hours": {"monday": span}}).describe().startswith("Monday")


def test_spans_that_touch_in_either_order_do_not_overlap():
    for spans in (["09:00-12:00", "12:00-13:00"], ["12:00-13:00", "09:00-12:00"]):
        touching = build_calendar("c", {"hours": {"monday": spans}})
        assert touching.is_open(at("2026-03-09T12:00"))


def test_a_calendar_keeps_its_summary_and_clause_and_where_they_stand():
    from neocrm_policy.source.text import parse_yaml
    spec = parse_yaml('hours: {monday: "09:00-18:00"}\nsummary: The office.\nclause: "3"\n',
                      "calendars.yaml")
    office = build_calendar("office", spec)
    assert (office.summary, office.clause) == ("The office.", "3")
    assert (office.location.line, office.location.column) == (2, 10)


def test_a_mistake_only_a_program_can_make_is_placed_where_its_mapping_says():
    from neocrm_policy.source.text import parse_yaml
    spec = parse_yaml('hours: {monday: "09:00-18:00"}\nholidays: atlantis\n', "cal.yaml")
    with pytest.raises(SchemaError) as region:
        build_calendar("bad", spec)
    assert (region.value.location.line, region.value.location.column) == (2, 11)
    with pytest.raises(SchemaError) as listed:
        build_calendar("bad", parse_yaml("- monday\n", "cal.yaml"))
    assert (listed.value.location.line, listed.value.location.column) == (1, 1)


def test_a_weekend_calendar_observing_holidays_has_no_hours_on_a_make_up_day():
    weekend = build_calendar("weekend", {"hours": {"saturday-sunday": "09:00-18:00"},
                                         "holidays": "mainland_china"})
    make_up_saturday = at("2026-02-14T10:00")   # a working Saturday before Spring Festival
    assert not weekend.is_open(make_up_saturday)


# A calendar's own dates (issue 25) --------------------------------------------------------

ANNIVERSARY = build_calendar("office", {
    "hours": {"monday-friday": "09:00-18:00"}, "holidays": "mainland_china",
    "closed_on": {"2026-06-17": "company anniversary", "2026-10-08": "staff day"},
    "open_on": {"2026-06-21": "make-up day for the anniversary", "2026-10-01": None}})


def test_a_calendar_closes_and_opens_on_dates_of_its_own():
    assert not ANNIVERSARY.is_open(at("2026-06-17T10:00"))     # a Wednesday of its own
    assert ANNIVERSARY.is_open(at("2026-06-21T10:00"))         # a Sunday made up
    assert ANNIVERSARY.is_open(at("2026-10-01T10:00"))         # its own date over the region's
    assert not ANNIVERSARY.is_open(at("2026-10-08T10:00"))
    assert ANNIVERSARY.is_open(at("2026-06-16T10:00")) and WORKING.is_open(at("2026-06-17T10:00"))


def test_a_holiday_of_its_own_moves_a_count_of_open_time():
    # Tuesday 17:00 + 2 hours: one on Tuesday, Wednesday closed (its own), Thursday 10:00;
    # without the date of its own, Wednesday 10:00
    assert ANNIVERSARY.add(at("2026-06-16T17:00"), 2, "hours") == at("2026-06-18T10:00")
    assert WORKING.add(at("2026-06-16T17:00"), 2, "hours") == at("2026-06-17T10:00")
    # the reference interpreter's minute-by-minute count agrees
    assert count_open_time(ANNIVERSARY, at("2026-06-16T17:00"), 2, "hours") == \
        at("2026-06-18T10:00")


def test_a_calendar_says_its_own_dates_in_words():
    assert ANNIVERSARY.describe().endswith(
        "; closed on 17 June 2026 (company anniversary), 8 October 2026 (staff day)"
        "; open on 21 June 2026 (make-up day for the anniversary), 1 October 2026")
    assert ANNIVERSARY.special_day(at("2026-06-17T00:00").date()) == (False, "company anniversary")
    assert WORKING.special_day(at("2026-10-01T00:00").date()) == (
        False, "National Day, a mainland-China public holiday")
    assert WORKING.special_day(at("2026-06-16T00:00").date()) is None
    assert WORKING.special_day(at("2026-02-20T00:00").date()) == (   # not 02/14/2026
        False, "Day off (substituted from 14 February 2026), a mainland-China public holiday")


@pytest.mark.parametrize("spec, message", [
    ({"closed_on": {"2026-06-17": "a"}, "open_on": {"2026-06-17": "b"}},
     "2026-06-17 is listed under both `closed_on:` and `open_on:`"),
    ({"closed_on": {"17 June 2026": "a"}}, "'17 June 2026' is not a date"),
    ({"closed_on": ["2026-06-17"]}, "`closed_on:` must list dates"),
    ({"open_on": {"2026-06-17": 5}}, "the note of 2026-06-17 is not text"),
])
def test_mistakes_in_a_calendars_own_dates(spec, message):
    with pytest.raises(SchemaError) as caught:
        build_calendar("office", {"hours": {"monday-friday": "09:00-18:00"}, **spec})
    assert message in caught.value.message and caught.value.hint


def test_the_memo_names_the_day_that_closed_a_channel(tmp_path):
    folder = copy_policies(tmp_path / "policies")
    edit(folder / "calendars.yaml", "  online_im:\n",
         "  online_im:\n    closed_on:\n      2026-03-09: company anniversary\n")
    decision = neocrm_policy.load(folder).decide("support.channels", {},
                                                 at="2026-03-09T10:00:00+08:00")
    assert "online_im" not in decision.result["open"]
    memo = decision.explain()
    assert memo.endswith("Days the calendars it counts on keep otherwise than their week:\n"
                         "- Monday 9 March 2026 (company anniversary): closed on the "
                         "online im calendar")
    ordinary = neocrm_policy.load(folder).decide("support.channels", {},
                                                 at="2026-03-10T10:00:00+08:00")
    assert "keep otherwise" not in ordinary.explain()


def test_the_memo_names_the_make_up_day_that_opened_a_channel(tmp_path):
    folder = copy_policies(tmp_path / "policies")
    edit(folder / "calendars.yaml", "  online_im:\n",
         "  online_im:\n    open_on:\n      2026-03-08: make-up day for the anniversary\n")
    decision = neocrm_policy.load(folder).decide("support.channels", {},
                                                 at="2026-03-08T10:00:00+08:00")   # a Sunday
    assert "online_im" in decision.result["open"]
    assert decision.explain().endswith(
        "- Sunday 8 March 2026 (make-up day for the anniversary): open on the online im "
        "calendar")


def test_the_memo_names_the_holiday_that_moved_a_deadline_counted_on_a_calendar(tmp_path):
    folder = copy_policies(tmp_path / "policies")
    edit(folder / "calendars.yaml", "  working:\n",
         "  working:\n    closed_on:\n      2026-03-10: company anniversary\n")
    (folder / "callback.yaml").write_text(
        "policy: callback\ntitle: Call back\nclauses: [\"3\"]\nsummary: A call back.\n"
        "inputs:\n  call.at:\n    type: datetime\n    description: when the call came\n"
        "decisions:\n  call_back_by:\n    clause: \"3\"\n"
        "    value: call.at + 4 working hours\n", encoding="utf-8")
    edit(folder / "clause-map" / "clause-map.yaml", "policies: [support.sla",
         "policies: [callback, support.sla")
    policies = neocrm_policy.load(folder)
    decision = policies.decide("callback", {"call": {"at": "2026-03-09T16:00:00+08:00"}},
                               at="2026-03-09T16:00:00+08:00")
    # Monday 16:00 + 4 working hours: 2 on Monday, Tuesday closed, 2 on Wednesday
    assert decision.result["call_back_by"] == at("2026-03-11T11:00")
    assert "- Tuesday 10 March 2026 (company anniversary): closed on the working calendar" \
        in decision.explain()


# A calendar's own dates: each mistake placed, worded and hinted (issue 22, mutation) -------

def _own_dates_error(tmp_path, added: str) -> dict:
    """The error `load` gives when `added` is written at the top of online_im's calendar."""
    folder = copy_policies(tmp_path / "policies")
    edit(folder / "calendars.yaml", "  online_im:\n", "  online_im:\n" + added)
    with pytest.raises(SchemaError) as caught:
        neocrm_policy.load(folder)
    found = caught.value.to_dict()
    assert found.pop("file").endswith("calendars.yaml")
    return found


def test_a_date_of_its_own_that_is_no_date_is_placed_at_its_key(tmp_path):
    # the second date is wrong: the place is its key, not the first line of the list
    assert _own_dates_error(tmp_path, "    closed_on:\n      2026-03-09: a\n"
                                      "      2026-02-30: b\n") == {
        "code": "NP012", "message": "calendar 'online_im': '2026-02-30' is not a date",
        "line": 15, "column": 7, "hint": "write the date as 2026-06-18"}


def test_a_date_of_its_own_written_as_a_number_is_no_date(tmp_path):
    # YAML reads 20260309 as a number; it was taken as 9 March 2026, and with 2026-03-09
    # also listed the error said "listed under both `closed_on:` and `closed_on:`"
    assert _own_dates_error(tmp_path, "    closed_on:\n      2026-03-09: a\n"
                                      "      20260309: b\n") == {
        "code": "NP012", "message": "calendar 'online_im': 20260309 is not a date",
        "line": 15, "column": 7, "hint": "write the date as 2026-06-18"}
    with pytest.raises(SchemaError, match="'2026-W11-1' is not a date"):   # a week date
        build_calendar("office", {"hours": {"monday": "09:00-18:00"},
                                  "open_on": {"2026-W11-1": "a"}})


def test_a_date_both_closed_and_open_is_placed_at_its_second_listing(tmp_path):
    assert _own_dates_error(tmp_path, "    closed_on:\n      2026-03-09: a\n    open_on:\n"
                                      "      2026-03-08: b\n      2026-03-09: c\n") == {
        "code": "NP012",
        "message": "calendar 'online_im': 2026-03-09 is listed under both `closed_on:` and "
                   "`open_on:`",
        "line": 17, "column": 7,
        "hint": "a day is either closed or open: keep it under one of them"}


def test_a_date_a_program_lists_twice_under_one_key_is_told_so():
    from datetime import date
    with pytest.raises(SchemaError) as caught:
        build_calendar("office", {"hours": {"monday": "09:00-18:00"},
                                  "open_on": {date(2026, 6, 17): "a", "2026-06-17": "b"}})
    assert (caught.value.message, caught.value.hint) == (
        "calendar 'office': 2026-06-17 is listed twice under `open_on:`", "list each date once")


def test_own_dates_mistakes_only_a_program_can_make_are_placed_where_the_mapping_says():
    from neocrm_policy.source.text import parse_yaml
    hours = 'hours: {monday: "09:00-18:00"}\n'
    with pytest.raises(SchemaError) as listed:
        build_calendar("office", parse_yaml(hours + "closed_on:\n  - 2026-06-17\n", "cal.yaml"))
    assert (listed.value.message, listed.value.location.line, listed.value.location.column,
            listed.value.hint) == (
        "calendar 'office': `closed_on:` must list dates, each with a note", 3, 3,
        "write e.g. `closed_on:` then `  2026-06-18: company anniversary` on the next line")
    with pytest.raises(SchemaError) as note:
        build_calendar("office", parse_yaml(hours + "open_on:\n  2026-06-16: a\n"
                                            "  2026-06-17: 5\n", "cal.yaml"))
    assert (note.value.message, note.value.location.line, note.value.location.column,
            note.value.hint) == (
        "calendar 'office': the note of 2026-06-17 is not text", 4, 3,
        "write what the day is, e.g. company anniversary")


def test_a_mistake_in_own_dates_given_without_places_is_shown_without_one():
    with pytest.raises(SchemaError) as caught:
        build_calendar("office", {"hours": {"monday": "09:00-18:00"},
                                  "closed_on": {"17 June 2026": "a"}})
    assert caught.value.location is None
    assert str(caught.value) == ("NP012 calendar 'office': '17 June 2026' is not a date\n"
                                 "  hint: write the date as 2026-06-18")


def test_a_calendar_lists_at_most_a_thousand_dates_of_its_own():
    from neocrm_policy.language.calendars import MAX_OWN_DAYS
    from neocrm_policy.source.text import parse_yaml
    first = at("2000-01-03T00:00").date()
    days = [first + timedelta(days=n) for n in range(MAX_OWN_DAYS + 1)]
    most = build_calendar("office", {"hours": {"monday": "09:00-18:00"},
                                     "closed_on": {str(d): "" for d in days[:-1]}})
    assert len(most.own_days) == 1000 and not most.is_open(at("2000-01-03T10:00"))
    text = ('hours: {monday: "09:00-18:00"}\nclosed_on:\n'
            + "".join(f"  {d}: staff day\n" for d in days))
    with pytest.raises(SchemaError) as caught:
        build_calendar("office", parse_yaml(text, "cal.yaml"))
    assert (caught.value.message, caught.value.location.line, caught.value.location.column,
            caught.value.hint) == (
        "calendar 'office' lists 1001 dates of its own", 1, 1, "at most 1000")


def test_the_memo_says_a_date_of_its_own_without_a_note_plainly(tmp_path):
    folder = copy_policies(tmp_path / "policies")
    edit(folder / "calendars.yaml", "  online_im:\n", "  online_im:\n    open_on:\n"
         "      2026-03-08:\n")
    decision = neocrm_policy.load(folder).decide("support.channels", {},
                                                 at="2026-03-08T10:00:00+08:00")   # a Sunday
    assert decision.explain().endswith(   # once "Sunday 8 March 2026 (): open on …"
        "- Sunday 8 March 2026: open on the online im calendar")


def test_the_memo_names_a_make_up_working_day_that_opened_a_channel(tmp_path):
    folder = copy_policies(tmp_path / "policies")
    edit(folder / "calendars.yaml", "  online_im:\n", "  online_im:\n"
         "    holidays: mainland_china\n")
    decision = neocrm_policy.load(folder).decide("support.channels", {},
                                                 at="2026-02-14T10:00:00+08:00")   # Saturday
    assert "online_im" in decision.result["open"]
    assert decision.explain().endswith(
        "- Saturday 14 February 2026 (a mainland-China make-up working day): open on the "
        "online im calendar")
