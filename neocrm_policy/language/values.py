"""Runtime values and their static types.

This room knows what a value *is*: the static `Type` the checker reasons with, how a
literal or a fact is read into a runtime value, and how a result is written back out as
JSON or as words. It evaluates nothing.

Runtime representation, chosen so compiled expressions can use plain Python operators:
int and `Decimal` for numbers, `Decimal` for money (CNY; the static type says it is money),
`str`, `bool`, `None` for null, `date`, timezone-aware `datetime`, `time`, `timedelta` for
elapsed durations and `CalendarDuration` for durations counted on a named calendar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from ..errors import EvaluationError

AGREEMENT_ZONE = ZoneInfo("Asia/Shanghai")
"""The agreement's default zone: a time written without an offset is read here."""

_OFFSETS: dict[timedelta, timezone] = {}
SHANGHAI_SINCE_1992 = _OFFSETS.setdefault(timedelta(hours=8), timezone(timedelta(hours=8)))
"""The one zone object of every time on +08:00 after 1991 (Shanghai has kept +08:00,
without daylight saving, since 1992): comparing two times of one zone object is quick."""
_EIGHT_HOURS = timedelta(hours=8)

FIRST_INSTANT = datetime(1, 1, 2, tzinfo=UTC)
LAST_INSTANT = datetime(9999, 12, 30, tzinfo=UTC)
"""Times a day inside the calendar's years (1 to 9999): every zone shows them as a date
that exists, so `today`, date_of() and a calendar's hours never leave the calendar. The
evaluation time, datetime facts and datetime literals are held to it."""
YEARS_HINT = f"give a time between {FIRST_INSTANT.date()} and {LAST_INSTANT.date()}"


def shown_in_the_agreement_zone(moment: datetime) -> bool:
    """Whether the agreement's zone can show a computed time: one near the end of the year
    9999 (or the start of the year 1) held at another offset may be in the year 10000 (or
    0) there, which no output, date_of() or `today` could give."""
    if 1 < moment.year < 9999:
        return True
    try:
        moment.astimezone(AGREEMENT_ZONE)
    except OverflowError:
        return False
    return True


def outside_years(moment: datetime) -> bool:
    """Whether a time (without an offset: in the agreement's zone) is not between
    FIRST_INSTANT and LAST_INSTANT. A time in the years 2 to 9998 is between them at any
    offset (less than a day), which saves comparing through the zones (about 0.7 µs of
    each decision)."""
    if 1 < moment.year < 9999:
        return False
    if moment.utcoffset() is None:
        moment = moment.replace(tzinfo=AGREEMENT_ZONE)
    return not FIRST_INSTANT <= moment <= LAST_INSTANT


def in_agreement_zone(moment: datetime) -> datetime:
    """A moment as the agreement's zone shows it, on that instant's fixed offset, so that
    adding a duration adds elapsed time even in Shanghai's daylight-saving years (the
    1940s, 1986–91), where wall-clock arithmetic would be an hour off. A moment without
    an offset is a wall-clock time in Asia/Shanghai."""
    if moment.tzinfo is SHANGHAI_SINCE_1992 and moment.year > 1991:   # read so: as it is
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=AGREEMENT_ZONE)
    elif moment.year > 1991 and (moment.tzinfo is SHANGHAI_SINCE_1992
                                 or moment.utcoffset() == _EIGHT_HOURS):
        return moment if moment.tzinfo is SHANGHAI_SINCE_1992 else \
            datetime.combine(moment, moment.time(), SHANGHAI_SINCE_1992)
    local = moment.astimezone(AGREEMENT_ZONE)
    offset: timedelta = local.utcoffset()  # type: ignore[assignment]  # aware: never None
    zone = _OFFSETS.get(offset)
    if zone is None:
        zone = _OFFSETS.setdefault(offset, timezone(offset))
    return local.replace(tzinfo=zone)

