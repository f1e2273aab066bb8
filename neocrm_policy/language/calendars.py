"""Business-hour calendars: when a support channel is open, and time counted in open hours.

A calendar is declared in a rule file (`calendars:`) as weekly opening hours in a time
zone, optionally closed on mainland-China public holidays and open on their official
make-up working days (taken from the maintained `holidays` package, not kept by hand),
and closed or open on dates of its own (`closed_on:`, `open_on:`, each with a note).
This room only answers questions about time; it parses no expressions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import EvaluationError, Location, SchemaError

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_DAYS_SCANNED = 36_600
"""Counting open time never looks further than a hundred years ahead (the longest duration
a rule may write, `syntax.parser.MAX_DURATION_DAYS`): work stays bounded."""
COUNTABLE_YEARS = 80
"""A duration on a calendar written in a rule counts at most what the calendar's weekly
hours give in 80 years (`Calendar.longest`, checked by `validate`): public holidays close
at most a few weeks of a year and daylight saving an hour, so counting it never looks
past a hundred years, and whatever the checker accepts is decided."""
_WEEKS_COUNTABLE = Decimal(COUNTABLE_YEARS * 365) / 7

HOLIDAY_REGIONS = {"mainland_china": "mainland-China public holidays"}

_SPAN = re.compile(r"^\s*(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})\s*$")


@lru_cache(maxsize=64)
def _china_year(year: int) -> tuple[frozenset, frozenset]:
    """(public holidays, make-up working days) of one year, from the holidays package."""
    import holidays

    calendar = holidays.China(years=year)
    closed = frozenset(calendar.keys())
    make_up = frozenset(getattr(calendar, "weekend_workdays", ()) or ())
    return closed, make_up


def _china_name(day: date) -> str:
    """The name of a mainland-China public holiday, as the holidays package gives it."""
    import holidays
    name = holidays.China(years=day.year).get(day)
    if not name:
        return "a mainland-China public holiday"
    name = re.sub(r"\b(\d{2})/(\d{2})/(\d{4})\b",   # the package writes dates the US way
                  lambda m: _day_words(date(int(m[3]), int(m[1]), int(m[2]))), name)
    return f"{name}, a mainland-China public holiday"


_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


def _moved(moment: datetime, hours: int) -> datetime:
    """`moment` moved by `hours`, held inside the years a datetime can give."""
    try:
        return moment + timedelta(hours=hours)
    except OverflowError:
        return _LATEST if hours > 0 else _EARLIEST


@lru_cache(maxsize=4096)
def _offset_pieces(zone: ZoneInfo, day: date) -> tuple[tuple[datetime, datetime, timedelta], ...]:
    """The real time (UTC) around a local day, cut where the zone's offset from UTC
    changes: (from, until, offset) pieces. Offsets are looked at every four hours and a
    change is found to the second; no zone changes its clock twice in four hours."""
    noon = datetime.combine(day, time(12), UTC)
    ends = (_moved(noon, -40), _moved(noon, 40))
    if _offset(zone, ends[0]) == _offset(zone, noon) == _offset(zone, ends[1]):
        return ((ends[0], ends[1], _offset(zone, noon)),)   # no change: clocks change
    edges = [_moved(noon, hours) for hours in range(-40, 41, 4)]     # months apart
    offsets = [_offset(zone, edge) for edge in edges]
    pieces, first = [], edges[0]
    for before, after, old, new in zip(edges, edges[1:], offsets, offsets[1:], strict=False):
        if old != new:
            low, high = before, after          # old offset at low, new at high
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle -= timedelta(microseconds=middle.microsecond)
                if middle <= low:
                    break
                if _offset(zone, middle) == old:
                    low = middle
                else:
                    high = middle
            pieces.append((first, high, old))
            first = high
    pieces.append((first, edges[-1], offsets[-1]))
    return tuple(pieces)


def _offset(zone: ZoneInfo, moment: datetime) -> timedelta:
    """The zone's offset from UTC at a real moment."""
    try:
        return moment.astimezone(zone).utcoffset()  # type: ignore[return-value]  # aware: set
    except OverflowError:   # at the very ends of the years a datetime holds
        # a ZoneInfo gives every wall-clock time an offset (never None, unlike tzinfo's)
        return zone.utcoffset(moment.replace(tzinfo=None))  # type: ignore[return-value]  # set


