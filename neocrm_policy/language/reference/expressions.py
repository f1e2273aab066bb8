"""Expressions, evaluated by walking the tree, one rule of the language reference at a time.

Each `_node` case below cites the part of `docs/reference/index.md` it follows. Values are
the runtime values of `values.py` (int and Decimal numbers, Decimal money, str, bool,
None, date, aware datetime, time, timedelta, CalendarDuration, tuples for lists, dicts for
tables). Every failure is an `EvaluationError`; no Python error is let through on purpose.

Silent in the reference, chosen here (and matching the compiler unless noted in the
report of tests/test_reference.py):
- numbers are Python's `Decimal` in the thread's context, so results are exact up to 28
  significant digits and rounded (half to even) beyond them; the reference says "exact";
- `and`, `or`, `otherwise` and `if` evaluate left to right and stop as soon as the
  answer is known; both sides of arithmetic are evaluated before null is tested;
- a duration times a decimal is kept to the microsecond, truncated toward zero;
- a duration on a calendar is ordered by its nominal length (8 hotline hours as 8
  hours) but equals only a duration on the same calendar with the same amount and
  unit; it may be added to a date or a time (in either order) and multiplied by a
  number, and nothing else;
- a look-up in a table that may be null gives null when it is (the checker types it
  so); `count(null)` is 0;
- `min`/`max` give the first of equal items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, DecimalException
from typing import Any, NoReturn

from ...errors import EvaluationError
from ..syntax import ast
from ..values import (AGREEMENT_ZONE, MAX_LIST_ITEMS, CalendarDuration, as_written, make_duration,
                      shown_in_the_agreement_zone)
from . import opening_hours

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Scope:
    """What names mean while evaluating: facts by dotted path, parameter values in force,
    decisions already made, calendars, the evaluation time, and names bound by a guard
    rail (`key`)."""

    facts: Mapping[str, Any] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    decisions: Mapping[str, Any] = field(default_factory=dict)
    calendars: Mapping[str, Any] = field(default_factory=dict)
    now: datetime | None = None
    bound: Mapping[str, Any] = field(default_factory=dict)


class MissingParameter(LookupError):
    """A parameter not (yet) in force was named: the policy level decides what it means."""


def evaluate(node: ast.Node, scope: Scope, source: Any = None) -> Any:
    """The value of an expression tree. A date, time or duration beyond what Python holds
    (years 1 to 9999, 999,999,999 days) is an error naming the part of the expression that
    gave it, at its place in `source` (the expression's `ExprSource`) when given (Limits:
    "a time moved past the year 9999 is NP042 naming the expression")."""
    try:
        return _node(node, scope)
    except _OutOfRange as out:
        where = out.node.pos
        what = f"`{source.written(where)}`" if source is not None else "this expression"
        raise EvaluationError(
            f"{what} gives a date, time or duration out of range",
            source.locate(where) if source is not None else None,
            "dates run from year 1 to year 9999 and durations up to 999,999,999 days; "
            "check the facts and the durations added") from None


class _OutOfRange(Exception):
    """The node whose date, time or duration fell out of range, on its way to `evaluate`."""

    def __init__(self, node: ast.Node) -> None:
        super().__init__()
        self.node = node


def fail(message: str, hint: str = "check the facts and the rule's arithmetic") -> NoReturn:
    raise EvaluationError(message, None, hint)


# ---------------------------------------------------------------------------------------
# The tree


def _node(node: ast.Node, scope: Scope) -> Any:
    if isinstance(node, ast.Literal):          # Types: a constant as written
        return node.value
    if isinstance(node, ast.CalendarSpan):     # Types: duration on a calendar
        if node.calendar == "natural":         # `9 natural days` is elapsed time
            return make_duration(node.amount, node.unit)
        return CalendarDuration(node.amount, node.unit, scope.calendars[node.calendar])
    if isinstance(node, (ast.Name, ast.Attribute)):
        return _name(node, scope)
    if isinstance(node, ast.Index):            # Operators: x[k], a table look-up
        return look_up(_node(node.subject, scope), _node(node.key, scope))
    if isinstance(node, ast.ListOf):
        return tuple(_node(item, scope) for item in node.items)
    if isinstance(node, ast.Unary):
        operand = _node(node.operand, scope)
        if node.op == "not":
            return not operand
        try:
            return negative(operand)
        except OverflowError:
            raise _OutOfRange(node) from None
    if isinstance(node, ast.Binary):
        left, right = _node(node.left, scope), _node(node.right, scope)
        try:
            result = binary(node.op, left, right)
        except OverflowError:
            raise _OutOfRange(node) from None
        if isinstance(result, datetime) and not shown_in_the_agreement_zone(result):
            raise _OutOfRange(node)            # Limits: years 1 to 9999 in Asia/Shanghai
        return result
    if isinstance(node, ast.Logical):          # Operators: and, or (left to right)
        stop_at = node.op == "or"
        for operand in node.operands:
            if _node(operand, scope) is stop_at:
                return stop_at
        return not stop_at
    if isinstance(node, ast.IsSet):            # Operators: is set, is missing
        present = _node(node.operand, scope) is not None
        return present != node.negated
    if isinstance(node, ast.Otherwise):        # Operators: the first value not null
        for option in node.options:
            value = _node(option, scope)
            if value is not None:
                return value
        return None
    if isinstance(node, ast.Conditional):
        chosen = node.then if _node(node.condition, scope) else node.otherwise
        return _node(chosen, scope)
    if isinstance(node, ast.Call):
        args = [_node(arg, scope) for arg in node.args]
        try:
            return call(node.function, args, scope)
        except OverflowError:
            raise _OutOfRange(node) from None
    raise AssertionError(f"the reference has no meaning for {type(node).__name__}")


def _name(node: ast.Name | ast.Attribute, scope: Scope) -> Any:
    """Names: a fact, a bound name, another decision, a parameter, a calendar, now, today."""
    path = ast.path_of(node)
    if path is not None and path in scope.facts:
        return scope.facts[path]
    name = node.name
    if name in scope.bound:
        return scope.bound[name]
    if name in scope.decisions:
        return scope.decisions[name]
    if name in scope.parameters:
        return scope.parameters[name]
    if name in scope.calendars:
        return scope.calendars[name]
    if name == "now":
        return scope.now
    if name == "today":
        assert scope.now is not None, "the checker lets only rules name `today`; they have a now"
        return date_of(scope.now)
    raise MissingParameter(name)


# ---------------------------------------------------------------------------------------
# Equality and order


def instant(moment: datetime) -> datetime:
    """A time as one point on the time line, whatever zone it is written in."""
    return moment.astimezone(UTC)


def same(a: Any, b: Any) -> bool:
    """`==`: values of the same meaning; times are the same instant."""
    if isinstance(a, CalendarDuration) or isinstance(b, CalendarDuration):
        return (isinstance(a, CalendarDuration) and isinstance(b, CalendarDuration)
                and (a.amount, a.unit, a.calendar.name) == (b.amount, b.unit, b.calendar.name))
    if isinstance(a, datetime) and isinstance(b, datetime):
        return instant(a) == instant(b)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def order_key(value: Any) -> Any:
    """What `<` compares: times as instants, durations on a calendar by nominal length."""
    if isinstance(value, datetime):
        return instant(value)
    if isinstance(value, CalendarDuration):
        return make_duration(value.amount, value.unit)   # may be out of range: see _node
    return value


def compare(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        return same(a, b)
    if op == "!=":
        return not same(a, b)
    a, b = order_key(a), order_key(b)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def contains(collection: Any, item: Any) -> bool:
    """`in`: an item of a list, or a key of a table."""
    return any(same(item, member) for member in collection)


def look_up(table: Any, key: Any) -> Any:
    if table is None:
        return None
    for entry, value in table.items():
        if same(entry, key):
            return value
    entries = ", ".join(map(str, table)) or "none"
    return fail(f"the table has no entry for {as_written(key)}", f"its entries are: {entries}")


# ---------------------------------------------------------------------------------------
# Operators


def binary(op: str, left: Any, right: Any) -> Any:
    if op in ("==", "!=", "<", "<=", ">", ">="):
        return compare(op, left, right)
    if op == "in":
        return contains(right, left)
    if op == "not in":
        return not contains(right, left)
    if left is None or right is None:           # Null: arithmetic with null gives null
        return None
    try:
        return {"+": add, "-": subtract, "*": multiply, "/": divide}[op](left, right)
    except DecimalException as exc:
        return fail(f"the result of `{op}` is not a number ({type(exc).__name__})")


def _is_day(value: Any) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _number(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def add(a: Any, b: Any) -> Any:
    if isinstance(a, (timedelta, CalendarDuration)) and isinstance(b, date):
        a, b = b, a                              # duration + time reads as time + duration
    if isinstance(a, datetime) and isinstance(b, CalendarDuration):
        return opening_hours.count_open_time(b.calendar, a, b.amount, b.unit)
    if isinstance(a, datetime) and isinstance(b, timedelta):
        return (instant(a) + b).astimezone(a.tzinfo)     # Types: duration is elapsed time
    if _is_day(a) and isinstance(b, CalendarDuration):
        start = datetime.combine(a, datetime.min.time(), b.calendar.zone)
        return opening_hours.count_open_time(b.calendar, start, b.amount, b.unit).date()
    if _is_day(a) and isinstance(b, timedelta):
        return a + whole_days(b)
    if isinstance(a, CalendarDuration) or isinstance(b, CalendarDuration):
        return fail(f"cannot add {a} and {b}", "durations on a calendar are only added to "
                    "a date or a time")
    return a + b              # numbers, amounts, durations, text, lists (tuples)


def subtract(a: Any, b: Any) -> Any:
    if isinstance(b, CalendarDuration) or isinstance(a, CalendarDuration):
        return fail(f"cannot count {b} backwards", "durations on a calendar can only be "
                    "added to a time")
    if isinstance(a, datetime) and isinstance(b, datetime):
        return instant(a) - instant(b)
    if isinstance(a, datetime):
        return (instant(a) - b).astimezone(a.tzinfo)
    if _is_day(a) and isinstance(b, timedelta):
        return a - whole_days(b)
    return a - b


def whole_days(span: timedelta) -> timedelta:
    """A date moves by whole days only: a part of a day would silently vanish."""
    if span % timedelta(days=1):
        fail(f"cannot move a date by {as_written(span)}", "add whole days to a date, or use a date "
             "and time")
    return span


def multiply(a: Any, b: Any) -> Any:
    if _number(a) and not _number(b):
        a, b = b, a                              # number × duration reads as duration × n
    if isinstance(a, CalendarDuration):
        return CalendarDuration(a.amount * b, a.unit, a.calendar)
    if isinstance(a, timedelta) and isinstance(b, Decimal):
        micro = _microseconds(a) * b
        return timedelta(microseconds=int(micro))
    return a * b


def _microseconds(span: timedelta) -> int:
    return span // timedelta(microseconds=1)


def divide(a: Any, b: Any) -> Any:
    """`/` is exact division: numbers and amounts give decimals, never binary floats."""
    if isinstance(a, CalendarDuration) or isinstance(b, CalendarDuration):
        return fail(f"cannot divide {a} by {b}", "durations on a calendar cannot be divided")
    if isinstance(a, timedelta):
        if not b:
            return fail("division by a zero duration", "check the durations being divided")
        return Decimal(_microseconds(a)) / Decimal(_microseconds(b))
    if b == 0:
        return fail("division by zero", "make sure the divisor cannot be 0")
    return Decimal(a) / Decimal(b)


def negative(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, CalendarDuration):
        return fail(f"cannot negate {value}", "durations on a calendar are positive")
    return -value                       # may be out of range: see _node


# ---------------------------------------------------------------------------------------
# Built-in functions (checker.FUNCTIONS)


def date_of(moment: datetime) -> date:
    """The date in Asia/Shanghai, the agreement's zone."""
    return moment.astimezone(AGREEMENT_ZONE).date()


