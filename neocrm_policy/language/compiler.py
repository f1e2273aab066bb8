"""Checked policies → Python code objects, built from `ast` nodes, once, at load.

Each policy becomes one Python function `decide(F, P, now)`: F holds the validated facts
by path, P the parameter values in force, `now` the evaluation time. It computes every
decision in dependency order with default logic (exceptions first, then the rule itself;
two applicable rules at one level with different values raise a conflict) and returns the
values and the index of the rule that produced each. No text from a rule file is ever
passed to `eval` or `exec`: the code is assembled from `ast` nodes whose constants come
from the parsed, checked model.
"""

from __future__ import annotations

import ast as py
import operator
import warnings
from dataclasses import dataclass, field
from decimal import InvalidOperation
from collections.abc import Callable
from types import CodeType
from typing import Any

from . import dispatch, runtime
from .calendars import Calendar
from .checker import CheckedPolicy
from .dispatch import DISPATCH_MIN_RULES, Dispatch
from ..errors import ConflictError, EvaluationError, NoRuleApplies, PolicyError
from .facts import FactReader
from .model import Expr, Policy, Rule
from .syntax import ast
from .syntax.parser import ExprSource
from .values import CalendarDuration, as_written

RUNTIME_FAILURES = (TypeError, ValueError, ArithmeticError, OverflowError, InvalidOperation,
                    KeyError)
_SHOWN_IN_A_ZONE = frozenset({"is_open", "open_at"})
"""Built-in functions that read a time in a calendar's zone, where a time the agreement's
zone shows on 9999-12-31 may be in the year 10000 (every time computed is one the
agreement's zone can show: `runtime.in_range`)."""


@dataclass(frozen=True)
class CompiledPolicy:
    """A policy ready to decide: the generated function and what its indexes mean."""

    checked: CheckedPolicy
    function: Callable
    decisions: tuple[str, ...]
    """Every decision, in the order the function returns their values and rule indexes."""
    outputs: tuple[str, ...]
    """The decisions that make up the result (internal steps left out)."""
    rules: tuple[Rule | None, ...]
    parameter_functions: dict[tuple[str, int], Callable]
    invariant_functions: dict[str, Callable]
    read_facts: Callable
    """Validated facts by dotted path, or a located FactError."""
    calendars: dict[str, Calendar] = field(default_factory=dict)
    tables_from: int = DISPATCH_MIN_RULES
    """The dispatch threshold the function was generated with, so that code generated for
    it later (`prepared.fused`) takes the same shape."""

    def value_function(self, tree: Any) -> Callable:
        """Compile a parameter value given elsewhere (a customer overlay) for this policy."""
        return _Codegen(self.checked, self.calendars).parameter_function(tree)