@dataclass(frozen=True)
class Calendar:
    """Weekly opening hours in a zone; `hours[d]` holds (start, end) minutes of day d."""

    name: str
    zone: ZoneInfo
    hours: tuple[tuple[tuple[int, int], ...], ...]
    summary: str | None = None
    clause: str | None = None
    holiday_region: str | None = None
    _make_up_hours: tuple[tuple[int, int], ...] = field(default=(), repr=False)
    own_days: tuple[tuple[date, bool, str], ...] = ()
    """Dates of its own: (day, open, note): closed on a holiday of its own, open on a
    make-up working day, whatever the week or the region says."""
    location: Location | None = field(default=None, repr=False, compare=False)
    """Where its summary was written, to point at a sentence in it."""
    _stretches: dict = field(default_factory=dict, repr=False, compare=False, hash=False)
    """Each day's open stretches once worked out (`open_stretches`), a few thousand days
    at most: a calendar asked about the same weeks again answers at once."""
    _own_index: dict = field(default_factory=dict, repr=False, compare=False, hash=False)
    """`own_days` by date, made at first need."""

    # Days -----------------------------------------------------------------------------
    def spans_on(self, day: date) -> tuple[tuple[int, int], ...]:
        """Open spans of a calendar day, in minutes after local midnight."""
        own = self._own.get(day) if self.own_days else None
        if own is not None:
            return self._make_up_hours if own[0] else ()
        if self.holiday_region == "mainland_china":
            closed, make_up = _china_year(day.year)
            if day in make_up:
                return self._make_up_hours
            if day in closed:
                return ()
        return self.hours[day.weekday()]

    @property
    def _own(self) -> dict[date, tuple[bool, str]]:
        if not self._own_index and self.own_days:
            self._own_index.update((day, (opened, note)) for day, opened, note in self.own_days)
        return self._own_index

    def special_day(self, day: date) -> tuple[bool, str] | None:
        """(open, why) when `day` is not as the week has it: a date of its own, a public
        holiday or a make-up working day of its region; None for an ordinary day."""
        own = self._own.get(day) if self.own_days else None
        if own is not None:
            return own
        if self.holiday_region == "mainland_china":
            closed, make_up = _china_year(day.year)
            if day in make_up:
                return True, "a mainland-China make-up working day"
            if day in closed:
                return False, _china_name(day)
        return None

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        minute = local.hour * 60 + local.minute + local.second / 60
        return any(start <= minute < end for start, end in self.spans_on(local.date()))

    # Counting open time ---------------------------------------------------------------
    def add(self, start: datetime, amount: int | Decimal, unit: str) -> datetime:
        """The moment when `amount` units of open time have passed after `start`.

        Counting starts at `start`, or at the next opening when the calendar is closed
        then. Hours and minutes count only open time; finishing exactly at a closing time
        gives that closing time. Days count open days: the same time of day on the N-th
        open day after counting starts. A week is seven open days.
        """
        unit = unit.rstrip("s")
        if amount < 0:
            raise EvaluationError(f"cannot count {amount} {unit}s back on {self.name}", None,
                                  "durations on a calendar are positive")
        local = start.astimezone(self.zone)
        if unit in ("minute", "hour"):
            seconds = Decimal(amount) * (60 if unit == "minute" else 3600)
            return self._add_seconds(local, int(seconds.to_integral_value()))
        if unit in ("day", "week"):
            days = Decimal(amount) * (7 if unit == "week" else 1)
            if days != days.to_integral_value():
                raise EvaluationError(f"cannot count part of a day on {self.name}", None,
                                      "count whole days, or hours")
            return self._add_days(local, int(days))
        raise EvaluationError(f"unknown unit {unit!r}", None, "minutes, hours, days, weeks")

    def open_stretches(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The open spans of a calendar day as stretches of real time (UTC), in order.

        A span names wall-clock times; on a day the zone changes its clock the span holds
        the instants whose clock reads a time in it: an hour less when the clock springs
        forward inside it, the repeated hour twice when it falls back. So open time counts
        elapsed time, as the clock on the wall of the support office would not."""
        known = self._stretches.get(day)
        if known is None:
            if len(self._stretches) >= 4096:
                self._stretches.clear()
            known = self._stretches[day] = self._work_out_stretches(day)
        return known

    def _work_out_stretches(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        spans = self.spans_on(day)
        if not spans:
            return ()
        midnight = datetime.combine(day, time(0), UTC)   # the wall clock, read as UTC
        found = []
        for first, last, offset in _offset_pieces(self.zone, day):
            for start, end in spans:
                begin = max(first, midnight + timedelta(minutes=start) - offset)
                finish = min(last, midnight + timedelta(minutes=end) - offset)
                if begin < finish:
                    found.append((begin, finish))
        return tuple(sorted(found))

    def _on_its_clock(self, moment: datetime) -> datetime:
        """A moment as the calendar's clock shows it, on that instant's fixed offset: the
        second 01:30 of a night the clock falls back stays the second, and equals the
        same instant written in any other zone."""
        local = moment.astimezone(self.zone)
        offset: timedelta = local.utcoffset()  # type: ignore[assignment]  # aware: never None
        return local.replace(tzinfo=timezone(offset), fold=0)

    def _stretches_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open stretches that end after `moment`, in order, for a hundred years ahead."""
        day = moment.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(MAX_DAYS_SCANNED + 1):
            for begin, finish in self.open_stretches(day):
                if finish > moment:
                    yield max(begin, moment), finish
            day += timedelta(days=1)

    def _add_seconds(self, local: datetime, remaining: float) -> datetime:
        moment = local.astimezone(UTC)
        for begin, finish in self._stretches_from(moment):
            available = (finish - begin).total_seconds()
            if remaining <= available:
                return self._on_its_clock(begin + timedelta(seconds=remaining))
            remaining -= available
        raise _too_far(self)

    def next_opening(self, local: datetime) -> datetime:
        """`local` itself when open, otherwise the next moment the calendar opens; a
        closing time is not open (Friday 18:00 waits for Monday's opening)."""
        for begin, _ in self._stretches_from(local.astimezone(UTC)):
            return self._on_its_clock(begin)
        raise _too_far(self)

    def _add_days(self, local: datetime, count: int) -> datetime:
        begin = self.next_opening(local)
        day = begin.date()
        for _ in range(MAX_DAYS_SCANNED):
            if count == 0:
                return self._on_its_clock(datetime.combine(day, begin.time(), self.zone))
            day += timedelta(days=1)
            if self.spans_on(day):
                count -= 1
        raise _too_far(self)

    def longest(self, unit: str) -> int:
        """The most `unit`s a rule may write on this calendar: what it is open in
        COUNTABLE_YEARS years of its weekly hours."""
        unit = unit.rstrip("s")
        if unit in ("day", "week"):
            per_week = Decimal(sum(1 for spans in self.hours if spans))
            size = 7 if unit == "week" else 1
        else:
            per_week = Decimal(sum(end - start for spans in self.hours for start, end in spans))
            size = 60 if unit == "hour" else 1
        return int(per_week * _WEEKS_COUNTABLE / size)

    # Words ----------------------------------------------------------------------------
    def describe(self) -> str:
        """Opening hours in plain English, e.g. `Monday to Friday 09:00–18:00`."""
        groups: list[tuple[int, int, tuple]] = []
        for index, spans in enumerate(self.hours):
            if groups and groups[-1][2] == spans:
                groups[-1] = (groups[-1][0], index, spans)
            else:
                groups.append((index, index, spans))
        parts = []
        for first, last, spans in groups:
            if not spans:
                continue
            days = ("every day" if (first, last) == (0, 6) else
                    DAYS[first].title() if first == last else
                    f"{DAYS[first].title()} to {DAYS[last].title()}")
            parts.append(f"{days} {', '.join(_span_text(s) for s in spans)}")
        text = "; ".join(parts) or "never open"
        text += f" ({self.zone.key})"
        if self.holiday_region:
            text += (f", closed on {HOLIDAY_REGIONS[self.holiday_region]} and open on their "
                     "make-up working days")
        for opened, said in ((False, "closed"), (True, "open")):
            listed = [f"{_day_words(day)} ({note})" if note else _day_words(day)
                      for day, is_open, note in self.own_days if is_open == opened]
            if listed:
                text += f"; {said} on " + ", ".join(listed)
        return text

    def __str__(self) -> str:
        return self.name


def _too_far(calendar: Calendar) -> EvaluationError:
    return EvaluationError(
        f"counting on calendar {calendar.name!r} goes past a hundred years ahead", None,
        "counting on a calendar looks at most a hundred years ahead; check the number of "
        "hours or days counted")


def _day_words(day: date) -> str:
    from .values import date_words
    return date_words(day)


def _span_text(span: tuple[int, int]) -> str:
    start, end = span
    return f"{start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d}"


def _where(spec: Any, key: str | None = None) -> Location | None:
    where = getattr(spec, "where", None)
    return where(key) if where else None


def _days(key: str) -> list[int] | None:
    text = str(key).strip().lower()
    if text in ("every day", "every_day", "daily"):
        return list(range(7))
    if "-" in text:
        first, _, last = (p.strip() for p in text.partition("-"))
        if first in DAYS and last in DAYS:
            a, b = DAYS.index(first), DAYS.index(last)
            return list(range(a, b + 1)) if a <= b else list(range(a, 7)) + list(range(b + 1))
        return None
    return [DAYS.index(text)] if text in DAYS else None


def build_calendar(name: str, spec: Any) -> Calendar:
    """A Calendar from its rule-file mapping; every mistake is a located SchemaError."""
    if not isinstance(spec, dict):
        raise SchemaError(f"calendar {name!r} must be a mapping", _where(spec),
                          "give `hours:` and optionally `zone:` and `holidays:`")
    zone_name = spec.get("zone", "Asia/Shanghai")
    try:
        zone = ZoneInfo(str(zone_name))
    except (ZoneInfoNotFoundError, ValueError):
        raise SchemaError(f"calendar {name!r}: unknown time zone {zone_name!r}",
                          _where(spec, "zone"), "use an IANA zone such as Asia/Shanghai") \
            from None
    region = spec.get("holidays")
    if region is not None and region not in HOLIDAY_REGIONS:
        raise SchemaError(f"calendar {name!r}: unknown holiday calendar {region!r}",
                          _where(spec, "holidays"),
                          "supported: " + ", ".join(HOLIDAY_REGIONS))
    hours_spec = spec.get("hours")
    if not isinstance(hours_spec, dict) or not hours_spec:
        raise SchemaError(f"calendar {name!r} has no opening hours", _where(spec),
                          "add `hours:`, e.g. `monday-friday: \"09:00-18:00\"`")
    week: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    where_hours = hours_spec
    for key, value in hours_spec.items():
        days = _days(key)
        if days is None:
            where_key = getattr(where_hours, "where_key", None)   # the key is the mistake
            raise SchemaError(f"calendar {name!r}: {key!r} is not a day or range of days",
                              where_key(key) if where_key else None,
                              "write a day (monday), a range (monday-friday) or `every day`")
        texts = value if isinstance(value, list) else [value]
        for text in texts:
            m = _SPAN.match(str(text))
            if not m:
                raise SchemaError(f"calendar {name!r}: {text!r} is not a span of hours",
                                  _where(where_hours, key),
                                  "write hours as \"09:00-18:00\"")
            h1, m1, h2, m2 = map(int, m.groups())
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60:
                raise SchemaError(f"calendar {name!r}: {text!r} is not a valid time of day",
                                  _where(where_hours, key), "hours run from 00:00 to 24:00")
            if end <= start:
                raise SchemaError(f"calendar {name!r}: {text!r} ends before it starts",
                                  _where(where_hours, key),
                                  "a span may not cross midnight; split it into two days")
            for day in days:
                for s, e in week[day]:
                    if start < e and s < end:
                        raise SchemaError(
                            f"calendar {name!r}: {text!r} overlaps another span on "
                            f"{DAYS[day]}", _where(where_hours, key),
                            "give each day's spans without overlap")
                week[day].append((start, end))
    hours = tuple(tuple(sorted(spans)) for spans in week)
    if not any(hours):
        raise SchemaError(f"calendar {name!r} is never open", _where(spec, "hours"),
                          "give at least one span of hours")
    make_up = next((spans for spans in hours[:5] if spans), ())
    own = _own_days(name, spec)
    return Calendar(name, zone, hours, spec.get("summary"), spec.get("clause"), region,
                    make_up, own, _where(spec, "summary"))


_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)

