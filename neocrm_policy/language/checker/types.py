"""What an expression means: the checker's typing room.

Infers the type of every expression node, resolves every name in it (with did-you-mean),
and finds type errors, so a checked policy cannot meet a type error at run time: this is
the room the soundness claim points at. It knows nothing of a policy's structure (order
of decisions, versions, overlays); `structure.Checker` mixes it in and gives it the
scope of the policy being checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeGuard

from ..calendars import COUNTABLE_YEARS, Calendar
from ...errors import DeadRuleError, PolicyError, TypeProblem, UnknownNameError
from ..model import Expr, Parameter, Policy
from ..runtime import scale
from ...suggest import suggestion
from ..syntax import ast
from ..syntax.parser import ExprSource
from ..values import (ANY, BOOL, CALENDAR, CALENDAR_DURATION, DATE, DATETIME, DECIMAL, DURATION,
                      DURATION_UNITS, INT, MONEY, NULL, STRING, TIME, Type, a_or_an, accepts,
                      as_written, duration_words, item_of, key_of, list_of, make_duration,
                      unify, unit_name)

BUILT_IN_NAMES = {"now": DATETIME, "today": DATE}
"""Names every expression may use: the evaluation time and its date in Asia/Shanghai."""

ORDERED = {"int", "decimal", "money", "duration", "date", "datetime", "time", "string"}


@dataclass(frozen=True)
class FunctionSig:
    name: str
    summary: str
    example: str


_FUNCTION_TABLE = (
    ("min", "the smallest of its arguments, or of one list", "min(2 hours, 90 minutes)"),
    ("max", "the largest of its arguments, or of one list", "max([1, 4, 3])"),
    ("any", "true when some item of a list of conditions is true", "any([true, false])"),
    ("all", "true when every item of a list of conditions is true", "all([true, false])"),
    ("count", "how many items a list has", 'count(["a", "b"])'),
    ("sum", "the total of a list of numbers, amounts or durations",
     "sum([1 hour, 30 minutes])"),
    ("each", "looks each item of a list up in a table, giving a list",
     'each(symptom_level, ["total_outage", "non_core_failure"])'),
    ("date_of", "the calendar date of a time, in the agreement's zone",
     "date_of(2026-03-07T23:30:00+08:00)"),
    ("time_of", "the time of day of a time, in the agreement's zone",
     "time_of(2026-03-07T23:30:00+08:00)"),
    ("days_between", "whole calendar days from the first date to the second",
     "days_between(2026-01-01, 2026-03-02)"),
    ("weekday", "the day of the week, as a lower-case English name", "weekday(2026-03-07)"),
    ("is_open", "whether a named calendar is open at a time",
     "is_open(hotline, 2026-03-07T22:30:00+08:00)"),
    ("open_at", "the names in a list whose calendars are open at a time",
     'open_at(["hotline", "email"], 2026-03-07T22:30:00+08:00)'),
)
FUNCTIONS = {name: FunctionSig(name, summary, example)
             for name, summary, example in _FUNCTION_TABLE}


class _Scope:
    """What names mean inside one policy."""

    def __init__(self, policy: Policy, calendars: dict[str, Calendar]) -> None:
        self.policy = policy
        self.calendars = calendars
        self.inputs = policy.inputs
        self.groups: dict[str, set[str]] = {}
        for path in policy.inputs:
            parts = path.split(".")
            for i in range(1, len(parts)):
                self.groups.setdefault(".".join(parts[:i]), set()).add(path)
        self.parameter_types: dict[str, Type] = {}
        self.decision_types: dict[str, Type] = {}
        self.bound: dict[str, Type] = {}

    def all_names(self) -> list[str]:
        roots = {p.split(".")[0] for p in self.inputs}
        return sorted(set(self.policy.parameters) | set(self.policy.decisions) | roots
                      | set(self.calendars) | set(BUILT_IN_NAMES))


class TypeChecker:
    """The expression half of `structure.Checker`: it reads `self.scope`, `self.calendars`,
    records `self.node_types` and reports through `self._error`."""

    scope: _Scope
    calendars: dict[str, Calendar]
    node_types: dict[int, Type]
    errors: list[PolicyError]
    _bare: dict[tuple[int, str], list[Expr]]

    if TYPE_CHECKING:   # given by `structure.Checker`
        def _param_exprs(self, parameter: Parameter) -> list[Expr]: ...
        def _unitless(self, policy: Policy, name: str, evidence: str,
                      unit: str | None) -> None: ...

    def _error(self, error: PolicyError) -> Type:
        self.errors.append(error)
        return ANY

    def _at(self, expr: Expr, node: ast.Node) -> dict:
        return {"location": expr.source.locate(node.pos),
                "source_line": expr.source.source_line(node.pos),
                "width": _width(node)}

    # Expressions --------------------------------------------------------------------
    def _infer(self, expr: Expr, node: ast.Node, narrowed: frozenset) -> Type:
        result = self._infer_node(expr, node, narrowed)
        if node in narrowed and result is not ANY:
            result = result.not_null()
        self.node_types[id(node)] = result
        return result

    def _fail(self, expr: Expr, node: ast.Node, message: str, hint: str,
              kind: type[PolicyError] = TypeProblem) -> Type:
        return self._error(kind(message, **self._at(expr, node), hint=hint))

    def _infer_node(self, expr: Expr, node: ast.Node, narrowed: frozenset) -> Type:
        infer = self._infer
        if isinstance(node, ast.Literal):
            return {"null": NULL}.get(node.kind) or _KIND_TYPES[node.kind]
        if isinstance(node, ast.CalendarSpan):
            if node.calendar == "natural":
                return DURATION
            if node.calendar not in self.calendars:
                return self._fail(expr, node, f"unknown calendar {node.calendar!r}",
                                  suggestion(node.calendar, self.calendars) + "calendars: "
                                  + (", ".join(sorted(self.calendars)) or "none defined")
                                  + " (or `natural` for elapsed time)", UnknownNameError)
            longest = self.calendars[node.calendar].longest(node.unit)
            if node.amount > longest:
                return self._fail(expr, node, _too_long(node.amount, node.calendar, node.unit,
                                                        longest), _TOO_LONG_HINT)
            return CALENDAR_DURATION
        if isinstance(node, (ast.Name, ast.Attribute)):
            return self._infer_path(expr, node, narrowed)
        if isinstance(node, ast.Index):
            subject = infer(expr, node.subject, narrowed)
            key = infer(expr, node.key, narrowed)
            if ANY in (subject, key):
                return ANY
            if subject.name != "map":
                return self._fail(expr, node, f"only a table can be looked up with [ ], not "
                                  f"{subject}", "look up a parameter that is a table, "
                                  "such as response_time[level]")
            table_key, table_item = key_of(subject), item_of(subject)
            if not accepts(table_key, key):
                return self._fail(expr, node.key, f"the table's keys are {table_key}, but the "
                                  f"key given is {key}", f"look it up with {a_or_an(table_key)}")
            return table_item.or_null() if subject.nullable else table_item
        if isinstance(node, ast.ListOf):
            item: Type | None = None
            for child in node.items:
                ct = infer(expr, child, narrowed)
                if ct is ANY:
                    return ANY
                merged = ct if item is None else unify(item, ct)
                if merged is None:
                    return self._fail(expr, child, f"a list mixes {item} and {ct}",
                                      "every item of a list has the same type")
                item = merged
            return list_of(item or ANY)
        if isinstance(node, ast.Unary):
            operand = infer(expr, node.operand, narrowed)
            if operand is ANY:
                return ANY
            if node.op == "not":
                return self._need_condition(expr, node.operand, operand, "`not`")
            if operand.on_calendar:
                return self._fail(expr, node, f"cannot negate {a_or_an(operand)}", _ON_CALENDAR)
            if operand.numeric or operand.name in ("money", "duration"):
                return operand
            return self._fail(expr, node, f"cannot negate {operand}",
                              "only numbers, amounts and durations have a minus sign")
        if isinstance(node, ast.Binary):
            return self._binary(expr, node, narrowed)
        if isinstance(node, ast.Logical):
            seen = narrowed
            for child in node.operands:
                ct = infer(expr, child, seen)
                if ct is not ANY:
                    self._need_condition(expr, child, ct, f"`{node.op}`")
                seen = seen | _narrowing(child, node.op == "and")
            return BOOL
        if isinstance(node, ast.IsSet):
            infer(expr, node.operand, frozenset())
            return BOOL
        if isinstance(node, ast.Otherwise):
            found: Type | None = None
            for child in node.options:
                ct = infer(expr, child, narrowed)
                if ct is ANY:
                    return ANY
                merged = ct if found is None else unify(found.not_null(), ct)
                if merged is None:
                    return self._fail(expr, child, f"`otherwise` joins {found} and {ct}",
                                      "both sides of `otherwise` must be the same type")
                found = merged
            assert found is not None, "the grammar gives `otherwise` two options at least"
            return found
        if isinstance(node, ast.Conditional):
            ct = infer(expr, node.condition, narrowed)
            if ct is not ANY:
                self._need_condition(expr, node.condition, ct, "`if`")
            then = infer(expr, node.then, narrowed | _narrowing(node.condition, True))
            other = infer(expr, node.otherwise, narrowed | _narrowing(node.condition, False))
            if ANY in (then, other):
                return ANY
            merged = unify(then, other)
            if merged is None:
                return self._fail(expr, node, f"`then` gives {then} but `else` gives {other}",
                                  "both branches must give the same type of value")
            return merged
        if isinstance(node, ast.Call):
            return self._call(expr, node, narrowed)
        return self._fail(expr, node, "unsupported expression", "see the language reference")

    def _need_condition(self, expr: Expr, node: ast.Node, found: Type, where: str) -> Type:
        if found.name != "bool":
            return self._fail(expr, node, f"{where} needs a condition (true/false), not "
                              f"{a_or_an(found)}",
                              "compare values with ==, <, in … to get a condition")
        if found.nullable:
            return self._fail(expr, node, f"{where} is given a condition that may be null",
                              "test optional facts first: `x is set and …`")
        return BOOL

    def _infer_path(self, expr: Expr, node: ast.Name | ast.Attribute,
                    narrowed: frozenset) -> Type:
        scope = self.scope
        path = ast.path_of(node)
        if path is not None:
            if path in scope.inputs:
                return scope.inputs[path].type
            head = path.split(".")[0]
            if path in scope.groups:
                return self._fail(expr, node, f"{path!r} is a group of facts, not a value",
                                  "name one of its facts: " + ", ".join(sorted(scope.groups[path])))
            if head in scope.groups or head in scope.inputs:
                choices = sorted(scope.inputs)
                return self._fail(expr, node, f"unknown fact {path!r}",
                                  suggestion(path, choices) + "this policy's inputs: "
                                  + ", ".join(choices), UnknownNameError)
        if isinstance(node, ast.Attribute):
            subject = self._infer(expr, node.subject, narrowed)
            if subject is ANY:
                return ANY
            return self._fail(expr, node, f"{subject} has no part named {node.name!r}",
                              "only groups of facts have parts (incident.level); "
                              "look tables up with [ ]")
        name = node.name
        if name in scope.bound:
            return scope.bound[name]
        if name in scope.decision_types:
            return scope.decision_types[name]
        if name in scope.policy.decisions:
            return ANY  # its own errors are reported where it is defined
        if name in scope.parameter_types:
            return scope.parameter_types[name]
        if name in self.calendars:
            return CALENDAR
        if name in BUILT_IN_NAMES:
            return BUILT_IN_NAMES[name]
        if name in FUNCTIONS:
            return self._fail(expr, node, f"{name!r} is a function",
                              f"call it: {FUNCTIONS[name].example}")
        if name in scope.policy.parameters:
            return ANY
        allowed = [i.path for i in scope.inputs.values() if name in (i.allowed or ())]
        guess = "" if allowed else suggestion(name, scope.all_names())
        line = None if guess else _quoted_line(expr, node)
        if line and allowed:
            guess = f"{name!r} is a value of {allowed[0]}, and text is written in quotes: " \
                f"`{line}`; "
        elif line:
            guess = f"if it is text, write it in quotes: `{line}`; "
        return self._fail(expr, node, f"unknown name {name!r}",
                          guess + "names here: inputs, parameters and decisions of this "
                          "policy, calendars, now, today", UnknownNameError)

    def _binary(self, expr: Expr, node: ast.Binary, narrowed: frozenset) -> Type:
        op = node.op
        left = self._infer(expr, node.left, narrowed)
        right = self._infer(expr, node.right, narrowed)
        if ANY in (left, right):
            return BOOL if op in ("==", "!=", "<", "<=", ">", ">=", "in", "not in") else ANY
        if op in ("==", "!="):
            if unify(left, right) is None:
                meant = self._duration_meant(expr, node, left, right)
                if meant is not None:
                    return meant
                return self._fail(expr, node, f"cannot compare {left} with {right}",
                                  _compare_hint(left, right))
            self._check_allowed(expr, node.left, node.right)
            self._check_allowed(expr, node.right, node.left)
            return BOOL
        if op in ("<", "<=", ">", ">="):
            for side, t in ((node.left, left), (node.right, right)):
                if t.nullable:
                    return self._fail(expr, side, f"`{op}` is given a value that may be null",
                                      "test optional values first: `x is set and …`, or "
                                      "give a default: `x otherwise …`")
            merged = unify(left, right)
            if merged is None or merged.name not in ORDERED:
                meant = self._duration_meant(expr, node, left, right)
                if meant is not None:
                    return meant
                return self._fail(expr, node, f"cannot order {left} and {right} with `{op}`",
                                  _compare_hint(left, right))
            return BOOL
        if op in ("in", "not in"):
            if right.nullable:
                return self._fail(expr, node.right, "`in` is given a list that may be null",
                                  "test it first: `x is set and …`")
            if right.name not in ("list", "map"):
                return self._fail(expr, node.right, f"`{op}` needs a list or a table, not "
                                  f"{a_or_an(right)}",
                                  "write the choices as a list: x in [\"a\", \"b\"]")
            item = item_of(right) if right.name == "list" else key_of(right)
            if item.name != "any" and unify(left, item) is None:
                return self._fail(expr, node, f"cannot look for {left} in a list of {item}",
                                  "the value and the list items must be the same type")
            self._check_allowed(expr, node.left, node.right)
            return BOOL
        return self._arithmetic(expr, node, left, right)

    def _arithmetic(self, expr: Expr, node: ast.Binary, left: Type, right: Type) -> Type:
        op = node.op
        if "null" in (left.name, right.name):
            return self._fail(expr, node, f"arithmetic `{op}` with null",
                              "null has no amount; give a default with `otherwise`")
        nullable = left.nullable or right.nullable
        a, b = left.name, right.name
        if left.on_calendar or right.on_calendar:
            return self._calendar_arithmetic(expr, node, left, right)
        result = _ARITHMETIC.get((a, op, b))
        if a == b == "list" and op == "+":
            result = unify(left.not_null(), right.not_null())
            if result is None:
                return self._fail(expr, node, f"cannot join {a_or_an(left)} and {a_or_an(right)}",
                                  "join lists of the same type of items")
        if result is None and left.numeric and right.numeric:
            result = (INT if a == b == "int" and op != "/" else DECIMAL)
        if result is None:
            meant = self._duration_meant(expr, node, left, right)
            if meant is not None:
                return meant
            return self._fail(expr, node, f"cannot {_VERB[op]} {left.not_null()} "
                              f"{_PREP[op]} {right.not_null()}", _arith_hint(a, op, b))
        if result.name == "date" and "duration" in (a, b):
            side = node.right if b == "duration" else node.left
            for span, whose in self._spans_written(side):
                if span % _DAY:
                    return self._fail(expr, node, f"cannot move a date by "
                                      f"{duration_words(span)}{whose}",
                                      "a date moves by whole days: add days (`+ 1 day`), "
                                      "or use a date and time (a datetime fact, or `now`)")
        return result.or_null() if nullable else result

    def _spans_written(self, node: ast.Node) -> Iterator[tuple[timedelta, str]]:
        """The durations a side of `date + side` is written to be: its own, when written
        with durations and numbers only, or each version of the term it names whose value
        is so written (a customer's own value is checked with its instrument)."""
        span = _constant_span(node)
        if span is not None:
            yield span, ""
            return
        if not isinstance(node, ast.Name):
            return
        parameter = self.scope.policy.parameters.get(node.name)
        for version in parameter.versions if parameter is not None else ():
            if isinstance(version.value, Expr):
                span = _constant_span(version.value.node)
                if span is not None:
                    since = f" from {version.since.date()}" if version.since else ""
                    yield span, f" (the term {node.name!r}{since})"

    def _calendar_arithmetic(self, expr: Expr, node: ast.Binary, left: Type,
                             right: Type) -> Type:
        """What the language reference allows a duration on a calendar: added to a date or
        a time (either written first), multiplied by a number; nothing else."""
        op, names = node.op, (left.name, right.name)
        nullable = left.nullable or right.nullable
        if op == "+" and {"date", "datetime"} & set(names) and "duration" in names:
            found = DATE if "date" in names else DATETIME
        elif op == "*" and (left.numeric or right.numeric):
            found = CALENDAR_DURATION
            counted = _constant_count(node)
            if counted is not None and counted[1] in self.calendars:
                amount, calendar, unit = counted
                longest = self.calendars[calendar].longest(unit)
                if amount > longest:
                    return self._fail(expr, node, _too_long(amount, calendar, unit, longest),
                                      _TOO_LONG_HINT)
        else:
            sides = f"{left.not_null()} {_PREP[op]} {right.not_null()}"
            if op == "-" and right.on_calendar and names[0] in ("date", "datetime"):
                sides = f"{right.not_null()} from {left.not_null()}"
            return self._fail(expr, node, f"cannot {_VERB[op]} {sides}", _ON_CALENDAR)
        return found.or_null() if nullable else found

    def _check_allowed(self, expr: Expr, fact_side: ast.Node, value_side: ast.Node) -> None:
        """A comparison of a fact with allowed values against a value it can never take."""
        path = ast.path_of(fact_side)
        item = self.scope.inputs.get(path) if path else None
        if item is None or item.allowed is None:
            return
        candidates = []
        if isinstance(value_side, ast.Literal):
            candidates = [value_side]
        elif isinstance(value_side, ast.ListOf):
            candidates = [n for n in value_side.items if isinstance(n, ast.Literal)]
        for literal in candidates:
            if literal.value is not None and literal.value not in item.allowed:
                self._fail(expr, literal, f"{path} is never {as_written(literal.value)}, so "
                           "this can never be true",
                           suggestion(str(literal.value), map(str, item.allowed))
                           + "allowed: " + ", ".join(map(str, item.allowed)), DeadRuleError)

    def _call(self, expr: Expr, node: ast.Call, narrowed: frozenset) -> Type:
        name = node.function
        if name not in FUNCTIONS:
            return self._fail(expr, node, f"unknown function {name!r}",
                              suggestion(name, FUNCTIONS) + "functions: "
                              + ", ".join(sorted(FUNCTIONS)), UnknownNameError)
        args = [self._infer(expr, a, narrowed) for a in node.args]
        if ANY in args:
            return ANY
        for arg, t in zip(node.args, args, strict=True):
            if t.nullable and name not in ("count",):
                return self._fail(expr, arg, f"{name}() is given a value that may be null",
                                  "test it first with `is set`, or give a default with "
                                  "`otherwise`")

        def arity(n: int) -> Type | None:
            if len(args) != n:
                return self._fail(expr, node, f"{name}() takes {n} argument"
                                  f"{'s' if n != 1 else ''}, not {len(args)}",
                                  f"for example {FUNCTIONS[name].example}")
            return None

        def need(i: int, *kinds: str) -> Type | None:
            if args[i].name not in kinds:
                return self._fail(expr, node.args[i], f"{name}() needs "
                                  f"{' or '.join(map(a_or_an, kinds))} here, not "
                                  f"{a_or_an(args[i])}", f"for example {FUNCTIONS[name].example}")
            return None

        if name in ("min", "max"):
            if not args:
                return self._fail(expr, node, f"{name}() needs at least one argument",
                                  f"for example {FUNCTIONS[name].example}")
            if len(args) == 1:
                if args[0].name != "list":
                    return self._fail(expr, node, f"{name}() of one value needs a list",
                                      f"for example {FUNCTIONS[name].example}")
                item = item_of(args[0])
            else:
                item = args[0]
                for arg, t in zip(node.args[1:], args[1:], strict=True):
                    merged = unify(item, t)
                    if merged is None:
                        return self._fail(expr, arg, f"{name}() mixes {item} and {t}",
                                          "compare values of the same type")
                    item = merged
            if item.name not in ORDERED:
                return self._fail(expr, node, f"{name}() cannot order {item}",
                                  "use numbers, amounts, durations, dates or times")
            return item
        if name in ("any", "all"):
            if arity(1) or need(0, "list"):
                return ANY
            if item_of(args[0]).name not in ("bool", "any"):
                return self._fail(expr, node.args[0], f"{name}() needs a list of conditions",
                                  f"for example {FUNCTIONS[name].example}")
            return BOOL
        if name == "count":
            return ANY if arity(1) or need(0, "list") else INT
        if name == "sum":
            if arity(1) or need(0, "list"):
                return ANY
            item = item_of(args[0])
            if item.on_calendar:
                return self._fail(expr, node.args[0], "sum() cannot add up durations on a calendar",
                                  _ON_CALENDAR)
            if not (item.numeric or item.name in ("money", "duration")):
                return self._fail(expr, node.args[0], f"sum() cannot add up {item}",
                                  "sum numbers, amounts or durations")
            return item
        if name == "each":
            if arity(2) or need(0, "map") or need(1, "list"):
                return ANY
            table, keys = args[0], item_of(args[1])
            if not accepts(key_of(table), keys) and keys.name != "any":
                return self._fail(expr, node.args[1], f"each() looks up {keys} in a "
                                  f"table keyed by {key_of(table)}", "use keys of the table's type")
            return list_of(item_of(table))
        if name in ("date_of", "time_of"):
            if arity(1) or need(0, "datetime"):
                return ANY
            return DATE if name == "date_of" else TIME
        if name == "days_between":
            if arity(2) or need(0, "date", "datetime") or need(1, "date", "datetime"):
                return ANY
            return INT
        if name == "weekday":
            return ANY if arity(1) or need(0, "date", "datetime") else STRING
        if name == "is_open":
            if arity(2) or need(0, "calendar") or need(1, "datetime"):
                return ANY
            return BOOL
        if name == "open_at":
            if arity(2) or need(0, "list") or need(1, "datetime"):
                return ANY
            if item_of(args[0]).name not in ("string", "any"):
                return self._fail(expr, node.args[0], "open_at() needs a list of calendar names",
                                  "for example [\"hotline\", \"email\"]")
            self._check_calendar_names(expr, node.args[0])
            return list_of(STRING)
        return self._fail(expr, node, f"function {name!r} is not checked", "report this")

    def _check_calendar_names(self, expr: Expr, node: ast.Node) -> None:
        """Calendar names written as text in a literal list or a parameter must exist."""
        texts: list[tuple[str, Expr, ast.Node]] = []
        if isinstance(node, ast.ListOf):
            texts = [(n.value, expr, n) for n in node.items if isinstance(n, ast.Literal)]
        elif isinstance(node, ast.Name) and node.name in self.scope.policy.parameters:
            for leaf in self._param_exprs(self.scope.policy.parameters[node.name]):
                if isinstance(leaf.node, ast.Literal):
                    texts.append((leaf.node.value, leaf, leaf.node))
        for text, where, literal in texts:
            if text not in self.calendars:
                self._fail(where, literal, f"no calendar is named {text!r}",
                           suggestion(str(text), self.calendars) + "calendars: "
                           + ", ".join(sorted(self.calendars)), UnknownNameError)


    def _duration_meant(self, expr: Expr, node: ast.Binary, left: Type,
                        right: Type) -> Type | None:
        """A number with no unit beside a duration, date or time, where a duration would
        fit: the number (or the parameter holding it) is reported once, and checking goes
        on as if it had its unit, so no error follows from it. None when that is not so."""
        sides = ((node.left, left, node.right, right), (node.right, right, node.left, left))
        for side, stype, other, otype in sides:
            if not stype.numeric or otype.name not in ("duration", "date", "datetime"):
                continue
            if node.op in ("+", "-", "*", "/"):
                names = ("duration", otype.name) if side is node.left else \
                    (otype.name, "duration")
                result = _ARITHMETIC.get((names[0], node.op, names[1]))
            else:
                result = BOOL if otype.name == "duration" else None
            if result is None:
                continue
            if left.nullable or right.nullable:
                result = result.or_null() if result is not BOOL else result
            unit = _unit_of_node(other, expr.source) or \
                ("days" if otype.name == "date" else "hours")
            policy = self.scope.policy
            if isinstance(side, ast.Name) and (id(policy), side.name) in self._bare:
                where = expr.source.locate(node.pos)
                line = f"line {where.line}" if where else "a rule"
                text = f": `{expr.text}`" if "\n" not in expr.text and len(expr.text) <= 60 \
                    else ""
                self._unitless(policy, side.name, f"{line} uses it as a duration{text}", unit)
                return result
            if isinstance(side, ast.Literal) and node.op == "/" and side is node.right \
                    and otype.name == "duration":
                # a part of the duration (half the wait) may be meant as well as a ratio:
                # the hint offers both, and the value is typed as neither, so no second
                # error follows from the reading it did not take
                whole = expr.source.written(node.left.pos)
                if not isinstance(node.left, (ast.Name, ast.Attribute, ast.Literal,
                                              ast.CalendarSpan, ast.Call, ast.Index)) \
                        and not _bracketed(whole):
                    whole = f"({whole})"
                self._fail(expr, side, "a duration is divided by a duration, not by a "
                           f"number: {as_written(side.value)} has no unit",
                           _part_or_ratio(whole, side.value, unit))
                return ANY
            if isinstance(side, ast.Literal):
                number = as_written(side.value)
                self._fail(expr, side, f"{number} has no unit, but a duration is meant here",
                           _write_duration(number, unit))
                return result
        return None


_KIND_TYPES = {"int": INT, "decimal": DECIMAL, "money": MONEY, "string": STRING, "bool": BOOL,
               "date": DATE, "datetime": DATETIME, "time": TIME, "duration": DURATION}

_ARITHMETIC = {
    ("money", "+", "money"): MONEY, ("money", "-", "money"): MONEY,
    ("money", "*", "int"): MONEY, ("money", "*", "decimal"): MONEY,
    ("int", "*", "money"): MONEY, ("decimal", "*", "money"): MONEY,
    ("money", "/", "int"): MONEY, ("money", "/", "decimal"): MONEY,
    ("money", "/", "money"): DECIMAL,
    ("duration", "+", "duration"): DURATION, ("duration", "-", "duration"): DURATION,
    ("duration", "*", "int"): DURATION, ("int", "*", "duration"): DURATION,
    ("duration", "*", "decimal"): DURATION, ("decimal", "*", "duration"): DURATION,
    ("duration", "/", "duration"): DECIMAL,
    ("datetime", "+", "duration"): DATETIME, ("duration", "+", "datetime"): DATETIME,
    ("datetime", "-", "duration"): DATETIME, ("datetime", "-", "datetime"): DURATION,
    ("date", "+", "duration"): DATE, ("duration", "+", "date"): DATE,
    ("date", "-", "duration"): DATE, ("date", "-", "date"): DURATION,
    ("string", "+", "string"): STRING,
}
_ON_CALENDAR = ("a duration on a calendar (such as 4 hotline hours) is only added to a time "
                "or a date, or multiplied by a number: add each duration to the time in turn, "
                "as in `start + 4 hotline hours + 1 hour`")
_VERB = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}
_PREP = {"+": "and", "-": "and", "*": "by", "/": "by"}