class _Codegen(Dispatch):
    def __init__(self, checked: CheckedPolicy, calendars: dict[str, Calendar],
                 tables_from: int | None = None) -> None:
        self.tables_from = dispatch.DISPATCH_MIN_RULES if tables_from is None else tables_from
        self.checked = checked
        self.policy = checked.policy
        self.calendars = calendars
        self.types = checked.node_types
        self.globals: dict[str, Any] = {"__builtins__": {}}
        self.constants: dict[tuple, str] = {}
        self.rules: list[Rule | None] = []
        self.numbers: dict[int, int] = {}
        """A rule's index by id(rule): a rule has one, in every case of a table."""
        self.originals: dict[int, Rule] = {}
        """A rule specialised for one case of a table (dispatch.py) → the rule."""
        self.kept: list[Rule] = []
        self.counter = 0
        self.uses_today = False
        self.binds_key = False
        self.bind("_runtime_failures", RUNTIME_FAILURES)
        self.bind("_fail", self._failure)
        self.bind("_missing_entry", self._missing_entry)
        self.bind("_conflict", self._conflict)
        self.bind("_no_rule", self._no_rule)
        for name, fn in runtime.FUNCTIONS.items():
            self.bind(f"_fn_{name}", fn)
        self.bind("_fn_open_at", runtime.make_open_at(calendars))
        for name in ("divide", "scale", "shift_date", "arith", "negative", "look_up_or_null",
                     "later", "bounded"):
            self.bind(f"_{name}", getattr(runtime, name))
        self.bind("_in_range", runtime.in_range)
        self.bind("_add_in_range", runtime.add_in_range)
        self.sources: dict[int, ExprSource] | None = None

    # Names and constants --------------------------------------------------------------
    def bind(self, name: str, value: Any) -> py.Name:
        self.globals[name] = value
        return py.Name(name, py.Load())

    def constant(self, value: Any) -> py.expr:
        if value is None or isinstance(value, (bool, int, str)):
            return py.Constant(value)
        key = (type(value).__name__, repr(value))
        if key not in self.constants:
            self.constants[key] = f"_k{len(self.constants)}"
            self.globals[self.constants[key]] = value
        return py.Name(self.constants[key], py.Load())

    def temp(self, stem: str) -> str:
        self.counter += 1
        return f"_{stem}{self.counter}"

    # Errors raised from generated code -------------------------------------------------
    def _failure(self, decision: str, exc: Exception) -> PolicyError:
        if isinstance(exc, PolicyError):
            exc.message = f"while deciding {decision!r}: {exc.message}"
            exc.args = (exc.message,)
            if exc.location is None:
                exc.location = self.policy.decisions[decision].location
            return exc
        if isinstance(exc, OverflowError):
            text = self._calendar_arithmetic(decision)
            return EvaluationError(
                f"while deciding {decision!r}: {text or 'the rule'} gives a date, time or "
                "duration out of range", self.policy.decisions[decision].location,
                "dates run from year 1 to year 9999 and durations up to 999,999,999 days; "
                "check the facts and the durations added")
        return EvaluationError(f"while deciding {decision!r}: {exc}",
                               self.policy.decisions[decision].location,
                               "check the facts and the rule's arithmetic")

    def _calendar_arithmetic(self, decision: str) -> str | None:
        """The first expression of a decision that computes a date, time or duration by
        arithmetic, as written: what a date out of range came from."""
        item = self.policy.decisions[decision]
        exprs = [e for r in item.all_rules() for e in (r.when, r.value) if e is not None]
        for expr in exprs + ([item.default] if item.default is not None else []):
            for node in ast.walk(expr.node):
                found = self.types.get(id(node))
                if isinstance(node, ast.Binary) and node.op in ("+", "-", "*") \
                        and found is not None and found.name in ("date", "datetime", "duration"):
                    text = " ".join(expr.text.split())
                    return f"`{text if len(text) <= 80 else text[:77] + '...'}`"
        return None

    def grows(self, decision: str) -> bool:
        """Whether a decision's value can grow past the language's bounds: a number, text
        or list computed by arithmetic or sum(), perhaps of other decisions' values."""
        found = self.checked.decision_types.get(decision)
        if found is None or found.name not in ("int", "decimal", "money", "string", "list"):
            return False
        if found.name == "list" and found.item is not None \
                and found.item.name in ("list", "map"):
            return True   # lists of lists, even written as literals, nest without end
        item = self.policy.decisions[decision]
        exprs = [e for r in item.all_rules() for e in (r.when, r.value) if e is not None]
        if item.default is not None:
            exprs.append(item.default)
        return any((isinstance(node, ast.Binary) and node.op in ("+", "-", "*", "/"))
                   or (isinstance(node, ast.Call) and node.function == "sum")
                   for expr in exprs for node in ast.walk(expr.node))

    def _missing_entry(self, decision: str, exc: KeyError) -> EvaluationError:
        """Table look-ups are inline subscripts: a missing key is their KeyError, caught
        by its own handler, apart from the runtime failures no checked policy should
        meet."""
        return EvaluationError(
            f"while deciding {decision!r}: a table has no entry for {as_written(exc.args[0])}",
            self.policy.decisions[decision].location,
            "add the entry to the table, or check the fact used as its key")

    def _conflict(self, first: int, second: int, a: Any, b: Any) -> ConflictError:
        r1, r2 = self.rules[first], self.rules[second]
        assert r1 is not None and r2 is not None, "only rules apply, not a default"
        return ConflictError(
            f"rules {r1.path!r} (clause {r1.clause or '?'}) and {r2.path!r} (clause "
            f"{r2.clause or '?'}) both apply, giving {as_written(a)} and {as_written(b)}",
            r2.location,
            f"make one an exception of the other; the first rule is at {r1.location}")

    def _no_rule(self, decision: str) -> NoRuleApplies:
        item = self.policy.decisions[decision]
        facts = sorted({f for r in item.all_rules()
                        for f in self.checked.rule_facts.get(r.path, ())})
        reads = f"its rules read {', '.join(facts)}; " if facts else ""
        return NoRuleApplies(f"no rule of decision {decision!r} applies to these facts",
                             item.location, f"{reads}give the facts one of its rules needs, "
                             "or add a rule or a `default:` for this case")

    # Expressions ----------------------------------------------------------------------
    def expr(self, node: ast.Node) -> py.expr:
        e = self.expr
        t = self.types.get(id(node))
        if isinstance(node, ast.Literal):
            return self.constant(node.value)
        if isinstance(node, ast.CalendarSpan):
            if node.calendar == "natural":
                from .values import make_duration
                return self.constant(make_duration(node.amount, node.unit))
            return self.constant(CalendarDuration(node.amount, node.unit,
                                                  self.calendars[node.calendar]))
        if isinstance(node, (ast.Name, ast.Attribute)):
            return self.name(node)
        if isinstance(node, ast.Index):
            # a missing key raises KeyError, which _failure turns into a located error
            subject = self.types.get(id(node.subject))
            if subject is not None and subject.nullable:   # the checker types it "or null"
                return self.call("_look_up_or_null", e(node.subject), e(node.key))
            return py.Subscript(e(node.subject), e(node.key), py.Load())
        if isinstance(node, ast.ListOf):
            return py.Tuple([e(i) for i in node.items], py.Load())
        if isinstance(node, ast.Unary):
            if node.op == "not":
                return py.UnaryOp(py.Not(), e(node.operand))
            if t is not None and t.nullable:
                return self.in_range(node, self.call("_negative", e(node.operand)))
            return self.in_range(node, py.UnaryOp(py.USub(), e(node.operand)))
        if isinstance(node, ast.Binary):
            return self.in_range(node, self.binary(node))
        if isinstance(node, ast.Logical):
            op = py.And() if node.op == "and" else py.Or()
            return py.BoolOp(op, [e(c) for c in node.operands])
        if isinstance(node, ast.IsSet):
            if isinstance(node.operand, (ast.Literal, ast.ListOf, ast.CalendarSpan)):
                return py.Constant((node.operand == ast.Literal(node.pos, None, "null"))
                                   == node.negated)   # a node's position is not compared
            test = py.Is() if node.negated else py.IsNot()
            return py.Compare(e(node.operand), [test], [py.Constant(None)])
        if isinstance(node, ast.Otherwise):
            result = e(node.options[-1])
            for option in reversed(node.options[:-1]):
                name = self.temp("t")
                result = py.IfExp(
                    py.Compare(py.NamedExpr(py.Name(name, py.Store()), e(option)),
                               [py.IsNot()], [py.Constant(None)]),
                    py.Name(name, py.Load()), result)
            return result
        if isinstance(node, ast.Conditional):
            return py.IfExp(e(node.condition), e(node.then), e(node.otherwise))
        if isinstance(node, ast.Call):
            return self.in_range(node, self.call(f"_fn_{node.function}",
                                                 *[e(a) for a in node.args]))
        raise AssertionError(f"cannot compile {type(node).__name__}")

    def call(self, function: str, *args: py.expr) -> py.expr:
        return py.Call(py.Name(function, py.Load()), list(args), [])

    # Dates, times and durations out of range ------------------------------------------
    def in_range(self, node: ast.Node, code: py.expr) -> py.expr:
        """`code`, computing `node`, made to raise a located error naming `node` when the
        date, time or duration it gives is out of range (issue 9), instead of Python's
        OverflowError, which only RUNTIME_FAILURES would catch. Other code is kept."""
        if not self.moves_time(node):
            return code
        source = self.source_of(node)
        where = runtime.OutOfRange(source.written(node.pos) if source else None,
                                   source.locate(node.pos) if source else None)
        name = self.bind(self.temp("w"), where)
        if isinstance(code, py.IfExp):          # null_safe: the arithmetic is its last part
            return py.IfExp(code.test, code.body, self.in_range_call(name, code.orelse))
        return self.in_range_call(name, code)

    def in_range_call(self, where: py.Name, code: py.expr) -> py.expr:
        if isinstance(code, py.Call):
            return self.call("_in_range", where, code.func, *code.args)
        operands: tuple[py.expr, ...]
        if isinstance(code, py.BinOp):
            operands = (code.left, code.right)
        elif isinstance(code, py.UnaryOp):
            operands = (code.operand,)
        elif isinstance(code, py.Compare) and len(code.ops) == 1:
            operands = (code.left, code.comparators[0])
        else:
            return code
        kind = type(code.op if not isinstance(code, py.Compare) else code.ops[0]).__name__
        if kind == "Add":
            return self.call("_add_in_range", where, *operands)
        operate = self.bind(f"_operator_{kind}", getattr(operator, _OPERATORS[kind]))
        return self.call("_in_range", where, operate, *operands)

    def moves_time(self, node: ast.Node) -> bool:
        """Whether `node` computes a date, time or duration that can fall out of range:
        arithmetic on them, a minus sign, a sum; and ordering, min and max of durations on
        a calendar (compared by a nominal length that may not fit); and a function that
        reads a time in a calendar's zone."""
        found = self.types.get(id(node))
        if isinstance(node, ast.Call) and node.function in _SHOWN_IN_A_ZONE:
            return any(getattr(self.types.get(id(arg)), "name", None) == "datetime"
                       for arg in node.args)
        if isinstance(node, ast.Binary):
            sides = [self.types.get(id(node.left)), self.types.get(id(node.right))]
            if node.op in ("<", "<=", ">", ">="):
                return any(side is not None and side.on_calendar for side in sides)
            return node.op in ("+", "-", "*", "/") and any(
                t is not None and t.name in ("date", "datetime", "duration")
                for t in (*sides, found))
        if found is None or found.name != "duration":
            return False
        if isinstance(node, ast.Unary):
            return node.op == "-"
        return isinstance(node, ast.Call) and (
            node.function == "sum" or node.function in ("min", "max") and found.on_calendar)

    def source_of(self, node: ast.Node) -> ExprSource | None:
        """The `ExprSource` of the expression a node belongs to, to name and locate it."""
        return self.all_sources().get(id(node))

    def note_source(self, expr: Expr) -> None:
        sources = self.all_sources()
        for node in ast.walk(expr.node):
            sources[id(node)] = expr.source

    def all_sources(self) -> dict[int, ExprSource]:
        """Each node's `ExprSource`, by id, for every expression of the policy (noted
        the first time one is asked for) and any noted since."""
        if self.sources is None:
            self.sources = {}
            for expr in _expressions(self.policy):
                self.note_source(expr)
        return self.sources

    def name(self, node: ast.Name | ast.Attribute) -> py.expr:
        path = ast.path_of(node)
        if path in self.policy.inputs:
            return py.Subscript(py.Name("F", py.Load()), py.Constant(path), py.Load())
        name = node.name
        if name == "key" and self.binds_key:
            return py.Name("key", py.Load())
        if name in self.policy.decisions:
            return py.Name(f"d_{name}", py.Load())
        if name in self.policy.parameters:
            return py.Subscript(py.Name("P", py.Load()), py.Constant(name), py.Load())
        if name in self.calendars:
            return self.constant(self.calendars[name])
        if name == "now":
            return py.Name("now", py.Load())
        if name == "today":
            self.uses_today = True
            return py.Name("today", py.Load())
        raise AssertionError(f"unresolved name {name}")

    def binary(self, node: ast.Binary) -> py.expr:
        left, right = self.expr(node.left), self.expr(node.right)
        op = node.op
        compare = {"==": py.Eq, "!=": py.NotEq, "<": py.Lt, "<=": py.LtE, ">": py.Gt,
                   ">=": py.GtE, "in": py.In, "not in": py.NotIn}
        if op in compare:
            return py.Compare(left, [compare[op]()], [right])
        lt, rt = self.types.get(id(node.left)), self.types.get(id(node.right))
        nullable = (lt is not None and lt.nullable) or (rt is not None and rt.nullable)
        names = (lt.name if lt else "", rt.name if rt else "")
        if nullable and op in "+-" and lt is not None and rt is not None and \
                "date" not in names and names != ("duration", "datetime"):
            return self.null_safe(left, op, right)
        if nullable:
            return self.call("_arith", py.Constant(op), left, right)
        if op == "/":
            return self.call("_divide", left, right)
        if names[0] == "date" and names[1] == "duration" and op in "+-":
            return self.call("_shift_date", left, right, py.Constant(1 if op == "+" else -1))
        if names == ("duration", "date") and op == "+":
            return self.call("_shift_date", right, left, py.Constant(1))
        if names == ("duration", "datetime") and op == "+":
            return self.call("_later", left, right)
        if op == "*" and "duration" in names:   # a duration on a calendar, too
            duration, factor = (left, right) if names[0] == "duration" else (right, left)
            return self.call("_scale", duration, factor)
        python_op = {"+": py.Add, "-": py.Sub, "*": py.Mult}[op]()
        return py.BinOp(left, python_op, right)

    def null_safe(self, left: py.expr, op: str, right: py.expr) -> py.expr:
        """`left op right`, or null when either is null; both sides are evaluated, as
        the runtime's `arith` does, without the cost of a call."""
        a, b = self.temp("a"), self.temp("b")
        either_null = py.BinOp(
            py.Compare(py.NamedExpr(py.Name(a, py.Store()), left), [py.Is()],
                       [py.Constant(None)]), py.BitOr(),
            py.Compare(py.NamedExpr(py.Name(b, py.Store()), right), [py.Is()],
                       [py.Constant(None)]))
        python_op = py.Add() if op == "+" else py.Sub()
        return py.IfExp(either_null, py.Constant(None),
                        py.BinOp(py.Name(a, py.Load()), python_op, py.Name(b, py.Load())))

    # Rules ----------------------------------------------------------------------------
    def rule_index(self, rule: Rule | None) -> int:
        if rule is None:
            self.rules.append(rule)
            return len(self.rules) - 1
        rule = self.originals.get(id(rule), rule)
        if id(rule) not in self.numbers:
            self.numbers[id(rule)] = len(self.rules)
            self.rules.append(rule)
        return self.numbers[id(rule)]

    def level(self, rules: tuple[Rule, ...], value: str, index: str) -> list[py.stmt]:
        """Statements that set `value`/`index` from the rules of one level (or leave
        `index` None when none applies). Two rules that apply with different values
        raise a conflict naming both."""
        table = self.dispatched(rules, value, index)   # many rules keyed on one fact
        if table is not None:
            return table
        if len(rules) == 1 and (rules[0].exceptions or self.always_applies(rules[0])):
            return self.one_rule(rules[0], value, index)   # sets or clears both itself
        body: list[py.stmt] = [assign(index, py.Constant(None)),
                               assign(value, py.Constant(None))]
        if len(rules) == 1:
            return body + self.one_rule(rules[0], value, index)
        for n, rule in enumerate(rules):
            if n == 0 and not rule.exceptions:   # nothing applied yet: nothing to clash with
                body += self.one_rule(rule, value, index)
                continue
            if not rule.exceptions:
                body += self.guarded(rule, self.take_or_clash(
                    self.expr(rule.value.node), py.Constant(self.rule_index(rule)),
                    value, index))
                continue
            v, i = self.temp("v"), self.temp("i")
            body += self.one_rule(rule, v, i, initialise=True)
            found = py.Compare(py.Name(i, py.Load()), [py.IsNot()], [py.Constant(None)])
            body.append(py.If(found, self.take_or_clash(py.Name(v, py.Load()),
                                                        py.Name(i, py.Load()), value, index),
                              []))
        return body

    def take_or_clash(self, found: py.expr, position: py.expr, value: str,
                      index: str) -> list[py.stmt]:
        """A rule applied: its value stands if none applied before, else it must agree."""
        v = self.temp("v")
        clash = py.If(
            py.Compare(py.Name(v, py.Load()), [py.NotEq()], [py.Name(value, py.Load())]),
            [py.Raise(self.call("_conflict", py.Name(index, py.Load()), position,
                                py.Name(value, py.Load()), py.Name(v, py.Load())), None)],
            [])
        return [assign(v, found), py.If(
            py.Compare(py.Name(index, py.Load()), [py.Is()], [py.Constant(None)]),
            [assign(value, py.Name(v, py.Load())), assign(index, position)], [clash])]

    def tests(self, rule: Rule) -> list[py.expr]:
        """What must hold for a rule to apply: its dates and its condition."""
        tests: list[py.expr] = []
        if rule.since is not None:
            tests.append(py.Compare(py.Name("now", py.Load()), [py.GtE()],
                                    [self.constant(rule.since)]))
        if rule.until is not None:
            tests.append(py.Compare(py.Name("now", py.Load()), [py.Lt()],
                                    [self.constant(rule.until)]))
        if rule.when is not None:
            tests.append(self.expr(rule.when.node))
        return tests

    def guarded(self, rule: Rule, apply: list[py.stmt]) -> list[py.stmt]:
        tests = self.tests(rule)
        if not tests:
            return apply
        return [py.If(tests[0] if len(tests) == 1 else py.BoolOp(py.And(), tests), apply, [])]

    @staticmethod
    def unconditional(rule: Rule) -> bool:
        """No condition and no dates: the rule, or one of its exceptions, applies."""
        return rule.when is None and rule.since is None and rule.until is None

    def always_applies(self, rule: Rule) -> bool:
        """The rule itself applies, whatever the facts."""
        return self.unconditional(rule) and not rule.exceptions

    def one_rule(self, rule: Rule, value: str, index: str,
                 initialise: bool = False) -> list[py.stmt]:
        body: list[py.stmt] = []
        if initialise:
            body += [assign(index, py.Constant(None)), assign(value, py.Constant(None))]
        if rule.exceptions:
            body += self.level(rule.exceptions, value, index)
        position = self.rule_index(rule)
        apply = self.guarded(rule, [assign(value, self.expr(rule.value.node)),
                                    assign(index, py.Constant(position))])
        if rule.exceptions:
            apply = [py.If(py.Compare(py.Name(index, py.Load()), [py.Is()],
                                      [py.Constant(None)]), apply, [])]
        return body + apply

    def decision(self, name: str) -> list[py.stmt]:
        decision = self.policy.decisions[name]
        value, index = f"d_{name}", f"r_{name}"
        body = self.level(decision.rules, value, index)
        bound: list[py.stmt] = [py.Expr(self.call("_bounded", py.Name(value, py.Load())))] \
            if self.grows(name) else []
        if len(decision.rules) == 1 and self.unconditional(decision.rules[0]):
            return [py.Try(body + bound, self.handlers(name), [], [])]   # its one rule applies
        unset = py.Compare(py.Name(index, py.Load()), [py.Is()], [py.Constant(None)])
        fallback: list[py.stmt]
        if decision.default is not None:   # has_default: `default:` is written
            fallback = [assign(value, self.expr(decision.default.node)),
                        assign(index, py.Constant(self.rule_index(None)))]
        else:
            fallback = [py.Raise(self.call("_no_rule", py.Constant(name)), None)]
        body.append(py.If(unset, fallback, []))
        return [py.Try(body + bound, self.handlers(name), [], [])]

    def handlers(self, name: str) -> list[py.ExceptHandler]:
        """A failure while deciding `name` is reported as such, whatever raised it."""
        failing: list[py.stmt] = [py.Raise(self.call("_fail", py.Constant(name),
                                                     py.Name("_e", py.Load())), None)]
        missing: list[py.stmt] = [py.Raise(self.call("_missing_entry", py.Constant(name),
                                                     py.Name("_e", py.Load())), None)]
        return [py.ExceptHandler(self.bind("_policy_error", PolicyError), "_e", failing),
                py.ExceptHandler(self.bind("_key_error", KeyError), "_e", missing),
                py.ExceptHandler(py.Name("_runtime_failures", py.Load()), "_e", failing)]

    def function(self) -> tuple[Callable, tuple[str, ...]]:
        module, outputs = self.function_tree()
        code = _compile(module, f"<policy {self.policy.id}>", "exec")
        namespace = dict(self.globals)
        exec(code, namespace)  # noqa: S102 - code built from ast nodes, not from text
        return namespace["decide"], outputs

    def function_tree(self) -> tuple[py.Module, tuple[str, ...]]:
        """`decide(F, P, now)` as a module of one function, before it is compiled: the
        facts by path (F), the terms in force (P), the evaluation time. It returns the
        result, each decision's value and each decision's rule index."""
        order = self.checked.order
        outputs = tuple(n for n in order if not self.policy.decisions[n].internal)
        body: list[py.stmt] = []
        for name in order:
            body += self.decision(name)
        body.append(py.Return(py.Tuple([
            py.Dict([py.Constant(n) for n in outputs],
                    [py.Name(f"d_{n}", py.Load()) for n in outputs]),
            py.Tuple([py.Name(f"d_{n}", py.Load()) for n in order], py.Load()),
            py.Tuple([py.Name(f"r_{n}", py.Load()) for n in order], py.Load())],
            py.Load())))
        if self.uses_today:
            body.insert(0, assign("today", self.call("_fn_date_of", py.Name("now", py.Load()))))
        args = py.arguments(posonlyargs=[], args=[py.arg("F"), py.arg("P"), py.arg("now")],
                            kwonlyargs=[], kw_defaults=[], defaults=[])
        fn = py.FunctionDef(name="decide", args=args, body=body, decorator_list=[],
                            returns=None,
                            type_params=[])  # type: ignore[call-arg]  # a field since 3.12
        module = py.Module([fn], [])
        _locate(module)
        return module, outputs

    def parameter_function(self, tree: Any) -> Callable:
        """A function computing one parameter version's value from the others (P)."""
        expression = self.param_tree(tree)
        lam = py.Expression(py.Lambda(py.arguments(
            posonlyargs=[], args=[py.arg("P")], kwonlyargs=[], kw_defaults=[], defaults=[]),
            expression))
        py.fix_missing_locations(lam)
        code = _compile(lam, f"<parameters of {self.policy.id}>", "eval")
        return eval(code, dict(self.globals))  # noqa: S307 - code built from ast nodes

    def parameter_functions(self, trees: list[Any]) -> tuple[Callable, ...]:
        """`parameter_function` of each tree, compiled together: one compile() for all of
        a policy's parameter versions instead of one each (issue 11: a large policy set
        made thousands of calls, each with its own fixed cost)."""
        lambdas: list[py.expr] = [
            py.Lambda(py.arguments(posonlyargs=[], args=[py.arg("P")], kwonlyargs=[],
                                   kw_defaults=[], defaults=[]), self.param_tree(tree))
            for tree in trees]
        together = py.Expression(py.Tuple(lambdas, py.Load()))
        _locate(together)
        code = _compile(together, f"<parameters of {self.policy.id}>", "eval")
        return eval(code, dict(self.globals))  # noqa: S307 - code built from ast nodes

    def invariant_function(self, check: Expr, for_each_key: bool) -> Callable:
        """`check` as a function of the parameters (P) and a table key (key). `key` names
        the key only in a guard rail over a table's keys, as the checker reads it;
        elsewhere it is a term like any other."""
        self.binds_key = for_each_key
        lam = py.Expression(py.Lambda(py.arguments(
            posonlyargs=[], args=[py.arg("P"), py.arg("key")], kwonlyargs=[],
            kw_defaults=[], defaults=[]), self.expr(check.node)))
        self.binds_key = False
        py.fix_missing_locations(lam)
        code = _compile(lam, f"<invariants of {self.policy.id}>", "eval")
        return eval(code, dict(self.globals))  # noqa: S307 - code built from ast nodes

    def param_tree(self, tree: Any) -> py.expr:
        if isinstance(tree, Expr):
            self.note_source(tree)   # an overlay's value is not among the policy's own
            return self.expr(tree.node)
        if isinstance(tree, dict):
            return py.Dict([self.constant(k) for k in tree],
                           [self.param_tree(v) for v in tree.values()])
        return py.Tuple([self.param_tree(v) for v in tree], py.Load())