MAX_LIST_ITEMS = 10_000
"""Facts and values are bounded, so evaluation work is bounded. A list computed by the
rules counts the items of the lists inside it too."""
MAX_RESULT_DIGITS = 40
"""A number a decision or a term computes has at most this many digits before the point:
products of two facts fit (a fact has at most 18), products of products chained across
decisions stop here instead of growing until a call takes minutes."""
MAX_RESULT_CHARS = 10_000
"""Characters of a text a decision or a term computes (as a text fact)."""


@dataclass(frozen=True)
class Type:
    """A static type. `item` is the element type of a list or the value type of a map,
    `key` the key type of a map, `fields` the members of a group of facts."""

    name: str
    item: Type | None = None
    key: Type | None = None
    nullable: bool = False
    fields: tuple = field(default=(), compare=False)
    on_calendar: bool = False
    """A duration that may be counted on a calendar (`8 hotline hours`): a type of its
    own, since such a span may only be added to a date or a time, multiplied by a
    number, or compared; it still reads as a duration wherever no arithmetic is done."""

    def __str__(self) -> str:
        if self.name == "list":
            text = f"list of {self.item}"
        elif self.name == "map":
            text = f"map from {self.key} to {self.item}"
        elif self.on_calendar:
            text = "duration on a calendar"
        else:
            text = self.name
        return f"{text} or null" if self.nullable and self.name != "null" else text

    def or_null(self) -> Type:
        return self if self.nullable else Type(self.name, self.item, self.key, True, self.fields,
                                               self.on_calendar)

    def not_null(self) -> Type:
        return Type(self.name, self.item, self.key, False, self.fields, self.on_calendar) \
            if self.nullable else self

    @property
    def numeric(self) -> bool:
        return self.name in ("int", "decimal")


INT, DECIMAL, MONEY = Type("int"), Type("decimal"), Type("money")
STRING, BOOL, NULL = Type("string"), Type("bool"), Type("null", nullable=True)
DATE, DATETIME, TIME, DURATION = Type("date"), Type("datetime"), Type("time"), Type("duration")
CALENDAR, ANY = Type("calendar"), Type("any")
CALENDAR_DURATION = Type("duration", on_calendar=True)


def a_or_an(type_: Type | str) -> str:
    """A type (or a kind of type) named with its article, as a message reads: "an int",
    "a date"."""
    text = str(type_)
    return ("an " if text[:1] in "aeiou" else "a ") + text


def list_of(item: Type) -> Type:
    return Type("list", item=item)


def map_of(key: Type, value: Type) -> Type:
    return Type("map", item=value, key=key)


SCALAR_TYPES = {t.name: t for t in (INT, DECIMAL, MONEY, STRING, BOOL, DATE, DATETIME,
                                    TIME, DURATION)}


def on_calendar(type_: Type) -> Type:
    """`type_` with each duration in it (itself, or the items of a list or table) allowed
    to be on a calendar: what a `duration` declared for a term or a decision holds."""
    if type_.name == "duration":
        return Type("duration", nullable=type_.nullable, on_calendar=True)
    if type_.name in ("list", "map") and type_.item is not None:
        return Type(type_.name, on_calendar(type_.item), type_.key, type_.nullable,
                    type_.fields)
    return type_


def parse_type(text: str) -> Type | None:
    """`int`, `money`, `list[string]`, `map[int, duration]`… as written in rule files."""
    text = text.strip()
    if text in SCALAR_TYPES:
        return SCALAR_TYPES[text]
    m = re.fullmatch(r"list\[(.+)\]", text)
    if m:
        inner = parse_type(m.group(1))
        return list_of(inner) if inner else None
    m = re.fullmatch(r"map\[\s*(\w+)\s*,\s*(.+)\]", text)
    if m:
        key, value = parse_type(m.group(1)), parse_type(m.group(2))
        return map_of(key, value) if key and value else None
    return None