_DAY = timedelta(days=1)
_TOO_LONG_HINT = ("counting on a calendar looks at most a hundred years ahead; check the "
                  "number, or count elapsed time (`natural days`)")


def _too_long(amount: Any, calendar: str, unit: str, longest: int) -> str:
    unit = unit_name(unit)
    return (f"{as_written(Decimal(amount).normalize()) if amount != int(amount) else int(amount)}"
            f" {calendar} {unit}s is more than the calendar is open in {COUNTABLE_YEARS} "
            f"years ({longest} {calendar} {unit}s)")


def _constant_count(node: ast.Node) -> tuple[Any, str, str] | None:
    """(amount, calendar, unit) of a duration on a calendar written with numbers only
    (`3 * 4000 hotline days`), or None."""
    if isinstance(node, ast.CalendarSpan):
        return node.amount, node.calendar, node.unit
    if isinstance(node, ast.Binary) and node.op == "*":
        for span_side, number_side in ((node.left, node.right), (node.right, node.left)):
            counted = _constant_count(span_side)
            if counted is not None and _is_number(number_side):
                return counted[0] * number_side.value, counted[1], counted[2]
    return None


def _constant_span(node: ast.Node) -> timedelta | None:
    """The duration an expression written only with durations and numbers (`1 hour`,
    `8 hours * 3`, `1 day - 30 minutes`) always gives, as the runtime computes it; None
    when it reads anything else, whose value is known only when deciding."""
    if isinstance(node, ast.Literal):
        return node.value if isinstance(node.value, timedelta) else None
    if isinstance(node, ast.CalendarSpan) and node.calendar == "natural":
        return make_duration(node.amount, node.unit)
    if isinstance(node, ast.Unary) and node.op == "-":
        inner = _constant_span(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Binary) and node.op in ("+", "-"):
        left, right = _constant_span(node.left), _constant_span(node.right)
        if left is None or right is None:
            return None
        return left + right if node.op == "+" else left - right
    if isinstance(node, ast.Binary) and node.op == "*":
        for span_side, number_side in ((node.left, node.right), (node.right, node.left)):
            span = _constant_span(span_side)
            if span is not None and _is_number(number_side):
                return scale(span, number_side.value)
    return None


