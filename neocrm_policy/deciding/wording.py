"""Conditions in words, for readers of the docs site and of the decision memo.

The explain room: it reads a checked expression tree with the types the checker found
and says it in plain English, keeping the names of facts, terms and decisions as they
are written so a reader can find them in the tables of the same page:
`breach.cause == "gross_negligence" and liability_cap is set` becomes
"`breach.cause` is “gross_negligence” and `liability_cap` is given". It never decides
anything; the expression itself stays beside the words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ..language.syntax import ast
from ..language.values import Type, money_words, to_words

_ORDER = {"<": ("less than", "before"), "<=": ("at most", "on or before"),
          ">": ("more than", "after"), ">=": ("at least", "on or after")}
_ARITHMETIC = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}
_TIMES = ("datetime", "date", "time")
_SPECIAL_NAMES = {"now": "the evaluation time", "today": "the evaluation date"}


def in_words(node: ast.Node, types: Mapping[int, Type] | None = None,
             label: Callable[[str], str | None] | None = None,
             name: Callable[[str], str] = lambda text: f"`{text}`",
             choice: Callable[[str, Any], str | None] | None = None,
             yes_no: bool = False) -> str:
    """`node` in words. `types` are the checker's node types (comparisons of times read
    "before"/"after"); `label` gives a term's words ("solution time") for table lookups;
    `name` writes a fact, term or decision name (as code on the site, plain in a memo);
    `choice` gives the words of a fact's or decision's value compared with it ("the
    Company's gross negligence" for "gross_negligence"), or None to quote it as written;
    `yes_no` says true and false as the answers do (yes, no)."""
    wording = _Wording(types or {}, label or (lambda term: None), name,
                       choice or (lambda name, value: None))
    wording.truth = ("yes", "no") if yes_no else ("true", "false")
    return wording.say(node)


class _Wording:
    def __init__(self, types: Mapping[int, Type], label: Callable[[str], str | None],
                 name: Callable[[str], str], choice: Callable[[str, Any], str | None]):
        self.types = types
        self.label = label
        self.name = name
        self.choice = choice
        self.truth = ("true", "false")

    def chosen(self, named: ast.Node, value: ast.Node) -> str | None:
        """A value compared with a fact or decision (or a list of them) in the words the
        policy gives its choices; None where it names none of them."""
        path = named.name if isinstance(named, ast.Name) else \
            ast.path_of(named) if isinstance(named, ast.Attribute) else None
        if path and isinstance(value, ast.Literal) and value.kind == "string":
            return self.choice(path, value.value)
        if path and isinstance(value, ast.ListOf) and value.items:
            items = [self.chosen(named, item) for item in value.items]
            said = [item for item in items if item is not None]
            if len(said) == len(items):
                return _series(said, "and")
        return None

    def say(self, node: ast.Node, inside: str | None = None) -> str:
        method: Callable[[Any], str] = getattr(self, type(node).__name__)
        return method(node) if inside is None else self.grouped(node, method(node), inside)

    def grouped(self, node: ast.Node, text: str, inside: str) -> str:
        """Parentheses where a reader could group the words two ways."""
        if isinstance(node, ast.Logical) and node.op != inside or \
                isinstance(node, (ast.Conditional, ast.Otherwise)):
            return f"({text})"
        return text

    # Leaves ---------------------------------------------------------------------------
    def Literal(self, node: ast.Literal) -> str:  # noqa: N802 - one method per node kind
        if node.kind == "string":
            return f"“{node.value}”"
        if isinstance(node.value, bool):
            return self.truth[0] if node.value else self.truth[1]
        if node.kind == "money" and isinstance(node.value, Decimal):
            return money_words(node.value)           # CNY 0.00, as amounts read
        return "none" if node.value is None else str(to_words(node.value))

    def CalendarSpan(self, node: ast.CalendarSpan) -> str:  # noqa: N802
        return f"{node.amount} {node.calendar} {node.unit}"

    def Name(self, node: ast.Name) -> str:  # noqa: N802
        return _SPECIAL_NAMES.get(node.name) or self.name(node.name)

    def Attribute(self, node: ast.Attribute) -> str:  # noqa: N802
        path = ast.path_of(node)
        return self.name(path) if path else f"the {node.name} of {self.say(node.subject)}"

    # Compound -------------------------------------------------------------------------
    def Index(self, node: ast.Index) -> str:  # noqa: N802
        table = node.subject.name if isinstance(node.subject, ast.Name) else None
        words = self.label(table) if table else None
        subject = f"the {words}" if words else self.say(node.subject)
        return f"{subject} for {self.say(node.key)}"

    def ListOf(self, node: ast.ListOf) -> str:  # noqa: N802
        return _series([self.say(item) for item in node.items], "and") if node.items \
            else "no items"

    def Unary(self, node: ast.Unary) -> str:  # noqa: N802
        if node.op == "not":
            inner = self.say(node.operand)
            return f"not {inner}" if _simple(node.operand) else f"not ({inner})"
        return f"minus {self.say(node.operand, 'unary')}"

    def Binary(self, node: ast.Binary) -> str:  # noqa: N802
        left, right = self.say(node.left, node.op), self.say(node.right, node.op)
        if node.op in ("==", "!=", "in", "not in"):
            right = self.chosen(node.left, node.right) or right
        if node.op == "==":
            return f"{left} is {right}"
        if node.op == "!=":
            return f"{left} is not {right}"
        if node.op in ("in", "not in"):
            return f"{left} is {'not ' if node.op == 'not in' else ''}one of {right}"
        if node.op in _ORDER:
            kind = self.types.get(id(node.left))
            words = _ORDER[node.op][1 if kind is not None and kind.name in _TIMES else 0]
            return f"{left} is {words} {right}"
        return f"{left} {_ARITHMETIC[node.op]} {right}"

    def Logical(self, node: ast.Logical) -> str:  # noqa: N802
        return _series([self.say(o, node.op) for o in node.operands], node.op)

    def IsSet(self, node: ast.IsSet) -> str:  # noqa: N802
        return f"{self.say(node.operand, 'is')} is {'not given' if node.negated else 'given'}"

    def Otherwise(self, node: ast.Otherwise) -> str:  # noqa: N802
        first, *rest = [self.say(o, "otherwise") for o in node.options]
        return first + "".join(f", or where that is not given, {r}" for r in rest)

    def Conditional(self, node: ast.Conditional) -> str:  # noqa: N802
        return (f"if {self.say(node.condition)}, {self.say(node.then, 'if')}; "
                f"otherwise {self.say(node.otherwise, 'if')}")

    def Call(self, node: ast.Call) -> str:  # noqa: N802
        args = [self.say(a, "call") for a in node.args]
        name = node.function
        if name == "each" and isinstance(node.args[0], ast.Name) and \
                (label := self.label(node.args[0].name)):
            args[0] = label
        if name in ("min", "max"):
            most = "smallest" if name == "min" else "largest"
            if len(args) == 2:
                return f"the {'smaller' if name == 'min' else 'larger'} of {args[0]} and " \
                       f"{args[1]}"
            return f"the {most} of {_series(args, 'and')}"
        phrases = {
            "any": "any of {0} holds", "all": "all of {0} hold",
            "count": "the number of {0}", "sum": "the total of {0}",
            "each": "the {0} of each of {1}", "date_of": "the date of {0}",
            "time_of": "the time of day of {0}",
            "days_between": "the number of days from {0} to {1}",
            "weekday": "the day of the week of {0}",
            "is_open": "the {0} calendar is open at {1}",
            "open_at": "those of {0} open at {1}",
        }
        phrase = phrases.get(name)
        if phrase is None or phrase.count("{") != len(args):
            return f"{name}({', '.join(args)})"
        return phrase.format(*args)


def _simple(node: ast.Node) -> bool:
    return isinstance(node, (ast.Name, ast.Attribute, ast.Literal, ast.Call, ast.Index))


def _series(items: list[str], joiner: str) -> str:
    if len(items) <= 2:
        return f" {joiner} ".join(items)
    return ", ".join(items[:-1]) + f", {joiner} {items[-1]}"