def unify(a: Type, b: Type) -> Type | None:
    """The type that holds values of both, or None when there is none."""
    if a.name == "null":
        return b.or_null()
    if b.name == "null":
        return a.or_null()
    nullable = a.nullable or b.nullable
    if a.name == b.name == "duration" and a.on_calendar != b.on_calendar:
        return CALENDAR_DURATION.or_null() if nullable else CALENDAR_DURATION
    if a.name == b.name and a.name not in ("list", "map"):
        return a.or_null() if nullable else a.not_null()
    if a.numeric and b.numeric:
        return DECIMAL.or_null() if nullable else DECIMAL
    if a.name == b.name == "list":
        a_item, b_item = item_of(a), item_of(b)
        item = unify(a_item, b_item) if a_item.name != "any" else b_item
        if b_item.name == "any":
            item = a_item
        return None if item is None else Type("list", item=item, nullable=nullable)
    if a.name == b.name == "map":
        key, item = unify(key_of(a), key_of(b)), unify(item_of(a), item_of(b))
        if key is None or item is None:
            return None
        return Type("map", item=item, key=key, nullable=nullable)
    return None


def accepts(expected: Type, actual: Type) -> bool:
    """Whether a value of type `actual` may stand where `expected` is declared."""
    if actual.name == "null":
        return expected.nullable
    if actual.nullable and not expected.nullable:
        return False
    if expected.name == "decimal" and actual.name == "int":
        return True
    if expected.name != actual.name or (actual.on_calendar and not expected.on_calendar):
        return False
    if expected.name == "list":
        return item_of(actual).name == "any" or accepts(item_of(expected), item_of(actual))
    if expected.name == "map":   # an empty table (`{}`) has entries of any type
        return (key_of(actual).name == "any" or accepts(key_of(expected), key_of(actual))) \
            and (item_of(actual).name == "any" or accepts(item_of(expected), item_of(actual)))
    return True


def item_of(type_: Type) -> Type:
    """The item type of a list or map type, which every list and map type has."""
    assert type_.item is not None, f"{type_.name} without an item type"
    return type_.item


def key_of(type_: Type) -> Type:
    """The key type of a map type, which every map type has."""
    assert type_.key is not None, f"{type_.name} without a key type"
    return type_.key


# ---------------------------------------------------------------------------------------
# Durations

UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800}
DURATION_UNITS = tuple(f"{unit}s" for unit in UNIT_SECONDS)
"""The units a duration is written in (the grammar's UNIT); there are no months or years."""


def unit_name(unit: str) -> str:
    """`hours` → `hour`: singular, the key of UNIT_SECONDS."""
    return unit[:-1] if unit.endswith("s") else unit


def make_duration(amount: int | Decimal, unit: str) -> timedelta:
    seconds = Decimal(amount) * UNIT_SECONDS[unit_name(unit)]
    return timedelta(seconds=int(seconds)) if seconds == int(seconds) else \
        timedelta(seconds=float(seconds))