def _write_duration(number: str, unit: str | None) -> str:
    """The hint for a number without its unit; with no unit to go by, two to choose from."""
    def of(unit: str) -> str:
        return f"`{number} {unit[:-1] if number == '1' else unit}`"
    such = of(unit) if unit else f"{of('hours')} or {of('days')}"
    return f"write a duration such as {such} (units: {', '.join(DURATION_UNITS)})"


def _bracketed(text: str) -> bool:
    """Whether text is one bracketed whole, `(a - b)`, not `(a) - (b)`."""
    if not text.startswith("("):
        return False
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return index == len(text) - 1
    return False


def _part_or_ratio(whole: str, number: Any, unit: str) -> str:
    """The two things `duration / number` may mean, each as the language writes it: a part
    of the duration (multiplied by the number's inverse, where it has a short one) or how
    many of a unit it holds."""
    if len(whole) > 40:
        whole = "…"
    inverse = None
    if number:
        inverse = Decimal(1) / Decimal(number)
        if inverse * number != 1 or len(f"{inverse:f}") > 8:
            inverse = None
    part = f"multiply: `{whole} * {inverse:f}`" if inverse is not None \
        else f"multiply by a fraction, as in `{whole} * 0.5`"
    count = f"{as_written(number)} {unit_name(unit) if number == 1 else unit}"
    return (f"for a part of it, {part}; for how many times a duration fits in it, divide "
            f"by that duration: `{whole} / {count}`")