_NOWHERE = {"lineno": 1, "col_offset": 0, "end_lineno": 1, "end_col_offset": 0}


def _locate(tree: py.AST) -> None:
    """Give every node that needs a position the first line, as `fix_missing_locations`
    does for code built from nodes, in half its time: for the functions of a large policy
    set it took longer than compile() itself (issue 11)."""
    stack = [tree]
    pop, push, extend, node_type = stack.pop, stack.append, stack.extend, py.AST
    while stack:
        node = pop()
        if "lineno" in node._attributes:
            node.__dict__.update(_NOWHERE)
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                extend([item for item in value if isinstance(item, node_type)])
            elif isinstance(value, node_type):
                push(value)


def _compile(tree: py.Module | py.Expression, name: str, mode: str) -> CodeType:
    """compile() of generated code; Python's style warnings (`1 is not None`) are about
    source a person wrote, so they are not shown for ours."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        return compile(tree, name, mode)


_OPERATORS = {"Add": "add", "Sub": "sub", "Mult": "mul", "USub": "neg", "Lt": "lt",
              "LtE": "le", "Gt": "gt", "GtE": "ge"}


def _expressions(policy: Policy) -> list[Expr]:
    """Every expression of a policy: rules' conditions and values, defaults, terms and
    guard rails."""
    found: list[Expr] = []
    for decision in policy.decisions.values():
        for rule in decision.all_rules():
            found += [e for e in (rule.when, rule.value) if e is not None]
        if decision.default is not None:
            found.append(decision.default)
    found += [invariant.check for invariant in policy.invariants]

    def collect(tree: Any) -> None:
        if isinstance(tree, Expr):
            found.append(tree)
        elif isinstance(tree, (dict, list, tuple)):
            for value in tree.values() if isinstance(tree, dict) else tree:
                collect(value)
    for parameter in policy.parameters.values():
        for version in parameter.versions:
            collect(version.value)
    return found


def assign(name: str, value: py.expr) -> py.Assign:
    return py.Assign([py.Name(name, py.Store())], value)


def compile_policy(checked: CheckedPolicy, calendars: dict[str, Calendar]) -> CompiledPolicy:
    gen = _Codegen(checked, calendars)
    function, outputs = gen.function()
    versions = {(name, n): version.value
                for name, parameter in checked.policy.parameters.items()
                for n, version in enumerate(parameter.versions)}
    parameter_functions = dict(zip(versions, gen.parameter_functions(list(versions.values())),
                                   strict=True))
    invariant_functions = {inv.id: gen.invariant_function(inv.check,
                                                          bool(inv.for_each_key_of))
                           for inv in checked.policy.invariants}
    read_facts = FactReader(checked.policy).read
    return CompiledPolicy(checked, function, tuple(checked.order), outputs, tuple(gen.rules),
                          parameter_functions, invariant_functions, read_facts, calendars,
                          gen.tables_from)