MAX_OWN_DAYS = 1000
"""Dates of its own one calendar may list (a company's holidays for decades)."""


def _own_days(name: str, spec: Any) -> tuple[tuple[date, bool, str], ...]:
    """`closed_on:` and `open_on:`: date → note (a note may be empty)."""
    found: dict[date, tuple[bool, str, str]] = {}
    for key, opened in (("closed_on", False), ("open_on", True)):
        listed = spec.get(key)
        if listed is None:
            continue
        if not isinstance(listed, dict):
            raise SchemaError(f"calendar {name!r}: `{key}:` must list dates, each with a note",
                              _where(spec, key), f"write e.g. `{key}:` then "
                              "`  2026-06-18: company anniversary` on the next line")
        for day_text, note in listed.items():
            where = getattr(listed, "where_key", lambda _k: None)(day_text)
            day = _own_date(day_text)
            if day is None:
                raise SchemaError(f"calendar {name!r}: {day_text!r} is not a date",
                                  where, "write the date as 2026-06-18")
            if note is not None and not isinstance(note, str):
                raise SchemaError(f"calendar {name!r}: the note of {day} is not text",
                                  where, "write what the day is, e.g. company anniversary")
            if day in found:   # under the other key, or twice in a mapping a program made
                first = found[day][2]
                raise SchemaError(
                    f"calendar {name!r}: {day} is listed under both `{first}:` and `{key}:`"
                    if first != key else f"calendar {name!r}: {day} is listed twice under "
                    f"`{key}:`", where,
                    "a day is either closed or open: keep it under one of them"
                    if first != key else "list each date once")
            found[day] = (opened, note or "", key)
    if len(found) > MAX_OWN_DAYS:
        raise SchemaError(f"calendar {name!r} lists {len(found)} dates of its own",
                          _where(spec), f"at most {MAX_OWN_DAYS}")
    return tuple(sorted((day, opened, note) for day, (opened, note, _) in found.items()))


def _own_date(key: Any) -> date | None:
    """A date of its own as written, 2026-06-18, or None: YAML reads `20260618` as a
    number and Python's reader takes week dates (`2026-W25-4`), neither a date here."""
    if not isinstance(key, (str, date)) or not _DATE_TEXT.fullmatch(str(key)):
        return None
    try:
        return date.fromisoformat(str(key))
    except ValueError:   # 2026-02-30
        return None