def _day(value: Any) -> date:
    return date_of(value) if isinstance(value, datetime) else value


def _extreme(name: str, args: list) -> Any:
    items = args[0] if len(args) == 1 else tuple(args)
    if not items:
        return fail(f"{name}() of an empty list", "make sure the list has items")
    best = items[0]
    for item in items[1:]:
        key, best_key = order_key(item), order_key(best)
        if (key < best_key) if name == "min" else (key > best_key):
            best = item
    return best


def _total(items: tuple) -> Any:
    if not items:
        return fail("sum() of an empty list", "make sure the list has items, or add a default")
    total = items[0]
    for item in items[1:]:
        total = binary("+", total, item)
    return total


def call(function: str, args: list, scope: Scope) -> Any:
    if function in ("min", "max"):
        return _extreme(function, args)
    if function == "any":
        return any(item is True for item in args[0])
    if function == "all":
        return all(item is True for item in args[0])
    if function == "count":
        return 0 if args[0] is None else len(args[0])
    if function == "sum":
        return _total(args[0])
    if function == "each":
        table, keys = args
        if len(keys) > MAX_LIST_ITEMS:
            return fail("each() over too long a list", "shorten the list")
        return tuple(look_up(table, key) for key in keys)
    if function == "date_of":
        return date_of(args[0])
    if function == "time_of":
        return args[0].astimezone(AGREEMENT_ZONE).time()
    if function == "days_between":
        return (_day(args[1]) - _day(args[0])).days
    if function == "weekday":
        return WEEKDAYS[_day(args[0]).weekday()]
    if function == "is_open":
        return opening_hours.is_open(args[0], args[1])
    if function == "open_at":
        names, moment = args
        for name in names:
            if name not in scope.calendars:
                fail(f"no calendar is named {name!r}",
                     "calendars: " + ", ".join(sorted(scope.calendars)))
        return tuple(name for name in names if opening_hours.is_open(scope.calendars[name],
                                                                     moment))
    raise AssertionError(f"the reference has no function {function!r}")
