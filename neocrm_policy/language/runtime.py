"""The primitives compiled expressions call: built-in functions and the few operators
Python does not already do the way the language means them (exact division, null that
propagates, dates moved by whole days, table look-ups that name the missing key).

Every failure here raises `EvaluationError`; nothing returns a silent default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence, Sized
from datetime import date, datetime, time, timedelta
from decimal import Decimal, DivisionByZero, InvalidOperation
from typing import TYPE_CHECKING, Any, NoReturn, overload

from ..errors import EvaluationError, LimitError, Location
from .values import (AGREEMENT_ZONE, MAX_LIST_ITEMS, MAX_RESULT_CHARS, MAX_RESULT_DIGITS,
                     CalendarDuration, as_written, shown_in_the_agreement_zone)

if TYPE_CHECKING:
    from .calendars import Calendar

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_RESULT_LIMIT = 10 ** MAX_RESULT_DIGITS


def too_big(value: Any) -> str | None:
    """What makes a computed value too big to keep computing with, or None. A list (or
    table) counts the items of the lists inside it too, so lists of lists built from one
    another are bounded as one list is; counting stops at the limit, so a list of the same
    list repeated is not walked in full."""
    kind = type(value)
    if kind is int or kind is Decimal:
        if -_RESULT_LIMIT < value < _RESULT_LIMIT:
            return None
        return f"a number of more than {MAX_RESULT_DIGITS} digits, over the limit"
    if kind is str:
        return f"a text of {len(value):,} characters, over the {MAX_RESULT_CHARS:,}-character " \
            "limit" if len(value) > MAX_RESULT_CHARS else None
    if kind is tuple or kind is dict:
        if len(value) > MAX_LIST_ITEMS:
            return f"a list of {len(value):,} items, over the {MAX_LIST_ITEMS:,}-item limit"
        counted, waiting = len(value), [value]
        while waiting:
            container = waiting.pop()
            for item in container.values() if type(container) is dict else container:
                inner = type(item)
                if inner is tuple or inner is dict:
                    counted += len(item)
                    if counted > MAX_LIST_ITEMS:
                        return f"a list holding more than {MAX_LIST_ITEMS:,} items with " \
                            f"those of the lists inside it, over the {MAX_LIST_ITEMS:,}-item " \
                            "limit"
                    waiting.append(item)
                else:
                    found = too_big(item)
                    if found is not None:
                        return found
    return None


def bounded(value: Any) -> Any:
    """`value`, or a LimitError when it is past the bounds of the language."""
    found = too_big(value)
    if found is not None:
        raise LimitError(f"the value computed is {found}", None,
                         "the rules multiply or join values that grow without end; "
                         "check the arithmetic and the facts it uses")
    return value


class OutOfRange:
    """Where generated code computes a date, time or duration: the expression as written
    and its place, to name when the result falls outside what Python holds (years 1 to
    9999, durations of 999,999,999 days). Bound once, at compile time."""

    __slots__ = ("written", "location")

    def __init__(self, written: str | None, location: Location | None) -> None:
        self.written, self.location = written, location

    def error(self) -> EvaluationError:
        what = f"`{self.written}`" if self.written else "a computation of this rule"
        return EvaluationError(
            f"{what} gives a date, time or duration out of range", self.location,
            "dates run from year 1 to year 9999 and durations up to 999,999,999 days; "
            "check the facts and the durations added")


def in_range(where: OutOfRange, operate: Any, *args: Any) -> Any:
    """`operate(*args)`, or the located error naming the expression when a date, time or
    duration it gives is out of range: never Python's OverflowError, which only the
    compiler's RUNTIME_FAILURES would catch. An error of the operation itself (a date moved
    by part of a day) is placed at the expression too."""
    try:
        result = operate(*args)
    except OverflowError:
        raise where.error() from None
    except EvaluationError as error:   # a date moved by part of a day: placed where written
        if error.location is None:
            error.location = where.location
        raise
    if type(result) is datetime and not shown_in_the_agreement_zone(result):
        raise where.error()
    return result


def add_in_range(where: OutOfRange, a: Any, b: Any) -> Any:
    """`in_range(where, operator.add, a, b)` written out: a time plus a duration is the
    commonest arithmetic of a decision, and the general call's packing of arguments and
    indirect operator were a tenth of a microsecond of each (tests/test_runtime_errors.py
    holds the two alike)."""
    try:
        result = a + b
    except OverflowError:
        raise where.error() from None
    except EvaluationError as error:   # a date moved by part of a day: placed where written
        if error.location is None:
            error.location = where.location
        raise
    if type(result) is datetime and not (1 < result.year < 9999
                                         or shown_in_the_agreement_zone(result)):
        raise where.error()
    return result


def divide(a: Any, b: Any) -> Any:
    """Exact division: whole numbers and amounts give decimals, never binary floats."""
    if isinstance(a, timedelta):
        if isinstance(b, timedelta):
            if not b:
                raise EvaluationError("division by a zero duration", None,
                                      "check the durations being divided")
            microsecond = timedelta(microseconds=1)   # exact: total_seconds() is a float
            return Decimal(a // microsecond) / Decimal(b // microsecond)
        return scale(a, 1 / Decimal(b)) if b else _by_zero()
    try:
        return Decimal(a) / Decimal(b)
    except (DivisionByZero, InvalidOperation):
        return _by_zero()


def _by_zero() -> NoReturn:
    raise EvaluationError("division by zero", None, "make sure the divisor cannot be 0")


@overload
def scale(duration: timedelta, factor: Any) -> timedelta: ...
@overload
def scale(duration: CalendarDuration, factor: Any) -> CalendarDuration: ...
def scale(duration: timedelta | CalendarDuration, factor: Any) -> timedelta | CalendarDuration:
    """A duration times a number, kept to the microsecond."""
    if isinstance(duration, CalendarDuration):
        return CalendarDuration(duration.amount * factor, duration.unit, duration.calendar)
    micro = (Decimal(duration.days * 86_400_000_000 + duration.seconds * 1_000_000
                     + duration.microseconds) * Decimal(factor))
    return timedelta(microseconds=int(micro))


def shift_date(day: date, duration: Any, sign: int) -> date:
    """A date moved by whole days; a fraction of a day would silently vanish, so refuse."""
    if isinstance(duration, CalendarDuration):
        if sign < 0:
            raise EvaluationError(f"cannot count {duration} backwards", None,
                                  "durations on a calendar can only be added")
        return day + duration
    if duration.seconds or duration.microseconds:
        raise EvaluationError(f"cannot move a date by {as_written(duration)}", None,
                              "add whole days to a date, or use a date and time")
    return day + duration if sign > 0 else day - duration


def later(duration: Any, moment: Any) -> Any:
    """`duration + moment`, written duration first: the moment moved by the duration."""
    return moment + duration


def look_up_or_null(table: dict | None, key: Any) -> Any:
    """A look-up in a table that may be null: null in, null out (a missing key still
    raises KeyError, which the caller reports with the decision's location)."""
    return None if table is None else table[key]


def arith(op: str, a: Any, b: Any) -> Any:
    """Arithmetic where either side may be null: null in, null out."""
    if a is None or b is None:
        return None
    if op == "+":
        if isinstance(b, date) and not isinstance(a, date):
            a, b = b, a                     # duration + time reads as time + duration
        if isinstance(a, date) and not isinstance(a, datetime):
            return shift_date(a, b, 1)
        return a + b
    if op == "-":
        if isinstance(a, date) and not isinstance(a, datetime) and not isinstance(b, date):
            return shift_date(a, b, -1)
        return a - b
    if op == "*":
        if isinstance(a, (timedelta, CalendarDuration)):
            return scale(a, b)
        if isinstance(b, (timedelta, CalendarDuration)):
            return scale(b, a)
        return a * b
    return divide(a, b)


def negative(a: Any) -> Any:
    return None if a is None else -a


def look_up(table: dict, key: Any, name: str) -> Any:
    try:
        return table[key]
    except KeyError:
        keys = ", ".join(map(str, table)) or "none"
        raise EvaluationError(f"{name} has no entry for {as_written(key)}", None,
                              f"its entries are: {keys}") from None
    except TypeError:
        raise EvaluationError(f"{name} cannot be looked up with {as_written(key)}", None,
                              "use a key of the table's type") from None


def f_min(*args: Any) -> Any:
    items = args[0] if len(args) == 1 else args
    if not items:
        raise EvaluationError("min() of an empty list", None, "make sure the list has items")
    return min(items)


def f_max(*args: Any) -> Any:
    items = args[0] if len(args) == 1 else args
    if not items:
        raise EvaluationError("max() of an empty list", None, "make sure the list has items")
    return max(items)


def f_any(items: Iterable[Any]) -> bool:
    return any(items)


def f_all(items: Iterable[Any]) -> bool:
    return all(items)


def f_count(items: Sized | None) -> int:
    return 0 if items is None else len(items)


def f_sum(items: Sequence[Any]) -> Any:
    if not items:
        raise EvaluationError("sum() of an empty list", None,
                              "make sure the list has items, or add a default")
    total = items[0]
    for item in items[1:]:
        total = total + item
    return total


def f_each(table: dict, keys: Sequence[Any]) -> tuple:
    if len(keys) > MAX_LIST_ITEMS:
        raise EvaluationError("each() over too long a list", None, "shorten the list")
    return tuple(look_up(table, key, "the table") for key in keys)


def f_date_of(moment: datetime) -> date:
    return moment.astimezone(AGREEMENT_ZONE).date()


def f_time_of(moment: datetime) -> time:
    return moment.astimezone(AGREEMENT_ZONE).time().replace(tzinfo=None)


def _as_date(value: Any) -> date:
    return f_date_of(value) if isinstance(value, datetime) else value


def f_days_between(start: Any, end: Any) -> int:
    return (_as_date(end) - _as_date(start)).days


def f_weekday(value: Any) -> str:
    return WEEKDAYS[_as_date(value).weekday()]


def f_is_open(calendar: Calendar, moment: datetime) -> bool:
    return calendar.is_open(moment)


def make_open_at(calendars: Mapping[str, Calendar]
                 ) -> Callable[[Iterable[str], datetime], tuple[str, ...]]:
    """open_at() bound to the policy set's calendars at load time."""
    def f_open_at(names: Iterable[str], moment: datetime) -> tuple[str, ...]:
        out = []
        for name in names:
            calendar = calendars.get(name)
            if calendar is None:
                raise EvaluationError(f"no calendar is named {name!r}", None,
                                      "calendars: " + ", ".join(sorted(calendars)))
            if calendar.is_open(moment):
                out.append(name)
        return tuple(out)
    return f_open_at


FUNCTIONS = {
    "min": f_min, "max": f_max, "any": f_any, "all": f_all, "count": f_count,
    "sum": f_sum, "each": f_each, "date_of": f_date_of, "time_of": f_time_of,
    "days_between": f_days_between, "weekday": f_weekday, "is_open": f_is_open,
}