def _quoted_line(expr: Expr, node: ast.Name) -> str | None:
    """For a name that may be text written without quotes, the exact line to write: the
    text in quotes (and the whole value in '…' too, when YAML needs it)."""
    if not _may_be_text(expr.node, node):
        return None
    where, line = expr.source.locate(node.pos), expr.source.source_line(node.pos)
    if where is None or line is None or not line[where.column - 1:].startswith(node.name):
        return None
    quote = "'" if expr.source.style == '"' else '"'
    start = where.column - 1
    fixed = f"{line[:start]}{quote}{node.name}{quote}{line[start + len(node.name):]}"
    value = expr.source.location
    if expr.source.style == "" and value is not None \
            and value.line == where.line and value.column == where.column:
        # a plain YAML value may not start with a quote: the whole value goes in '…'
        begin = value.column - 1
        end = begin + len(expr.text)
        if line[begin:end] != expr.text:
            return None   # the value goes on over the lines below: no one line to write
        fixed = f"{line[:begin]}'{fixed[begin:end + 2].replace(chr(39), chr(39) * 2)}'" \
            f"{line[end:]}"
    return fixed.strip()


def _may_be_text(root: ast.Node, node: ast.Node) -> bool:
    """Whether text could stand where `node` is: the whole value, a side of a comparison,
    an item of a list, a branch of `if` or `otherwise`; not inside arithmetic or a call."""
    if root is node:
        return True
    for parent in ast.walk(root):
        if isinstance(parent, ast.Binary) and parent.op in ("==", "!=", "in", "not in"):
            places: tuple = (parent.left, parent.right)
        elif isinstance(parent, ast.ListOf):
            places = parent.items
        elif isinstance(parent, ast.Conditional):
            places = (parent.then, parent.otherwise)
        elif isinstance(parent, ast.Otherwise):
            places = parent.options
        else:
            continue
        if any(place is node for place in places):
            return True
    return False