class CalendarDuration:
    """A span counted on a named calendar: `8 support hours`, `2 working days`.

    Added to a datetime it asks the calendar to count only open time. The calendar is
    bound at load time, so evaluation never looks a name up.
    """

    __slots__ = ("amount", "unit", "calendar")

    def __init__(self, amount: int | Decimal, unit: str, calendar: Any) -> None:
        self.amount, self.unit, self.calendar = amount, unit_name(unit), calendar

    def __radd__(self, other: Any) -> datetime:
        if isinstance(other, datetime):
            return self.calendar.add(other, self.amount, self.unit + "s")
        if isinstance(other, date):
            start = datetime.combine(other, time(0), self.calendar.zone)
            return self.calendar.add(start, self.amount, self.unit + "s").date()
        return NotImplemented

    def __rsub__(self, other: Any) -> Any:
        raise EvaluationError(
            f"cannot count {self} backwards", None,
            "durations on a calendar can only be added to a time")

    def __eq__(self, other: Any) -> bool:
        return (isinstance(other, CalendarDuration) and self.amount == other.amount
                and self.unit == other.unit and self.calendar.name == other.calendar.name)

    def __hash__(self) -> int:
        return hash((self.amount, self.unit, self.calendar.name))

    @property
    def nominal(self) -> timedelta:
        """The span as written, ignoring the calendar: `8 support hours` is 8 hours. Used
        to compare with other durations (guard rails such as solution ≥ response)."""
        return make_duration(self.amount, self.unit)

    def _span(self, other: Any) -> Any:
        if isinstance(other, CalendarDuration):
            return other.nominal
        return other if isinstance(other, timedelta) else NotImplemented

    def __lt__(self, other: Any) -> bool:
        span = self._span(other)
        return NotImplemented if span is NotImplemented else self.nominal < span

    def __le__(self, other: Any) -> bool:
        span = self._span(other)
        return NotImplemented if span is NotImplemented else self.nominal <= span

    def __gt__(self, other: Any) -> bool:
        span = self._span(other)
        return NotImplemented if span is NotImplemented else self.nominal > span

    def __ge__(self, other: Any) -> bool:
        span = self._span(other)
        return NotImplemented if span is NotImplemented else self.nominal >= span

    def __str__(self) -> str:
        plural = "" if self.amount == 1 else "s"
        return f"{self.amount} {self.calendar.name} {self.unit}{plural}"

    __repr__ = __str__


# ---------------------------------------------------------------------------------------
# Reading values: literals in rule files and facts in JSON

_DT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?",
                 re.ASCII)
_D = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_T = re.compile(r"\d{2}:\d{2}(:\d{2})?", re.ASCII)


TIME_MARKS = "--T::"
"""The marks of `2026-03-07T22:30:00` at every third place from the fifth (see
`canonical_time`)."""


def canonical_time(text: str) -> datetime | None:
    """`in_agreement_zone(read_datetime(text))` for a time spelt `2026-03-07T22:30:00`, on
    +08:00 or without an offset, in the years 1992 to 9998 (the spelling callers nearly
    always send), at a third of its cost; None for any other text, to be read in full.
    The marks at every third place and the length, then Python's parse (two ASCII digits
    between the marks, or a ValueError), accept exactly that spelling
    (tests/test_values.py compares it with a regular expression over near misses); from
    1992 Shanghai's offset is +08:00 all year round, so the wall-clock time is kept."""
    if text[4:19:3] == TIME_MARKS and (len(text) == 19 or text[19:] == "+08:00"):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        if 1991 < moment.year < 9999:
            return datetime.combine(moment, moment.time(), SHANGHAI_SINCE_1992)
    return None


def read_datetime(text: str) -> datetime:
    """ISO 8601; without an offset the time is in Asia/Shanghai, as the agreement's zone
    (on the fixed offset Shanghai had then, so durations move it in elapsed time)."""
    if not isinstance(text, str) or not _DT.fullmatch(text.strip()):
        raise ValueError("expected a date and time like 2026-03-07T22:30:00+08:00")
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else in_agreement_zone(value)


def read_date(text: str) -> date:
    if not isinstance(text, str) or not _D.fullmatch(text.strip()):
        raise ValueError("expected a date like 2026-03-07")
    return date.fromisoformat(text.strip())


def read_time(text: str) -> time:
    if not isinstance(text, str) or not _T.fullmatch(text.strip()):
        raise ValueError("expected a time of day like 08:00")
    return time.fromisoformat(text.strip())


def read_decimal(value: Any) -> Decimal:
    """A JSON number or decimal string, exactly: 0.1 stays 0.1, never a binary float."""
    if isinstance(value, bool):
        raise ValueError("expected a number, got true/false")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("expected a finite number")
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("expected a finite number")
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value, re.ASCII):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            pass
    raise ValueError("expected a number such as 12000 or \"12000.50\"")


_ISO_DURATION = re.compile(
    r"(?P<sign>-?)P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)(?:\.(?P<part>\d{1,6}))?S)?)?",
    re.ASCII)


