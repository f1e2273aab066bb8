"""Time on a calendar, read from the calendar's opening hours alone.

The reference interpreter's own account of `is_open` and of durations counted on a
calendar (`8 hotline hours`, `2 online_im days`), written from what the calendars page
and `calendars.py`'s docstring promise. It asks a `Calendar` only for its data (its zone
and which spans of a day are open, holidays included), never for its counting.

Silent in the reference, taken from the calendars' docstring: counting starts at the
given moment, or at the next opening when closed; hours and minutes count open time
only, and finishing exactly at a closing time gives that closing time; a fraction of a
second is rounded to the nearest second (halves to even); days count open days, the
result being the time of day counting started on the N-th open day; a week is seven
open days; nothing further than ten years ahead is looked at. Hours are counted in the
calendar's wall-clock time, and the result is given in the calendar's zone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from ..calendars import Calendar
from ..errors import EvaluationError

TEN_YEARS = 3660
"""Days looked at, at most, when counting open time."""

SECONDS = {"minute": 60, "hour": 3600}


def open_spans(calendar: Calendar, day: date) -> list[tuple[datetime, datetime]]:
    """The day's open spans as naive wall-clock times of the calendar's zone."""
    midnight = datetime.combine(day, time(0))
    return [(midnight + timedelta(minutes=start), midnight + timedelta(minutes=end))
            for start, end in calendar.spans_on(day)]


def is_open(calendar: Calendar, moment: datetime) -> bool:
    """Open when the moment, to the second, falls in a span: its start counts, its end
    does not."""
    local = moment.astimezone(calendar.zone).replace(tzinfo=None, microsecond=0)
    return any(start <= local < end for start, end in open_spans(calendar, local.date()))


def count_open_time(calendar: Calendar, start: datetime, amount, unit: str) -> datetime:
    """The moment `amount` units of the calendar's open time after `start`."""
    unit = unit[:-1] if unit.endswith("s") else unit
    if amount < 0:
        raise EvaluationError(f"cannot count {amount} {unit}s back on {calendar.name}",
                              None, "durations on a calendar are positive")
    local = start.astimezone(calendar.zone).replace(tzinfo=None)
    if unit in SECONDS:
        seconds = int((Decimal(amount) * SECONDS[unit]).to_integral_value())
        found = _after_open_seconds(calendar, local, seconds)
    else:
        days = Decimal(amount) * (7 if unit == "week" else 1)
        if days != days.to_integral_value():
            raise EvaluationError(f"cannot count part of a day on {calendar.name}", None,
                                  "count whole days, or hours")
        found = _after_open_days(calendar, local, int(days))
    return found.replace(tzinfo=calendar.zone)


def _after_open_seconds(calendar: Calendar, local: datetime, seconds: int) -> datetime:
    left = timedelta(seconds=seconds)
    day = local.date()
    for _ in range(TEN_YEARS):
        for span_start, span_end in open_spans(calendar, day):
            begin = max(span_start, local)
            if begin >= span_end:
                continue
            if left <= span_end - begin:
                return begin + left
            left -= span_end - begin
        day += timedelta(days=1)
    raise EvaluationError(f"calendar {calendar.name!r} has no open time in ten years", None,
                          "give the calendar opening hours")


def _first_opening(calendar: Calendar, local: datetime) -> datetime:
    """`local` when the calendar is open then, else the next moment it opens."""
    day = local.date()
    seconds_in = local.replace(microsecond=0)
    for _ in range(TEN_YEARS):
        for span_start, span_end in open_spans(calendar, day):
            if seconds_in < span_end:
                return local if seconds_in >= span_start else span_start
        day += timedelta(days=1)
        seconds_in = datetime.combine(day, time(0)) - timedelta(seconds=1)
    raise EvaluationError(f"calendar {calendar.name!r} has no open time in ten years", None,
                          "give the calendar opening hours")


def _after_open_days(calendar: Calendar, local: datetime, days: int) -> datetime:
    begin = _first_opening(calendar, local)
    day = begin.date()
    for _ in range(TEN_YEARS):
        if days == 0:
            return datetime.combine(day, begin.time())
        day += timedelta(days=1)
        if open_spans(calendar, day):
            days -= 1
    raise EvaluationError(f"calendar {calendar.name!r} has no open day in ten years", None,
                          "give the calendar opening hours")