def _is_number(node: ast.Node) -> TypeGuard[ast.Literal]:
    return isinstance(node, ast.Literal) and node.kind in ("int", "decimal")


def _unit_of_node(node: ast.Node, source: ExprSource) -> str | None:
    """The unit a duration literal is written in (`days`, `hotline hours`), if it is one:
    as the editor wrote it (`1 day`, not the `24 hours` it prints as)."""
    if isinstance(node, ast.CalendarSpan):
        return f"{node.calendar} {unit_name(node.unit)}s"
    if isinstance(node, ast.Literal) and node.kind == "duration":   # NUMBER UNIT
        return f"{unit_name(source.written(node.pos).split()[-1])}s"
    return None


def _arith_hint(a: str, op: str, b: str) -> str:
    if "money" in (a, b) and ({a, b} & {"int", "decimal"}) and op in "+-":
        return "write amounts with their currency, such as 100 CNY"
    if {a, b} == {"date", "datetime"}:
        return "use date_of(x) to take the date of a time"
    if "string" in (a, b):
        return "text cannot take part in arithmetic; quote numbers only when they are text"
    return "see the table of operators in the language reference"


def _compare_hint(a: Type, b: Type) -> str:
    if {a.name, b.name} == {"date", "datetime"}:
        return "use date_of(x) to compare a time with a date"
    if {a.name, b.name} & {"date", "datetime"} and (a.numeric or b.numeric):
        return ("a date is compared with another date: add a duration (ends_on + 60 days) "
                "or count days with days_between(a, b)")
    if "money" in (a.name, b.name) and (a.numeric or b.numeric):
        return "write amounts with their currency, such as 100 CNY"
    return "compare values of the same type"


def _width(node: ast.Node) -> int:
    return 1 if node.pos is None else node.pos.width


def _narrowing(node: ast.Node, truth: bool) -> frozenset:
    """Expressions known not to be null when `node` evaluates to `truth`."""
    if isinstance(node, ast.IsSet):
        return frozenset([node.operand]) if node.negated != truth else frozenset()
    if isinstance(node, ast.Logical):
        if (node.op == "and") == truth:
            out: frozenset = frozenset()
            for child in node.operands:
                out |= _narrowing(child, truth)
            return out
    if isinstance(node, ast.Unary) and node.op == "not":
        return _narrowing(node.operand, not truth)
    return frozenset()


def _constant_truth(node: ast.Node) -> bool | None:
    if isinstance(node, ast.Literal) and isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Unary) and node.op == "not":
        inner = _constant_truth(node.operand)
        return None if inner is None else not inner
    if isinstance(node, ast.Logical):
        values = [_constant_truth(c) for c in node.operands]
        if node.op == "and" and False in values:
            return False
        if node.op == "or" and all(v is False for v in values):
            return False
    return None