def read_duration(value: Any) -> timedelta:
    """ISO 8601 (`PT4H`, `P9D`, and as a decision gives them `PT0.06S`, `-PT1H`) or our own
    words (`4 hours`)."""
    if isinstance(value, str):
        m = _ISO_DURATION.fullmatch(value.strip())
        if m and value.strip().lstrip("-") not in ("P", "PT"):
            parts = {k: int(m.group(k) or 0) for k in "wdhms"}
            if max(parts.values()) >= 10 ** 6:
                raise ValueError("a duration of more than a million units")
            span = timedelta(weeks=parts["w"], days=parts["d"], hours=parts["h"],
                             minutes=parts["m"], seconds=parts["s"],
                             microseconds=int((m.group("part") or "0").ljust(6, "0")))
            return -span if m.group("sign") else span
        m = re.fullmatch(r"\s*(\d{1,6}(?:\.\d{1,6})?)\s+(minutes?|hours?|days?|weeks?)\s*", value,
                         re.ASCII)
        if m:
            return make_duration(Decimal(m.group(1)), m.group(2))
    raise ValueError("expected a duration like \"4 hours\" or \"PT4H\"")


def read_fact(value: Any, type_: Type) -> Any:
    """Convert one JSON fact to its runtime value, or raise ValueError saying what was wanted."""
    name = type_.name
    if value is None:
        if type_.nullable:
            return None
        raise ValueError("expected a value, got null")
    if name == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ValueError("expected a whole number")
        return value
    if name in ("decimal", "money"):
        return read_decimal(value)
    if name == "string":
        if not isinstance(value, str):
            raise ValueError("expected text")
        return value
    if name == "bool":
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if name == "datetime":
        return read_datetime(value)
    if name == "date":
        return read_date(value)
    if name == "time":
        return read_time(value)
    if name == "duration":
        return read_duration(value)
    if name == "list":
        if not isinstance(value, list):
            raise ValueError("expected a list")
        if len(value) > MAX_LIST_ITEMS:
            raise ValueError(f"a list may hold at most {MAX_LIST_ITEMS} items")
        item_type = item_of(type_)
        return tuple(read_fact(item, item_type) for item in value)
    raise ValueError(f"facts of type {type_} are not supported")


# ---------------------------------------------------------------------------------------
# Writing values out


def format_money(value: Decimal) -> str:
    """CNY as a decimal string with at least two decimals, never rounded; no amount is
    shown as "-0.00" (a negative zero, written `-0` or computed `0 CNY * -1`, is 0.00)."""
    # A computed or read amount is finite (contexts trap overflow, facts are checked), so
    # its exponent is an int, never NaN's or infinity's letter.
    if value.as_tuple().exponent > -2:  # type: ignore[operator]  # finite: an int
        value = value.quantize(Decimal("0.01"))
    if value.is_zero() and value.is_signed():
        value = value.copy_abs()
    return f"{value:f}"


def duration_iso(value: timedelta) -> str:
    """ISO 8601 (`PT2H`, `P1DT4H`, `PT0.06S`, `-PT0.36S`): a part of a second is kept to
    the microsecond and a negative duration keeps its sign, as the memo shows them."""
    micro = value // timedelta(microseconds=1)
    sign = "-" if micro < 0 else ""
    whole, part = divmod(abs(micro), 1_000_000)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    second_text = f"{seconds}.{part:06d}".rstrip("0") if part else f"{seconds}"
    out = f"{sign}P{days}D" if days else f"{sign}P"
    if hours or minutes or seconds or part or not days:
        out += "T" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
        out += f"{second_text}S" if seconds or part or not (hours or minutes) else ""
    return out


