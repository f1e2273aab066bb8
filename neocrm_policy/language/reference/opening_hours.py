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
open days; nothing further than a hundred years ahead is looked at. Hours and minutes are
elapsed time: a span holds the instants whose wall clock reads a time in it, so on a
day the clock springs forward or falls back a span is an hour shorter or longer (the
language reference says so). The result is given in the calendar's zone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from ..calendars import Calendar
from ...errors import EvaluationError

A_HUNDRED_YEARS = 36_600
"""Days looked at, at most, when counting open time (the longest duration a rule may
write)."""

SECONDS = {"minute": 60, "hour": 3600}
MINUTE = timedelta(minutes=1)


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


def _real(zone: ZoneInfo, wall: datetime, fold: int) -> datetime:
    return wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)


def _shown(zone: ZoneInfo, moment: datetime) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def real_spans(calendar: Calendar, day: date) -> list[tuple[datetime, datetime]]:
    """The day's open spans in real time (UTC): the instants whose wall clock reads a
    time in a span. Where the clock reads both ends of a span once, with one offset, that
    is one stretch; otherwise (the clock springs forward or falls back inside it) the
    span is walked a wall-clock minute at a time, keeping each minute the clock shows
    (none in the hour skipped, two in the hour repeated)."""
    zone, found = calendar.zone, []
    for start, end in open_spans(calendar, day):
        ends = [_real(zone, wall, fold) for wall in (start, end) for fold in (0, 1)]
        offsets = {(wall.replace(tzinfo=zone, fold=fold)).utcoffset()
                   for wall in (start, end) for fold in (0, 1)}
        if len(offsets) == 1:
            found.append((ends[0], ends[2]))
            continue
        wall = start
        while wall < end:
            for fold in (0, 1):
                moment = _real(zone, wall, fold)
                if _shown(zone, moment) == wall and (moment, moment + MINUTE) not in found:
                    found.append((moment, moment + MINUTE))
            wall += MINUTE
    found.sort()
    merged: list[tuple[datetime, datetime]] = []
    for begin, finish in found:
        if merged and merged[-1][1] == begin:
            merged[-1] = (merged[-1][0], finish)
        else:
            merged.append((begin, finish))
    return merged


def count_open_time(calendar: Calendar, start: datetime, amount: int | Decimal,
                    unit: str) -> datetime:
    """The moment `amount` units of the calendar's open time after `start`."""
    unit = unit[:-1] if unit.endswith("s") else unit
    if amount < 0:
        raise EvaluationError(f"cannot count {amount} {unit}s back on {calendar.name}",
                              None, "durations on a calendar are positive")
    if unit in SECONDS:
        seconds = int((Decimal(amount) * SECONDS[unit]).to_integral_value())
        return _after_open_seconds(calendar, start.astimezone(UTC), seconds)
    days = Decimal(amount) * (7 if unit == "week" else 1)
    if days != days.to_integral_value():
        raise EvaluationError(f"cannot count part of a day on {calendar.name}", None,
                              "count whole days, or hours")
    return _after_open_days(calendar, start.astimezone(UTC), int(days))


def _open_after(calendar: Calendar, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Each stretch of open time after `moment` (UTC), in order, for a hundred years ahead. The
    day before the moment's own is looked at too: its repeated hour may still run."""
    day = _shown(calendar.zone, moment).date() - timedelta(days=1)
    for _ in range(A_HUNDRED_YEARS + 1):
        for begin, finish in real_spans(calendar, day):
            if finish > moment:
                yield max(begin, moment), finish
        day += timedelta(days=1)


def _too_far(calendar: Calendar) -> EvaluationError:
    return EvaluationError(
        f"counting on calendar {calendar.name!r} goes past a hundred years ahead", None,
        "counting on a calendar looks at most a hundred years ahead; check the number of "
        "hours or days counted")


def _fixed(calendar: Calendar, moment: datetime) -> datetime:
    """The moment in the calendar's zone on its fixed offset then (a wall-clock time in
    a zone compares unequal to every other zone's in a repeated hour)."""
    local = moment.astimezone(calendar.zone)
    offset: timedelta = local.utcoffset()  # type: ignore[assignment]  # aware: never None
    return local.replace(tzinfo=timezone(offset), fold=0)


def _after_open_seconds(calendar: Calendar, moment: datetime, seconds: int) -> datetime:
    left = timedelta(seconds=seconds)
    for begin, finish in _open_after(calendar, moment):
        if left <= finish - begin:
            return _fixed(calendar, begin + left)
        left -= finish - begin
    raise _too_far(calendar)


def _after_open_days(calendar: Calendar, moment: datetime, days: int) -> datetime:
    for begin, _ in _open_after(calendar, moment):
        local = _shown(calendar.zone, begin)
        day = local.date()
        for _ in range(A_HUNDRED_YEARS):
            if days == 0:
                return _fixed(calendar,
                              datetime.combine(day, local.time()).replace(tzinfo=calendar.zone))
            day += timedelta(days=1)
            if open_spans(calendar, day):
                days -= 1
        raise _too_far(calendar)
    raise _too_far(calendar)