def duration_words(value: timedelta | CalendarDuration) -> str:
    if isinstance(value, CalendarDuration):
        return str(value)
    micro = value // timedelta(microseconds=1)
    if micro % 1_000_000:   # a part of a second, kept exactly (a duration times 0.001)
        return f"{Decimal(micro).scaleb(-6).normalize():f} seconds"
    seconds = micro // 1_000_000
    for unit in ("week", "day", "hour", "minute"):
        size = UNIT_SECONDS[unit]
        if unit == "day" and abs(seconds) < 3 * 86400 and seconds % 3600 == 0:
            continue  # "48 hours" reads as the agreement writes it, not "2 days"
        if seconds and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'' if abs(n) == 1 else 's'}"
    return f"{seconds} second{'' if abs(seconds) == 1 else 's'}"


def to_json(value: Any, type_: Type | None = None) -> Any:
    """A runtime value as JSON: ISO 8601 times with offset, money as a decimal string."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        if type_ is not None and type_.name == "money":
            return format_money(value)
        return str(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, datetime):
        return value.astimezone(AGREEMENT_ZONE).isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return duration_iso(value)
    if isinstance(value, CalendarDuration):
        return str(value)
    item = type_.item if type_ is not None else None
    if isinstance(value, (list, tuple)):
        return [to_json(v, item) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v, item) for k, v in value.items()}
    return str(value)


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("", "January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def money_words(value: Decimal) -> str:
    """An amount as the agreement's readers write it: `CNY 200,000.00`."""
    return f"CNY {Decimal(format_money(value)):,f}"


def date_words(day: date) -> str:
    """A day as a lawyer writes it: `1 March 2027`."""
    return f"{day.day} {_MONTHS[day.month]} {day.year}"


def time_words(moment: datetime) -> str:
    """A moment in the agreement's zone, in words: `23:30 on Saturday 7 March 2026
    (Shanghai time)`; seconds only where there are some."""
    local = moment.astimezone(AGREEMENT_ZONE)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    if local.second or local.microsecond:
        clock += f":{local.second:02d}"
        if local.microsecond:
            clock += f".{local.microsecond:06d}".rstrip("0")
    return (f"{clock} on {_WEEKDAYS[local.weekday()]} {local.day} {_MONTHS[local.month]} "
            f"{local.year} (Shanghai time)")


def to_words(value: Any, type_: Type | None = None) -> str:
    """A runtime value as a lawyer would write it in a memo: one form per kind, the same
    in every memo, diff, listing and page (`CNY 200,000.00`, `1 March 2027`, `yes`)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal) and type_ is not None and type_.name == "money":
        return money_words(value)
    if isinstance(value, (timedelta, CalendarDuration)):
        return duration_words(value)
    if isinstance(value, datetime):
        return time_words(value)
    if isinstance(value, date):
        return date_words(value)
    if isinstance(value, (list, tuple)):
        item = type_.item if type_ is not None else None
        return ", ".join(to_words(v, item) for v in value) if value else "none"
    if isinstance(value, dict):
        item = type_.item if type_ is not None else None
        return "; ".join(f"{k}: {to_words(v, item)}" for k, v in value.items())
    return str(to_json(value, type_))


def as_written(value: Any) -> str:
    """A value as an editor writes it in a rule file, for messages: `true`, `null`, `3.0`,
    `2026-03-07`, `4 hours`, `[1, 2]`; text in single quotes. Never Python's own spelling
    (`True`, `None`, `Decimal('3.0')`), which an editor cannot read or write back."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, Decimal):
        return f"{value.copy_abs() if value.is_zero() else value:f}"   # never -0.00
    if isinstance(value, (timedelta, CalendarDuration)):
        return duration_words(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(as_written(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{as_written(k)}: {as_written(v)}"
                               for k, v in value.items()) + "}"
    return str(value)


def type_of_value(value: Any) -> Type:
    """The static type of a constant (used for parameters given as plain YAML values)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, Decimal):
        return DECIMAL
    if isinstance(value, str):
        return STRING
    if isinstance(value, datetime):
        return DATETIME
    if isinstance(value, date):
        return DATE
    if isinstance(value, time):
        return TIME
    if isinstance(value, CalendarDuration):
        return CALENDAR_DURATION
    if isinstance(value, timedelta):
        return DURATION
    return ANY
